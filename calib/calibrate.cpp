// accelgen::calib — learned runtime-pruning thresholds, see calibrate.h and docs/calibration.md.
// May include: core/, golden/, Eigen, nlohmann-json, fmt.
#include "calib/calibrate.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "golden/functional.h"

namespace accelgen::calib {

namespace {

// Softmax attention of one query row over the keys j with keep(j): out = sum_j p_j V_j, p from
// exp(sigma * s_j) with max-subtraction. Returns false (and out = 0) when the mask is empty. Used for
// both the unpruned reference and the hard-pruned output, so "nothing pruned" reproduces the reference
// bit for bit.
template <typename Mask>
bool attend(const Eigen::Ref<const Eigen::RowVectorXd>& s, double sigma, const Eigen::MatrixXd& v,
            const Mask& keep, Eigen::RowVectorXd& out) {
  const Eigen::Index lk = s.size();
  double mx = -std::numeric_limits<double>::infinity();
  for (Eigen::Index j = 0; j < lk; ++j)
    if (keep(j)) mx = std::max(mx, sigma * s(j));
  out.setZero(v.cols());
  if (mx == -std::numeric_limits<double>::infinity()) return false;
  double z = 0.0;
  for (Eigen::Index j = 0; j < lk; ++j) {
    if (!keep(j)) continue;
    const double e = std::exp(sigma * s(j) - mx);
    z += e;
    out += e * v.row(j);
  }
  out /= z;
  return true;
}

nlohmann::json num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

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
    sum += b.s.sum();
    st.min = std::min(st.min, b.s.minCoeff());
    st.max = std::max(st.max, b.s.maxCoeff());
  }
  const double n = static_cast<double>(set.scores());
  st.mean = sum / n;
  for (const QuerySet::Block& b : set.blocks()) sum2 += (b.s.array() - st.mean).square().sum();
  st.sd = std::max(1.0, std::sqrt(sum2 / n));
  return st;
}

}  // namespace

// ------------------------------------------------------------------------------------ query sets

void QuerySet::add(const core::AttentionWorkload& w, const std::vector<Eigen::Index>& rows) {
  if (rows.empty()) return;
  Block b;
  b.sigma = w.params.softmax_scale;
  b.v = w.v.cast<double>();
  const Eigen::Index lk = w.k.rows();
  b.s.resize(static_cast<Eigen::Index>(rows.size()), lk);
  b.o_full.resize(static_cast<Eigen::Index>(rows.size()), w.v.cols());
  Eigen::RowVectorXd out;
  for (size_t r = 0; r < rows.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    const core::IntMatrix srow = w.q.row(rows[r]) * w.k.transpose();  // exact int64
    b.s.row(i) = srow.cast<double>();
    attend(b.s.row(i), b.sigma, b.v, [](Eigen::Index) { return true; }, out);
    b.o_full.row(i) = out;
  }
  full_norm2_ += b.o_full.squaredNorm();
  queries_ += b.s.rows();
  scores_ += b.s.size();
  blocks_.push_back(std::move(b));
}

void QuerySet::add_all(const core::AttentionWorkload& w) {
  std::vector<Eigen::Index> rows(static_cast<size_t>(w.q.rows()));
  for (Eigen::Index i = 0; i < w.q.rows(); ++i) rows[static_cast<size_t>(i)] = i;
  add(w, rows);
}

std::vector<int64_t> QuerySet::all_scores() const {
  std::vector<int64_t> all;
  all.reserve(static_cast<size_t>(scores_));
  for (const Block& b : blocks_)
    for (Eigen::Index i = 0; i < b.s.rows(); ++i)
      for (Eigen::Index j = 0; j < b.s.cols(); ++j) all.push_back(static_cast<int64_t>(b.s(i, j)));
  return all;
}

double relative_error(double diff_norm2, double full_norm2) {
  if (full_norm2 > 0.0) return std::sqrt(diff_norm2 / full_norm2);
  return diff_norm2 == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
}

HardEval hard_eval(const QuerySet& set, int64_t theta) {
  HardEval h;
  const double th = static_cast<double>(theta);  // |theta| < 2^53: exact
  Eigen::RowVectorXd out;
  double sum_dd = 0.0, sum_df = 0.0, sum_ff = 0.0;  // for query_var
  for (const QuerySet::Block& b : set.blocks()) {
    for (Eigen::Index i = 0; i < b.s.rows(); ++i) {
      const auto row = b.s.row(i);
      const bool any = attend(row, b.sigma, b.v, [&](Eigen::Index j) { return row(j) >= th; }, out);
      h.empty_rows += any ? 0 : 1;
      h.kept += (row.array() >= th).count();
      const double d = (out - b.o_full.row(i)).squaredNorm();
      const double f = b.o_full.row(i).squaredNorm();
      h.diff_norm2 += d;
      sum_dd += d * d;
      sum_df += d * f;
      sum_ff += f * f;
    }
  }
  h.queries = set.queries();
  h.scores = set.scores();
  h.error = relative_error(h.diff_norm2, set.full_norm2());
  if (h.queries > 1 && set.full_norm2() > 0.0) {
    // r_i = d_i - e2 f_i sums to zero; its sample variance over mean(f)^2.
    const double e2 = h.diff_norm2 / set.full_norm2();
    const double n = static_cast<double>(h.queries);
    const double sum_rr = std::max(0.0, sum_dd - 2.0 * e2 * sum_df + e2 * e2 * sum_ff);
    const double mean_f = set.full_norm2() / n;
    h.query_var = sum_rr / (n - 1.0) / (mean_f * mean_f);
  }
  return h;
}

bool Acceptance::accepts(const HardEval& h) const {
  if (!(h.error <= target)) return false;
  if (z <= 0.0 || h.queries == 0) return true;
  const double inv_n = 1.0 / static_cast<double>(h.queries) + (n_new > 0 ? 1.0 / static_cast<double>(n_new) : 0.0);
  return h.error * h.error + z * std::sqrt(h.query_var * inv_n) <= target * target;
}

SoftEval soft_eval(const QuerySet& set, double theta, double temperature, double lambda) {
  SoftEval r;
  if (set.scores() == 0) return r;
  const double den = set.full_norm2() > 0.0 ? set.full_norm2() : 1.0;
  double diff2 = 0.0, derr2 = 0.0, kept = 0.0, dkept = 0.0;
  Eigen::VectorXd l, w, g;
  Eigen::RowVectorXd o;
  for (const QuerySet::Block& b : set.blocks()) {
    const Eigen::Index lk = b.s.cols();
    l.resize(lk);
    w.resize(lk);
    g.resize(lk);
    for (Eigen::Index i = 0; i < b.s.rows(); ++i) {
      // Weights m_ij * exp(sigma * s_ij) in the log domain: log m + sigma * s, minus the row maximum.
      for (Eigen::Index j = 0; j < lk; ++j) {
        // m = sigmoid(z), 1 - m and log m from one exp and one log1p, stable for any z.
        const double z = (b.s(i, j) - theta) / temperature;
        const double e = std::exp(-std::abs(z));
        const double m = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        const double one_minus_m = z >= 0 ? e / (1.0 + e) : 1.0 / (1.0 + e);
        const double log_m = std::min(z, 0.0) - std::log1p(e);
        l(j) = log_m + b.sigma * b.s(i, j);
        g(j) = -one_minus_m / temperature;  // d log m_ij / d theta
        kept += m;
        dkept += -m * one_minus_m / temperature;
      }
      w = (l.array() - l.maxCoeff()).exp();
      w /= w.sum();  // p_ij of the soft-masked softmax
      o = w.transpose() * b.v;
      const Eigen::RowVectorXd dif = o - b.o_full.row(i);
      diff2 += dif.squaredNorm();
      // d o / d theta = sum_j p_j g_j (V_j - o); the loss needs dif . (d o / d theta).
      const Eigen::VectorXd a = b.v * dif.transpose();  // V_j . dif
      const double od = o.dot(dif);
      derr2 += 2.0 * (w.array() * g.array() * (a.array() - od)).sum();
    }
  }
  const double n = static_cast<double>(set.scores());
  r.error2 = diff2 / den;
  r.kept = kept / n;
  r.objective = r.error2 + lambda * r.kept;
  r.gradient = derr2 / den + lambda * dkept / n;
  return r;
}

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

LearnResult learn_threshold(const QuerySet& fit, const Acceptance& acc, int64_t theta_floor, const LearnOptions& o) {
  LearnResult best;
  best.theta = best.theta_relaxed = theta_floor;
  best.fit = hard_eval(fit, theta_floor);
  if (fit.scores() == 0) return best;
  const ScoreStats st = stats_of(fit);
  const auto ceiling = static_cast<int64_t>(st.max) + 1;  // prunes every fitting score
  // The lambda path (independent of acc), as integer thresholds: kept iff s >= ceil(theta).
  std::vector<std::pair<int64_t, double>> cands;
  const int points = std::max(1, o.lambda_points);
  for (int p = 0; p < points; ++p) {
    const double f = points > 1 ? static_cast<double>(p) / (points - 1) : 1.0;
    const double lambda = o.lambda_min * std::pow(o.lambda_max / o.lambda_min, f);
    const double th = anneal_threshold(fit, lambda, o);
    cands.emplace_back(std::clamp(static_cast<int64_t>(std::ceil(th)), theta_floor, ceiling), lambda);
  }
  // The largest accepted candidate, and the smallest rejected one above it (the top of the bracket).
  std::sort(cands.begin(), cands.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
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

// ------------------------------------------------------------------------------------- reporting

namespace {

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
