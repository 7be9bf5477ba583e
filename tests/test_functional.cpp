// Tests of accelgen::golden functional model (golden/functional.h) against docs/semantics.md.
// Expected values are computed by hand in the comments, or are properties stated independently of the code
// under test (the bound never underestimates, kept iff score >= theta, ...). Bounds in the property tests
// come from a brute-force helper that maximizes over every completion of the unprocessed key bits, not from
// the recurrence of docs/semantics.md the model uses.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "golden/functional.h"
#include "tests/test_support.h"

namespace accelgen::golden {
namespace {

using accelgen::test_support::rows;


KeyResult one(std::initializer_list<int64_t> q, std::initializer_list<int64_t> k, int wk, int64_t theta,
              bool dense = false) {
  return score_key(rows({q}), 0, rows({k}), 0, wk, theta, dense);
}

TEST(FunctionalQpos, SumsOnlyPositiveElements) {
  EXPECT_EQ(qpos(rows({{3, -2, 0, 5}}), 0), 8);  // 3 + 0 + 0 + 5
  EXPECT_EQ(qpos(rows({{-1, -7}}), 0), 0);
  EXPECT_EQ(qpos(rows({{1, 1}, {4, -4}}), 1), 4);
}

// d=1, wk=4, q=[3], k=[5]=0101b, Qpos=3, s=15.
//   m=1 b=3 (sign, bit 0): A = -0          = 0,  U1 = 0*8 + 7*3  = 21
//   m=2 b=2 (bit 1):       A = 2*0 + 3     = 3,  U2 = 3*4 + 3*3  = 21
//   m=3 b=1 (bit 0):       A = 2*3         = 6,  U3 = 6*2 + 1*3  = 15
//   m=4 b=0 (bit 1):       A = 2*6 + 3     = 15, U4 = 15
TEST(FunctionalScoreKey, PositiveKeyStopsAtFirstBoundBelowTheta) {
  EXPECT_EQ(one({3}, {5}, 4, 16), (KeyResult{15, 3, false}));  // U3 = 15 < 16
  EXPECT_EQ(one({3}, {5}, 4, 15), (KeyResult{15, 4, true}));   // never below: s = 15 >= 15
  EXPECT_EQ(one({3}, {5}, 4, 22), (KeyResult{15, 1, false}));  // U1 = 21 < 22
  EXPECT_EQ(one({3}, {5}, 4, 21), (KeyResult{15, 3, false}));  // U1 = U2 = 21 not < 21, U3 = 15 < 21
}

// d=1, wk=4, q=[2], k=[-8]=1000b, Qpos=2, s=-16.
//   m=1 b=3 (sign, bit 1): A = -2,  U1 = -2*8 + 7*2 = -2
//   m=2 b=2 (bit 0):       A = -4,  U2 = -4*4 + 3*2 = -10
//   m=3 b=1 (bit 0):       A = -8,  U3 = -8*2 + 1*2 = -14
//   m=4 b=0 (bit 0):       A = -16, U4 = -16
TEST(FunctionalScoreKey, SignBitStepSubtracts) {
  EXPECT_EQ(one({2}, {-8}, 4, 0), (KeyResult{-16, 1, false}));    // U1 = -2 < 0
  EXPECT_EQ(one({2}, {-8}, 4, -2), (KeyResult{-16, 2, false}));   // U2 = -10 < -2
  EXPECT_EQ(one({2}, {-8}, 4, -14), (KeyResult{-16, 4, false}));  // U3 = -14 not < -14, U4 = -16 < -14
  EXPECT_EQ(one({2}, {-8}, 4, -13), (KeyResult{-16, 3, false}));  // U3 = -14 < -13
  EXPECT_EQ(one({2}, {-8}, 4, -16), (KeyResult{-16, 4, true}));   // theta at the score: kept
  EXPECT_EQ(one({2}, {-8}, 4, -15), (KeyResult{-16, 4, false}));  // U4 = -16 < -15
}

// d=2, wk=3, q=[3,-2], k=[-3,2] = [101b, 010b], Qpos=3, s = -9 - 4 = -13.
//   m=1 b=2 (sign): bits (1,0), P = 3,   A = -3,            U1 = -3*4 + 3*3 = -3
//   m=2 b=1:        bits (0,1), P = -2,  A = -6 - 2 = -8,   U2 = -8*2 + 1*3 = -13
//   m=3 b=0:        bits (1,0), P = 3,   A = -16 + 3 = -13, U3 = -13
TEST(FunctionalScoreKey, NegativeQueryElementAndMixedKey) {
  EXPECT_EQ(one({3, -2}, {-3, 2}, 3, -2), (KeyResult{-13, 1, false}));   // U1 = -3 < -2
  EXPECT_EQ(one({3, -2}, {-3, 2}, 3, -3), (KeyResult{-13, 2, false}));   // U2 = -13 < -3
  EXPECT_EQ(one({3, -2}, {-3, 2}, 3, -12), (KeyResult{-13, 2, false}));  // U2 = -13 < -12
  EXPECT_EQ(one({3, -2}, {-3, 2}, 3, -13), (KeyResult{-13, 3, true}));
}

// wq=wk=4, d=3, every element -8: s = 3*64 = 192 (the largest score), Qpos = 0.
//   sign step: P = -24, A = 24, U1 = 24*8 = 192; then bits 0: A = 48, 96, 192 and U = 192 every step.
TEST(FunctionalScoreKey, MostNegativeEverywhereGivesMaxScore) {
  EXPECT_EQ(one({-8, -8, -8}, {-8, -8, -8}, 4, 192), (KeyResult{192, 4, true}));
  EXPECT_EQ(one({-8, -8, -8}, {-8, -8, -8}, 4, 193), (KeyResult{192, 1, false}));  // U1 = 192 < 193
}

// wq=wk=4, d=3, q=[7,7,7], k=[-8,-8,-8]: s = -168 (the smallest score), Qpos = 21.
//   m=1: P = 21, A = -21,  U1 = -168 + 7*21 = -21
//   m=2: A = -42,  U2 = -168 + 3*21 = -105
//   m=3: A = -84,  U3 = -168 + 21   = -147
//   m=4: A = -168, U4 = -168
TEST(FunctionalScoreKey, ThetaAtMinimumScore) {
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -168), (KeyResult{-168, 4, true}));
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -167), (KeyResult{-168, 4, false}));
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -147), (KeyResult{-168, 4, false}));  // U3 = -147 not < -147
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -146), (KeyResult{-168, 3, false}));  // U3 = -147 < -146
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -20), (KeyResult{-168, 1, false}));   // U1 = -21 < -20
}

TEST(FunctionalScoreKey, DenseKeepsEverythingWithFullSteps) {
  EXPECT_EQ(one({3}, {5}, 4, 1000, true), (KeyResult{15, 4, true}));
  EXPECT_EQ(one({2}, {-8}, 4, 0, true), (KeyResult{-16, 4, true}));
  EXPECT_EQ(one({7, 7, 7}, {-8, -8, -8}, 4, -167, true), (KeyResult{-168, 4, true}));
}

TEST(FunctionalScoreKey, RejectsKeyOutsideWidthAndMismatchedRows) {
  EXPECT_THROW(one({1}, {8}, 4, 0), core::InputError);  // 4-bit signed is -8..7
  EXPECT_THROW(one({1}, {-9}, 4, 0), core::InputError);
  EXPECT_THROW(score_key(rows({{1, 2}}), 0, rows({{1}}), 0, 4, 0, false), core::InputError);
}

// Q = [[3],[2]], K = [[5],[-8]], wk = 4.
//   theta = 16: (0,0) n=3 pruned (see above); (0,1) s=-24, U1 = -3*8 + 7*3 = -3 -> n=1;
//               (1,0) s=10, U1 = 0 + 7*2 = 14 -> n=1; (1,1) s=-16, U1 = -2 -> n=1.   total 6, kept 0, 2 empty
//               rows
//   theta = 10: (0,0) kept n=4; (0,1) n=1; (1,0): U1 = 14, U2 = 2*4 + 3*2 = 14, U3 = 4*2 + 2 = 10, U4 = 10:
//   kept
//               n=4; (1,1) n=1.   total 10, kept 2, 0 empty rows
TEST(FunctionalScoreAll, SmallHeadTotals) {
  const auto q = rows({{3}, {2}});
  const auto k = rows({{5}, {-8}});
  const ScoreResults a = score_all(q, k, 4, 16, false);
  EXPECT_EQ(a.score, rows({{15, -24}, {10, -16}}));
  EXPECT_EQ(a.steps(0, 0), 3);
  EXPECT_EQ(a.total_steps(), 6);
  EXPECT_EQ(a.kept_count(), 0);
  EXPECT_EQ(a.empty_rows(), 2);

  const ScoreResults b = score_all(q, k, 4, 10, false);
  EXPECT_EQ(b.total_steps(), 10);
  EXPECT_EQ(b.kept_count(), 2);
  EXPECT_EQ(b.empty_rows(), 0);
  EXPECT_TRUE(b.kept(0, 0));
  EXPECT_TRUE(b.kept(1, 0));

  const ScoreResults dense = score_all(q, k, 4, 10, true);
  EXPECT_EQ(dense.total_steps(), 16);  // 4 scores x wk
  EXPECT_EQ(dense.kept_count(), 4);
}

// ---- properties over random inputs ----

// Brute force: the largest score any completion of the unprocessed low `b` bits of every key element can
// give, with the top (wk - b) bits fixed. U_m must equal this (the bound of docs/semantics.md is exactly the
// best case).
int64_t brute_bound(const core::IntMatrix& q, const core::IntMatrix& k, int b) {
  int64_t bound = 0;
  for (Eigen::Index t = 0; t < q.cols(); ++t) {
    const int64_t prefix = (k(0, t) >> b) * (int64_t{1} << b);  // signed value of the fixed top bits
    int64_t best = INT64_MIN;
    for (int64_t low = 0; low < (int64_t{1} << b); ++low) best = std::max(best, q(0, t) * (prefix + low));
    bound += best;
  }
  return bound;
}

struct RandomCase {
  int d, wq, wk;
  core::IntMatrix q, k;
  int64_t theta;
};

RandomCase random_case(std::mt19937_64& rng) {
  auto uni = [&rng](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  RandomCase c{
      static_cast<int>(uni(1, 6)), static_cast<int>(uni(2, 8)), static_cast<int>(uni(2, 8)), {}, {}, 0};
  c.q.resize(1, c.d);
  c.k.resize(1, c.d);
  for (int t = 0; t < c.d; ++t) {
    // one case in four uses only the extreme values
    const bool extreme = uni(0, 3) == 0;
    const int64_t qlo = -(int64_t{1} << (c.wq - 1)), qhi = (int64_t{1} << (c.wq - 1)) - 1;
    const int64_t klo = -(int64_t{1} << (c.wk - 1)), khi = (int64_t{1} << (c.wk - 1)) - 1;
    c.q(0, t) = extreme ? (uni(0, 1) ? qlo : qhi) : uni(qlo, qhi);
    c.k(0, t) = extreme ? (uni(0, 1) ? klo : khi) : uni(klo, khi);
  }
  const int64_t s = c.q.row(0).dot(c.k.row(0));
  const int64_t span = int64_t{c.d} << (c.wq + c.wk - 2);
  c.theta = uni(0, 1) ? s + uni(-3, 3) : uni(-span, span);
  return c;
}

TEST(FunctionalProperties, BoundNeverUnderestimatesAndStepsAreFirstBelowTheta) {
  const uint64_t seed = 0x5eed'0001;
  std::mt19937_64 rng(seed);
  for (int iter = 0; iter < 20000; ++iter) {
    const RandomCase c = random_case(rng);
    SCOPED_TRACE(testing::Message() << "seed=" << seed << " iter=" << iter << " d=" << c.d << " wq=" << c.wq
                                    << " wk=" << c.wk << " q=[" << c.q << "] k=[" << c.k
                                    << "] theta=" << c.theta);
    const int64_t s = c.q.row(0).dot(c.k.row(0));
    int expected_steps = c.wk;
    for (int m = 1; m <= c.wk; ++m) {
      const int64_t u = brute_bound(c.q, c.k, c.wk - m);
      ASSERT_GE(u, s) << "m=" << m;
      if (u < c.theta) {
        expected_steps = m;
        break;
      }
    }
    ASSERT_EQ(brute_bound(c.q, c.k, 0), s);
    const KeyResult r = score_key(c.q, 0, c.k, 0, c.wk, c.theta, false);
    ASSERT_EQ(r.score, s);
    ASSERT_EQ(r.kept, s >= c.theta);
    ASSERT_EQ(r.steps, expected_steps);
    if (r.kept) {
      ASSERT_EQ(r.steps, c.wk);
    }
    ASSERT_EQ(score_key(c.q, 0, c.k, 0, c.wk, c.theta, true), (KeyResult{s, c.wk, true}));
  }
}

TEST(FunctionalProperties, ScoreAllMatchesPerKeyResultsAndPlainDotProducts) {
  const uint64_t seed = 0x5eed'0002;
  std::mt19937_64 rng(seed);
  auto uni = [&rng](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  for (int iter = 0; iter < 300; ++iter) {
    const int d = static_cast<int>(uni(1, 8)), wq = static_cast<int>(uni(2, 10)),
              wk = static_cast<int>(uni(2, 10));
    const Eigen::Index lq = uni(0, 5), lk = uni(0, 7);
    core::IntMatrix q(lq, d), k(lk, d);
    for (auto& v : q.reshaped()) v = uni(-(int64_t{1} << (wq - 1)), (int64_t{1} << (wq - 1)) - 1);
    for (auto& v : k.reshaped()) v = uni(-(int64_t{1} << (wk - 1)), (int64_t{1} << (wk - 1)) - 1);
    const int64_t theta = uni(-(int64_t{d} << (wq + wk - 3)), int64_t{d} << (wq + wk - 3));
    SCOPED_TRACE(testing::Message() << "seed=" << seed << " iter=" << iter << " theta=" << theta);
    const ScoreResults r = score_all(q, k, wk, theta, false);
    int64_t steps = 0, kept = 0;
    int empty = 0;
    for (Eigen::Index i = 0; i < lq; ++i) {
      bool any = false;
      for (Eigen::Index j = 0; j < lk; ++j) {
        int64_t dot = 0;
        for (int t = 0; t < d; ++t) dot += q(i, t) * k(j, t);
        ASSERT_EQ(r.score(i, j), dot);
        ASSERT_EQ(r.kept(i, j), dot >= theta);
        const KeyResult kr = score_key(q, i, k, j, wk, theta, false);
        ASSERT_EQ(r.steps(i, j), kr.steps);
        steps += kr.steps;
        kept += kr.kept ? 1 : 0;
        any = any || kr.kept;
      }
      empty += any ? 0 : 1;
    }
    ASSERT_EQ(r.total_steps(), steps);
    ASSERT_EQ(r.kept_count(), kept);
    ASSERT_EQ(r.empty_rows(), empty);
  }
}

// Causal mask and relative thresholds, by hand. d = 1, q = [1] for every query, wk = 4, keys 3, 5, -2, 4:
// s_ij = K[j]. Qpos = 1.
//   K = 3 = 0011b:  U1 = 0 + 7 = 7, U2 = 0 + 3 = 3, U3 = 1*2 + 1 = 3, U4 = 3
//   K = 5 = 0101b:  U1 = 7, U2 = 1*4 + 3 = 7, U3 = 2*2 + 1 = 5, U4 = 5
//   K = -2 = 1110b: U1 = -1*8 + 7 = -1, ...
//   K = 4 = 0100b:  U1 = 7, U2 = 7, U3 = 4 + 1 = 5, U4 = 4
TEST(FunctionalRelative, KeepsScoresWithinDeltaOfTheRowMaximum) {
  const core::IntMatrix q = rows({{1}});
  const core::IntMatrix k = rows({{3}, {5}, {-2}, {4}});
  EXPECT_EQ(upper_bounds(q, 0, k, 0, 4), (std::vector<int64_t>{7, 3, 3, 3}));
  EXPECT_EQ(upper_bounds(q, 0, k, 1, 4), (std::vector<int64_t>{7, 7, 5, 5}));
  core::AttentionParams p;
  p.mode = core::ThresholdMode::relative;
  p.delta = 1;  // M = 5: keep s >= 4, i.e. keys 1 and 3
  const ScoreResults r = score_all(q, k, 4, p, false);
  EXPECT_EQ(r.kept.row(0), (Eigen::Matrix<bool, 1, 4>() << false, true, false, true).finished());
  // Ideal steps against 4: key 0 stops at U2 = 3, key 1 runs 4, key 2 stops at U1 = -1, key 3 runs 4.
  EXPECT_EQ(r.steps.row(0), (Eigen::Matrix<int, 1, 4>() << 2, 4, 1, 4).finished());
  EXPECT_EQ(r.masked_count(), 0);
  p.delta = 0;  // only the maximum
  EXPECT_EQ(score_all(q, k, 4, p, false).kept_count(), 1);
  p.delta = 7;  // 5 - 7 = -2: every key
  EXPECT_EQ(score_all(q, k, 4, p, false).kept_count(), 4);
}

TEST(FunctionalCausal, MaskedKeysTakeNoPartAndTheMaximumIsOverVisibleKeys) {
  const core::IntMatrix q = rows({{1}, {1}, {1}});
  const core::IntMatrix k = rows({{3}, {5}, {-2}, {4}});
  core::AttentionParams p;
  p.causal = true;
  p.causal_offset = 0;  // query i sees keys 0..i
  p.mode = core::ThresholdMode::relative;
  p.delta = 1;
  const ScoreResults r = score_all(q, k, 4, p, false);
  // Query 0 sees only key 0 (M = 3): kept. Query 1: M = 5, keep >= 4: key 1. Query 2: the same.
  EXPECT_EQ(r.kept.row(0), (Eigen::Matrix<bool, 1, 4>() << true, false, false, false).finished());
  EXPECT_EQ(r.kept.row(1), (Eigen::Matrix<bool, 1, 4>() << false, true, false, false).finished());
  EXPECT_EQ(r.kept.row(2), (Eigen::Matrix<bool, 1, 4>() << false, true, false, false).finished());
  EXPECT_EQ(r.masked_count(), 3 + 2 + 1);
  // Steps: query 0 key 0 against 2 = 3 - 1: never below, 4; query 2: 2 + 4 + 1 as above; masked keys 0.
  EXPECT_EQ(r.steps.row(0), (Eigen::Matrix<int, 1, 4>() << 4, 0, 0, 0).finished());
  EXPECT_EQ(r.steps.row(2), (Eigen::Matrix<int, 1, 4>() << 2, 4, 1, 0).finished());
  // Dense baseline: every visible key kept at wk steps, masked keys still excluded.
  const ScoreResults d = score_all(q, k, 4, p, true);
  EXPECT_EQ(d.kept_count(), 1 + 2 + 3);
  EXPECT_EQ(d.total_steps(), 4 * (1 + 2 + 3));
}

}  // namespace
}  // namespace accelgen::golden
