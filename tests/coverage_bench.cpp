// The coverage bench (tests/README.md "Coverage"): Verilator line and toggle coverage of every
// generated module over the regression's workloads.
//
// Per config of configs/regression/ and configs/nm/: the coverage build of its simulator
// (flows::SimFlavor::coverage), the regression's random and directed cases (tests/regression_cases.h)
// run with --coverage-file (each must still pass every check), the per-run files merged with
// `verilator_coverage --write`, then per generated module: line points (statement blocks and
// branches) and toggle points (signal bits) covered / total, summed over instances, and every
// uncovered line with its text. Toggles count from the first edge after a run's first reset (the
// random power-up state is not stimulus); line points count the whole run, since Verilator 5.006
// counts some combinational blocks only when it settles them at time 0. Writes DIR/coverage.json, DIR/uncovered.txt, DIR/coverage.info
// (lcov, from verilator_coverage --write-info; its paths name the build directory, the file names
// are the generated ones) and prints the table.
//
//   coverage_bench [--config C.json]... [--out DIR] [--jobs N]
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"
#include "tests/regression_cases.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = ACCELGEN_SOURCE_DIR;

struct Options {
  std::vector<fs::path> configs;
  fs::path out = "build/coverage";
  int jobs = 2;
};

// One coverage point of the merged database, instances folded together.
struct Point {
  std::string file;     // generated file name
  int line = 0;
  bool toggle = false;  // a signal bit's toggles (else a line/branch block)
  std::string what;     // Verilator's comment: "if", "else", "block", the signal name, ...
};

struct ModuleCoverage {
  int lines = 0, lines_hit = 0, toggles = 0, toggles_hit = 0;
  std::map<int, std::set<std::string>> uncovered_lines;  // line -> what (line points only)
};

// Reads verilator_coverage .dat files: lines `C '<key>\x02<value>\x01...' <count>`. Points that
// differ only in the instance ('h') are one point, hit if any instance hit it. Line points come
// from `all` (the whole runs), toggle points from `after_reset` (the runs after their first reset:
// tb/verilated_top.h).
using PointMap = std::map<std::string, std::pair<Point, bool>>;  // key without the instance -> (point, hit)

void read_points(const fs::path& dat, bool toggles, PointMap& points) {
  std::ifstream in(dat);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("C '", 0) != 0) continue;
    const size_t close = line.rfind('\'');
    const uint64_t count = std::stoull(line.substr(close + 1));
    std::map<std::string, std::string> kv;
    std::istringstream fields(line.substr(3, close - 3));
    for (std::string field; std::getline(fields, field, '\x01');) {
      const size_t sep = field.find('\x02');
      if (sep != std::string::npos) kv[field.substr(0, sep)] = field.substr(sep + 1);
    }
    Point p;
    p.file = fs::path(kv["f"]).filename().string();
    p.line = std::atoi(kv["l"].c_str());
    p.toggle = kv["page"].rfind("v_toggle", 0) == 0;
    p.what = kv["o"];
    if (p.toggle != toggles) continue;
    const std::string key = fmt::format("{}\x01{}\x01{}\x01{}\x01{}\x01{}", p.file, p.line, kv["n"], kv["page"],
                                        p.what, kv["S"]);
    auto& entry = points[key];
    entry.first = p;
    entry.second = entry.second || count > 0;
  }
}

std::map<std::string, ModuleCoverage> read_coverage(const fs::path& all, const fs::path& after_reset) {
  PointMap points;
  read_points(all, false, points);
  read_points(after_reset, true, points);
  std::map<std::string, ModuleCoverage> modules;
  for (const auto& [key, ph] : points) {
    const auto& [p, hit] = ph;
    ModuleCoverage& m = modules[p.file];
    if (p.toggle) {
      ++m.toggles;
      m.toggles_hit += hit;
    } else {
      ++m.lines;
      m.lines_hit += hit;
      if (!hit) m.uncovered_lines[p.line].insert(p.what);
    }
  }
  return modules;
}

struct Design {
  std::string name;
  gen::Outputs outputs;
  fs::path simv;
  std::vector<regression::Prepared> cases;
};

Design load(const fs::path& config_file, const fs::path& dir) {
  Design d;
  const bool nm = core::config_kind(core::read_json_file(config_file.string(), "config file (JSON)")) == "nm_array";
  if (nm) {
    const core::NmConfig cfg = core::load_nm_config(config_file.string());
    d.name = cfg.name;
    d.outputs = gen::generate_nm(cfg);
    for (auto list : {regression::nm_random_cases(cfg), regression::nm_directed_cases(cfg)}) {
      for (const auto& c : list) d.cases.push_back(regression::prepare(cfg, config_file, dir / "cases", c));
    }
  } else {
    const core::AttentionConfig cfg = core::load_attention_config(config_file.string());
    d.name = cfg.name;
    d.outputs = gen::generate(cfg);
    for (auto list : {regression::attention_random_cases(cfg), regression::attention_directed_cases(cfg)}) {
      for (const auto& c : list) d.cases.push_back(regression::prepare(cfg, config_file, dir / "cases", c));
    }
  }
  d.simv = flows::ensure_simulator(d.outputs, d.name, flows::default_cache_dir(),
                                   nm ? flows::SimKind::kNm : flows::SimKind::kAttention, {.coverage = true})
               .exe;
  return d;
}

// Runs every case with its own coverage file (and the file of its power-up and first reset,
// "<file>.reset"); returns the main files, or throws on a failing case.
std::vector<fs::path> run_cases(const Design& d, const fs::path& dir, int jobs) {
  std::vector<fs::path> files(d.cases.size());
  std::vector<std::string> failures;
  std::mutex lock;
  std::atomic<size_t> next{0};
  auto worker = [&](int w) {
    for (size_t i = next++; i < d.cases.size(); i = next++) {
      const fs::path dat = dir / "dat" / (d.cases[i].label + ".dat");
      const std::string failure = regression::run_prepared(
          regression::with_outputs_in(d.cases[i], dir / fmt::format("worker{}", w)), d.simv,
          {"--coverage-file", dat.string()});
      const std::lock_guard<std::mutex> g(lock);
      if (!failure.empty()) failures.push_back(failure);
      files[i] = dat;
    }
  };
  fs::create_directories(dir / "dat");
  std::vector<std::thread> threads;
  for (int w = 0; w < std::max(1, jobs); ++w) threads.emplace_back(worker, w);
  for (std::thread& t : threads) t.join();
  if (!failures.empty()) throw std::runtime_error(d.name + ": a regression case fails:\n" + failures.front());
  return files;
}

void verilator_coverage(const std::vector<std::string>& args, const std::vector<fs::path>& inputs,
                        const fs::path& log) {
  std::vector<std::string> argv = {"verilator_coverage"};
  argv.insert(argv.end(), args.begin(), args.end());
  for (const fs::path& f : inputs) argv.push_back(f.string());
  const flows::ProcessResult r = flows::run_process(argv, "", log, 600);
  if (r.exit_code != 0) throw std::runtime_error("verilator_coverage failed:\n" + test_support::read_bytes(log));
}

std::string line_text(const gen::Outputs& o, const std::string& file, int line) {
  for (const gen::GeneratedFile& f : o.files) {
    if (f.name != file) continue;
    std::istringstream in(f.content);
    std::string text;
    for (int i = 0; i < line && std::getline(in, text); ++i) {}
    const size_t first = text.find_first_not_of(' ');
    return first == std::string::npos ? "" : text.substr(first);
  }
  return "";
}

// "bs_lane.v" of "r_d7_bs_lane.v": the module's template, the same across configs.
std::string module_kind(const std::string& config, const std::string& file) {
  return file.rfind(config + "_", 0) == 0 ? file.substr(config.size() + 1) : file;
}

double percent(int hit, int total) { return total == 0 ? 100.0 : 100.0 * hit / total; }

int run(const Options& o) {
  nlohmann::json report = nlohmann::json::object();
  std::ofstream uncovered(o.out / "uncovered.txt");
  std::map<std::string, ModuleCoverage> by_kind;  // summed over configs
  std::map<std::string, std::pair<double, std::string>> worst;  // kind -> (lowest line %, config)
  std::vector<fs::path> merged_files;
  for (const fs::path& config : o.configs) {
    const fs::path dir = o.out / config.stem();
    fs::remove_all(dir);
    const Design d = load(config, dir);
    std::cerr << fmt::format("{}: {} cases on the coverage simulator\n", d.name, d.cases.size());
    const std::vector<fs::path> files = run_cases(d, dir, o.jobs);
    const fs::path after_reset = o.out / (d.name + "_after_reset.dat");
    verilator_coverage({"--write", after_reset.string()}, files, dir / "merge.log");
    std::vector<fs::path> with_reset = files;
    for (const fs::path& f : files) with_reset.push_back(f.string() + ".reset");
    const fs::path merged = o.out / (d.name + ".dat");
    verilator_coverage({"--write", merged.string()}, with_reset, dir / "merge.log");
    merged_files.push_back(merged);
    for (const auto& [file, m] : read_coverage(merged, after_reset)) {
      const std::string kind = module_kind(d.name, file);
      report[d.name][kind] = {{"lines", m.lines}, {"lines_hit", m.lines_hit}, {"toggles", m.toggles},
                              {"toggles_hit", m.toggles_hit}};
      ModuleCoverage& k = by_kind[kind];
      k.lines += m.lines;
      k.lines_hit += m.lines_hit;
      k.toggles += m.toggles;
      k.toggles_hit += m.toggles_hit;
      const double pct = percent(m.lines_hit, m.lines);
      if (!worst.count(kind) || pct < worst[kind].first) worst[kind] = {pct, d.name};
      for (const auto& [line, what] : m.uncovered_lines) {
        std::string kinds;
        for (const std::string& w : what) kinds += (kinds.empty() ? "" : ",") + w;
        const std::string text = line_text(d.outputs, file, line);
        uncovered << fmt::format("{}:{} [{}] {}\n", file, line, kinds, text);
        report[d.name][kind]["uncovered"].push_back({{"line", line}, {"what", kinds}, {"text", text}});
      }
    }
  }
  verilator_coverage({"--write-info", (o.out / "coverage.info").string()}, merged_files, o.out / "info.log");
  std::ofstream(o.out / "coverage.json") << report.dump(1) << "\n";

  std::cout << fmt::format("\n{:<18} {:>17} {:>8} {:>19} {:>8}   {}\n", "module", "lines hit/total", "%",
                           "toggles hit/total", "%", "lowest line % (config)");
  for (const auto& [kind, m] : by_kind) {
    std::cout << fmt::format("{:<18} {:>8} / {:>6} {:>7.1f}% {:>10} / {:>6} {:>7.1f}%   {:.1f}% ({})\n", kind,
                             m.lines_hit, m.lines, percent(m.lines_hit, m.lines), m.toggles_hit, m.toggles,
                             percent(m.toggles_hit, m.toggles), worst[kind].first, worst[kind].second);
  }
  std::cout << "uncovered lines: " << (o.out / "uncovered.txt").string() << "; per config: "
            << (o.out / "coverage.json").string() << "\n";
  return 0;
}

std::vector<fs::path> all_configs() {
  std::vector<fs::path> v;
  for (const char* dir : {"configs/regression", "configs/nm"}) {
    std::vector<fs::path> here;
    for (const auto& e : fs::directory_iterator(kSource / dir)) {
      if (e.path().extension() == ".json") here.push_back(e.path());
    }
    std::sort(here.begin(), here.end());
    v.insert(v.end(), here.begin(), here.end());
  }
  return v;
}

}  // namespace
}  // namespace accelgen

int main(int argc, char** argv) {
  using namespace accelgen;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--config" && has_value) {
      o.configs.emplace_back(argv[++i]);
    } else if (a == "--out" && has_value) {
      o.out = argv[++i];
    } else if (a == "--jobs" && has_value) {
      o.jobs = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: coverage_bench [--config C.json]... [--out DIR] [--jobs N]\n";
      return 2;
    }
  }
  if (o.configs.empty()) o.configs = all_configs();
  try {
    std::filesystem::create_directories(o.out);
    return run(o);
  } catch (const core::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "coverage_bench: " << e.what() << "\n";
    return 1;
  }
}
