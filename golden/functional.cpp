// accelgen::golden — bit-exact functional model (docs/semantics.md), see functional.h.
// May include: core/ and Eigen only.
#include "golden/functional.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/config.h"
#include "core/error.h"

namespace accelgen::golden {
namespace {

// Bit b of the wk-bit two's-complement pattern of v (v already range-checked, b < wk): an arithmetic shift of
// the sign-extended int64 reproduces every bit of the narrow pattern, including the sign bit.
int64_t bit_of(int64_t v, int b) { return (v >> b) & 1; }

void check_key_row(const core::IntMatrix& k, Eigen::Index j, int wk) {
  if (wk < 1 || wk > 62) {
    throw core::InputError("wk", "key width " + std::to_string(wk) + " outside 1..62");
  }
  const int64_t lo = core::signed_min(wk);
  const int64_t hi = core::signed_max(wk);
  for (Eigen::Index t = 0; t < k.cols(); ++t) {
    const int64_t v = k(j, t);
    if (v < lo || v > hi) {
      throw core::InputError("K[" + std::to_string(j) + "][" + std::to_string(t) + "]",
                             "value " + std::to_string(v) + " does not fit in " + std::to_string(wk) +
                                 "-bit signed [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
  }
}

// sum_t Q[i][t] * bit_b(K[j][t]).
int64_t plane_sum(const core::IntMatrix& q, Eigen::Index i, const core::IntMatrix& k, Eigen::Index j, int b) {
  int64_t p = 0;
  for (Eigen::Index t = 0; t < q.cols(); ++t) p += q(i, t) * bit_of(k(j, t), b);
  return p;
}

}  // namespace

int64_t qpos(const core::IntMatrix& q, Eigen::Index row) { return q.row(row).cwiseMax(int64_t{0}).sum(); }

KeyResult score_key(const core::IntMatrix& q, Eigen::Index i, const core::IntMatrix& k, Eigen::Index j,
                    int wk, int64_t theta, bool dense) {
  if (q.cols() != k.cols()) {
    throw core::InputError("K", "row length " + std::to_string(k.cols()) + " differs from Q row length " +
                                    std::to_string(q.cols()));
  }
  check_key_row(k, j, wk);
  const int64_t score = q.row(i).dot(k.row(j));
  if (dense) return {score, wk, true};

  const int64_t qp = qpos(q, i);
  int64_t acc = 0;  // accumulator A of docs/semantics.md
  for (int m = 1; m <= wk; ++m) {
    const int b = wk - m;
    const int64_t c = (b == wk - 1) ? -1 : 1;
    acc = 2 * acc + c * plane_sum(q, i, k, j, b);
    const int64_t pow_b = int64_t{1} << b;
    const int64_t bound = acc * pow_b + (pow_b - 1) * qp;  // U_m
    if (bound < theta) return {score, m, false};
  }
  if (acc != score) throw std::logic_error("golden::score_key: U_Wk != s_ij (bit decomposition broken)");
  return {score, wk, score >= theta};
}

std::vector<int64_t> upper_bounds(const core::IntMatrix& q, Eigen::Index i, const core::IntMatrix& k,
                                  Eigen::Index j, int wk) {
  check_key_row(k, j, wk);
  const int64_t qp = qpos(q, i);
  std::vector<int64_t> u;
  u.reserve(static_cast<size_t>(wk));
  int64_t acc = 0;
  for (int m = 1; m <= wk; ++m) {
    const int b = wk - m;
    const int64_t c = (b == wk - 1) ? -1 : 1;
    acc = 2 * acc + c * plane_sum(q, i, k, j, b);
    const int64_t pow_b = int64_t{1} << b;
    u.push_back(acc * pow_b + (pow_b - 1) * qp);
  }
  return u;
}

int64_t ScoreResults::total_steps() const { return steps.cast<int64_t>().sum(); }

int64_t ScoreResults::kept_count() const { return kept.count(); }

int64_t ScoreResults::masked_count() const { return visible.size() - visible.count(); }

int ScoreResults::empty_rows() const {
  int n = 0;
  for (Eigen::Index i = 0; i < kept.rows(); ++i) n += kept.row(i).any() ? 0 : 1;
  return n;
}

ScoreResults score_all(const core::IntMatrix& q, const core::IntMatrix& k, int wk, int64_t theta,
                       bool dense) {
  if (q.cols() != k.cols()) {
    throw core::InputError("K", "row length " + std::to_string(k.cols()) + " differs from Q row length " +
                                    std::to_string(q.cols()));
  }
  core::AttentionParams p;
  p.theta = theta;
  return score_all(q, k, wk, p, dense);
}

ScoreResults score_all(const core::IntMatrix& q, const core::IntMatrix& k, int wk, const core::AttentionParams& p,
                       bool dense) {
  if (q.cols() != k.cols()) {
    throw core::InputError("K", "row length " + std::to_string(k.cols()) + " differs from Q row length " +
                                    std::to_string(q.cols()));
  }
  ScoreResults r;
  r.score = q * k.transpose();
  r.steps.setZero(q.rows(), k.rows());
  r.kept.setConstant(q.rows(), k.rows(), false);
  r.visible.setConstant(q.rows(), k.rows(), false);
  for (Eigen::Index i = 0; i < q.rows(); ++i) {
    const Eigen::Index n = core::visible_keys(p, i, k.rows());
    // The rule's threshold for this query: theta, or M_i - delta over the visible keys. Scoring against the
    // final M_i - delta gives the kept set and the ideal steps n*_ij of docs/semantics.md.
    int64_t threshold = p.theta;
    if (p.mode == core::ThresholdMode::relative && n > 0) {
      threshold = r.score.row(i).head(n).maxCoeff() - p.delta;
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      const KeyResult kr = score_key(q, i, k, j, wk, threshold, dense);
      if (kr.score != r.score(i, j))
        throw std::logic_error("golden::score_all: dot product != matrix product");
      r.steps(i, j) = kr.steps;
      r.kept(i, j) = kr.kept;
      r.visible(i, j) = true;
    }
  }
  return r;
}

}  // namespace accelgen::golden
