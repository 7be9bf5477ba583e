// accelgen::calib — learned runtime-pruning thresholds, see calibrate.h and docs/calibration.md: option and
// workload checks, the per-slot fitting / held-out split and the evaluation of each method.
// May include: core/, golden/, Eigen, fmt.
#include "calib/calibrate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <random>

#include <fmt/format.h>

#include "core/error.h"
#include "golden/functional.h"

namespace accelgen::calib {

// ---------------------------------------------------------------------------------- calibration

double parse_max_error(const std::string& text) {
  double v = 0.0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(first, last, v);
  if (text.empty() || ec != std::errc() || ptr != last || !std::isfinite(v) || v <= 0.0) {
    throw core::InputError("--max-error",
                           fmt::format("'{}' is not a valid error bound; allowed: a number > 0 (relative "
                                       "L2 error of the attention output, e.g. 0.05)",
                                       text));
  }
  return v;
}

const char* to_string(ModeChoice m) {
  switch (m) {
    case ModeChoice::relative: return "relative";
    case ModeChoice::automatic: return "auto";
    default: return "absolute";
  }
}

ModeChoice parse_mode(const std::string& text) {
  if (text == "absolute") return ModeChoice::absolute;
  if (text == "relative") return ModeChoice::relative;
  if (text == "auto") return ModeChoice::automatic;
  throw core::InputError("--mode", fmt::format("'{}' is not a threshold mode; allowed: absolute, relative, auto", text));
}

void check_options(const core::AttentionConfig& cfg, const CalibOptions& o) {
  if (cfg.dense_baseline) {
    throw core::InputError("config.dense_baseline",
                           "the dense baseline never prunes, so it has no thresholds to calibrate; allowed: false");
  }
  if (!std::isfinite(o.max_error) || o.max_error <= 0.0) {
    throw core::InputError("--max-error", fmt::format("{} is not allowed; allowed: a number > 0", o.max_error));
  }
  if (o.holdout && !(*o.holdout >= 0.0 && *o.holdout <= 0.9)) {
    throw core::InputError("--holdout", fmt::format("{} is out of range; allowed [0, 0.9]", *o.holdout));
  }
  if (o.holdout_workloads < 0) {
    throw core::InputError("--holdout-workloads",
                           fmt::format("{} is out of range; allowed [0, workloads of a slot - 1]", o.holdout_workloads));
  }
  if (!(o.margin > 0.0 && o.margin <= 1.0)) {
    throw core::InputError("--margin", fmt::format("{} is out of range; allowed (0, 1]", o.margin));
  }
  if (!(o.z >= 0.0 && o.z <= 10.0)) {
    throw core::InputError("--z", fmt::format("{} is out of range; allowed [0, 10]", o.z));
  }
  if (!(o.cv_level >= 0.5 && o.cv_level <= 0.999)) {
    throw core::InputError("--cv-level", fmt::format("{} is out of range; allowed [0.5, 0.999]", o.cv_level));
  }
  if (o.mode == ModeChoice::relative && !cfg.relative_thresholds) {
    throw core::InputError("--mode", "relative, but the config's hardware has absolute thresholds only; allowed: "
                                     "absolute or auto (or a config with \"threshold_modes\": [\"absolute\", "
                                     "\"relative\"])");
  }
  if (o.causal_offset && *o.causal_offset < 0) {
    throw core::InputError("--causal-offset", fmt::format("{} is negative; allowed an integer >= 0", *o.causal_offset));
  }
}

std::vector<core::ThresholdMode> modes_considered(const core::AttentionConfig& cfg, ModeChoice m) {
  switch (m) {
    case ModeChoice::relative: return {core::ThresholdMode::relative};
    case ModeChoice::automatic:
      if (cfg.relative_thresholds) return {core::ThresholdMode::absolute, core::ThresholdMode::relative};
      return {core::ThresholdMode::absolute};
    default: return {core::ThresholdMode::absolute};
  }
}

double effective_holdout(const CalibOptions& opts, bool workloads_held_out) {
  if (opts.holdout) return *opts.holdout;
  return workloads_held_out ? 0.0 : 0.25;
}

std::vector<double> margin_grid(double top) {
  std::vector<double> g;
  for (int k = 0;; ++k) {
    const double m = std::round((top - 0.05 * k) * 1e6) / 1e6;  // 1, 0.95, ... without drift
    if (m < 0.3 - 1e-9) break;
    g.push_back(m);
  }
  if (g.empty()) g.push_back(top);
  return g;
}

std::vector<size_t> held_out_workload_indices(size_t n, int k, uint64_t seed, int slot) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  std::mt19937_64 rng(seed * 0xD1B54A32D192ED03ULL + static_cast<uint64_t>(slot));
  for (size_t i = n; i > 1; --i) std::swap(idx[i - 1], idx[rng() % i]);
  idx.resize(std::min(n, static_cast<size_t>(std::max(k, 0))));
  std::sort(idx.begin(), idx.end());
  return idx;
}

namespace {

void check_workload(const core::AttentionConfig& cfg, const NamedWorkload& nw) {
  if (nw.w.q.rows() == 0 || nw.w.k.rows() == 0) {
    throw core::InputError(nw.dir, fmt::format("empty workload ({} queries, {} keys); calibration needs at "
                                               "least one query and one key",
                                               nw.w.q.rows(), nw.w.k.rows()));
  }
  if (nw.w.params.slot < 0 || nw.w.params.slot >= cfg.threshold_slots) {
    throw core::InputError(nw.dir + "/params.json: slot",
                           fmt::format("{} is out of range; allowed [0, {}] (threshold_slots = {})",
                                       nw.w.params.slot, cfg.threshold_slots - 1, cfg.threshold_slots));
  }
  core::validate_workload(nw.w, cfg, nw.dir);
}

// --causal: a workload not causal by its params.json becomes causal with the option's offset (default
// Lk - Lq, which must then be >= 0).
void apply_causal(const CalibOptions& o, NamedWorkload& nw) {
  if (!o.causal || nw.w.params.causal) return;
  const int64_t lq = nw.w.q.rows(), lk = nw.w.k.rows();
  if (!o.causal_offset && lk < lq) {
    throw core::InputError("--causal-offset",
                           fmt::format("{} has Lk - Lq = {} - {} < 0, so the default offset does not apply; give "
                                       "--causal-offset >= 0",
                                       nw.dir, lk, lq));
  }
  nw.w.params.causal = true;
  nw.w.params.causal_offset = o.causal_offset ? *o.causal_offset : lk - lq;
}

// The workload's params under a threshold: mode and value; in relative mode theta is set to the register's
// minimum (unused by the rule; it keeps every key for a model that would read it).
core::AttentionParams params_with(const core::AttentionParams& p, const Threshold& t, int64_t floor) {
  core::AttentionParams q = p;
  q.mode = t.mode;
  if (t.mode == core::ThresholdMode::relative) {
    q.delta = t.value;
    q.theta = floor;
  } else {
    q.theta = t.value;
    q.delta = 0;
  }
  return q;
}

struct SlotSets {
  QuerySet fit, held, all;
  std::vector<QuerySet> held_workloads;  // one per held-out workload
};

MethodReport evaluate(const core::AttentionConfig& cfg, const std::vector<const NamedWorkload*>& ws,
                      const std::vector<bool>& held, const SlotSets& sets, const Threshold& t, int64_t floor,
                      const CalibOptions& opts) {
  MethodReport m;
  m.threshold = t;
  m.fit = hard_eval(sets.fit, t);
  m.held_out = hard_eval(sets.held, t);
  m.all = hard_eval(sets.all, t);
  for (const QuerySet& h : sets.held_workloads) m.held_out_workloads.push_back({hard_eval(h, t), 0, 0});
  m.bit_steps_ideal = t.mode == core::ThresholdMode::relative;
  bool cycles_ok = static_cast<bool>(opts.cycles);
  CycleCount sum;
  size_t held_k = 0;
  for (size_t k = 0; k < ws.size(); ++k) {
    core::AttentionWorkload w = ws[k]->w;
    w.params = params_with(ws[k]->w.params, t, floor);
    const golden::ScoreResults r = golden::score_all(w.q, w.k, cfg.wk, w.params, false);
    const int64_t masked = r.masked_count();
    const int64_t steps = r.total_steps();
    const int64_t dense = (static_cast<int64_t>(w.q.rows()) * w.k.rows() - masked) * cfg.wk;
    m.bit_steps += steps;
    m.masked += masked;
    m.dense_bit_steps += dense;
    if (held[k]) {
      m.held_out_workloads[held_k].bit_steps = steps;
      m.held_out_workloads[held_k].dense_bit_steps = dense;
      ++held_k;
    }
    if (cycles_ok) {
      const std::optional<CycleCount> c = opts.cycles(w);
      if (!c) {
        cycles_ok = false;
        m.cycles_unavailable = true;
        continue;
      }
      sum.total += c->total;
      sum.score_phase += c->score_phase;
      sum.bit_steps += c->bit_steps;
    }
  }
  if (cycles_ok) m.cycles = sum;
  return m;
}

// One fold of --cv-margin: the slot's fitting queries without one workload, and that workload's.
struct Fold {
  std::string dir;
  QuerySet fit, val;
};

// The largest margin of margin_grid(opts) at which the errors of the folds' thresholds (each fitted on fold.fit to
// margin * E with the usual acceptance rule, measured on fold.val) pass opts.cv_rule (cv_accepts). The absolute
// lambda path of each fold is computed once and shared by every margin.
CvMargin cross_validate_margin(core::ThresholdMode mode, const std::vector<Fold>& folds, const CalibOptions& opts,
                               int64_t floor, int64_t delta_max) {
  CvMargin cv;
  cv.mode = mode;
  cv.rule = opts.cv_rule;
  cv.level = opts.cv_level;
  std::vector<LambdaPath> paths;
  if (mode == core::ThresholdMode::absolute)
    for (const Fold& f : folds) paths.push_back(lambda_path(f.fit, floor, opts.learn));
  const std::vector<double> grid = margin_grid(opts.margin);
  for (double m : grid) {
    ++cv.margins_tried;
    cv.margin = m;
    cv.folds.clear();
    cv.fold_errors.clear();
    for (size_t k = 0; k < folds.size(); ++k) {
      const Acceptance acc{m * opts.max_error, opts.z, folds[k].val.queries()};
      const Threshold t =
          mode == core::ThresholdMode::absolute
              ? Threshold::absolute(select_threshold(folds[k].fit, paths[k], acc, floor, opts.learn).theta)
              : Threshold::relative(learn_delta(folds[k].fit, acc, delta_max).delta);
      const double e = hard_eval(folds[k].val, t).error;
      cv.folds.push_back(folds[k].dir);
      cv.fold_errors.push_back(e);
    }
    cv.bound = cv_bound(cv.fold_errors, opts.cv_rule, opts.cv_level);
    if (cv.bound <= opts.max_error) return cv;
  }
  cv.met = false;  // no margin of the grid was accepted: the smallest one
  return cv;
}

}  // namespace

CalibrationResult calibrate(const core::AttentionConfig& cfg, const std::vector<NamedWorkload>& workloads_in,
                            const CalibOptions& opts) {
  check_options(cfg, opts);
  if (workloads_in.empty()) {
    throw core::InputError("--workload", "at least one workload directory is required");
  }
  std::vector<NamedWorkload> workloads = workloads_in;
  std::map<int, std::vector<const NamedWorkload*>> by_slot;
  bool explicit_held = false;
  for (NamedWorkload& nw : workloads) {
    check_workload(cfg, nw);
    apply_causal(opts, nw);
    explicit_held = explicit_held || nw.held_out;
    by_slot[nw.w.params.slot].push_back(&nw);
  }
  if (explicit_held && opts.holdout_workloads > 0) {
    throw core::InputError("--holdout-workloads",
                           "given together with --holdout-dir; hold workloads out either by count or by name");
  }
  // Which whole workloads each slot holds out (checked for every slot before any fitting).
  std::map<int, std::vector<bool>> held_of;
  for (const auto& [slot, ws] : by_slot) {
    std::vector<bool> held(ws.size(), false);
    if (opts.holdout_workloads > 0) {
      if (static_cast<size_t>(opts.holdout_workloads) > ws.size() - 1) {
        throw core::InputError("--holdout-workloads",
                               fmt::format("{} is larger than slot {}'s {} workload{} minus 1; allowed [0, {}]",
                                           opts.holdout_workloads, slot, ws.size(), ws.size() == 1 ? "" : "s",
                                           ws.size() - 1));
      }
      for (size_t k : held_out_workload_indices(ws.size(), opts.holdout_workloads, opts.seed, slot)) held[k] = true;
    } else {
      for (size_t k = 0; k < ws.size(); ++k) held[k] = ws[k]->held_out;
      if (std::all_of(held.begin(), held.end(), [](bool b) { return b; })) {
        throw core::InputError("--holdout-dir",
                               fmt::format("every workload of slot {} is held out ({}); at least one must remain "
                                           "for fitting",
                                           slot, ws.front()->dir));
      }
    }
    held_of[slot] = std::move(held);
  }
  const bool workloads_held = explicit_held || opts.holdout_workloads > 0;
  const core::AttentionWidths wd = core::widths(cfg);
  const int64_t floor = core::signed_min(wd.tw);  // below every score: prunes nothing
  const int64_t delta_max = core::signed_max(wd.tw);

  CalibrationResult result;
  result.holdout = effective_holdout(opts, workloads_held);
  for (const auto& [slot, ws] : by_slot) {
    const std::vector<bool>& held = held_of[slot];
    // Every (workload, row) of the fitting workloads, split by a seeded Fisher-Yates shuffle (rng() % (i + 1)
    // keeps it the same on every standard library).
    std::vector<std::pair<size_t, Eigen::Index>> rows;
    for (size_t k = 0; k < ws.size(); ++k)
      if (!held[k])
        for (Eigen::Index i = 0; i < ws[k]->w.q.rows(); ++i) rows.emplace_back(k, i);
    const auto n = static_cast<Eigen::Index>(rows.size());
    Eigen::Index n_held = 0;
    if (result.holdout > 0.0) {
      if (n < 2) {
        throw core::InputError(ws.front()->dir,
                               fmt::format("slot {} has {} query to fit on; holding queries out needs at least 2 "
                                           "(or --holdout 0)",
                                           slot, n));
      }
      n_held = std::clamp<Eigen::Index>(std::llround(result.holdout * static_cast<double>(n)), 1, n - 1);
    }
    std::mt19937_64 rng(opts.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(slot));
    for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng() % i]);
    std::vector<std::vector<Eigen::Index>> fit_rows(ws.size()), held_rows(ws.size());
    for (Eigen::Index r = 0; r < n; ++r) {
      auto& dst = r < n_held ? held_rows : fit_rows;
      dst[rows[static_cast<size_t>(r)].first].push_back(rows[static_cast<size_t>(r)].second);
    }
    SlotSets sets;
    SlotReport s;
    s.slot = slot;
    Eigen::Index n_new = n_held;  // the smallest held-out part (Acceptance)
    for (size_t k = 0; k < ws.size(); ++k) {
      s.workloads.push_back(ws[k]->dir);
      sets.all.add_all(ws[k]->w);
      if (held[k]) {
        sets.held.add_all(ws[k]->w);
        sets.held_workloads.emplace_back();
        sets.held_workloads.back().add_all(ws[k]->w);
        s.held_out_workloads.push_back(ws[k]->dir);
        s.held_out_workload_queries.push_back(ws[k]->w.q.rows());
        n_new = n_new > 0 ? std::min(n_new, ws[k]->w.q.rows()) : ws[k]->w.q.rows();
        continue;
      }
      std::sort(fit_rows[k].begin(), fit_rows[k].end());
      std::sort(held_rows[k].begin(), held_rows[k].end());
      sets.fit.add(ws[k]->w, fit_rows[k]);
      sets.held.add(ws[k]->w, held_rows[k]);
    }
    s.fit_queries = sets.fit.queries();
    s.held_out_queries = sets.held.queries();
    const Eigen::Index acc_new = n_new > 0 ? n_new : sets.fit.queries();
    const Acceptance acc{opts.margin * opts.max_error, opts.z, acc_new};

    // --cv-margin: one fold per fitting workload (fit on the other fitting workloads' fitting queries, check on
    // its own fitting queries).
    std::vector<Fold> folds;
    if (opts.cv_margin) {
      std::vector<size_t> fitting;
      for (size_t k = 0; k < ws.size(); ++k)
        if (!held[k]) fitting.push_back(k);
      if (fitting.size() < 2) {
        throw core::InputError("--cv-margin",
                               fmt::format("slot {} has {} workload to fit on; leave-one-workload-out needs at least 2",
                                           slot, fitting.size()));
      }
      for (size_t k : fitting) {
        Fold f;
        f.dir = ws[k]->dir;
        for (size_t o : fitting) (o == k ? f.val : f.fit).add(ws[o]->w, fit_rows[o]);
        folds.push_back(std::move(f));
      }
    }

    s.modes_considered = modes_considered(cfg, opts.mode);
    const bool want_abs = std::find(s.modes_considered.begin(), s.modes_considered.end(),
                                    core::ThresholdMode::absolute) != s.modes_considered.end();
    const bool want_rel = std::find(s.modes_considered.begin(), s.modes_considered.end(),
                                    core::ThresholdMode::relative) != s.modes_considered.end();
    std::optional<Threshold> abs_t, rel_t;
    double abs_margin = opts.margin, rel_margin = opts.margin;
    if (want_rel) {
      if (opts.cv_margin) {
        s.cv.push_back(cross_validate_margin(core::ThresholdMode::relative, folds, opts, floor, delta_max));
        rel_margin = s.cv.back().margin;
      }
      s.delta_search = learn_delta(sets.fit, Acceptance{rel_margin * opts.max_error, opts.z, acc_new}, delta_max);
      rel_t = Threshold::relative(s.delta_search->delta);
    }
    if (want_abs) {
      const LambdaPath path = lambda_path(sets.fit, floor, opts.learn);
      s.learn = select_threshold(sets.fit, path, acc, floor, opts.learn);
      // --cv-margin: a smaller margin only keeps more scores, so under auto the absolute margin is cross-validated
      // only when absolute keeps no more fitting scores than relative at the top margin (else it loses anyway).
      const bool cv_abs = opts.cv_margin && !(rel_t && s.delta_search->met && s.learn->fit.kept > s.delta_search->fit.kept);
      if (cv_abs) {
        s.cv.insert(s.cv.begin(), cross_validate_margin(core::ThresholdMode::absolute, folds, opts, floor, delta_max));
        abs_margin = s.cv.front().margin;
        s.learn = select_threshold(sets.fit, path, Acceptance{abs_margin * opts.max_error, opts.z, acc_new}, floor,
                                   opts.learn);
      }
      abs_t = Threshold::absolute(s.learn->theta);
    }
    // auto: the mode that keeps fewer fitting scores at the bound (ties: absolute, the simpler rule).
    Threshold chosen = abs_t ? *abs_t : *rel_t;
    if (abs_t && rel_t && s.delta_search->met && s.delta_search->fit.kept < s.learn->fit.kept) chosen = *rel_t;
    PercentileResult pct = percentile_threshold(sets.fit, acc);
    if (pct.percentile == 0) pct.theta = floor;
    s.percentile_p = pct.percentile;
    s.none = evaluate(cfg, ws, held, sets, Threshold::absolute(floor), floor, opts);
    s.percentile = evaluate(cfg, ws, held, sets, Threshold::absolute(pct.theta), floor, opts);
    s.learned = evaluate(cfg, ws, held, sets, chosen, floor, opts);
    s.learned.margin = chosen.mode == core::ThresholdMode::absolute ? abs_margin : rel_margin;
    if (abs_t && rel_t) {
      const bool abs_chosen = chosen.mode == core::ThresholdMode::absolute;
      s.other = evaluate(cfg, ws, held, sets, abs_chosen ? *rel_t : *abs_t, floor, opts);
      s.other->margin = abs_chosen ? rel_margin : abs_margin;
    }
    result.slots.push_back(std::move(s));
  }
  return result;
}

}  // namespace accelgen::calib
