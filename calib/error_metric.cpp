// accelgen::calib — the error metric: query sets, hard-threshold evaluation, the acceptance rule and the
// soft (sigmoid-masked) relaxation with its analytic gradient; see calibrate.h and docs/calibration.md.
// May include: core/, Eigen.
#include "calib/calibrate.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

}  // namespace

// ------------------------------------------------------------------------------------ query sets

void QuerySet::add(const core::AttentionWorkload& w, const std::vector<Eigen::Index>& rows) {
  if (rows.empty()) return;
  Block b;
  b.sigma = w.params.softmax_scale;
  b.v = w.v.cast<double>();
  const Eigen::Index lk = w.k.rows();
  const auto n = static_cast<Eigen::Index>(rows.size());
  b.s.resize(n, lk);
  b.visible.resize(n);
  b.row_max.resize(n);
  b.o_full.resize(n, w.v.cols());
  Eigen::RowVectorXd out;
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index qi = rows[static_cast<size_t>(i)];
    const core::IntMatrix srow = w.q.row(qi) * w.k.transpose();  // exact int64
    b.s.row(i) = srow.cast<double>();
    // A causal mask hides keys visible_keys .. Lk - 1 (at least key 0 stays visible: offset >= 0).
    const Eigen::Index vis = std::clamp<Eigen::Index>(core::visible_keys(w.params, qi, lk), 0, lk);
    b.visible(i) = static_cast<int>(vis);
    b.row_max(i) = vis > 0 ? b.s.row(i).head(vis).maxCoeff() : 0.0;
    attend(b.s.row(i).head(vis), b.sigma, b.v, [](Eigen::Index) { return true; }, out);
    b.o_full.row(i) = out;
    scores_ += vis;
  }
  full_norm2_ += b.o_full.squaredNorm();
  queries_ += n;
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
      for (Eigen::Index j = 0; j < b.visible(i); ++j) all.push_back(static_cast<int64_t>(b.s(i, j)));
  return all;
}

std::vector<int64_t> QuerySet::all_gaps() const {
  std::vector<int64_t> all;
  all.reserve(static_cast<size_t>(scores_));
  for (const Block& b : blocks_)
    for (Eigen::Index i = 0; i < b.s.rows(); ++i)
      for (Eigen::Index j = 0; j < b.visible(i); ++j)
        all.push_back(static_cast<int64_t>(b.row_max(i)) - static_cast<int64_t>(b.s(i, j)));
  return all;
}

double relative_error(double diff_norm2, double full_norm2) {
  if (full_norm2 > 0.0) return std::sqrt(diff_norm2 / full_norm2);
  return diff_norm2 == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
}

HardEval hard_eval(const QuerySet& set, const Threshold& t) {
  HardEval h;
  const bool relative = t.mode == core::ThresholdMode::relative;
  Eigen::RowVectorXd out;
  double sum_dd = 0.0, sum_df = 0.0, sum_ff = 0.0;  // for query_var
  for (const QuerySet::Block& b : set.blocks()) {
    for (Eigen::Index i = 0; i < b.s.rows(); ++i) {
      // Scores, M_i, theta and delta are integers below 2^53 in magnitude: the comparison is exact.
      const double th = relative ? b.row_max(i) - static_cast<double>(t.value) : static_cast<double>(t.value);
      const auto row = b.s.row(i).head(b.visible(i));
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
    for (Eigen::Index i = 0; i < b.s.rows(); ++i) {
      const Eigen::Index lk = b.visible(i);  // masked keys: m = 0, no part in the sums
      l.resize(lk);
      w.resize(lk);
      g.resize(lk);
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
      o = w.transpose() * b.v.topRows(lk);
      const Eigen::RowVectorXd dif = o - b.o_full.row(i);
      diff2 += dif.squaredNorm();
      // d o / d theta = sum_j p_j g_j (V_j - o); the loss needs dif . (d o / d theta).
      const Eigen::VectorXd a = b.v.topRows(lk) * dif.transpose();  // V_j . dif
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

}  // namespace accelgen::calib
