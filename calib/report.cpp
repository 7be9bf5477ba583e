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

const char* value_key(const Threshold& t) { return t.mode == core::ThresholdMode::relative ? "delta" : "theta"; }

nlohmann::json method_json(const MethodReport& m, const SlotReport& s) {
  nlohmann::json held = nlohmann::json::array();
  for (size_t k = 0; k < m.held_out_workloads.size(); ++k) {
    const MethodReport::HeldOutWorkload& hw = m.held_out_workloads[k];
    const HardEval& h = hw.eval;
    held.push_back({{"dir", s.held_out_workloads[k]},
                    {"queries", h.queries},
                    {"error", part_or_null(h, err_of)},
                    {"kept_fraction", part_or_null(h, kept_of)},
                    {"bit_steps", hw.bit_steps},
                    {"dense_bit_steps", hw.dense_bit_steps},
                    {"bit_step_fraction", hw.dense_bit_steps ? num(static_cast<double>(hw.bit_steps) /
                                                                   static_cast<double>(hw.dense_bit_steps))
                                                             : nlohmann::json(nullptr)}});
  }
  nlohmann::json j = {
      {"mode", core::to_string(m.threshold.mode)},
      {value_key(m.threshold), m.threshold.value},
      {"error", {{"fit", part_or_null(m.fit, err_of)},
                 {"held_out", part_or_null(m.held_out, err_of)},
                 {"all", part_or_null(m.all, err_of)}}},
      {"kept_fraction", {{"fit", part_or_null(m.fit, kept_of)},
                         {"held_out", part_or_null(m.held_out, kept_of)},
                         {"all", part_or_null(m.all, kept_of)}}},
      {"held_out_workloads", held},
      {"kept", m.all.kept},
      {"pruned", m.all.scores - m.all.kept},
      {"masked", m.masked},
      {"empty_rows", m.all.empty_rows},
      {"bit_steps", m.bit_steps},
      {"bit_steps_basis", m.bit_steps_ideal ? "ideal" : "exact"},
      {"dense_bit_steps", m.dense_bit_steps},
      {"bit_step_fraction", m.dense_bit_steps ? num(static_cast<double>(m.bit_steps) /
                                                    static_cast<double>(m.dense_bit_steps))
                                              : nlohmann::json(nullptr)},
  };
  if (m.cycles) {
    j["cycles"] = {{"total", m.cycles->total},
                   {"score_phase", m.cycles->score_phase},
                   {"bit_steps", m.cycles->bit_steps}};
  } else if (m.cycles_unavailable) {
    j["cycles"] = nullptr;
    j["cycles_note"] = "the golden cycle model does not run this rule (causal mask or relative threshold) in "
                       "this build; bit_steps are the functional model's";
  }
  // The search behind a learned threshold.
  if (m.threshold.mode == core::ThresholdMode::absolute && s.learn && m.threshold.value == s.learn->theta &&
      (&m == &s.learned || (s.other && &m == &*s.other))) {
    j["theta_relaxed"] = s.learn->theta_relaxed;
    j["lambda"] = s.learn->lambda;
    j["refine_steps"] = s.learn->refine_steps;
  }
  if (&m == &s.learned || (s.other && &m == &*s.other)) j["margin"] = m.margin;
  if (m.threshold.mode == core::ThresholdMode::relative && s.delta_search) {
    j["delta_levels"] = s.delta_search->levels;
    j["delta_evaluations"] = s.delta_search->evaluations;
    j["delta_met"] = s.delta_search->met;
  }
  return j;
}

// Sums over slots: counts add; errors are the worst slot's.
nlohmann::json overall_json(const CalibrationResult& r, MethodReport SlotReport::*which) {
  int64_t kept = 0, scores = 0, steps = 0, dense = 0, empty = 0, masked = 0;
  double fit_err = 0.0, held_err = 0.0, held_wl_err = 0.0;
  bool any_held = false, any_held_wl = false, cycles = true, ideal = false;
  CycleCount c;
  for (const SlotReport& s : r.slots) {
    const MethodReport& m = s.*which;
    kept += m.all.kept;
    scores += m.all.scores;
    empty += m.all.empty_rows;
    masked += m.masked;
    steps += m.bit_steps;
    dense += m.dense_bit_steps;
    ideal = ideal || m.bit_steps_ideal;
    fit_err = std::max(fit_err, m.fit.error);
    if (m.held_out.scores > 0) {
      held_err = std::max(held_err, m.held_out.error);
      any_held = true;
    }
    for (const MethodReport::HeldOutWorkload& h : m.held_out_workloads) {
      held_wl_err = std::max(held_wl_err, h.eval.error);
      any_held_wl = true;
    }
    if (m.cycles) {
      c.total += m.cycles->total;
      c.score_phase += m.cycles->score_phase;
      c.bit_steps += m.cycles->bit_steps;
    } else {
      cycles = false;
    }
  }
  nlohmann::json j = {
      {"error_max", {{"fit", num(fit_err)},
                     {"held_out", any_held ? num(held_err) : nlohmann::json(nullptr)},
                     {"held_out_workload", any_held_wl ? num(held_wl_err) : nlohmann::json(nullptr)}}},
      {"kept_fraction", scores ? num(static_cast<double>(kept) / static_cast<double>(scores)) : nlohmann::json(nullptr)},
      {"kept", kept},
      {"pruned", scores - kept},
      {"masked", masked},
      {"empty_rows", empty},
      {"bit_steps", steps},
      {"bit_steps_basis", ideal ? "ideal" : "exact"},
      {"dense_bit_steps", dense},
      {"bit_step_fraction", dense ? num(static_cast<double>(steps) / static_cast<double>(dense)) : nlohmann::json(nullptr)},
  };
  if (cycles && !r.slots.empty()) {
    j["cycles"] = {{"total", c.total}, {"score_phase", c.score_phase}, {"bit_steps", c.bit_steps}};
  }
  return j;
}

nlohmann::json modes_json(const std::vector<core::ThresholdMode>& modes) {
  nlohmann::json j = nlohmann::json::array();
  for (core::ThresholdMode m : modes) j.push_back(core::to_string(m));
  return j;
}

}  // namespace

nlohmann::json thresholds_json(const core::AttentionConfig& cfg, const CalibrationResult& r,
                               const CalibOptions& opts, const std::string& tool_version) {
  nlohmann::json thresholds = nlohmann::json::array();
  nlohmann::json slots = nlohmann::json::array();
  for (const SlotReport& s : r.slots) {
    thresholds.push_back({{"slot", s.slot},
                          {"mode", core::to_string(s.learned.threshold.mode)},
                          {value_key(s.learned.threshold), s.learned.threshold.value}});
    nlohmann::json pct = method_json(s.percentile, s);
    pct["percentile"] = s.percentile_p;
    nlohmann::json slot = {{"slot", s.slot},
                           {"workloads", s.workloads},
                           {"held_out_workloads", s.held_out_workloads},
                           {"queries", {{"fit", s.fit_queries}, {"held_out", s.held_out_queries}}},
                           {"modes_considered", modes_json(s.modes_considered)},
                           {"mode", core::to_string(s.learned.threshold.mode)},
                           {"none", method_json(s.none, s)},
                           {"percentile", pct},
                           {"learned", method_json(s.learned, s)}};
    if (s.other) slot["other_mode"] = method_json(*s.other, s);
    if (!s.cv.empty()) {
      nlohmann::json cv = nlohmann::json::array();
      for (const CvMargin& c : s.cv) {
        nlohmann::json folds = nlohmann::json::array();
        for (size_t k = 0; k < c.folds.size(); ++k) folds.push_back({{"left_out", c.folds[k]}, {"error", num(c.fold_errors[k])}});
        nlohmann::json entry = {{"mode", core::to_string(c.mode)},
                                {"rule", to_string(c.rule)},
                                {"margin", c.margin},
                                {"met", c.met},
                                {"bound", num(c.bound)},
                                {"margins_tried", c.margins_tried},
                                {"folds", folds}};
        if (c.rule == CvRule::predict) entry["level"] = c.level;
        cv.push_back(std::move(entry));
      }
      slot["cv_margin"] = cv;
    }
    slots.push_back(std::move(slot));
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
        {"error_metric", "relative L2 (Frobenius) norm of the attention output difference over the visible keys, "
                         "float64 softmax"},
        {"fit_target", opts.max_error * opts.margin},
        {"options",
         {{"mode", to_string(opts.mode)},
          {"causal", opts.causal},
          {"causal_offset", opts.causal && opts.causal_offset ? nlohmann::json(*opts.causal_offset)
                                                              : nlohmann::json(nullptr)},
          {"holdout", r.holdout},
          {"holdout_workloads", opts.holdout_workloads},
          {"cv_margin", opts.cv_margin},
          {"cv_rule", to_string(opts.cv_rule)},
          {"cv_level", opts.cv_level},
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
  size_t held_wl = 0;
  for (const SlotReport& s : r.slots) held_wl = std::max(held_wl, s.held_out_workloads.size());
  std::string out = fmt::format(
      "calibrated {} slot{} for max error {:g} (mode {}{}): fitted to error {} with {:g} standard errors of "
      "margin; {}\n",
      r.slots.size(), r.slots.size() == 1 ? "" : "s", opts.max_error, to_string(opts.mode),
      opts.causal ? ", causal" : "",
      opts.cv_margin ? std::string("(cross-validated margin) * E") : fmt::format("{:g}", opts.max_error * opts.margin),
      opts.z,
      held_wl > 0 ? fmt::format("whole workloads held out{}; held-out error below",
                                r.holdout > 0 ? fmt::format(" and {:.0f}% of the other queries", 100.0 * r.holdout)
                                              : std::string())
                  : fmt::format("{:.0f}% of each slot's queries held out; held-out error below", 100.0 * r.holdout));
  if (opts.mode == ModeChoice::automatic && !r.slots.empty() && r.slots.front().modes_considered.size() == 1) {
    out += "  --mode auto: the config's hardware has absolute thresholds only, so only absolute was fitted\n";
  }
  out += fmt::format("  {:>4}  {:<14} {:>4} {:>11} {:>7} {:>9} {:>10} {:>10}\n", "slot", "method", "mode", "value",
                     "kept", "held err", "bit steps", "cycles");
  auto fmt_err = [](const HardEval& h) {
    return h.scores == 0 ? std::string("-") : fmt::format("{:.4f}", h.error);
  };
  bool any_ideal = false, any_unavailable = false;
  for (const SlotReport& s : r.slots) {
    std::vector<std::pair<std::string, const MethodReport*>> rows = {
        {"none", &s.none}, {fmt::format("percentile p{}", s.percentile_p), &s.percentile}, {"learned", &s.learned}};
    if (s.other) rows.emplace_back("(other mode)", &*s.other);
    for (const auto& [name, m] : rows) {
      const double frac =
          m->dense_bit_steps ? static_cast<double>(m->bit_steps) / static_cast<double>(m->dense_bit_steps) : 0.0;
      any_ideal = any_ideal || m->bit_steps_ideal;
      any_unavailable = any_unavailable || m->cycles_unavailable;
      out += fmt::format("  {:>4}  {:<14} {:>4} {:>11} {:>7.3f} {:>9} {:>10} {:>10}\n", s.slot, name,
                         m->threshold.mode == core::ThresholdMode::relative ? "rel" : "abs", m->threshold.value,
                         m->all.kept_fraction(), fmt_err(m->held_out),
                         fmt::format("{:.3f}{}", frac, m->bit_steps_ideal ? "*" : " "),
                         m->cycles ? std::to_string(m->cycles->total) : std::string("-"));
    }
    for (const CvMargin& c : s.cv) {
      std::string errs;
      for (double e : c.fold_errors) errs += fmt::format(" {:.4f}", e);
      const std::string rule = c.rule == CvRule::predict
                                   ? fmt::format("prediction bound at level {:g}: {:.4f}", c.level, c.bound)
                                   : fmt::format("worst fold {:.4f}", c.bound);
      out += fmt::format("  {:>4}  cv margin {}: {:.2f}{} ({}; left-out errors{})\n", s.slot, core::to_string(c.mode),
                         c.margin, c.met ? "" : " (no grid margin accepted)", rule, errs);
    }
    for (size_t k = 0; k < s.held_out_workloads.size(); ++k) {
      const MethodReport::HeldOutWorkload& hw = s.learned.held_out_workloads[k];
      out += fmt::format("  {:>4}  held out {} ({} queries): learned error {}, kept {:.3f}, bit steps {:.3f}{}\n",
                         s.slot, s.held_out_workloads[k], hw.eval.queries, fmt_err(hw.eval), hw.eval.kept_fraction(),
                         hw.dense_bit_steps ? static_cast<double>(hw.bit_steps) / static_cast<double>(hw.dense_bit_steps)
                                            : 0.0,
                         s.learned.bit_steps_ideal ? "*" : "");
    }
  }
  if (any_ideal) {
    out += "  * ideal bit steps n* of the functional model (relative mode: against the final M_i - delta; the unit "
           "realizes at least these)\n";
  }
  if (any_unavailable) {
    out += "  cycles '-': the golden cycle model does not run causal masks or relative thresholds in this build\n";
  }
  return out;
}

// ------------------------------------------------------------------------------ thresholds file

std::vector<SlotThreshold> read_thresholds(const std::string& path, const core::AttentionConfig& cfg) {
  return parse_thresholds(core::read_json_file(path, "thresholds file (JSON)"), path, cfg);
}

std::vector<SlotThreshold> parse_thresholds(const nlohmann::json& j, const std::string& path,
                                            const core::AttentionConfig& cfg) {
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
    throw core::InputError(path + ": thresholds",
                           "required, an array of {\"slot\": int, \"mode\": \"absolute\", \"theta\": int} or "
                           "{\"slot\": int, \"mode\": \"relative\", \"delta\": int}");
  }
  const int tw = core::widths(cfg).tw;
  std::vector<SlotThreshold> out;
  std::set<int> seen;
  for (size_t k = 0; k < j["thresholds"].size(); ++k) {
    const nlohmann::json& e = j["thresholds"][k];
    const std::string where = fmt::format("{}: thresholds[{}]", path, k);
    if (!e.is_object()) throw core::InputError(where, "must be an object {\"slot\", \"mode\", \"theta\" | \"delta\"}");
    // The mode: "absolute" (theta) or "relative" (delta); an entry without "mode" is absolute.
    core::ThresholdMode mode = core::ThresholdMode::absolute;
    if (e.contains("mode")) {
      if (e["mode"] == "relative") {
        mode = core::ThresholdMode::relative;
      } else if (e["mode"] != "absolute") {
        throw core::InputError(where + ".mode",
                               fmt::format("{} is not a threshold mode; allowed \"absolute\", \"relative\"",
                                           e["mode"].dump()));
      }
    }
    const char* value = mode == core::ThresholdMode::relative ? "delta" : "theta";
    const size_t keys = 2 + (e.contains("mode") ? 1 : 0);
    if (e.size() != keys || !e.contains("slot") || !e.contains(value)) {
      throw core::InputError(where, fmt::format("must be an object with exactly the keys slot{} and {}",
                                                e.contains("mode") ? ", mode" : "", value));
    }
    if (!e["slot"].is_number_integer()) throw core::InputError(where + ".slot", "must be an integer");
    if (!e[value].is_number_integer()) throw core::InputError(where + "." + value, "must be an integer");
    const bool huge_slot = e["slot"].is_number_unsigned() &&
                           e["slot"].get<uint64_t>() >= static_cast<uint64_t>(cfg.threshold_slots);
    const int64_t slot = e["slot"].get<int64_t>();
    if (huge_slot || slot < 0 || slot >= cfg.threshold_slots) {
      throw core::InputError(where + ".slot", fmt::format("{} is out of range; allowed [0, {}]", e["slot"].dump(),
                                                          cfg.threshold_slots - 1));
    }
    if (mode == core::ThresholdMode::relative && !cfg.relative_thresholds) {
      throw core::InputError(where + ".mode",
                             "\"relative\", but the config's threshold_modes is [\"absolute\"]: its hardware has no "
                             "relative thresholds");
    }
    const int64_t lo = mode == core::ThresholdMode::relative ? 0 : core::signed_min(tw);
    const int64_t hi = core::signed_max(tw);
    const bool huge = e[value].is_number_unsigned() && e[value].get<uint64_t>() > static_cast<uint64_t>(hi);
    const int64_t v = e[value].get<int64_t>();
    if (huge || v < lo || v > hi) {
      throw core::InputError(where + "." + value,
                             fmt::format("{} does not fit the {}-bit threshold register; allowed [{}, {}]",
                                         e[value].dump(), tw, lo, hi));
    }
    if (!seen.insert(static_cast<int>(slot)).second) {
      throw core::InputError(where + ".slot", fmt::format("slot {} appears twice", slot));
    }
    out.push_back({static_cast<int>(slot), Threshold{mode, v}});
  }
  return out;
}

void apply_thresholds(const std::string& thresholds_json_path, const core::AttentionConfig& cfg,
                      core::AttentionWorkload& w) {
  const std::vector<SlotThreshold> thresholds = read_thresholds(thresholds_json_path, cfg);
  std::string have;
  for (const SlotThreshold& t : thresholds) {
    if (t.slot == w.params.slot) {
      w.params.mode = t.threshold.mode;
      if (t.threshold.mode == core::ThresholdMode::relative) {
        w.params.delta = t.threshold.value;
      } else {
        w.params.theta = t.threshold.value;
        w.params.delta = 0;
      }
      return;
    }
    have += (have.empty() ? "" : ", ") + std::to_string(t.slot);
  }
  throw core::InputError(thresholds_json_path + ": thresholds",
                         fmt::format("no threshold for slot {} (the workload's params.json slot); the file has "
                                     "slots [{}]",
                                     w.params.slot, have));
}

}  // namespace accelgen::calib
