// accelgen-soak — the reliability soak (issue 14; README "Reliability" / "Soak"). Not a test: it runs
// for minutes and prints figures (`cmake --build build --target soak`); CTest runs a short smoke
// version (Soak.Smoke) so that the tool keeps working.
//
//  1. Fast model against the pin-level model: random attention configs (the validators' ranges
//     around the edges: 1..64 lanes, narrow and wide widths, few and many keys, overlap on/off,
//     dense baselines) and random workloads, each run through golden::run_fast and through the
//     pin-level run tb::run_attention at full rate; every result field of every query must agree
//     (cycles, handshake cycle, counts, steps, output row). Runs until --queries queries compared.
//  2. Verilator: the regression simulators (configs/regression, configs/nm) on random workloads with
//     random valid gaps, back-pressure, a reset in the middle for half of the runs and random
//     power-up state; each run compares every output on every cycle against the golden cycle
//     model (exit 0 = no mismatch). Runs until --cycles cycles simulated.
//
// Prints mismatches (must be 0), queries, cycles and wall time per part; exit 1 on any mismatch,
// with the config, workload and seed that reproduce it.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/workload.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "golden/fast_model.h"
#include "tb/nm_run.h"
#include "tb/run.h"

namespace {

using namespace accelgen;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path kSource = ACCELGEN_SOURCE_DIR;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// First difference between a fast run and the pin-level run of the same workload ("" if none).
std::string first_difference(const golden::FastRun& f, const tb::RunResult& p) {
  if (!p.ok()) return "pin-level run failed: " + p.functional_error;
  if (f.alpha_bits != p.alpha_bits) return fmt::format("alpha_bits {} vs {}", f.alpha_bits, p.alpha_bits);
  if (f.cycles_total != p.cycles_total) return fmt::format("cycles_total {} vs {}", f.cycles_total, p.cycles_total);
  if (f.cycles_simulated != p.cycles_simulated) {
    return fmt::format("cycles_simulated {} vs {}", f.cycles_simulated, p.cycles_simulated);
  }
  if (f.queries.size() != p.queries.size()) return fmt::format("queries {} vs {}", f.queries.size(), p.queries.size());
  for (size_t i = 0; i < f.queries.size(); ++i) {
    const golden::FastQuery& a = f.queries[i];
    const tb::QueryResult& b = p.queries[i];
    if (a.count != b.count || a.empty != b.empty || a.steps != b.steps || a.cycles != b.cycles ||
        a.bcycles != b.bcycles || a.end_cycle != b.end_cycle || a.filtered != b.filtered || a.out != b.out) {
      return fmt::format("query {}: count/empty/steps/cycles/bcycles/end {}/{}/{}/{}/{}/{} vs {}/{}/{}/{}/{}/{}{}", i,
                         a.count, a.empty, a.steps, a.cycles, a.bcycles, a.end_cycle, b.count, b.empty, b.steps,
                         b.cycles, b.bcycles, b.end_cycle, a.out != b.out ? ", output row differs" : "");
    }
  }
  return "";
}

struct Figures {
  int64_t runs = 0, queries = 0, cycles = 0, mismatches = 0;
  double seconds = 0;
};

// A random config inside the validators' ranges; nullopt when the draw is not a valid config.
std::optional<core::AttentionConfig> random_config(std::mt19937_64& rng, int n) {
  auto pick = [&](int lo, int hi) { return static_cast<int>(lo + rng() % static_cast<uint64_t>(hi - lo + 1)); };
  core::AttentionConfig c;
  c.name = "soak";
  c.d = pick(1, 32);
  c.dv = pick(1, 8);
  c.wq = pick(2, 16);
  c.wk = pick(2, 16);
  c.wv = pick(2, 16);
  c.lanes = n % 7 == 0 ? 64 : pick(1, 20);
  c.max_keys = pick(1, 96);
  c.threshold_slots = pick(1, 4);
  c.alpha_mant_bits = pick(13, 24);
  c.dense_baseline = n % 9 == 4;
  c.out_frac_bits = pick(0, 6);
  c.overlap_backend = n % 3 != 1;
  try {
    return core::parse_attention_config(core::to_json(c));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

Figures soak_fast_model(int64_t target_queries, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int lo, int hi) { return static_cast<int>(lo + rng() % static_cast<uint64_t>(hi - lo + 1)); };
  Figures f;
  const auto t0 = Clock::now();
  for (int n = 0; f.queries < target_queries; ++n) {
    const std::optional<core::AttentionConfig> c = random_config(rng, n);
    if (!c) continue;
    const std::string kind = n % 2 ? "peaky" : "gaussian";
    const uint64_t wseed = seed * 1000003 + static_cast<uint64_t>(n);
    const int lq = pick(1, 64), lk = pick(1, c->max_keys);
    core::AttentionWorkload w;
    try {
      w = core::make_workload(*c, kind, lq, lk, wseed);
    } catch (const std::exception&) {
      continue;  // a synthetic workload that does not fit the config
    }
    if (n % 4 == 2) w.params.softmax_scale = std::pow(10.0, -9.0 + 12.0 * static_cast<double>(rng() % 1001) / 1000.0);
    if (!golden::fast_model_supports(*c, w)) continue;
    const tb::RunResult pin = tb::run_attention(*c, w, tb::StimulusOptions{1, 1.0, 1.0, -1}, nullptr);
    const std::string diff = first_difference(golden::run_fast(*c, w), pin);
    ++f.runs;
    f.queries += lq;
    f.cycles += pin.cycles_simulated;
    if (!diff.empty()) {
      ++f.mismatches;
      std::cerr << fmt::format("FAST MODEL MISMATCH: {}\n  config {}\n  workload kind {} lq {} lk {} seed {} scale {}\n",
                               diff, core::to_json(*c).dump(), kind, lq, lk, wseed, w.params.softmax_scale);
    }
    if (f.runs % 2000 == 0) {
      std::cerr << fmt::format("  fast vs pin: {} runs, {} queries, {:.0f} s\n", f.runs, f.queries, seconds_since(t0));
    }
  }
  f.seconds = seconds_since(t0);
  return f;
}

// One Verilator run of a regression simulator; returns its exit status (0: every cycle matched).
int run_simv(const fs::path& simv, const fs::path& cfg_file, const fs::path& wdir, const tb::StimulusOptions& s,
             const fs::path& dir, int64_t run) {
  const std::vector<std::string> argv = {
      simv.string(), "--config", cfg_file.string(), "--workload", wdir.string(), "--fst",
      (dir / fmt::format("fail{}.fst", run)).string(), "--seed", std::to_string(s.seed), "--valid-prob",
      fmt::format("{}", s.valid_prob), "--ready-prob", fmt::format("{}", s.ready_prob), "--reset-at",
      std::to_string(s.reset_at), "+verilator+rand+reset+2"};
  const fs::path log = dir / fmt::format("run{}.log", run);
  const flows::ProcessResult r = flows::run_process(argv, "", log, 1800);
  if (r.exit_code != 0) {
    std::cerr << fmt::format("VERILATOR MISMATCH (exit {}), log {}:\n{}", r.exit_code, log.string(),
                             flows::tail_file(log, 8));
  } else {
    fs::remove(log);
  }
  return r.exit_code;
}

Figures soak_verilator(int64_t target_cycles, uint64_t seed, const fs::path& dir) {
  std::mt19937_64 rng(seed);
  auto unit = [&] { return static_cast<double>(rng() % 1000 + 1) / 1000.0; };
  const std::vector<std::string> attention = {"r_d7", "r_rel", "r_w4l16", "r_dense", "r_d33"};
  const std::vector<std::string> nm = {"n2m4", "n4m8"};
  const fs::path cache = flows::default_cache_dir();
  Figures f;
  const auto t0 = Clock::now();
  fs::create_directories(dir);
  for (int64_t run = 0; f.cycles < target_cycles; ++run) {
    // Valid and ready probabilities in [0.1, 1]; half of the runs reset in the middle.
    tb::StimulusOptions s{seed * 7919 + static_cast<uint64_t>(run), 0.1 + 0.9 * unit(), 0.1 + 0.9 * unit(), -1};
    const bool mid_reset = run % 2 == 1;
    const fs::path wdir = dir / "w";
    fs::remove_all(wdir);
    int64_t cycles = 0;
    fs::path cfg_file, simv;
    if (run % 4 == 3) {
      cfg_file = kSource / "configs/nm" / (nm[static_cast<size_t>(run / 4) % nm.size()] + ".json");
      const core::NmConfig c = core::load_nm_config(cfg_file.string());
      const core::NmWorkload w = core::make_nm_workload(c, 1 + static_cast<int64_t>(rng() % 24), 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(c.max_k)),
                                                        1 + static_cast<int64_t>(rng() % 24), s.seed);
      core::write_nm_workload(w, wdir.string());
      if (mid_reset) s.reset_at = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(tb::run_nm(c, w, s, nullptr).cycles_simulated));
      const tb::NmRun m = tb::run_nm(c, w, s, nullptr);
      cycles = m.cycles_simulated;
      simv = flows::ensure_simulator(c, cache).exe;
      f.queries += w.x.rows();
    } else {
      cfg_file = kSource / "configs/regression" / (attention[static_cast<size_t>(run) % attention.size()] + ".json");
      const core::AttentionConfig c = core::load_attention_config(cfg_file.string());
      const int lq = 8 + static_cast<int>(rng() % 40), lk = 1 + static_cast<int>(rng() % static_cast<uint64_t>(c.max_keys));
      const core::AttentionWorkload w = core::make_workload(c, run % 3 ? "gaussian" : "peaky", lq, lk, s.seed);
      core::write_workload(w, wdir.string());
      if (mid_reset) s.reset_at = 1 + static_cast<int64_t>(rng() % static_cast<uint64_t>(tb::run_attention(c, w, s, nullptr).cycles_simulated));
      const tb::RunResult m = tb::run_attention(c, w, s, nullptr);
      cycles = m.cycles_simulated;
      simv = flows::ensure_simulator(c, cache).exe;
      f.queries += lq;
    }
    ++f.runs;
    f.cycles += cycles;
    if (run_simv(simv, cfg_file, wdir, s, dir, run) != 0) {
      ++f.mismatches;
      std::cerr << fmt::format("  reproduce: {} --config {} --workload {} --seed {} --valid-prob {} --ready-prob {} --reset-at {}\n",
                               simv.string(), cfg_file.string(), wdir.string(), s.seed, s.valid_prob, s.ready_prob, s.reset_at);
      fs::rename(wdir, dir / fmt::format("w_fail{}", run));
    }
  }
  f.seconds = seconds_since(t0);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t queries = 1000000, cycles = 100000;
  uint64_t seed = 1;
  std::string json_out;
  fs::path work = fs::temp_directory_path() / "accelgen-soak";
  CLI::App app{"accelgen reliability soak: fast model vs pin-level model, Verilator under random stress"};
  app.add_option("--queries", queries, "queries through the fast and the pin-level model (0: skip)")->check(CLI::NonNegativeNumber);
  app.add_option("--cycles", cycles, "Verilator cycles under random back-pressure and resets (0: skip)")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "seed of the random configs, workloads and stimulus");
  app.add_option("--work", work, "scratch directory (workloads, logs of failed runs)");
  app.add_option("--json", json_out, "write the figures as JSON");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  nlohmann::json out = {{"seed", seed}};
  int64_t mismatches = 0;
  if (queries > 0) {
    const Figures f = soak_fast_model(queries, seed);
    std::cout << fmt::format("fast model vs pin-level model: {} mismatches; {} queries in {} runs, {} cycles; {:.1f} s\n",
                             f.mismatches, f.queries, f.runs, f.cycles, f.seconds);
    out["fast_vs_pin"] = {{"mismatches", f.mismatches}, {"queries", f.queries}, {"runs", f.runs},
                          {"cycles", f.cycles}, {"seconds", f.seconds}};
    mismatches += f.mismatches;
  }
  if (cycles > 0) {
    const Figures f = soak_verilator(cycles, seed, work / "verilator");
    std::cout << fmt::format("verilator vs golden cycle model (random gaps, back-pressure, resets, power-up state): "
                             "{} mismatches; {} cycles in {} runs ({} queries and X rows); {:.1f} s\n",
                             f.mismatches, f.cycles, f.runs, f.queries, f.seconds);
    out["verilator"] = {{"mismatches", f.mismatches}, {"cycles", f.cycles}, {"runs", f.runs},
                        {"queries", f.queries}, {"seconds", f.seconds}};
    mismatches += f.mismatches;
  }
  if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
  return mismatches == 0 ? 0 : 1;
}
