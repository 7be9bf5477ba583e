// The mutation bench (tests/README.md "Mutants"): how many mutants of the generated RTL the
// regression kills.
//
// Per config: the mutant schema of its generated RTL (tests/mutation.h), ONE Verilator build of it,
// the regression's random and directed cases (tests/regression_cases.h) prepared once; the
// unmutated design (+mut=0) must pass every case, then each mutant runs the cases in order with
// +mut=N until one fails (killed: a mismatch on any output in any cycle, a timeout, a functional
// error, a report or output that differs) or none does (survivor). Writes DIR/mutants.json and
// prints the figures and every survivor.
//
//   mutation_bench [--config C.json]... [--out DIR] [--jobs N] [--only ID]...
//
// Without --config: configs/regression/r_rel.json (attention unit, relative thresholds; the
// decoder cases run causal masks) and configs/nm/n2m4.json, configs/nm/n4m8.json (N:M arrays).
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "flows/simbuild.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"
#include "tests/mutation.h"
#include "tests/regression_cases.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = ACCELGEN_SOURCE_DIR;

struct Options {
  std::vector<fs::path> configs;
  fs::path out = "build/mutants";
  int jobs = 2;
  std::vector<int> only;
};

struct Verdict {
  bool killed = false;
  std::string by;      // the case that killed it
  std::string reason;  // first line of the failure
};

// One config's schema, simulator and prepared cases.
struct Design {
  std::string name;
  mutation::Schema schema;
  fs::path simv;
  std::vector<regression::Prepared> cases;
};

std::string first_line(const std::string& s) {
  for (const std::string key : {"MISMATCH", "TIMEOUT", "FUNCTIONAL", "report differs", "output tensor", "error"}) {
    const size_t at = s.find(key);
    if (at != std::string::npos) {
      const size_t bol = s.rfind('\n', at) == std::string::npos ? 0 : s.rfind('\n', at) + 1;
      return s.substr(bol, s.find('\n', at) - bol);
    }
  }
  return s.substr(0, s.find('\n'));
}

Design load(const fs::path& config_file, const fs::path& out) {
  Design d;
  const fs::path dir = out / config_file.stem();
  fs::create_directories(dir);
  const bool nm = core::config_kind(core::read_json_file(config_file.string(), "config file (JSON)")) == "nm_array";
  auto all = [](const std::string&) { return true; };
  if (nm) {
    const core::NmConfig cfg = core::load_nm_config(config_file.string());
    d.name = cfg.name;
    d.schema = mutation::make_schema(gen::generate_nm(cfg), all);
    for (auto list : {regression::nm_random_cases(cfg), regression::nm_directed_cases(cfg)}) {
      for (const auto& c : list) d.cases.push_back(regression::prepare(cfg, config_file, dir / "cases", c));
    }
  } else {
    const core::AttentionConfig cfg = core::load_attention_config(config_file.string());
    d.name = cfg.name;
    d.schema = mutation::make_schema(gen::generate(cfg), all);
    for (auto list : {regression::attention_random_cases(cfg), regression::attention_directed_cases(cfg)}) {
      for (const auto& c : list) d.cases.push_back(regression::prepare(cfg, config_file, dir / "cases", c));
    }
  }
  for (const gen::GeneratedFile& f : d.schema.outputs.files) {
    std::ofstream(dir / f.name, std::ios::binary) << f.content;  // the schema, for reading survivors
  }
  std::cerr << fmt::format("{}: {} mutants, {} cases; building the schema simulator\n", d.name,
                           d.schema.mutants.size(), d.cases.size());
  d.simv = flows::ensure_simulator(d.schema.outputs, d.name + "_mutants", flows::default_cache_dir(),
                                   nm ? flows::SimKind::kNm : flows::SimKind::kAttention)
               .exe;
  return d;
}

// Runs the cases with +mut=id until one fails.
Verdict judge(const Design& d, int id, const fs::path& work) {
  for (const regression::Prepared& p : d.cases) {
    const std::string failure =
        regression::run_prepared(regression::with_outputs_in(p, work), d.simv, {fmt::format("+mut={}", id)}, 120);
    if (!failure.empty()) return {true, p.label, first_line(failure)};
  }
  return {};
}

std::map<int, Verdict> judge_all(const Design& d, const Options& o) {
  std::vector<int> ids;
  for (const mutation::Mutant& m : d.schema.mutants) {
    if (o.only.empty() || std::find(o.only.begin(), o.only.end(), m.id) != o.only.end()) ids.push_back(m.id);
  }
  std::map<int, Verdict> verdicts;
  std::mutex lock;
  std::atomic<size_t> next{0};
  auto worker = [&](int w) {
    const fs::path work = o.out / d.name / fmt::format("worker{}", w);
    for (size_t i = next++; i < ids.size(); i = next++) {
      const Verdict v = judge(d, ids[i], work);
      const std::lock_guard<std::mutex> g(lock);
      verdicts[ids[i]] = v;
      if (verdicts.size() % 25 == 0) std::cerr << fmt::format("  {} / {} judged\n", verdicts.size(), ids.size());
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < std::max(1, o.jobs); ++w) threads.emplace_back(worker, w);
  for (std::thread& t : threads) t.join();
  return verdicts;
}

int run(const Options& o) {
  nlohmann::json report = nlohmann::json::array();
  size_t total = 0, killed = 0;
  for (const fs::path& config : o.configs) {
    const auto t0 = std::chrono::steady_clock::now();
    const Design d = load(config, o.out);
    // The schema with no mutant selected must be the design: every case passes.
    for (const regression::Prepared& p : d.cases) {
      const std::string failure = regression::run_prepared(regression::with_outputs_in(p, o.out / d.name / "mut0"),
                                                           d.simv, {"+mut=0"});
      if (!failure.empty()) {
        std::cerr << d.name << ": the unmutated schema fails, the schema is broken:\n" << failure << "\n";
        return 1;
      }
    }
    const std::map<int, Verdict> verdicts = judge_all(d, o);
    size_t here_killed = 0;
    std::map<std::string, std::pair<int, int>> by_file, by_op;  // killed, total
    nlohmann::json survivors = nlohmann::json::array();
    for (const mutation::Mutant& m : d.schema.mutants) {
      const auto it = verdicts.find(m.id);
      if (it == verdicts.end()) continue;
      const Verdict& v = it->second;
      here_killed += v.killed;
      by_file[m.file].first += v.killed;
      ++by_file[m.file].second;
      by_op[m.op].first += v.killed;
      ++by_op[m.op].second;
      nlohmann::json j = {{"config", d.name}, {"id", m.id},       {"file", m.file},          {"line", m.line},
                          {"op", m.op},       {"original", m.original}, {"mutated", m.mutated}, {"killed", v.killed},
                          {"killed_by", v.by}, {"reason", v.reason}};
      report.push_back(j);
      if (!v.killed) survivors.push_back(j);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << fmt::format("\n{}: {} mutants, {} killed ({:.1f}%), {} survivors, {} cases, {:.0f} s\n", d.name,
                             verdicts.size(), here_killed, 100.0 * here_killed / std::max<size_t>(1, verdicts.size()),
                             verdicts.size() - here_killed, d.cases.size(), seconds);
    for (const auto& [f, kt] : by_file) std::cout << fmt::format("  {:<28} {:>4} / {:>4} killed\n", f, kt.first, kt.second);
    for (const auto& [op, kt] : by_op) std::cout << fmt::format("  {:<28} {:>4} / {:>4} killed\n", op, kt.first, kt.second);
    for (const auto& s : survivors) {
      std::cout << fmt::format("  SURVIVOR {} #{} {}:{} {}: {}  ->  {}\n", d.name, s["id"].get<int>(),
                               s["file"].get<std::string>(), s["line"].get<int>(), s["op"].get<std::string>(),
                               s["original"].get<std::string>(), s["mutated"].get<std::string>());
    }
    total += verdicts.size();
    killed += here_killed;
  }
  std::cout << fmt::format("\nall: {} mutants, {} killed ({:.1f}%), {} survivors\n", total, killed,
                           100.0 * killed / std::max<size_t>(1, total), total - killed);
  std::ofstream(o.out / "mutants.json") << report.dump(1) << "\n";
  std::cout << "details: " << (o.out / "mutants.json").string() << "\n";
  return 0;
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
    } else if (a == "--only" && has_value) {
      o.only.push_back(std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: mutation_bench [--config C.json]... [--out DIR] [--jobs N] [--only ID]...\n";
      return 2;
    }
  }
  if (o.configs.empty()) {
    o.configs = {kSource / "configs/regression/r_rel.json", kSource / "configs/nm/n2m4.json",
                 kSource / "configs/nm/n4m8.json"};
  }
  try {
    std::filesystem::create_directories(o.out);
    return run(o);
  } catch (const core::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mutation_bench: " << e.what() << "\n";
    return 1;
  }
}
