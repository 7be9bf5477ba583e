#include "tb/report.h"

#include <fmt/format.h>

#include "core/hash.h"

namespace accelgen::tb {

nlohmann::json make_report(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                           const RunResult& r, const ReportContext& ctx) {
  uint64_t steps = 0, kept = 0, score_cycles = 0;
  int empty = 0;
  nlohmann::json per_kept = nlohmann::json::array(), per_steps = nlohmann::json::array(),
                 per_cycles = nlohmann::json::array();
  for (const QueryResult& q : r.queries) {
    steps += q.steps;
    kept += q.count;
    score_cycles += q.cycles;
    empty += q.empty ? 1 : 0;
    per_kept.push_back(q.count);
    per_steps.push_back(q.steps);
    per_cycles.push_back(q.cycles);
  }
  const uint64_t lq = static_cast<uint64_t>(w.q.rows());
  const uint64_t lk = static_cast<uint64_t>(w.k.rows());
  const uint64_t scores = lq * lk;
  const uint64_t dense_steps = scores * static_cast<uint64_t>(cfg.wk);
  const double utilization =
      score_cycles == 0 ? 0.0
                        : static_cast<double>(steps) /
                              (static_cast<double>(cfg.lanes) * static_cast<double>(score_cycles));
  return nlohmann::json{
      {"tool", "accelgen"},
      {"tool_version", ctx.tool_version},
      {"simulator", ctx.simulator},
      {"passed", r.ok()},
      {"config", core::to_json(cfg)},
      {"config_hash", core::config_hash(cfg)},
      {"workload",
       {{"dir", ctx.workload_dir},
        {"lq", lq},
        {"lk", lk},
        {"theta", w.params.theta},
        {"slot", w.params.slot},
        {"softmax_scale", w.params.softmax_scale}}},
      {"alpha",
       {{"bits", r.alpha_bits},
        {"frac_bits", cfg.alpha_frac_bits},
        {"value", core::alpha_value(r.alpha_bits, cfg)}}},
      {"stimulus",
       {{"seed", ctx.stimulus.seed},
        {"valid_prob", ctx.stimulus.valid_prob},
        {"ready_prob", ctx.stimulus.ready_prob},
        {"reset_at", ctx.stimulus.reset_at}}},
      {"cycles", {{"total", r.cycles_total}, {"score_phase", score_cycles}}},
      {"bit_steps", steps},
      {"dense_bit_steps", dense_steps},
      {"bit_step_fraction", dense_steps ? static_cast<double>(steps) / static_cast<double>(dense_steps) : 0.0},
      {"kept", kept},
      {"pruned", scores - kept},
      {"empty_rows", empty},
      {"lane_utilization", utilization},
      {"per_query", {{"kept", per_kept}, {"bit_steps", per_steps}, {"score_phase_cycles", per_cycles}}},
  };
}

nlohmann::json report_numbers(const nlohmann::json& report) {
  nlohmann::json n = report;
  n.erase("simulator");
  n.erase("tool_version");
  n["workload"].erase("dir");
  return n;
}

std::string summary(const nlohmann::json& r) {
  return fmt::format(
      "{} on '{}' (hash {}): {} queries x {} keys\n"
      "  cycles: {} total, {} score phase; lane utilization {:.3f}\n"
      "  kept {} / pruned {} ({} empty rows); bit steps {} = {:.3f} of dense\n",
      r["simulator"].get<std::string>(), r["config"]["name"].get<std::string>(),
      r["config_hash"].get<std::string>(), r["workload"]["lq"].get<uint64_t>(),
      r["workload"]["lk"].get<uint64_t>(), r["cycles"]["total"].get<int64_t>(),
      r["cycles"]["score_phase"].get<uint64_t>(), r["lane_utilization"].get<double>(),
      r["kept"].get<uint64_t>(), r["pruned"].get<uint64_t>(), r["empty_rows"].get<int>(),
      r["bit_steps"].get<uint64_t>(), r["bit_step_fraction"].get<double>());
}

}  // namespace accelgen::tb
