#include "cli/bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "calib/calibrate.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/workload.h"
#include "flows/area.h"
#include "cli/eval.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/nm_generator.h"
#include "golden/functional.h"
#include "tb/nm_run.h"
#include "tb/run.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct ModelRun {
  tb::RunResult result;
  double seconds;
  uint64_t steps = 0, score_cycles = 0, kept = 0;
};

ModelRun run_model(const core::AttentionConfig& c, const core::AttentionWorkload& w) {
  const auto t0 = std::chrono::steady_clock::now();
  ModelRun m{tb::run_attention(c, w, {1, 1.0, 1.0, -1}, nullptr), 0};
  m.seconds = seconds_since(t0);
  for (const auto& q : m.result.queries) {
    m.steps += q.steps;
    m.score_cycles += q.cycles;
    m.kept += q.count;
  }
  return m;
}

// Simulated cycles per second of the fast model on the same run, repeated until about 0.3 s have
// passed so the figure is not one microsecond-scale sample; -1 if its cycle count differs.
double fast_model_speed(const core::AttentionConfig& c, const core::AttentionWorkload& w, int64_t cycles) {
  const auto t0 = std::chrono::steady_clock::now();
  int64_t simulated = 0;
  do {
    const tb::RunResult f = tb::run_attention_fast(c, w);
    if (f.cycles_total != cycles) return -1.0;
    simulated += f.cycles_simulated;
  } while (seconds_since(t0) < 0.3);
  return static_cast<double>(simulated) / seconds_since(t0);
}

nlohmann::json bench_point(const std::string& file, const std::string& kind, const BenchOptions& o) {
  const core::AttentionConfig c = core::load_attention_config(file);
  const int lk = std::min(c.max_keys, 16 * c.lanes);
  const core::AttentionWorkload w = core::make_workload(c, kind, o.lq, lk, 1);
  const ModelRun m = run_model(c, w);
  core::AttentionConfig dense = c;
  dense.dense_baseline = true;
  const ModelRun d = run_model(dense, w);
  const double util = static_cast<double>(m.steps) / (c.lanes * static_cast<double>(m.score_cycles));
  nlohmann::json j = {
      {"config", c.name},          {"kind", kind},
      {"lanes", c.lanes},          {"d", c.d},
      {"wk", c.wk},                {"lq", o.lq},
      {"lk", lk},                  {"cycles", m.result.cycles_total},
      {"dense_cycles", d.result.cycles_total},
      {"cycle_ratio", static_cast<double>(m.result.cycles_total) / static_cast<double>(d.result.cycles_total)},
      {"lane_utilization", util},  {"utilization_target_applies", lk >= 16 * c.lanes},
      {"bit_step_fraction", static_cast<double>(m.steps) / (static_cast<double>(o.lq) * lk * c.wk)},
      {"kept_fraction", static_cast<double>(m.kept) / (static_cast<double>(o.lq) * lk)},
      {"model_cycles_per_s", static_cast<double>(m.result.cycles_simulated) / m.seconds},
      {"fast_model_cycles_per_s", fast_model_speed(c, w, m.result.cycles_total)},
  };
  if (o.verilator) {
    // The Verilated RTL alone on the same stimulus (the driver reacting to the RTL's outputs): the
    // same cycle count is required, and the speed ratio is what design search gains from the model.
    const flows::SimBuild b = flows::ensure_simulator(c, flows::default_cache_dir());
    const fs::path dir = fs::temp_directory_path() / fmt::format("accelgen-bench-{}-{}", c.name, kind);
    core::write_workload(w, dir.string());
    const fs::path log = dir.string() + ".log";
    const flows::ProcessResult r =
        flows::run_process({b.exe.string(), "--config", file, "--workload", dir.string(), "--fst",
                            dir.string() + ".fst", "--dut-only"},
                           "", log, 600);
    std::ifstream in(log);
    std::string word;
    int64_t cycles = 0, total = 0;
    double secs = 0;
    in >> word >> word >> cycles >> word >> secs >> word >> total;
    j["verilator_ok"] = r.exit_code == 0 && secs > 0;
    if (j["verilator_ok"].get<bool>()) {
      j["verilator_cycles_per_s"] = static_cast<double>(cycles) / secs;
      j["verilator_same_cycles"] = total == m.result.cycles_total;
      j["model_speedup"] = j["model_cycles_per_s"].get<double>() / j["verilator_cycles_per_s"].get<double>();
      j["fast_model_speedup"] =
          j["fast_model_cycles_per_s"].get<double>() / j["verilator_cycles_per_s"].get<double>();
    }
  }
  return j;
}

// Key store banks (docs/microarchitecture.md "Key store"): lane utilization and cycles of the same workloads
// with every power of two of key_banks up to lanes, so the table shows what the derived default costs
// against a store that could serve every lane each cycle (key_banks = lanes).
nlohmann::json bank_table(const std::vector<std::string>& configs, const BenchOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  std::cout << "\n| config (key store banks) | workload | lanes | key_banks | cycles | lane util. |\n"
               "|---|---|---|---|---|---|\n";
  for (const auto& file : configs) {
    const core::AttentionConfig base = core::load_attention_config(file);
    const int lk = std::min(base.max_keys, 16 * base.lanes);
    for (const char* kind : {"gaussian", "peaky"}) {
      const core::AttentionWorkload w = core::make_workload(base, kind, o.lq, lk, 1);
      for (int banks = 1; banks <= base.lanes; banks *= 2) {
        core::AttentionConfig c = base;
        c.key_banks = banks;
        const ModelRun m = run_model(c, w);
        const double util = static_cast<double>(m.steps) / (c.lanes * static_cast<double>(m.score_cycles));
        const bool derived = banks == core::key_banks(base);
        rows.push_back({{"config", c.name}, {"kind", kind}, {"lanes", c.lanes}, {"key_banks", banks},
                        {"default", derived}, {"cycles", m.result.cycles_total}, {"lane_utilization", util}});
        std::cout << fmt::format("| {} | {} | {} | {}{} | {} | {:.3f} |\n", c.name, kind, c.lanes, banks,
                                 derived ? " (default)" : "", m.result.cycles_total, util);
      }
    }
  }
  return rows;
}

// Causal prefill (Lq = Lk = min(max_keys, 16 x lanes), offset 0): early queries see few keys, so lanes
// stay busy only if the next queries fill them. Absolute thresholds (the workload's theta) and, where
// the hardware has them, relative ones (delta = the 75th percentile of M_i - s_ij over visible keys).
nlohmann::json causal_point(const std::string& file, const char* mode) {
  const core::AttentionConfig c = core::load_attention_config(file);
  const int l = std::min(c.max_keys, 16 * c.lanes);
  core::AttentionWorkload w = core::make_workload(c, "gaussian", l, l, 2);
  w.params.causal = true;
  w.params.causal_offset = 0;
  if (std::string(mode) == "relative") {
    const core::IntMatrix s = w.q * w.k.transpose();
    std::vector<int64_t> gaps;
    for (Eigen::Index i = 0; i < s.rows(); ++i) {
      const int64_t m = s.row(i).head(i + 1).maxCoeff();
      for (Eigen::Index j = 0; j <= i; ++j) gaps.push_back(m - s(i, j));
    }
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() * 3 / 4), gaps.end());
    w.params.mode = core::ThresholdMode::relative;
    w.params.delta = gaps[gaps.size() * 3 / 4];
  }
  const ModelRun m = run_model(c, w);
  core::AttentionConfig dense = c;
  dense.dense_baseline = true;
  const ModelRun d = run_model(dense, w);
  const uint64_t visible = static_cast<uint64_t>(l) * static_cast<uint64_t>(l + 1) / 2;
  return {{"config", c.name},
          {"mode", mode},
          {"lanes", c.lanes},
          {"lq", l},
          {"lk", l},
          {"cycles", m.result.cycles_total},
          {"dense_cycles", d.result.cycles_total},
          {"cycle_ratio", static_cast<double>(m.result.cycles_total) / static_cast<double>(d.result.cycles_total)},
          {"lane_utilization", static_cast<double>(m.steps) / (c.lanes * static_cast<double>(m.score_cycles))},
          {"dense_lane_utilization", static_cast<double>(d.steps) / (c.lanes * static_cast<double>(d.score_cycles))},
          {"kept_fraction", static_cast<double>(m.kept) / static_cast<double>(visible)},
          {"bit_step_fraction", static_cast<double>(m.steps) / (static_cast<double>(visible) * c.wk)}};
}

nlohmann::json causal_table(const std::vector<std::string>& configs) {
  nlohmann::json rows = nlohmann::json::array();
  std::cout << "\n| config (causal prefill) | mode | lanes | Lq = Lk | cycles | dense cycles | ratio | lane util. "
               "| dense lane util. | kept | bit steps/dense |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& file : configs) {
    const core::AttentionConfig c = core::load_attention_config(file);
    std::vector<const char*> modes = {"absolute"};
    if (c.relative_thresholds && !c.dense_baseline) modes.push_back("relative");
    for (const char* mode : modes) {
      const nlohmann::json j = causal_point(file, mode);
      rows.push_back(j);
      std::cout << fmt::format("| {} | {} | {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.3f} |\n",
                               j["config"].get<std::string>(), mode, j["lanes"].get<int>(), j["lq"].get<int>(),
                               j["cycles"].get<int64_t>(), j["dense_cycles"].get<int64_t>(),
                               j["cycle_ratio"].get<double>(), j["lane_utilization"].get<double>(),
                               j["dense_lane_utilization"].get<double>(), j["kept_fraction"].get<double>(),
                               j["bit_step_fraction"].get<double>());
    }
  }
  return rows;
}

// ---------------------------------------------------------------- real decoder traces

// The calibration every trace row uses: E = 0.02, auto mode, causal prefill (offset 0).
calib::CalibOptions trace_calib_options() {
  calib::CalibOptions o;
  o.max_error = 0.02;
  o.mode = calib::ModeChoice::automatic;
  o.causal = true;
  o.causal_offset = 0;
  return o;
}

// A trace window run as causal prefill (offset 0) under a learned threshold.
core::AttentionWorkload causal_with(core::AttentionWorkload w, const calib::Threshold& t) {
  w.params.causal = true;
  w.params.causal_offset = 0;
  w.params.mode = t.mode;
  (t.mode == core::ThresholdMode::relative ? w.params.delta : w.params.theta) = t.value;
  return w;
}

// The same run with other ways of feeding the lanes: key_queue 1 or 2 (keys a lane holds ahead) times the
// derived key_banks or one bank per lane; the unit and its dense baseline each (docs/microarchitecture.md
// "Next-key queue"). Window 4 only measures them here; nothing is fitted to it.
nlohmann::json lane_feed_variants(const core::AttentionConfig& c, const core::AttentionWorkload& w,
                                  const std::string& head) {
  nlohmann::json rows = nlohmann::json::array();
  for (const int queue : {1, 2}) {
    for (const int banks : {0, c.lanes}) {
      core::AttentionConfig v = c;
      v.key_queue = queue;
      v.key_banks = banks;
      core::AttentionConfig dense = v;
      dense.dense_baseline = true;
      const tb::RunResult r = tb::run_attention_fast(v, w);
      const tb::RunResult d = tb::run_attention_fast(dense, w);
      if (!r.ok() || !d.ok()) throw std::runtime_error("bench: lane feed run failed for " + head);
      rows.push_back({{"key_queue", queue},
                      {"key_banks", core::key_banks(v)},
                      {"cycles", r.cycles_total},
                      {"dense_cycles", d.cycles_total}});
    }
  }
  return rows;
}

// What no threshold of this rule and no schedule can beat on window 4: the threshold fitted to E on window 4
// itself (an oracle, in-sample: never used for the unit's figures), its ideal bit steps n* (the least work any
// lossless implementation does: docs/semantics.md) and the cycle speedup if every lane did useful steps in
// every cycle, dense cycles / (sum n* / lanes). The dense cycles keep their fixed costs (key load, the last
// query's back-end), so the limit is, if anything, too generous.
nlohmann::json in_sample_limit(const core::AttentionConfig& c, const calib::NamedWorkload& window,
                               int64_t dense_cycles) {
  calib::CalibOptions o = trace_calib_options();
  o.z = 0.0;
  o.holdout = 0.0;
  const calib::CalibrationResult cr = calib::calibrate(c, {{window.dir, window.w, false}}, o);
  const calib::MethodReport& m = cr.slots.at(0).learned;
  const core::AttentionWorkload w = causal_with(window.w, m.threshold);
  const golden::ScoreResults f = golden::score_all(w.q, w.k, c.wk, w.params, false);
  const double lane_cycles = static_cast<double>(f.total_steps()) / c.lanes;
  return {{"mode", core::to_string(m.threshold.mode)},
          {"value", m.threshold.value},
          {"error", m.fit.error},
          {"kept_fraction", m.fit.kept_fraction()},
          {"bit_steps_ideal", f.total_steps()},
          {"speedup_cycles_bound", static_cast<double>(dense_cycles) / lane_cycles}};
}

// One head of the real traces at one bit width: thresholds learned on windows 1-3 (calibrate --mode auto,
// causal, E = 0.02, margin by leave-one-window-out on windows 1-3 only, judged by `rule`: --cv-rule), then
// window 4, never fitted, run causally on the golden cycle model of the trace unit and of its dense baseline.
nlohmann::json trace_point(const fs::path& traces, const std::string& head, int bits, calib::CvRule rule) {
  const fs::path cfg_file = fs::path(ACCELGEN_SOURCE_DIR) / fmt::format("configs/calib/trace_b{}.json", bits);
  const core::AttentionConfig c = core::load_attention_config(cfg_file.string());
  std::vector<calib::NamedWorkload> ws;
  for (int win = 1; win <= 4; ++win) {
    const fs::path dir = traces / fmt::format("{}_b{}_w{}", head, bits, win);
    ws.push_back({dir.string(), core::load_attention_workload(dir.string(), c), win == 4});
  }
  calib::CalibOptions o = trace_calib_options();
  o.cv_margin = true;
  o.cv_rule = rule;
  const calib::CalibrationResult cr = calib::calibrate(c, ws, o);
  const calib::MethodReport& m = cr.slots.at(0).learned;
  const core::AttentionWorkload w = causal_with(ws[3].w, m.threshold);  // window 4
  const tb::RunResult r = tb::run_attention_fast(c, w);
  core::AttentionConfig dense = c;
  dense.dense_baseline = true;
  const tb::RunResult d = tb::run_attention_fast(dense, w);
  if (!r.ok() || !d.ok()) throw std::runtime_error("bench: trace run failed for " + head);
  uint64_t steps = 0, kept = 0;
  for (const auto& q : r.queries) {
    steps += q.steps;
    kept += q.count;
  }
  const golden::ScoreResults f = golden::score_all(w.q, w.k, c.wk, w.params, false);
  const double visible = static_cast<double>(f.visible.count());
  const nlohmann::json limit = in_sample_limit(c, ws[3], d.cycles_total);
  const nlohmann::json lane_feed = lane_feed_variants(c, w, head);
  // The leave-one-window-out decision of the chosen mode: fold errors on w1-w3 and the rule's bound.
  nlohmann::json cv = nullptr;
  for (const calib::CvMargin& f : cr.slots.at(0).cv) {
    if (f.mode != m.threshold.mode) continue;
    cv = {{"rule", calib::to_string(f.rule)}, {"met", f.met}, {"margins_tried", f.margins_tried},
          {"fold_errors", f.fold_errors}, {"bound", std::isfinite(f.bound) ? nlohmann::json(f.bound) : nlohmann::json()}};
  }
  return {{"head", head},
          {"bits", bits},
          {"lanes", c.lanes},
          {"cv", cv},
          {"mode", core::to_string(m.threshold.mode)},
          {"value", m.threshold.value},
          {"cv_rule", calib::to_string(rule)},
          {"margin", m.margin},
          {"kept_fraction", static_cast<double>(kept) / visible},
          {"bit_steps", steps},
          {"bit_steps_ideal", f.total_steps()},
          {"bit_steps_over_ideal", static_cast<double>(steps) / static_cast<double>(f.total_steps())},
          {"bit_step_fraction", static_cast<double>(steps) / (visible * c.wk)},
          {"cycles", r.cycles_total},
          {"dense_cycles", d.cycles_total},
          {"speedup_cycles", static_cast<double>(d.cycles_total) / static_cast<double>(r.cycles_total)},
          {"held_out_error", m.held_out_workloads.at(0).eval.error},
          {"limit", limit},
          {"lane_feed", lane_feed}};
}

// Per width, over the eight heads, dense cycles over unit cycles summed (and the mean of the per-head ratios)
// three ways: measured; with the calibrated thresholds and a perfect schedule (sum n* / lanes cycles); with the
// in-sample limit's thresholds and a perfect schedule. The gaps say what the schedule and the held-out
// calibration cost.
void print_trace_summary(const nlohmann::json& rows) {
  if (!rows.empty()) std::cout << "\n";
  for (int bits : {12, 8}) {
    double dense = 0, unit = 0, ideal = 0, limit = 0, unit_ratios = 0, ideal_ratios = 0, limit_ratios = 0;
    int heads = 0;
    for (const nlohmann::json& j : rows) {
      if (j["bits"].get<int>() != bits) continue;
      const double d = j["dense_cycles"].get<double>(), lanes = j["lanes"].get<double>();
      const double u = j["cycles"].get<double>(), i = j["bit_steps_ideal"].get<double>() / lanes;
      const double l = d / j["limit"]["speedup_cycles_bound"].get<double>();
      dense += d;
      unit += u;
      ideal += i;
      limit += l;
      unit_ratios += d / u;
      ideal_ratios += d / i;
      limit_ratios += d / l;
      ++heads;
    }
    if (heads == 0) continue;
    std::cout << fmt::format(
        "{} bits, {} heads, dense / unit cycles summed (mean of per-head ratios): measured {:.3f} ({:.3f}); "
        "calibrated thresholds, perfect schedule {:.3f} ({:.3f}); limit {:.3f} ({:.3f})\n",
        bits, heads, dense / unit, unit_ratios / heads, dense / ideal, ideal_ratios / heads, dense / limit,
        limit_ratios / heads);
  }
}

// Per lane-feed variant and width: dense / unit cycles summed over the heads and the mean of the per-head
// ratios (the thresholds are the table's).
void print_lane_feed_table(const nlohmann::json& rows) {
  if (rows.empty()) return;
  std::cout << "\n| trace unit: key_queue | key_banks | 12 bits: dense / cycles summed | mean of per-head "
               "| 8 bits: summed | mean of per-head |\n|---|---|---|---|---|---|\n";
  const size_t variants = rows.at(0)["lane_feed"].size();
  for (size_t v = 0; v < variants; ++v) {
    const nlohmann::json& first = rows.at(0)["lane_feed"].at(v);
    std::string cells;
    for (int bits : {12, 8}) {
      double dense = 0, unit = 0, ratios = 0;
      int heads = 0;
      for (const nlohmann::json& j : rows) {
        if (j["bits"].get<int>() != bits) continue;
        const nlohmann::json& f = j["lane_feed"].at(v);
        dense += f["dense_cycles"].get<double>();
        unit += f["cycles"].get<double>();
        ratios += f["dense_cycles"].get<double>() / f["cycles"].get<double>();
        ++heads;
      }
      cells += heads ? fmt::format(" {:.3f} | {:.3f} |", dense / unit, ratios / heads) : " | |";
    }
    std::cout << fmt::format("| {} | {} |{}\n", first["key_queue"].get<int>(), first["key_banks"].get<int>(), cells);
  }
}

nlohmann::json trace_table(const BenchOptions& o) {
  fs::path traces = o.traces.empty() ? fs::path(ACCELGEN_SOURCE_DIR) / "../shared/traces" : fs::path(o.traces);
  if (!o.use_traces || (o.traces.empty() && !fs::is_directory(traces))) return nlohmann::json::array();
  const calib::CvRule rule = calib::parse_cv_rule(o.trace_cv_rule);  // checked by the option already
  nlohmann::json rows = nlohmann::json::array();
  std::cout << fmt::format("\nreal traces: calibrate --cv-margin --cv-rule {}\n", calib::to_string(rule));
  std::cout << "\n| trace head (w4 held out) | bits | lanes | mode | theta/delta | kept | bit steps / ideal | bit steps / dense "
               "| cycles | dense cycles | dense / cycles | held-out error | limit: kept | limit: dense / cycles |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (int bits : {12, 8}) {
    for (const char* head : {"L0H0", "L0H1", "L0H2", "L0H3", "L3H0", "L3H1", "L3H2", "L3H3"}) {
      const nlohmann::json j = trace_point(traces, head, bits, rule);
      rows.push_back(j);
      std::cout << fmt::format("| {} | {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {} | {} | {:.2f} | {:.4f} | {:.3f} | {:.2f} |\n",
                               head, bits, j["lanes"].get<int>(), j["mode"].get<std::string>(), j["value"].get<int64_t>(),
                               j["kept_fraction"].get<double>(), j["bit_steps_over_ideal"].get<double>(),
                               j["bit_step_fraction"].get<double>(), j["cycles"].get<int64_t>(),
                               j["dense_cycles"].get<int64_t>(), j["speedup_cycles"].get<double>(),
                               j["held_out_error"].get<double>(), j["limit"]["kept_fraction"].get<double>(),
                               j["limit"]["speedup_cycles_bound"].get<double>());
      std::cout.flush();
    }
  }
  print_trace_summary(rows);
  print_lane_feed_table(rows);
  return rows;
}

// Area, timing and energy of each config and of its dense baseline (same generator, termination and
// pruning off): the area difference is what early termination and pruning cost; latency is cycles /
// fmax on the gaussian bench workload (the row of `rows`), so the time speedup against dense counts
// both the cycles saved and the clock lost; energy per query from OpenSTA report_power
// (docs/energy.md) on the same workload.
namespace {

// One speed-table row: latency (cycles / fmax) and energy per query of a design and its dense
// baseline on the gaussian bench row `r`.
nlohmann::json speed_row(const core::AttentionConfig& c, const flows::AreaResult& a, const flows::AreaResult& d,
                         const nlohmann::json& r, const BenchOptions& o, std::string& table) {
  const double cyc = r["cycles"].get<double>(), dcyc = r["dense_cycles"].get<double>();
  const double lq = r["lq"].get<double>();
  const double ns = flows::latency_ns(cyc, a.fmax_mhz) / lq, dns = flows::latency_ns(dcyc, d.fmax_mhz) / lq;
  nlohmann::json j = {{"cycles", cyc},
                      {"dense_cycles", dcyc},
                      {"cycle_speedup", dcyc / cyc},
                      {"latency_ns_per_query", ns},
                      {"dense_latency_ns_per_query", dns},
                      {"time_speedup", ns > 0 ? dns / ns : 0.0}};
  const core::AttentionWorkload w = core::make_workload(c, "gaussian", o.lq, r["lk"].get<int>(), 1);
  j["energy"] = attention_energy(c, w, "", "");
  const auto& e = j["energy"];
  auto pj = [&](const char* who, const char* key) {
    const auto& x = e[who];
    return !x.is_null() && x["available"].get<bool>() ? fmt::format("{:.0f}", x[key].get<double>()) : "-";
  };
  auto ratio = [&](const char* key) {
    return e.contains(key) && !e[key].is_null() ? fmt::format("{:.3f}", e[key].get<double>()) : "-";
  };
  table += fmt::format("| {} ({}x{}) | {} | {:.0f} | {:.0f} | {:.3f} | {:.1f} | {:.1f} | **{:.3f}** | {} | {} | {} |\n",
                       c.name, o.lq, r["lk"].get<int>(), c.memory, cyc, dcyc, dcyc / cyc, ns, dns,
                       j["time_speedup"].get<double>(), pj("unit", "pj_per_query"), pj("dense", "pj_per_query"),
                       ratio("ratio"));
  return j;
}

}  // namespace

// Area, timing and energy of each config and of its dense baseline (same generator, termination and
// pruning off), with the memories as flops and as SRAM macros (SRAM model, docs/memory.md): the
// area difference is what early termination and pruning cost; latency is cycles / fmax on the
// gaussian bench workload (the row of `rows`), so the time speedup against dense counts both the
// cycles saved and the clock lost; energy per query from OpenSTA report_power plus, in macro mode,
// the macros' accesses (docs/energy.md) on the same workload.
nlohmann::json area_table(const std::vector<std::string>& configs, const nlohmann::json& rows, const BenchOptions& o) {
  nlohmann::json out = nlohmann::json::array();
  std::string table =
      "\n| config | memory | area um^2 | logic um^2 | memory um^2 | memory bits | NAND2-eq | dense area um^2 "
      "| termination + pruning share | fmax MHz | dense fmax MHz | fmax ratio |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::string speed_table =
      "\n| config (gaussian, Lq x Lk) | memory | cycles | dense cycles | cycle speedup | ns/query | dense ns/query "
      "| time speedup | pJ/query | dense pJ/query | energy ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& file : configs) {
    const core::AttentionConfig base = core::load_attention_config(file);
    nlohmann::json j = {{"config", base.name}};
    for (const std::string& mode : o.memory_modes) {
      core::AttentionConfig c = base;
      c.memory = mode;
      core::AttentionConfig dc = c;
      dc.dense_baseline = true;
      const flows::AreaResult a = flows::synthesize_area(c, flows::AreaOptions{});
      const flows::AreaResult d = flows::synthesize_area(dc, flows::AreaOptions{});
      const double share = a.feasible && d.feasible ? (a.area_um2 - d.area_um2) / a.area_um2 : 0.0;
      const double fmax_ratio = d.fmax_mhz > 0 ? a.fmax_mhz / d.fmax_mhz : 0.0;
      nlohmann::json m = {{"area", flows::to_json(a)}, {"dense_area", flows::to_json(d)},
                          {"pruning_logic_share", share}, {"fmax_ratio", fmax_ratio}};
      table += fmt::format("| {} | {} | {:.0f} | {:.0f} | {:.0f} | {} | {:.0f} | {:.0f} | {:.3f} | {:.1f} | {:.1f} | {:.3f} |\n",
                           c.name, mode, a.area_um2, a.logic_um2, a.memory_um2, a.memory_bits, a.nand2_eq, d.area_um2,
                           share, a.fmax_mhz, d.fmax_mhz, fmax_ratio);
      for (const auto& r : rows) {
        if (r["config"] == c.name && r["kind"] == "gaussian") m.update(speed_row(c, a, d, r, o, speed_table));
      }
      std::cout << "bench --area: " << c.name << " (" << mode << ") done" << std::endl;
      j[mode] = m;
    }
    // Flat copies of the flops-mode figures, as before both modes were measured.
    for (const char* k : {"area", "dense_area", "pruning_logic_share", "fmax_ratio", "time_speedup", "energy"})
      if (j.contains("flops") && j["flops"].contains(k)) j[k] = j["flops"][k];
    out.push_back(j);
  }
  std::cout << table << speed_table;
  return out;
}

// Wall time of one `accelgen eval` of `file` on its gaussian bench workload. With synthesis, the
// area cache is a fresh directory, so the time includes a cold Yosys + OpenSTA run (what a design
// search pays for a new design point); without, only the golden model runs.
nlohmann::json eval_timing(const std::string& file, const std::string& memory, const BenchOptions& o) {
  core::AttentionConfig c = core::load_attention_config(file);
  c.memory = memory;
  const int lk = std::min(c.max_keys, 16 * c.lanes);
  const fs::path dir = fs::temp_directory_path() / fmt::format("accelgen-bench-eval-{}-{}", c.name, ::getpid());
  fs::remove_all(dir);
  core::write_workload(core::make_workload(c, "gaussian", o.lq, lk, 1), (dir / "workload").string());
  std::ofstream(dir / "config.json") << core::to_json(c).dump(2) << "\n";
  EvalOptions e;
  e.config = (dir / "config.json").string();
  e.workload = (dir / "workload").string();
  e.area = o.area;
  e.area_cache = (dir / "area-cache").string();
  const auto t0 = std::chrono::steady_clock::now();
  const nlohmann::json rec = evaluate(e);
  const double secs = seconds_since(t0);
  fs::remove_all(dir);
  std::cout << fmt::format("\none eval of {}, \"memory\": \"{}\" ({}): {:.1f} s, feasible {}\n", c.name, memory,
                           o.area ? "cold synthesis + STA + golden model" : "golden model only, --no-area",
                           secs, rec.value("feasible", false));
  nlohmann::json j = {{"config", c.name}, {"memory", memory}, {"with_area", o.area}, {"seconds", secs},
                      {"feasible", rec.value("feasible", false)}};
  if (rec.contains("area")) {
    const auto& f = rec["area"]["flow"];
    j["synth_seconds"] = f["synth_seconds"];
    j["sta_seconds"] = f["sta_seconds"];
    j["synth_cpu_seconds"] = f["synth_cpu_seconds"];
    j["sta_cpu_seconds"] = f["sta_cpu_seconds"];
    j["synth_flow"] = f["synth_flow"];
    j["synth_workers"] = f["synth_workers"];
    j["module_synth_seconds"] = f["module_synth_seconds"];
    std::string mods;
    for (const auto& m : f["module_synth_seconds"]) {
      if (mods.size() > 200) break;
      mods += fmt::format("{}{} {:.1f} s", mods.empty() ? "" : ", ", m["module"].get<std::string>(), m["seconds"].get<double>());
    }
    std::cout << fmt::format(
        "  synthesis {:.1f} s ({:.1f} CPU s; {}, {} Yosys processes at a time; per module: {}), STA {:.1f} s ({:.1f} CPU s)\n",
        f["synth_seconds"].get<double>(), f["synth_cpu_seconds"].get<double>(), f["synth_flow"].get<std::string>(),
        f["synth_workers"].get<int>(), mods, f["sta_seconds"].get<double>(), f["sta_cpu_seconds"].get<double>());
  }
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) {
    j["load_average_1min_after"] = load[0];
    std::cout << fmt::format("  load average after the eval: {:.2f} (1 min), {:.2f} (5 min)\n", load[0], load[1]);
  }
  return j;
}

// ---------------------------------------------------------------- N:M arrays

struct NmPoint {
  tb::NmRun run;
  double seconds = 0;
};

NmPoint run_nm_model(const core::NmConfig& c, const core::NmWorkload& w) {
  const auto t0 = std::chrono::steady_clock::now();
  NmPoint p{tb::run_nm(c, w, tb::StimulusOptions{}, nullptr), 0};
  p.seconds = seconds_since(t0);
  if (!p.run.ok()) throw std::runtime_error("bench: N:M model run failed for " + c.name + ": " + p.run.functional_error);
  return p;
}

// One N:M config and its dense baseline (same n * rows * cols multipliers, no indices) on the same
// fixed-seed GEMM X [8 rows, max_k] x W [max_k, 8 cols] (several row and column tiles): cycles,
// their ratio against N/M, MACs and utilization; with --area, the area of both.
nlohmann::json nm_bench_point(const std::string& file, const BenchOptions& o) {
  const core::NmConfig c = core::load_nm_config(file);
  const core::NmWorkload w = core::make_nm_workload(c, 8 * c.rows, c.max_k, 8 * c.cols, 1);
  core::NmConfig dense = c;
  dense.dense_baseline = true;
  const NmPoint s = run_nm_model(c, w), d = run_nm_model(dense, w);
  nlohmann::json j = {{"config", c.name},
                      {"n", c.n},
                      {"m", c.m},
                      {"gemm", {w.x.rows(), w.x.cols(), w.w.cols()}},
                      {"cycles", s.run.stats.cycles},
                      {"dense_cycles", d.run.stats.cycles},
                      {"cycle_ratio", static_cast<double>(s.run.stats.cycles) / static_cast<double>(d.run.stats.cycles)},
                      {"n_over_m", static_cast<double>(c.n) / c.m},
                      {"macs", s.run.stats.macs},
                      {"effective_macs", s.run.stats.effective_macs},
                      {"pe_utilization", s.run.stats.pe_utilization},
                      {"dense_pe_utilization", d.run.stats.pe_utilization},
                      {"model_cycles_per_s", static_cast<double>(s.run.cycles_simulated) / s.seconds}};
  if (o.area) {
    const flows::AreaResult a = flows::synthesize_area(gen::generate_nm(c), flows::AreaOptions{});
    const flows::AreaResult b = flows::synthesize_area(gen::generate_nm(dense), flows::AreaOptions{});
    j["area_um2"] = a.area_um2;
    j["dense_area_um2"] = b.area_um2;
    j["nand2_eq"] = a.nand2_eq;
    j["dense_nand2_eq"] = b.nand2_eq;
    j["area_ratio"] = a.feasible && b.feasible ? a.area_um2 / b.area_um2 : 0.0;
    j["fmax_mhz"] = a.fmax_mhz;
    j["dense_fmax_mhz"] = b.fmax_mhz;
  }
  return j;
}

nlohmann::json nm_table(const std::vector<std::string>& files, const BenchOptions& o) {
  nlohmann::json rows = nlohmann::json::array();
  if (files.empty()) return rows;
  std::cout << "\n| N:M config | GEMM RxKxC | cycles | dense cycles | ratio | N/M | PE util. | dense PE util. "
               "| NAND2-eq | dense NAND2-eq | area ratio |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& file : files) {
    const nlohmann::json j = nm_bench_point(file, o);
    rows.push_back(j);
    const std::string area = j.contains("area_ratio")
                                 ? fmt::format("{:.0f} | {:.0f} | {:.3f}", j["nand2_eq"].get<double>(),
                                               j["dense_nand2_eq"].get<double>(), j["area_ratio"].get<double>())
                                 : "- | - | -";
    std::cout << fmt::format("| {} | {}x{}x{} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} |\n",
                             j["config"].get<std::string>(), j["gemm"][0].get<int64_t>(), j["gemm"][1].get<int64_t>(),
                             j["gemm"][2].get<int64_t>(), j["cycles"].get<int64_t>(), j["dense_cycles"].get<int64_t>(),
                             j["cycle_ratio"].get<double>(), j["n_over_m"].get<double>(),
                             j["pe_utilization"].get<double>(), j["dense_pe_utilization"].get<double>(), area);
  }
  return rows;
}

}  // namespace

void run_bench(const BenchOptions& opts) {
  std::vector<std::string> configs = opts.configs;
  if (configs.empty()) {
    for (const auto& e : fs::directory_iterator(fs::path(ACCELGEN_SOURCE_DIR) / "configs/bench")) {
      if (e.path().extension() == ".json") configs.push_back(e.path().string());
    }
    std::sort(configs.begin(), configs.end());
  }
  // Attention configs and N:M arrays have their own tables.
  std::vector<std::string> nm_configs;
  std::erase_if(configs, [&](const std::string& f) {
    const bool nm = core::config_kind(core::read_json_file(f, "config file (JSON)")) == "nm_array";
    if (nm) nm_configs.push_back(f);
    return nm;
  });
  nlohmann::json rows = nlohmann::json::array();
  std::cout << "| config | workload | lanes | Lk | cycles | dense cycles | ratio | lane util. | bit steps/dense "
               "| kept | pin model Mcyc/s | fast model Mcyc/s | Verilator Mcyc/s | fast model / Verilator |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& file : configs) {
    for (const char* kind : {"gaussian", "peaky"}) {
      const nlohmann::json j = bench_point(file, kind, opts);
      rows.push_back(j);
      const std::string speed =
          j.contains("model_speedup")
              ? fmt::format("{:.2f} | {:.1f}{}", j["verilator_cycles_per_s"].get<double>() / 1e6,
                            j["fast_model_speedup"].get<double>(),
                            j.value("verilator_same_cycles", false) ? "" : " (CYCLES DIFFER)")
              : "- | -";
      std::cout << fmt::format("| {} | {} | {} | {} | {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {:.2f} | {:.1f} | {} |\n",
                               j["config"].get<std::string>(), kind, j["lanes"].get<int>(), j["lk"].get<int>(),
                               j["cycles"].get<int64_t>(), j["dense_cycles"].get<int64_t>(),
                               j["cycle_ratio"].get<double>(), j["lane_utilization"].get<double>(),
                               j["bit_step_fraction"].get<double>(), j["kept_fraction"].get<double>(),
                               j["model_cycles_per_s"].get<double>() / 1e6,
                               j["fast_model_cycles_per_s"].get<double>() / 1e6, speed);
    }
  }
  const nlohmann::json banks = bank_table(configs, opts);
  const nlohmann::json causal = causal_table(configs);
  const nlohmann::json traces = trace_table(opts);
  nlohmann::json areas = nlohmann::json::array();
  if (opts.area) areas = area_table(configs, rows, opts);
  const nlohmann::json nm = nm_table(nm_configs, opts);
  nlohmann::json eval = nlohmann::json::array();
  if (!configs.empty()) {
    for (const std::string& mode : opts.memory_modes) eval.push_back(eval_timing(configs.front(), mode, opts));
  }
  if (!opts.json_out.empty()) {
    std::ofstream(opts.json_out) << nlohmann::json{{"rows", rows}, {"banks", banks}, {"causal", causal}, {"traces", traces}, {"area", areas}, {"nm", nm}, {"eval", eval}}.dump(2)
                                 << "\n";
  }
}

}  // namespace accelgen::cli
