// accelgen::calib — the calibration report: the thresholds file (writing it with its report, reading it back,
// applying it to a workload) and the terminal summary; see calibrate.h and docs/calibration.md.
// May include: core/, nlohmann-json, fmt.
#include "calib/calibrate.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/error.h"

namespace accelgen::calib {

// ------------------------------------------------------------------------------------- reporting

namespace {

nlohmann::json num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

nlohmann::json part_or_null(const HardEval& h, double (*f)(const HardEval&)) {
  return h.scores == 0 ? nlohmann::json(nullptr) : num(f(h));
}
double err_of(const HardEval& h) { return h.error; }
double kept_of(const HardEval& h) { return h.kept_fraction(); }

nlohmann::json method_json(const MethodReport& m) {
  nlohmann::json j = {
      {"theta", m.theta},
      {"error", {{"fit", part_or_null(m.fit, err_of)},
                 {"held_out", part_or_null(m.held_out, err_of)},
                 {"all", part_or_null(m.all, err_of)}}},
      {"kept_fraction", {{"fit", part_or_null(m.fit, kept_of)},
                         {"held_out", part_or_null(m.held_out, kept_of)},
                         {"all", part_or_null(m.all, kept_of)}}},
      {"kept", m.all.kept},
      {"pruned", m.all.scores - m.all.kept},
      {"empty_rows", m.all.empty_rows},
      {"bit_steps", m.bit_steps},
      {"dense_bit_steps", m.dense_bit_steps},
      {"bit_step_fraction", m.dense_bit_steps ? num(static_cast<double>(m.bit_steps) /
                                                    static_cast<double>(m.dense_bit_steps))
                                              : nlohmann::json(nullptr)},
  };
  if (m.cycles) j["cycles"] = {{"total", m.cycles->total}, {"score_phase", m.cycles->score_phase}};
  return j;
}

// Sums over slots: counts add; errors are the worst slot's.
nlohmann::json overall_json(const CalibrationResult& r, MethodReport SlotReport::*which) {
  int64_t kept = 0, scores = 0, steps = 0, dense = 0, empty = 0;
  double fit_err = 0.0, held_err = 0.0;
  bool any_held = false, cycles = true;
  CycleCount c;
  for (const SlotReport& s : r.slots) {
    const MethodReport& m = s.*which;
    kept += m.all.kept;
    scores += m.all.scores;
    empty += m.all.empty_rows;
    steps += m.bit_steps;
    dense += m.dense_bit_steps;
    fit_err = std::max(fit_err, m.fit.error);
    if (m.held_out.scores > 0) {
      held_err = std::max(held_err, m.held_out.error);
      any_held = true;
    }
    if (m.cycles) {
      c.total += m.cycles->total;
      c.score_phase += m.cycles->score_phase;
    } else {
      cycles = false;
    }
  }
  nlohmann::json j = {
      {"error_max", {{"fit", num(fit_err)}, {"held_out", any_held ? num(held_err) : nlohmann::json(nullptr)}}},
      {"kept_fraction", scores ? num(static_cast<double>(kept) / static_cast<double>(scores)) : nlohmann::json(nullptr)},
      {"kept", kept},
      {"pruned", scores - kept},
      {"empty_rows", empty},
      {"bit_steps", steps},
      {"dense_bit_steps", dense},
      {"bit_step_fraction", dense ? num(static_cast<double>(steps) / static_cast<double>(dense)) : nlohmann::json(nullptr)},
  };
  if (cycles && !r.slots.empty()) j["cycles"] = {{"total", c.total}, {"score_phase", c.score_phase}};
  return j;
}

}  // namespace

nlohmann::json thresholds_json(const core::AttentionConfig& cfg, const CalibrationResult& r,
                               const CalibOptions& opts, const std::string& tool_version) {
  nlohmann::json thresholds = nlohmann::json::array();
  nlohmann::json slots = nlohmann::json::array();
  for (const SlotReport& s : r.slots) {
    thresholds.push_back({{"slot", s.slot}, {"theta", s.learned.theta}});
    nlohmann::json learned = method_json(s.learned);
    learned["theta_relaxed"] = s.learn.theta_relaxed;
    learned["lambda"] = s.learn.lambda;
    learned["refine_steps"] = s.learn.refine_steps;
    nlohmann::json pct = method_json(s.percentile);
    pct["percentile"] = s.percentile_p;
    slots.push_back({{"slot", s.slot},
                     {"workloads", s.workloads},
                     {"queries", {{"fit", s.fit_queries}, {"held_out", s.held_out_queries}}},
                     {"none", method_json(s.none)},
                     {"percentile", pct},
                     {"learned", learned}});
  }
  const LearnOptions& l = opts.learn;
  return {
      {"tool", "accelgen"},
      {"tool_version", tool_version},
      {"config_hash", core::config_hash(cfg)},
      {"max_error", opts.max_error},
      {"thresholds", thresholds},
      {"report",
       {{"config", core::to_json(cfg)},
        {"error_metric", "relative L2 (Frobenius) norm of the attention output difference, float64 softmax"},
        {"fit_target", opts.max_error * opts.margin},
        {"options",
         {{"holdout", opts.holdout},
          {"margin", opts.margin},
          {"z", opts.z},
          {"seed", opts.seed},
          {"lambda_points", l.lambda_points},
          {"lambda_min", l.lambda_min},
          {"lambda_max", l.lambda_max},
          {"steps", l.steps},
          {"t_start", l.t_start},
          {"t_end", l.t_end},
          {"learning_rate", l.learning_rate}}},
        {"slots", slots},
        {"overall",
         {{"none", overall_json(r, &SlotReport::none)},
          {"percentile", overall_json(r, &SlotReport::percentile)},
          {"learned", overall_json(r, &SlotReport::learned)}}}}},
  };
}

std::string summary(const CalibrationResult& r, const CalibOptions& opts) {
  std::string out = fmt::format(
      "calibrated {} slot{} for max error {:g}: fitted on {:.0f}% of each slot's queries to error {:g} with "
      "{:g} standard errors of margin; held-out error below\n",
      r.slots.size(), r.slots.size() == 1 ? "" : "s", opts.max_error, 100.0 * (1.0 - opts.holdout),
      opts.max_error * opts.margin, opts.z);
  out += fmt::format("  {:>4}  {:<14} {:>9} {:>7} {:>9} {:>9} {:>10}\n", "slot", "method", "theta", "kept",
                     "held err", "bit steps", "cycles");
  auto fmt_err = [](const HardEval& h) {
    return h.scores == 0 ? std::string("-") : fmt::format("{:.4f}", h.error);
  };
  for (const SlotReport& s : r.slots) {
    const std::pair<std::string, const MethodReport*> rows[] = {
        {"none", &s.none}, {fmt::format("percentile p{}", s.percentile_p), &s.percentile}, {"learned", &s.learned}};
    for (const auto& [name, m] : rows) {
      out += fmt::format("  {:>4}  {:<14} {:>9} {:>7.3f} {:>9} {:>9.3f} {:>10}\n", s.slot, name, m->theta,
                         m->all.kept_fraction(), fmt_err(m->held_out),
                         m->dense_bit_steps ? static_cast<double>(m->bit_steps) / static_cast<double>(m->dense_bit_steps) : 0.0,
                         m->cycles ? std::to_string(m->cycles->total) : std::string("-"));
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ thresholds file

std::vector<std::pair<int, int64_t>> read_thresholds(const std::string& path, const core::AttentionConfig& cfg) {
  const nlohmann::json j = core::read_json_file(path, "thresholds file (JSON)");
  if (!j.is_object()) throw core::InputError(path, "must be a JSON object (an accelgen thresholds file)");
  static const std::set<std::string> known = {"tool", "tool_version", "config_hash", "max_error", "thresholds",
                                              "report"};
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key)) {
      throw core::InputError(path + ": " + key,
                             "unknown key (allowed: tool, tool_version, config_hash, max_error, thresholds, report)");
    }
  }
  if (j.contains("tool") && j["tool"] != "accelgen") {
    throw core::InputError(path + ": tool", "must be \"accelgen\"");
  }
  if (!j.contains("config_hash") || !j["config_hash"].is_string()) {
    throw core::InputError(path + ": config_hash", "required, the 16-hex-digit hash of the calibrated config");
  }
  const std::string want = core::config_hash(cfg);
  if (j["config_hash"].get<std::string>() != want) {
    throw core::InputError(path + ": config_hash",
                           fmt::format("{} is not this config's hash {}: the thresholds were calibrated for "
                                       "another config",
                                       j["config_hash"].get<std::string>(), want));
  }
  if (!j.contains("thresholds") || !j["thresholds"].is_array()) {
    throw core::InputError(path + ": thresholds", "required, an array of {\"slot\": int, \"theta\": int}");
  }
  const int tw = core::widths(cfg).tw;
  std::vector<std::pair<int, int64_t>> out;
  std::set<int> seen;
  for (size_t k = 0; k < j["thresholds"].size(); ++k) {
    const nlohmann::json& e = j["thresholds"][k];
    const std::string where = fmt::format("{}: thresholds[{}]", path, k);
    if (!e.is_object() || e.size() != 2 || !e.contains("slot") || !e.contains("theta")) {
      throw core::InputError(where, "must be an object with exactly the keys slot and theta");
    }
    if (!e["slot"].is_number_integer()) throw core::InputError(where + ".slot", "must be an integer");
    if (!e["theta"].is_number_integer()) throw core::InputError(where + ".theta", "must be an integer");
    const bool huge_slot = e["slot"].is_number_unsigned() &&
                           e["slot"].get<uint64_t>() >= static_cast<uint64_t>(cfg.threshold_slots);
    const int64_t slot = e["slot"].get<int64_t>();
    if (huge_slot || slot < 0 || slot >= cfg.threshold_slots) {
      throw core::InputError(where + ".slot", fmt::format("{} is out of range; allowed [0, {}]", e["slot"].dump(),
                                                          cfg.threshold_slots - 1));
    }
    const bool huge_theta = e["theta"].is_number_unsigned() &&
                            e["theta"].get<uint64_t>() > static_cast<uint64_t>(core::signed_max(tw));
    const int64_t theta = e["theta"].get<int64_t>();
    if (huge_theta || theta < core::signed_min(tw) || theta > core::signed_max(tw)) {
      throw core::InputError(where + ".theta",
                             fmt::format("{} does not fit the {}-bit threshold register; allowed [{}, {}]",
                                         e["theta"].dump(), tw, core::signed_min(tw), core::signed_max(tw)));
    }
    if (!seen.insert(static_cast<int>(slot)).second) {
      throw core::InputError(where + ".slot", fmt::format("slot {} appears twice", slot));
    }
    out.emplace_back(static_cast<int>(slot), theta);
  }
  return out;
}

void apply_thresholds(const std::string& thresholds_json_path, const core::AttentionConfig& cfg,
                      core::AttentionWorkload& w) {
  const auto thresholds = read_thresholds(thresholds_json_path, cfg);
  std::string have;
  for (const auto& [slot, theta] : thresholds) {
    if (slot == w.params.slot) {
      w.params.theta = theta;
      return;
    }
    have += (have.empty() ? "" : ", ") + std::to_string(slot);
  }
  throw core::InputError(thresholds_json_path + ": thresholds",
                         fmt::format("no threshold for slot {} (the workload's params.json slot); the file has "
                                     "slots [{}]",
                                     w.params.slot, have));
}

}  // namespace accelgen::calib
