#include "tb/report.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/npy.h"

#include "core/hash.h"
#include "golden/functional.h"

namespace accelgen::tb {

nlohmann::json report_header(const ReportContext& ctx, bool passed, const nlohmann::json& config,
                             const std::string& config_hash) {
  nlohmann::json header = {
      {"tool", "accelgen"},
      {"tool_version", ctx.tool_version},
      {"simulator", ctx.simulator},
      {"passed", passed},
      {"config", config},
      {"config_hash", config_hash},
      {"stimulus",
       {{"seed", ctx.stimulus.seed},
        {"valid_prob", ctx.stimulus.valid_prob},
        {"ready_prob", ctx.stimulus.ready_prob},
        {"reset_at", ctx.stimulus.reset_at}}},
  };
  if (ctx.stimulus.last_by_count) header["stimulus"]["last_by_count"] = true;
  return header;
}

nlohmann::json make_report(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                           const RunResult& r, const ReportContext& ctx) {
  return make_report(cfg, std::vector<core::AttentionWorkload>{w}, r, ctx);
}

nlohmann::json make_report(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                           const RunResult& r, const ReportContext& ctx) {
  const core::AttentionWorkload& w = sets.front();  // the params every workload of the run shares
  uint64_t steps = 0, kept = 0, filtered = 0, score_cycles = 0, backend_cycles = 0;
  int empty = 0;
  nlohmann::json per_kept = nlohmann::json::array(), per_steps = nlohmann::json::array(),
                 per_cycles = nlohmann::json::array(), per_bcycles = nlohmann::json::array();
  for (const QueryResult& q : r.queries) {
    steps += q.steps;
    kept += q.count;
    filtered += q.filtered;
    score_cycles += q.cycles;
    backend_cycles += q.bcycles;
    per_bcycles.push_back(q.bcycles);
    empty += q.empty ? 1 : 0;
    per_kept.push_back(q.count);
    per_steps.push_back(q.steps);
    per_cycles.push_back(q.cycles);
  }
  const core::AttentionWidths wd = core::widths(cfg);
  const core::AlphaRegister alpha = core::decode_alpha(r.alpha_bits, cfg);  // the unit's scale
  uint64_t lq = 0, lk = 0, scores = 0, masked = 0, ideal_steps = 0;
  nlohmann::json key_sets = nlohmann::json::array();
  for (size_t s = 0; s < sets.size(); ++s) {
    const core::AttentionWorkload& ws = sets[s];
    const uint64_t set_lq = static_cast<uint64_t>(ws.q.rows()), set_lk = static_cast<uint64_t>(ws.k.rows());
    lq += set_lq;
    lk += set_lk;
    scores += set_lq * set_lk;
    // The functional model gives the visible pairs and the ideal bit steps (for an absolute threshold
    // the realized steps equal them; for a relative one they are the steps against the final M_i - delta).
    const golden::ScoreResults f = golden::score_all(ws.q, ws.k, cfg.wk, ws.params, cfg.dense_baseline);
    masked += static_cast<uint64_t>(f.masked_count());
    ideal_steps += static_cast<uint64_t>(f.total_steps());
    const std::string dir = s == 0 ? ctx.workload_dir
                                   : s - 1 < ctx.more_workload_dirs.size() ? ctx.more_workload_dirs[s - 1] : "";
    key_sets.push_back({{"dir", dir}, {"lq", set_lq}, {"lk", set_lk}});
  }
  const uint64_t visible = scores - masked;
  const uint64_t dense_steps = visible * static_cast<uint64_t>(cfg.wk);
  const double utilization =
      score_cycles == 0 ? 0.0
                        : static_cast<double>(steps) /
                              (static_cast<double>(cfg.lanes) * static_cast<double>(score_cycles));
  nlohmann::json report = report_header(ctx, r.ok(), core::to_json(cfg), core::config_hash(cfg));
  report.update(nlohmann::json{
      {"workload",
       {{"dir", ctx.workload_dir},
        {"lq", lq},
        {"lk", lk},
        {"threshold_mode", core::to_string(w.params.mode)},
        {w.params.mode == core::ThresholdMode::relative ? "delta" : "theta",
         w.params.mode == core::ThresholdMode::relative ? w.params.delta : w.params.theta},
        {"causal", w.params.causal},
        {"causal_offset", w.params.causal ? nlohmann::json(w.params.causal_offset) : nlohmann::json()},
        {"slot", w.params.slot},
        {"softmax_scale", w.params.softmax_scale}}},
      {"alpha",
       {{"bits", r.alpha_bits},
        {"mant", alpha.mant},
        {"shift", alpha.shift},
        {"mant_bits", cfg.alpha_mant_bits},
        {"value", alpha.value}}},
      {"cycles", {{"total", r.cycles_total}, {"score_phase", score_cycles}, {"softmax_v_phase", backend_cycles}}},
      {"output_format",
       {{"int_bits", wd.ow - cfg.out_frac_bits},
        {"frac_bits", cfg.out_frac_bits},
        {"width", wd.ow},
        {"signed", true},
        {"exp_frac_bits", wd.ef},
        {"exp_lut_entries", (int64_t{1} << wd.lb) + 1}}},
      {"bit_steps", steps},
      {"bit_steps_ideal", ideal_steps},
      {"bit_steps_over_ideal", ideal_steps ? static_cast<double>(steps) / static_cast<double>(ideal_steps) : 0.0},
      {"dense_bit_steps", dense_steps},
      {"bit_step_fraction", dense_steps ? static_cast<double>(steps) / static_cast<double>(dense_steps) : 0.0},
      {"kept", kept},
      {"pruned", visible - kept - filtered},
      {"filtered", filtered},
      {"masked", masked},
      {"empty_rows", empty},
      {"lane_utilization", utilization},
      {"per_query",
       {{"kept", per_kept},
        {"bit_steps", per_steps},
        {"score_phase_cycles", per_cycles},
        {"softmax_v_cycles", per_bcycles}}},
  });
  // A run of several workloads (one key set each): lq and lk above are their totals.
  if (sets.size() > 1) report["workload"]["key_sets"] = key_sets;
  return report;
}

nlohmann::json report_numbers(const nlohmann::json& report) {
  nlohmann::json n = report;
  n.erase("simulator");
  n.erase("tool_version");
  n["workload"].erase("dir");
  if (n["workload"].contains("key_sets")) {
    for (nlohmann::json& set : n["workload"]["key_sets"]) set.erase("dir");
  }
  return n;
}

void write_output_tensor(const std::string& path, const RunResult& r, int dv) {
  core::IntMatrix o = core::IntMatrix::Zero(static_cast<Eigen::Index>(r.queries.size()), dv);
  for (size_t i = 0; i < r.queries.size(); ++i) {
    for (int c = 0; c < dv && c < static_cast<int>(r.queries[i].out.size()); ++c) {
      o(static_cast<Eigen::Index>(i), c) = r.queries[i].out[static_cast<size_t>(c)];
    }
  }
  core::write_file_atomically(path, core::serialize_npy(o));
}

void write_report(const std::string& path, const nlohmann::json& report) {
  core::write_file_atomically(path, report.dump(2) + "\n");
}

std::string summary(const nlohmann::json& r) {
  const nlohmann::json& w = r["workload"];
  const std::string shape =
      w.contains("key_sets")
          ? fmt::format("{} queries over {} key sets of {} keys in all", w["lq"].get<uint64_t>(),
                        w["key_sets"].size(), w["lk"].get<uint64_t>())
          : fmt::format("{} queries x {} keys", w["lq"].get<uint64_t>(), w["lk"].get<uint64_t>());
  return fmt::format(
      "{} on '{}' (hash {}): {}\n"
      "  cycles: {} total, {} score phase, {} softmax/xV phase; lane utilization {:.3f}\n"
      "  kept {} / pruned {} / filtered {} / masked {} ({} empty rows); bit steps {} = {:.3f} of dense, "
      "{:.3f} x ideal\n",
      r["simulator"].get<std::string>(), r["config"]["name"].get<std::string>(),
      r["config_hash"].get<std::string>(), shape, r["cycles"]["total"].get<int64_t>(),
      r["cycles"]["score_phase"].get<uint64_t>(), r["cycles"]["softmax_v_phase"].get<uint64_t>(),
      r["lane_utilization"].get<double>(),
      r["kept"].get<uint64_t>(), r["pruned"].get<uint64_t>(), r["filtered"].get<uint64_t>(),
      r["masked"].get<uint64_t>(), r["empty_rows"].get<int>(), r["bit_steps"].get<uint64_t>(),
      r["bit_step_fraction"].get<double>(), r["bit_steps_over_ideal"].get<double>());
}

}  // namespace accelgen::tb
