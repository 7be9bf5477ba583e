// accelgen::calib — the per-slot threshold search: the annealed lambda path, rounding to the hard integer
// threshold, and the percentile baseline; see calibrate.h and docs/calibration.md.
// May include: core/, Eigen.
#include "calib/calibrate.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace accelgen::calib {

namespace {

struct ScoreStats {
  double mean = 0.0, sd = 1.0;
  double min = 0.0, max = 0.0;
};

ScoreStats stats_of(const QuerySet& set) {
  ScoreStats st;
  double sum = 0.0, sum2 = 0.0;
  st.min = std::numeric_limits<double>::infinity();
  st.max = -std::numeric_limits<double>::infinity();
  for (const QuerySet::Block& b : set.blocks()) {
    for (Eigen::Index i = 0; i < b.s.rows(); ++i) {
      const auto row = b.s.row(i).head(b.visible(i));  // visible keys only
      if (row.size() == 0) continue;
      sum += row.sum();
      st.min = std::min(st.min, row.minCoeff());
      st.max = std::max(st.max, row.maxCoeff());
    }
  }
  const double n = static_cast<double>(set.scores());
  st.mean = sum / n;
  for (const QuerySet::Block& b : set.blocks())
    for (Eigen::Index i = 0; i < b.s.rows(); ++i)
      sum2 += (b.s.row(i).head(b.visible(i)).array() - st.mean).square().sum();
  st.sd = std::max(1.0, std::sqrt(sum2 / n));
  return st;
}

}  // namespace

// ------------------------------------------------------------------------------ threshold search

double anneal_threshold(const QuerySet& fit, double lambda, const LearnOptions& o) {
  if (fit.scores() == 0) return 0.0;
  const ScoreStats st = stats_of(fit);
  // Adam on u = (theta - mean) / sd, starting at the mean score.
  double u = 0.0;
  double m1 = 0.0, m2 = 0.0;
  const double b1 = 0.9, b2 = 0.999;
  const int steps = std::max(1, o.steps);
  for (int k = 0; k < steps; ++k) {
    const double f = steps > 1 ? static_cast<double>(k) / (steps - 1) : 1.0;
    const double t = o.t_start * std::pow(o.t_end / o.t_start, f);
    const double lr = o.learning_rate * std::pow(0.01, f);
    const double gr = soft_eval(fit, st.mean + st.sd * u, t * st.sd, lambda).gradient * st.sd;
    m1 = b1 * m1 + (1 - b1) * gr;
    m2 = b2 * m2 + (1 - b2) * gr * gr;
    const double mh = m1 / (1 - std::pow(b1, k + 1));
    const double vh = m2 / (1 - std::pow(b2, k + 1));
    if (vh > 0.0) u -= lr * mh / std::sqrt(vh);
  }
  return st.mean + st.sd * u;
}

LambdaPath lambda_path(const QuerySet& fit, int64_t theta_floor, const LearnOptions& o) {
  LambdaPath path;
  if (fit.scores() == 0) return path;
  const ScoreStats st = stats_of(fit);
  path.ceiling = static_cast<int64_t>(st.max) + 1;  // prunes every fitting score
  // The lambda path (independent of any acceptance rule), as integer thresholds: kept iff s >= ceil(theta).
  const int points = std::max(1, o.lambda_points);
  for (int p = 0; p < points; ++p) {
    const double f = points > 1 ? static_cast<double>(p) / (points - 1) : 1.0;
    const double lambda = o.lambda_min * std::pow(o.lambda_max / o.lambda_min, f);
    const double th = anneal_threshold(fit, lambda, o);
    path.candidates.emplace_back(std::clamp(static_cast<int64_t>(std::ceil(th)), theta_floor, path.ceiling), lambda);
  }
  std::sort(path.candidates.begin(), path.candidates.end(),
            [](const auto& x, const auto& y) { return x.first > y.first; });
  return path;
}

LearnResult learn_threshold(const QuerySet& fit, const Acceptance& acc, int64_t theta_floor, const LearnOptions& o) {
  return select_threshold(fit, lambda_path(fit, theta_floor, o), acc, theta_floor, o);
}

LearnResult select_threshold(const QuerySet& fit, const LambdaPath& path, const Acceptance& acc, int64_t theta_floor,
                             const LearnOptions& o) {
  LearnResult best;
  best.theta = best.theta_relaxed = theta_floor;
  best.fit = hard_eval(fit, theta_floor);
  if (fit.scores() == 0) return best;
  const int64_t ceiling = path.ceiling;
  const std::vector<std::pair<int64_t, double>>& cands = path.candidates;  // descending threshold
  // The largest accepted candidate, and the smallest rejected one above it (the top of the bracket).
  int64_t upper = ceiling + 1;
  for (const auto& [theta, lambda] : cands) {
    if (theta <= theta_floor) break;
    if (theta >= upper) continue;  // the same threshold from another lambda
    const HardEval h = hard_eval(fit, theta);
    if (acc.accepts(h)) {
      best.theta = best.theta_relaxed = theta;
      best.lambda = lambda;
      best.fit = h;
      break;
    }
    upper = theta;
  }
  // Rounding to the hard threshold: the largest accepted fitting score level strictly inside the bracket
  // (theta_relaxed, upper); at most max_bracket_levels of them, evenly spaced by rank, are tried.
  std::vector<int64_t> levels = fit.all_scores();
  levels.push_back(ceiling);
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  const auto lo = std::upper_bound(levels.begin(), levels.end(), best.theta_relaxed);
  const auto hi = std::lower_bound(levels.begin(), levels.end(), upper);
  const auto n = static_cast<size_t>(hi - lo);
  const size_t tries = std::min(n, static_cast<size_t>(std::max(1, o.max_bracket_levels)));
  for (size_t t = tries; t-- > 0;) {
    const size_t idx = tries == n ? t : (tries == 1 ? n - 1 : t * (n - 1) / (tries - 1));
    const HardEval h = hard_eval(fit, lo[static_cast<std::ptrdiff_t>(idx)]);
    if (acc.accepts(h)) {
      best.theta = lo[static_cast<std::ptrdiff_t>(idx)];
      best.fit = h;
      best.refine_steps = static_cast<int>(idx + 1);
      break;
    }
  }
  return best;
}

DeltaResult learn_delta(const QuerySet& fit, const Acceptance& acc, int64_t delta_max) {
  DeltaResult r;
  if (fit.scores() == 0) {
    r.fit = hard_eval(fit, Threshold::relative(0));
    return r;
  }
  // Distinct gap levels M_i - s_ij in [0, delta_max]; the kept set only changes at these values. The top is
  // the largest gap (keeps every visible key) or delta_max when the register cannot hold it.
  std::vector<int64_t> levels = fit.all_gaps();
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  if (levels.back() > delta_max) {
    levels.erase(std::upper_bound(levels.begin(), levels.end(), delta_max), levels.end());
    levels.push_back(delta_max);
  }
  r.levels = static_cast<int>(levels.size());
  auto eval = [&](size_t k) {
    ++r.evaluations;
    return hard_eval(fit, Threshold::relative(levels[k]));
  };
  // Invariant: levels[hi] accepted (or the top), every level at or below lo (when lo >= 0) rejected.
  size_t hi = levels.size() - 1;
  HardEval best = eval(hi);
  r.met = acc.accepts(best);
  if (r.met) {
    std::ptrdiff_t lo = -1;
    while (static_cast<std::ptrdiff_t>(hi) - lo > 1) {
      const auto mid = static_cast<size_t>(lo + (static_cast<std::ptrdiff_t>(hi) - lo) / 2);
      HardEval h = eval(mid);
      if (acc.accepts(h)) {
        hi = mid;
        best = std::move(h);
      } else {
        lo = static_cast<std::ptrdiff_t>(mid);
      }
    }
  }
  r.delta = levels[hi];
  r.fit = best;
  return r;
}

PercentileResult percentile_threshold(const QuerySet& fit, const Acceptance& acc) {
  PercentileResult best;
  best.theta = std::numeric_limits<int64_t>::min();
  std::vector<int64_t> all = fit.all_scores();
  std::sort(all.begin(), all.end());
  for (int p = 99; p >= 1 && !all.empty(); --p) {
    const size_t k = std::min(all.size() - 1, static_cast<size_t>(p) * all.size() / 100);
    const HardEval h = hard_eval(fit, all[k]);
    if (acc.accepts(h)) {
      best.theta = all[k];
      best.percentile = p;
      best.fit = h;
      return best;
    }
  }
  return best;  // p = 0: no pruning; the caller substitutes its no-pruning threshold
}

}  // namespace accelgen::calib
