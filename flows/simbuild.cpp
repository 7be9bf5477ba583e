#include "flows/simbuild.h"

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "core/atomic_dir.h"
#include "core/hash.h"
#include "flows/flow_cache.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"

namespace accelgen::flows {

namespace fs = std::filesystem;

namespace {

// Baked in by CMake: where the project's sources, archives and tools are.
const fs::path kSourceDir = ACCELGEN_SOURCE_DIR;
const fs::path kBinaryDir = ACCELGEN_BINARY_DIR;

std::vector<fs::path> toolkit_archives() {
  return {kBinaryDir / "libaccelgen_tb.a", kBinaryDir / "libaccelgen_golden.a",
          kBinaryDir / "libaccelgen_core.a", kBinaryDir / "libverilated_rt.a"};
}

// The testbench sources a simulator of each kind is compiled from: its main first, then every
// header it depends on (all part of the cache key).
std::vector<fs::path> toolkit_sources(SimKind kind) {
  if (kind == SimKind::kNm) {
    return {kSourceDir / "tb/nm_verilator_main.cpp", kSourceDir / "tb/nm_verilator_dut.h",
            kSourceDir / "tb/port_bits.h",           kSourceDir / "tb/verilated_top.h",
            kSourceDir / "tb/nm_run.h",              kSourceDir / "tb/nm_report.h",
            kSourceDir / "tb/run.h",                 kSourceDir / "tb/report.h",
            kSourceDir / "tb/lockstep.h",            kSourceDir / "tb/sim_main.h",
            kSourceDir / "tb/xstate_args.h",
            kSourceDir / "tb/model_settings.h",
            kSourceDir / "golden/nm_model.h",        kSourceDir / "tb/nm_driver.h",
            kSourceDir / "tb/stimulus_options.h",
            kSourceDir / "core/nm_config.h",         kSourceDir / "core/nm_workload.h",
            kSourceDir / "core/nm_compress.h",       kSourceDir / "core/error.h",
            kSourceDir / "core/tensor.h"};
  }
  return {kSourceDir / "tb/verilator_main.cpp", kSourceDir / "tb/verilator_dut.h",
          kSourceDir / "tb/port_bits.h",        kSourceDir / "tb/verilated_top.h",
          kSourceDir / "tb/run.h",              kSourceDir / "tb/stimulus.h",
          kSourceDir / "tb/stimulus_options.h",
          kSourceDir / "tb/lockstep.h",         kSourceDir / "tb/sim_main.h",
          kSourceDir / "tb/xstate_args.h",
          kSourceDir / "tb/model_settings.h",
          kSourceDir / "tb/report.h",           kSourceDir / "golden/cycle_model.h",
          kSourceDir / "golden/unit_model.h",   kSourceDir / "golden/functional.h",
          kSourceDir / "golden/softmax.h",      kSourceDir / "core/config.h",
          kSourceDir / "core/workload.h",       kSourceDir / "core/error.h",
          kSourceDir / "core/tensor.h"};
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("simulator toolkit file missing: " + p.string() +
                                    " (build the project first: cmake --build build)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string cache_key(const gen::Outputs& o, SimKind kind, SimFlavor flavor) {
  core::Fnv1a64 h;
  if (flavor.coverage) h.update("flavor:coverage");
  for (const auto& f : o.files) {
    h.update(f.name);
    h.update(f.content);
  }
  for (const auto& p : toolkit_archives()) h.update(read_all(p));
  for (const auto& p : toolkit_sources(kind)) h.update(read_all(p));
  return h.hex();
}

void run_step(const std::vector<std::string>& argv, const fs::path& cwd, const fs::path& log,
              const std::string& what) {
  const ProcessResult r = run_process(argv, cwd, log, 1800);
  if (r.exit_code != 0) {
    throw std::runtime_error(fmt::format("{} failed{} (log {}):\n{}", what,
                                         r.timed_out ? " (timed out)" : "", log.string(),
                                         tail_file(log, 25)));
  }
}

void build_into(const gen::Outputs& o, SimKind kind, SimFlavor flavor, const fs::path& dir) {
  const fs::path rtl = dir / "rtl";
  const fs::path obj = dir / "obj";
  fs::create_directories(rtl);
  std::vector<std::string> rtl_paths;
  for (const auto& f : o.files) {
    std::ofstream(rtl / f.name, std::ios::binary) << f.content;
  }
  for (const auto& f : o.rtl_files) rtl_paths.push_back((rtl / f).string());

  const fs::path vroot = ACCELGEN_VERILATOR_ROOT;
  std::vector<std::string> verilate = {
      ACCELGEN_VERILATOR, "--cc", "--build", "-j", "2", "--Mdir", obj.string(), "--prefix", "Vdut",
      "--top-module", o.top, "--trace-fst", "--x-assign", "unique", "--x-initial", "unique",
      "-Wno-fatal", "-MAKEFLAGS", "OPT_FAST=-O2", "-MAKEFLAGS", "OPT_SLOW=-O1", "-MAKEFLAGS",
      "OPT_GLOBAL=-O2"};
  if (flavor.coverage) verilate.insert(verilate.end(), {"--coverage-line", "--coverage-toggle"});
  verilate.insert(verilate.end(), rtl_paths.begin(), rtl_paths.end());
  run_step(verilate, dir, dir / "verilate.log", "Verilator");

  std::vector<std::string> compile = {
      ACCELGEN_CXX, "-std=c++20", "-O2", "-DVM_TRACE=1", "-DVM_TRACE_FST=1",
      flavor.coverage ? "-DVM_COVERAGE=1" : "-DVM_COVERAGE=0",
      "-DVM_SC=0", "-include", (rtl / o.params_header).string(), "-I" + obj.string(),
      "-I" + kSourceDir.string(), "-isystem", (vroot / "include").string(), "-isystem",
      (vroot / "include/vltstd").string(), "-isystem", ACCELGEN_EIGEN_INCLUDE,
      toolkit_sources(kind).front().string(), (obj / "Vdut__ALL.a").string()};
  // The coverage database is not in the shared runtime archive (built without coverage).
  if (flavor.coverage) compile.push_back((vroot / "include/verilated_cov.cpp").string());
  for (const auto& a : toolkit_archives()) compile.push_back(a.string());
  for (const char* lib : {"-lfmt", "-lz", "-lpthread"}) compile.emplace_back(lib);
  compile.insert(compile.end(), {"-o", (dir / "simv").string()});
  run_step(compile, dir, dir / "compile.log", "Compiling the testbench");
}

}  // namespace

SimBuild ensure_simulator(const core::AttentionConfig& c, const fs::path& cache_root) {
  return ensure_simulator(gen::generate(c), c.name, cache_root);
}

SimBuild ensure_simulator(const core::NmConfig& c, const fs::path& cache_root) {
  return ensure_simulator(gen::generate_nm(c), c.name, cache_root, SimKind::kNm);
}

SimBuild ensure_simulator(const gen::Outputs& o, const std::string& name, const fs::path& cache_root_given,
                          SimKind kind, SimFlavor flavor) {
  // Absolute: the build runs Verilator and the compiler in other working directories.
  CacheEntry entry(fs::absolute(cache_root_given), flavor.coverage ? name + "-cov" : name,
                   cache_key(o, kind, flavor));
  const fs::path& dir = entry.dir();
  SimBuild b;
  b.exe = dir / "simv";
  if (fs::exists(b.exe)) {
    b.from_cache = true;
    return b;
  }
  // One builder per key: a concurrent run of the same config (ctest -j) waits here and then finds
  // the finished simulator instead of building it a second time.
  entry.lock();
  if (fs::exists(b.exe)) {
    b.from_cache = true;
    return b;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const fs::path tmp = entry.scratch(".build-");
  try {
    build_into(o, kind, flavor, tmp);
  } catch (...) {
    // Keep the failed build's logs next to the cache for inspection; it is never used as a result.
    std::error_code ec;
    fs::remove_all(dir.string() + ".failed", ec);
    fs::rename(tmp, dir.string() + ".failed", ec);
    throw;
  }
  entry.publish(tmp);  // if a concurrent build of the same key won the race, its simulator is used
  b.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return b;
}

std::vector<CheckResult> portability_checks(const core::AttentionConfig& c, const fs::path& work) {
  return portability_checks(gen::generate(c), work);
}

std::vector<CheckResult> portability_checks(const core::NmConfig& c, const fs::path& work) {
  return portability_checks(gen::generate_nm(c), work);
}

std::vector<CheckResult> portability_checks(const gen::Outputs& o, const fs::path& work) {
  fs::remove_all(work);
  fs::create_directories(work);
  std::vector<std::string> files;
  for (const auto& f : o.files) std::ofstream(work / f.name, std::ios::binary) << f.content;
  for (const auto& f : o.rtl_files) files.push_back(f);

  auto check = [&](const std::string& tool, std::vector<std::string> argv) {
    argv.insert(argv.end(), files.begin(), files.end());
    const fs::path log = work / (tool + ".log");
    const ProcessResult r = run_process(argv, work, log, 600);
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    // Clean means exit 0 and nothing printed: a warning the tool does not treat as fatal still fails.
    return CheckResult{tool, r.exit_code == 0 && text.str().empty(), text.str()};
  };
  return {
      check("verilator-lint", {"verilator", "--lint-only", "-Wall", "--top-module", o.top}),
      check("iverilog", {"iverilog", "-g2005", "-Wall", "-o", "/dev/null"}),
      check("yosys", {"yosys", "-q", "-s", (kSourceDir / "flows/portability.ys").string()}),
  };
}

}  // namespace accelgen::flows
