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

void check_options(const core::AttentionConfig& cfg, const CalibOptions& o) {
  if (cfg.dense_baseline) {
    throw core::InputError("config.dense_baseline",
                           "the dense baseline never prunes, so it has no thresholds to calibrate; allowed: false");
  }
  if (!std::isfinite(o.max_error) || o.max_error <= 0.0) {
    throw core::InputError("--max-error", fmt::format("{} is not allowed; allowed: a number > 0", o.max_error));
  }
  if (!(o.holdout >= 0.0 && o.holdout <= 0.9)) {
    throw core::InputError("--holdout", fmt::format("{} is out of range; allowed [0, 0.9]", o.holdout));
  }
  if (!(o.margin > 0.0 && o.margin <= 1.0)) {
    throw core::InputError("--margin", fmt::format("{} is out of range; allowed (0, 1]", o.margin));
  }
  if (!(o.z >= 0.0 && o.z <= 10.0)) {
    throw core::InputError("--z", fmt::format("{} is out of range; allowed [0, 10]", o.z));
  }
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

MethodReport evaluate(const core::AttentionConfig& cfg, const std::vector<const NamedWorkload*>& ws,
                      const QuerySet& fit, const QuerySet& held, const QuerySet& all, int64_t theta,
                      const CalibOptions& opts) {
  MethodReport m;
  m.theta = theta;
  m.fit = hard_eval(fit, theta);
  m.held_out = hard_eval(held, theta);
  m.all = hard_eval(all, theta);
  for (const NamedWorkload* nw : ws) {
    const golden::ScoreResults r = golden::score_all(nw->w.q, nw->w.k, cfg.wk, theta, false);
    m.bit_steps += r.total_steps();
    m.dense_bit_steps += static_cast<int64_t>(nw->w.q.rows()) * nw->w.k.rows() * cfg.wk;
    if (opts.cycles) {
      core::AttentionWorkload w = nw->w;
      w.params.theta = theta;
      const CycleCount c = opts.cycles(w);
      if (!m.cycles) m.cycles = CycleCount{};
      m.cycles->total += c.total;
      m.cycles->score_phase += c.score_phase;
    }
  }
  return m;
}

}  // namespace

CalibrationResult calibrate(const core::AttentionConfig& cfg, const std::vector<NamedWorkload>& workloads,
                            const CalibOptions& opts) {
  check_options(cfg, opts);
  if (workloads.empty()) {
    throw core::InputError("--workload", "at least one workload directory is required");
  }
  std::map<int, std::vector<const NamedWorkload*>> by_slot;
  for (const NamedWorkload& nw : workloads) {
    check_workload(cfg, nw);
    by_slot[nw.w.params.slot].push_back(&nw);
  }
  const core::AttentionWidths wd = core::widths(cfg);
  const int64_t floor = core::signed_min(wd.tw);  // below every score: prunes nothing

  CalibrationResult result;
  for (const auto& [slot, ws] : by_slot) {
    // Every (workload, row) of the slot, split by a seeded Fisher-Yates shuffle (rng() % (i + 1) keeps
    // it the same on every standard library).
    std::vector<std::pair<size_t, Eigen::Index>> rows;
    for (size_t k = 0; k < ws.size(); ++k)
      for (Eigen::Index i = 0; i < ws[k]->w.q.rows(); ++i) rows.emplace_back(k, i);
    const auto n = static_cast<Eigen::Index>(rows.size());
    Eigen::Index n_held = 0;
    if (opts.holdout > 0.0) {
      if (n < 2) {
        throw core::InputError(ws.front()->dir,
                               fmt::format("slot {} has {} query; holding queries out needs at least 2 "
                                           "(or --holdout 0)",
                                           slot, n));
      }
      n_held = std::clamp<Eigen::Index>(std::llround(opts.holdout * static_cast<double>(n)), 1, n - 1);
    }
    std::mt19937_64 rng(opts.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(slot));
    for (size_t i = rows.size(); i > 1; --i) std::swap(rows[i - 1], rows[rng() % i]);
    std::vector<std::vector<Eigen::Index>> fit_rows(ws.size()), held_rows(ws.size());
    for (Eigen::Index r = 0; r < n; ++r) {
      auto& dst = r < n_held ? held_rows : fit_rows;
      dst[rows[static_cast<size_t>(r)].first].push_back(rows[static_cast<size_t>(r)].second);
    }
    QuerySet fit, held, all;
    for (size_t k = 0; k < ws.size(); ++k) {
      std::sort(fit_rows[k].begin(), fit_rows[k].end());
      std::sort(held_rows[k].begin(), held_rows[k].end());
      fit.add(ws[k]->w, fit_rows[k]);
      held.add(ws[k]->w, held_rows[k]);
      all.add_all(ws[k]->w);
    }

    SlotReport s;
    s.slot = slot;
    for (const NamedWorkload* nw : ws) s.workloads.push_back(nw->dir);
    s.fit_queries = fit.queries();
    s.held_out_queries = held.queries();
    const Acceptance acc{opts.margin * opts.max_error, opts.z, held.queries() > 0 ? held.queries() : fit.queries()};
    s.learn = learn_threshold(fit, acc, floor, opts.learn);
    PercentileResult pct = percentile_threshold(fit, acc);
    if (pct.percentile == 0) pct.theta = floor;
    s.percentile_p = pct.percentile;
    s.none = evaluate(cfg, ws, fit, held, all, floor, opts);
    s.percentile = evaluate(cfg, ws, fit, held, all, pct.theta, opts);
    s.learned = evaluate(cfg, ws, fit, held, all, s.learn.theta, opts);
    result.slots.push_back(std::move(s));
  }
  return result;
}

}  // namespace accelgen::calib
