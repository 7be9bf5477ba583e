// Tests for calib/calibrate.{h,cpp}: the error metric, the soft relaxation and its gradient, the threshold
// search, the percentile baseline, calibration of whole workloads, the thresholds file and bad input.
//
// Expected values never come from the code under test: the hand-made trace's errors are worked out by hand
// below (exact fractions), the soft objective is recomputed here with a naive formula (no log domain), its
// gradient is checked against central finite differences, and held-out errors and pruning are compared
// against the bound E and the percentile baseline of the same run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "calib/calibrate.h"
#include "core/config.h"
#include "core/error.h"
#include "core/workload.h"
#include "tests/test_support.h"

namespace accelgen::calib {
namespace {

using accelgen::test_support::has;
using accelgen::test_support::write_text;
using accelgen::test_support::error_of;

namespace fs = std::filesystem;
using nlohmann::json;



using TempDir = accelgen::test_support::TempDir;

core::AttentionConfig r_d16() {
  return core::load_attention_config(std::string(ACCELGEN_SOURCE_DIR) + "/configs/regression/r_d16.json");
}

// The hand-made trace: d = dv = 1, every query q = [1], so s_j = K[j]. Keys: one at 100 (V = 9), two at
// 60 and four at -20 (V = 0). With sigma = ln(2)/10 the weights exp(sigma * s) are 2^10 = 1024, 2^6 = 64
// each and 2^-2 = 1/4 each; group totals 1024, 128, 1. Every output is O = 9 * 1024 / (sum of kept
// weights):
//   nothing pruned            O = 9216 / 1153
//   the -20 keys pruned       O = 9216 / 1152 = 8      error = 1153/1152 - 1        = 1/1152    ~ 0.000868
//   the -20 and 60 pruned     O = 9                    error = 9 * 1153 / 9216 - 1  = 1161/9216 ~ 0.126
//   everything pruned         O = 0                    error = 1
core::AttentionConfig tiny_config() {
  core::AttentionConfig c;
  c.name = "tiny";
  c.d = 1;
  c.dv = 1;
  c.max_keys = 8;
  c.lanes = 1;
  c.threshold_slots = 2;
  return c;
}

core::AttentionWorkload hand_trace(int queries = 4) {
  core::AttentionWorkload w;
  w.q = core::IntMatrix::Ones(queries, 1);
  w.k.resize(7, 1);
  w.k << 100, 60, 60, -20, -20, -20, -20;
  w.v = core::IntMatrix::Zero(7, 1);
  w.v(0, 0) = 9;
  w.params.softmax_scale = std::log(2.0) / 10.0;
  w.params.theta = 0;
  w.params.slot = 0;
  return w;
}

constexpr int64_t kFloor = -(int64_t{1} << 40);  // prunes nothing

// ------------------------------------------------------------------------------------ error metric

TEST(CalibErrorMetric, HandMadeTraceErrors) {
  QuerySet s;
  s.add_all(hand_trace());
  EXPECT_EQ(s.queries(), 4);
  EXPECT_EQ(s.scores(), 28);
  EXPECT_EQ(hard_eval(s, -20).error, 0.0);  // -20 >= -20: nothing pruned, output bit-identical
  EXPECT_NEAR(hard_eval(s, -19).error, 1.0 / 1152.0, 1e-12);
  EXPECT_NEAR(hard_eval(s, 60).error, 1.0 / 1152.0, 1e-12);
  EXPECT_NEAR(hard_eval(s, 61).error, 1161.0 / 9216.0, 1e-12);
  EXPECT_NEAR(hard_eval(s, 100).error, 1161.0 / 9216.0, 1e-12);
  const HardEval all_pruned = hard_eval(s, 101);
  EXPECT_NEAR(all_pruned.error, 1.0, 1e-12);
  EXPECT_EQ(all_pruned.empty_rows, 4);
  EXPECT_EQ(all_pruned.kept, 0);
  const HardEval mid = hard_eval(s, 61);
  EXPECT_EQ(mid.kept, 4);  // only the key at 100, in each of 4 queries
  EXPECT_EQ(mid.empty_rows, 0);
  EXPECT_DOUBLE_EQ(mid.kept_fraction(), 4.0 / 28.0);
  EXPECT_NEAR(mid.query_var, 0.0, 1e-18);  // identical queries: no spread
}

TEST(CalibErrorMetric, ZeroReferenceOutputIsZeroErrorOnlyWhenNothingChanges) {
  core::AttentionWorkload w = hand_trace();
  w.v.setZero();
  QuerySet s;
  s.add_all(w);
  EXPECT_EQ(s.full_norm2(), 0.0);
  EXPECT_EQ(hard_eval(s, 61).error, 0.0);   // output stays all zeros
  EXPECT_EQ(hard_eval(s, 101).error, 0.0);  // empty rows output zeros too
  EXPECT_EQ(relative_error(0.0, 0.0), 0.0);
  EXPECT_TRUE(std::isinf(relative_error(1.0, 0.0)));
  EXPECT_DOUBLE_EQ(relative_error(1.0, 4.0), 0.5);
}

TEST(CalibErrorMetric, LargeScaleDoesNotOverflow) {
  // sigma * s of several thousand: exp() overflows without max-subtraction.
  core::AttentionWorkload w = hand_trace();
  w.params.softmax_scale = 50.0;
  QuerySet s;
  s.add_all(w);
  EXPECT_EQ(hard_eval(s, -20).error, 0.0);
  // Weight of the key at 100 dominates by e^2000: pruning the others changes nothing measurable.
  EXPECT_NEAR(hard_eval(s, 61).error, 0.0, 1e-12);
  const SoftEval se = soft_eval(s, 80.0, 5.0, 0.0);
  EXPECT_TRUE(std::isfinite(se.error2) && std::isfinite(se.gradient));
}

// ---------------------------------------------------------------------------- soft relaxation

// Naive soft objective straight from the definition, with no log domain (moderate scales only).
double naive_objective(const core::AttentionWorkload& w, double theta, double t, double lambda) {
  const double sigma = w.params.softmax_scale;
  const core::IntMatrix s = w.q * w.k.transpose();
  double diff2 = 0.0, full2 = 0.0, kept = 0.0;
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    double z_full = 0.0, z_soft = 0.0;
    std::vector<double> o_full(static_cast<size_t>(w.v.cols()), 0.0), o_soft = o_full;
    for (Eigen::Index j = 0; j < s.cols(); ++j) {
      const double e = std::exp(sigma * static_cast<double>(s(i, j)));
      const double m = 1.0 / (1.0 + std::exp(-(static_cast<double>(s(i, j)) - theta) / t));
      kept += m;
      z_full += e;
      z_soft += m * e;
      for (Eigen::Index c = 0; c < w.v.cols(); ++c) {
        o_full[static_cast<size_t>(c)] += e * static_cast<double>(w.v(j, c));
        o_soft[static_cast<size_t>(c)] += m * e * static_cast<double>(w.v(j, c));
      }
    }
    for (size_t c = 0; c < o_full.size(); ++c) {
      const double f = o_full[c] / z_full, g = o_soft[c] / z_soft;
      diff2 += (g - f) * (g - f);
      full2 += f * f;
    }
  }
  return diff2 / full2 + lambda * kept / static_cast<double>(s.size());
}

core::AttentionWorkload small_random(uint64_t seed, int lq = 5, int lk = 9) {
  core::AttentionConfig c = r_d16();
  core::AttentionWorkload w = core::make_workload(c, "gaussian", lq, lk, seed);
  return w;
}

TEST(CalibSoft, ObjectiveMatchesNaiveFormula) {
  const core::AttentionWorkload w = small_random(3);
  QuerySet s;
  s.add_all(w);
  const std::vector<int64_t> all = s.all_scores();
  const double lo = static_cast<double>(*std::min_element(all.begin(), all.end()));
  const double hi = static_cast<double>(*std::max_element(all.begin(), all.end()));
  for (double f : {0.2, 0.5, 0.8}) {
    for (double t : {0.05, 0.3}) {
      const double theta = lo + f * (hi - lo), temp = t * (hi - lo);
      const SoftEval se = soft_eval(s, theta, temp, 0.7);
      EXPECT_NEAR(se.objective, naive_objective(w, theta, temp, 0.7), 1e-9 * (1 + se.objective))
          << "theta " << theta << " T " << temp;
      EXPECT_NEAR(se.objective, se.error2 + 0.7 * se.kept, 1e-15);
    }
  }
}

TEST(CalibSoft, GradientMatchesFiniteDifferences) {
  for (uint64_t seed : {1, 2, 5}) {
    const core::AttentionWorkload w = small_random(seed);
    QuerySet s;
    s.add_all(w);
    const std::vector<int64_t> all = s.all_scores();
    const double lo = static_cast<double>(*std::min_element(all.begin(), all.end()));
    const double hi = static_cast<double>(*std::max_element(all.begin(), all.end()));
    for (double f : {0.1, 0.4, 0.55, 0.9}) {
      for (double t : {0.02, 0.1, 0.5}) {
        for (double lambda : {0.0, 0.05, 2.0}) {
          const double theta = lo + f * (hi - lo), temp = t * (hi - lo);
          const double h = 1e-4 * temp;
          const double fd = (soft_eval(s, theta + h, temp, lambda).objective -
                             soft_eval(s, theta - h, temp, lambda).objective) /
                            (2 * h);
          const double g = soft_eval(s, theta, temp, lambda).gradient;
          EXPECT_NEAR(g, fd, 1e-6 * std::abs(fd) + 1e-13)
              << "seed " << seed << " theta " << theta << " T " << temp << " lambda " << lambda;
        }
      }
    }
  }
}

TEST(CalibSoft, TendsToTheHardMaskAsTemperatureShrinks) {
  QuerySet s;
  s.add_all(hand_trace());
  // theta = 20 lies 40 score units from the nearest score: at T = 0.5 the mask is hard to e^-80.
  const SoftEval se = soft_eval(s, 20.0, 0.5, 1.0);
  EXPECT_NEAR(std::sqrt(se.error2), 1.0 / 1152.0, 1e-12);
  EXPECT_NEAR(se.kept, 12.0 / 28.0, 1e-12);
  EXPECT_NEAR(se.gradient, 0.0, 1e-12);
}

// ------------------------------------------------------------------------------ threshold search

TEST(CalibLearn, FindsTheKnownOptimumOfTheHandMadeTrace) {
  QuerySet s;
  s.add_all(hand_trace());
  // E below 1/1152: nothing may be pruned.
  const LearnResult none = learn_threshold(s, {0.0005}, kFloor);
  EXPECT_LE(none.theta, -20);
  EXPECT_EQ(none.fit.kept, 28);
  // 1/1152 <= E < 1161/9216: exactly the four keys at -20 pruned, i.e. theta in (-20, 60].
  for (double e : {0.001, 0.01, 0.1}) {
    const LearnResult r = learn_threshold(s, {e}, kFloor);
    EXPECT_GT(r.theta, -20) << "E " << e;
    EXPECT_LE(r.theta, 60) << "E " << e;
    EXPECT_EQ(r.fit.kept, 12) << "E " << e;
  }
  // 1161/9216 <= E < 1: only the key at 100 kept, theta in (60, 100].
  const LearnResult mid = learn_threshold(s, {0.2}, kFloor);
  EXPECT_GT(mid.theta, 60);
  EXPECT_LE(mid.theta, 100);
  EXPECT_EQ(mid.fit.kept, 4);
  // E = 1 allows pruning everything.
  const LearnResult all = learn_threshold(s, {1.0}, kFloor);
  EXPECT_GT(all.theta, 100);
  EXPECT_EQ(all.fit.kept, 0);
}

TEST(CalibLearn, LargerMaxErrorNeverPrunesLess) {
  const core::AttentionWorkload w = small_random(7, 12, 16);
  QuerySet s;
  s.add_all(w);
  LearnOptions o;
  o.lambda_points = 16;
  o.steps = 60;
  for (double z : {0.0, 2.0}) {
    int64_t prev_learned = std::numeric_limits<int64_t>::min(), prev_pct = prev_learned;
    int64_t prev_pruned = -1, prev_pct_pruned = -1;
    for (double e : {0.001, 0.003, 0.01, 0.02, 0.03, 0.05, 0.08, 0.1, 0.2, 0.4, 0.8}) {
      const Acceptance acc{e, z, 4};
      const LearnResult r = learn_threshold(s, acc, kFloor, o);
      const PercentileResult p = percentile_threshold(s, acc);
      const int64_t pruned = r.fit.scores - r.fit.kept;
      const int64_t pct_pruned = p.percentile == 0 ? 0 : p.fit.scores - p.fit.kept;
      EXPECT_GE(r.theta, prev_learned) << "E " << e << " z " << z;
      EXPECT_GE(pruned, prev_pruned) << "E " << e << " z " << z;
      EXPECT_GE(pct_pruned, prev_pct_pruned) << "E " << e << " z " << z;
      EXPECT_TRUE(acc.accepts(r.fit)) << "E " << e << " z " << z;
      if (p.percentile > 0) {
        EXPECT_GE(p.theta, prev_pct) << "E " << e;
      }
      prev_learned = r.theta;
      prev_pruned = pruned;
      prev_pct_pruned = pct_pruned;
      if (p.percentile > 0) prev_pct = p.theta;
    }
  }
}

TEST(CalibLearn, AcceptanceAddsAMarginForSpreadOutQueries) {
  // Two queries pruned very differently: error^2 = 0.01 on average, but the spread is large.
  HardEval h;
  h.error = 0.1;
  h.queries = 8;
  h.query_var = 0.01;
  EXPECT_TRUE((Acceptance{0.1, 0.0, 0}.accepts(h)));
  EXPECT_FALSE((Acceptance{0.1, 2.0, 8}.accepts(h)));
  // error^2 + 2 * sqrt(0.01 * (1/8 + 1/8)) = 0.01 + 0.1 = 0.11 <= target^2 needs target >= 0.3317
  EXPECT_TRUE((Acceptance{0.332, 2.0, 8}.accepts(h)));
  EXPECT_FALSE((Acceptance{0.331, 2.0, 8}.accepts(h)));
}

TEST(CalibPercentile, PicksTheLargestPercentileWithinTheBound) {
  QuerySet s;
  s.add_all(hand_trace());
  // Sorted scores: 16 x -20, 8 x 60, 4 x 100; rank floor(p * 28 / 100). p <= 57 -> rank <= 15 -> -20
  // (prunes nothing), p in [58, 85] -> 60 (prunes the -20 keys), p >= 86 -> 100 (keeps only 100).
  const PercentileResult lo = percentile_threshold(s, {0.01});
  EXPECT_EQ(lo.percentile, 85);
  EXPECT_EQ(lo.theta, 60);
  const PercentileResult hi = percentile_threshold(s, {0.2});
  EXPECT_EQ(hi.percentile, 99);
  EXPECT_EQ(hi.theta, 100);
  const PercentileResult none = percentile_threshold(s, {0.0005});
  EXPECT_EQ(none.percentile, 57);  // theta = -20 still prunes nothing
  EXPECT_EQ(none.fit.kept, 28);
}

// ---------------------------------------------------------------------------------- calibration

CalibOptions fast_options(double e) {
  CalibOptions o;
  o.max_error = e;
  return o;
}

TEST(CalibCalibrate, RegressionWorkloadsMeetTheBoundOnHeldOutQueriesAndBeatThePercentileBaseline) {
  const core::AttentionConfig c = r_d16();
  for (const char* kind : {"gaussian", "peaky"}) {
    const std::vector<NamedWorkload> ws = {{kind, core::make_workload(c, kind, 32, 32, 1)}};
    for (double e : {0.02, 0.05}) {
      const CalibrationResult r = calibrate(c, ws, fast_options(e));
      ASSERT_EQ(r.slots.size(), 1u);
      const SlotReport& s = r.slots[0];
      EXPECT_EQ(s.held_out_queries, 8);  // round(0.25 * 32)
      EXPECT_EQ(s.fit_queries, 24);
      EXPECT_LE(s.learned.held_out.error, e) << kind << " E " << e;
      EXPECT_LE(s.learned.fit.error, e) << kind << " E " << e;
      EXPECT_LE(s.learned.all.kept, s.percentile.all.kept) << kind << " E " << e;
      EXPECT_LE(s.learned.fit.kept, s.percentile.fit.kept) << kind << " E " << e;
      EXPECT_LT(s.learned.all.kept, s.learned.all.scores) << kind << " E " << e << ": prunes something";
      // No pruning: every key kept, Wk steps per score.
      EXPECT_EQ(s.none.all.kept, 32 * 32);
      EXPECT_EQ(s.none.bit_steps, 32 * 32 * 8);
      EXPECT_EQ(s.none.held_out.error, 0.0);
      EXPECT_LT(s.learned.bit_steps, s.none.bit_steps);
      EXPECT_FALSE(s.learned.cycles.has_value());  // no cycle callback given
    }
  }
}

TEST(CalibCalibrate, SlotsAreCalibratedSeparatelyAndCyclesComeFromTheCallback) {
  const core::AttentionConfig c = tiny_config();
  core::AttentionWorkload a = hand_trace(4), b = hand_trace(4);
  b.params.slot = 1;
  b.v(0, 0) = -9;  // same errors (the sign of V does not matter)
  int calls = 0;
  CalibOptions o = fast_options(0.01);
  o.z = 0.0;
  o.cycles = [&calls](const core::AttentionWorkload& w) {
    ++calls;
    return CycleCount{100 + w.params.theta, 7};
  };
  const CalibrationResult r = calibrate(c, {{"a", a}, {"b", b}}, o);
  ASSERT_EQ(r.slots.size(), 2u);
  EXPECT_EQ(calls, 6);  // 2 slots x (none, percentile, learned)
  for (int k = 0; k < 2; ++k) {
    const SlotReport& s = r.slots[static_cast<size_t>(k)];
    EXPECT_EQ(s.slot, k);
    EXPECT_EQ(s.workloads, std::vector<std::string>{k == 0 ? "a" : "b"});
    EXPECT_EQ(s.held_out_queries, 1);  // round(0.25 * 4)
    EXPECT_GT(s.learned.threshold.value, -20);
    EXPECT_LE(s.learned.threshold.value, 60);
    ASSERT_TRUE(s.learned.cycles.has_value());
    EXPECT_EQ(s.learned.cycles->total, 100 + s.learned.threshold.value);
    EXPECT_EQ(s.learned.cycles->score_phase, 7);
  }
  const json j = thresholds_json(c, r, o, "test");
  EXPECT_EQ(j["thresholds"].size(), 2u);
  EXPECT_EQ(j["thresholds"][1]["slot"], 1);
  EXPECT_EQ(j["report"]["overall"]["learned"]["cycles"]["score_phase"], 14);
  EXPECT_EQ(j["report"]["overall"]["none"]["kept"], 56);
  EXPECT_EQ(j["report"]["overall"]["learned"]["kept"], 24);
}

TEST(CalibCalibrate, SplitIsDeterministicAndCoversEveryQuery) {
  const core::AttentionConfig c = r_d16();
  const std::vector<NamedWorkload> ws = {{"g", core::make_workload(c, "gaussian", 10, 8, 2)},
                                         {"p", core::make_workload(c, "peaky", 7, 8, 2)}};
  CalibOptions o = fast_options(0.05);
  o.learn.lambda_points = 4;
  o.learn.steps = 20;
  o.holdout = 0.3;
  const CalibrationResult r1 = calibrate(c, ws, o), r2 = calibrate(c, ws, o);
  ASSERT_EQ(r1.slots.size(), 1u);  // both in slot 0
  EXPECT_EQ(r1.slots[0].held_out_queries, 5);  // round(0.3 * 17)
  EXPECT_EQ(r1.slots[0].fit_queries, 12);
  EXPECT_EQ(r1.slots[0].learned.threshold.value, r2.slots[0].learned.threshold.value);
  EXPECT_EQ(r1.slots[0].learned.held_out.diff_norm2, r2.slots[0].learned.held_out.diff_norm2);
  EXPECT_EQ(r1.slots[0].learned.all.scores, 10 * 8 + 7 * 8);
  EXPECT_EQ(r1.slots[0].learned.fit.scores + r1.slots[0].learned.held_out.scores, 136);
}

// --------------------------------------------------------------------------------- bad input

TEST(CalibInput, MaxErrorMustBeAPositiveNumber) {
  EXPECT_DOUBLE_EQ(parse_max_error("0.05"), 0.05);
  EXPECT_DOUBLE_EQ(parse_max_error("1e-3"), 0.001);
  for (const char* bad : {"0", "-0.1", "abc", "", "0.05x", "nan", "inf", " 0.1", "0,1"}) {
    const std::string m = error_of([&] { parse_max_error(bad); });
    EXPECT_TRUE(has(m, "--max-error")) << bad << ": " << m;
    EXPECT_TRUE(has(m, "> 0")) << bad << ": " << m;
  }
  const core::AttentionConfig c = tiny_config();
  for (double e : {0.0, -1.0, std::nan("")}) {
    const std::string m = error_of([&] { calibrate(c, {{"a", hand_trace()}}, fast_options(e)); });
    EXPECT_TRUE(has(m, "--max-error")) << m;
  }
}

TEST(CalibInput, SlotOutOfRange) {
  const core::AttentionConfig c = tiny_config();  // threshold_slots = 2
  core::AttentionWorkload w = hand_trace();
  w.params.slot = 2;
  const std::string m = error_of([&] { calibrate(c, {{"dir_a", w}}, fast_options(0.05)); });
  EXPECT_TRUE(has(m, "dir_a/params.json: slot")) << m;
  EXPECT_TRUE(has(m, "[0, 1]")) << m;
  w.params.slot = -1;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, {{"dir_a", w}}, fast_options(0.05)); }), "slot"));
}

TEST(CalibInput, EmptyWorkloads) {
  const core::AttentionConfig c = tiny_config();
  core::AttentionWorkload w = hand_trace();
  w.q.resize(0, 1);
  const std::string m = error_of([&] { calibrate(c, {{"dir_e", w}}, fast_options(0.05)); });
  EXPECT_TRUE(has(m, "dir_e")) << m;
  EXPECT_TRUE(has(m, "empty workload")) << m;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, {}, fast_options(0.05)); }), "--workload"));
  // One query cannot be split into a fitting and a held-out part.
  const std::string one = error_of([&] { calibrate(c, {{"dir_1", hand_trace(1)}}, fast_options(0.05)); });
  EXPECT_TRUE(has(one, "dir_1")) << one;
  EXPECT_TRUE(has(one, "--holdout 0")) << one;
  CalibOptions no_holdout = fast_options(0.05);
  no_holdout.holdout = 0.0;
  const CalibrationResult r = calibrate(c, {{"dir_1", hand_trace(1)}}, no_holdout);
  EXPECT_EQ(r.slots[0].held_out_queries, 0);
  EXPECT_TRUE(thresholds_json(c, r, no_holdout, "t")["report"]["slots"][0]["learned"]["error"]["held_out"].is_null());
}

TEST(CalibInput, EmptyWorkloadDirectoryNamesTheMissingFile) {
  TempDir t;
  const std::string m = error_of([&] { core::load_attention_workload(t.path().string(), tiny_config()); });
  EXPECT_TRUE(has(m, "q.npy")) << m;
}

TEST(CalibInput, OptionsOutOfRangeAndDenseBaseline) {
  const core::AttentionConfig c = tiny_config();
  CalibOptions o = fast_options(0.05);
  o.holdout = 0.95;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, {{"a", hand_trace()}}, o); }), "--holdout"));
  o = fast_options(0.05);
  o.margin = 0.0;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, {{"a", hand_trace()}}, o); }), "--margin"));
  o = fast_options(0.05);
  o.z = -1;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, {{"a", hand_trace()}}, o); }), "--z"));
  core::AttentionConfig dense = c;
  dense.dense_baseline = true;
  EXPECT_TRUE(has(error_of([&] { calibrate(dense, {{"a", hand_trace()}}, fast_options(0.05)); }),
                  "config.dense_baseline"));
}

// ------------------------------------------------------------------------------ thresholds file


json thresholds_file(const core::AttentionConfig& c, const json& thresholds) {
  return {{"tool", "accelgen"}, {"config_hash", core::config_hash(c)}, {"thresholds", thresholds}};
}

TEST(CalibThresholdsFile, RoundTripReplacesTheWorkloadsTheta) {
  TempDir t;
  const core::AttentionConfig c = tiny_config();
  CalibOptions o = fast_options(0.01);
  o.z = 0.0;
  core::AttentionWorkload b = hand_trace();
  b.params.slot = 1;
  const CalibrationResult r = calibrate(c, {{"a", hand_trace()}, {"b", b}}, o);
  const fs::path file = t.path() / "thresholds.json";
  write_text(file, thresholds_json(c, r, o, "test").dump(2));
  core::AttentionWorkload w = hand_trace();
  w.params.slot = 1;
  w.params.theta = 12345;
  apply_thresholds(file.string(), c, w);
  EXPECT_EQ(w.params.theta, r.slots[1].learned.threshold.value);
  EXPECT_GT(w.params.theta, -20);
  EXPECT_LE(w.params.theta, 60);
}

TEST(CalibThresholdsFile, HandWrittenFileIsApplied) {
  TempDir t;
  const core::AttentionConfig c = tiny_config();
  const fs::path file = t.path() / "t.json";
  write_text(file, thresholds_file(c, json::array({{{"slot", 1}, {"theta", -7}}, {{"slot", 0}, {"theta", 42}}})).dump());
  core::AttentionWorkload w = hand_trace();
  apply_thresholds(file.string(), c, w);
  EXPECT_EQ(w.params.theta, 42);
  w.params.slot = 1;
  apply_thresholds(file.string(), c, w);
  EXPECT_EQ(w.params.theta, -7);
}

TEST(CalibThresholdsFile, BadFilesAreRejectedNamingTheField) {
  TempDir t;
  const core::AttentionConfig c = tiny_config();  // TW = 8 + 8 + 0 + 2 = 18: theta in [-131072, 131071]
  const fs::path file = t.path() / "t.json";
  core::AttentionWorkload w = hand_trace();
  auto reject = [&](const std::string& text, const std::vector<std::string>& parts) {
    write_text(file, text);
    w.params.theta = 5;
    const std::string m = error_of([&] { apply_thresholds(file.string(), c, w); });
    for (const std::string& p : parts) EXPECT_TRUE(has(m, p)) << p << " not in: " << m;
    EXPECT_TRUE(has(m, file.string())) << m;
    EXPECT_EQ(w.params.theta, 5) << "theta changed although the file was rejected";
  };
  const json ok_entry = json::array({{{"slot", 0}, {"theta", 1}}});
  reject("{not json", {"not valid JSON"});
  reject("[1, 2]", {"JSON object"});
  reject(json{{"thresholds", ok_entry}}.dump(), {"config_hash", "required"});
  json other = thresholds_file(c, ok_entry);
  other["config_hash"] = "0123456789abcdef";
  reject(other.dump(), {"config_hash", "0123456789abcdef", core::config_hash(c), "another config"});
  reject(json{{"config_hash", core::config_hash(c)}}.dump(), {"thresholds", "required"});
  reject(thresholds_file(c, json::array({{{"slot", 1}, {"theta", 3}}})).dump(), {"no threshold for slot 0", "[1]"});
  reject(thresholds_file(c, json::array({{{"slot", 2}, {"theta", 3}}})).dump(), {"thresholds[0].slot", "[0, 1]"});
  reject(thresholds_file(c, json::array({{{"slot", 0}, {"theta", 1.5}}})).dump(), {"thresholds[0].theta", "integer"});
  reject(thresholds_file(c, json::array({{{"slot", 0}, {"theta", 131072}}})).dump(),
         {"thresholds[0].theta", "[-131072, 131071]"});
  reject(thresholds_file(c, json::array({{{"slot", 0}, {"theta", 1}}, {{"slot", 0}, {"theta", 2}}})).dump(),
         {"thresholds[1].slot", "twice"});
  reject(thresholds_file(c, json::array({{{"slot", 0}}})).dump(), {"thresholds[0]", "slot and theta"});
  json extra = thresholds_file(c, ok_entry);
  extra["thetas"] = 1;
  reject(extra.dump(), {"thetas", "unknown key"});
  EXPECT_TRUE(has(error_of([&] { apply_thresholds((t.path() / "missing.json").string(), c, w); }), "missing.json"));
}

// ------------------------------------------------------------------------------------------ CLI

// `accelgen calibrate` as a user runs it. The tool is looked up next to this test binary's directory
// (build/tests/unit_tests -> build/accelgen); the test is skipped when it has not been built.
using test_support::accelgen_binary;
using test_support::CliRun;
using test_support::run_accelgen;

#define REQUIRE_ACCELGEN()                                                      \
  if (accelgen_binary().empty()) GTEST_SKIP() << "build/accelgen not built"

TEST(CalibCli, BadInputExitsWithStatus2AndOneLineNamingTheProblem) {
  REQUIRE_ACCELGEN();
  TempDir t;
  const core::AttentionConfig c = r_d16();
  const std::string cfg = std::string(ACCELGEN_SOURCE_DIR) + "/configs/regression/r_d16.json";
  const fs::path good = t.path() / "good";
  core::write_workload(core::make_workload(c, "gaussian", 8, 8, 1), good.string());
  core::AttentionWorkload slot9 = core::make_workload(c, "gaussian", 8, 8, 1);
  const fs::path bad_slot = t.path() / "bad_slot";
  core::write_workload(slot9, bad_slot.string());
  std::ofstream(bad_slot / "params.json") << R"({"theta": 0, "softmax_scale": 0.001, "slot": 4})";
  fs::create_directories(t.path() / "empty");
  const std::string out = (t.path() / "th.json").string();
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {{"--workload", good.string(), "--max-error", "0"}, {"--max-error", "> 0"}},
      {{"--workload", good.string(), "--max-error", "-0.1"}, {"--max-error", "> 0"}},
      {{"--workload", good.string(), "--max-error", "small"}, {"--max-error", "small"}},
      {{"--workload", bad_slot.string(), "--max-error", "0.05"}, {"slot", "[0, 3]"}},
      {{"--workload", (t.path() / "empty").string(), "--max-error", "0.05"}, {"q.npy"}},
      {{"--workload", good.string(), "--workload", good.string(), "--max-error", "0.05"}, {"twice"}},
  };
  for (const Case& k : cases) {
    std::vector<std::string> args = {"calibrate", "--config", cfg, "--out", out};
    args.insert(args.end(), k.args.begin(), k.args.end());
    const CliRun r = run_accelgen(t, args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const std::string& p : k.parts) EXPECT_TRUE(has(r.output, p)) << p << " not in: " << r.output;
    EXPECT_FALSE(fs::exists(out)) << "output written despite bad input: " << r.output;
  }
}

TEST(CalibCli, WritesTheThresholdsFileWithTheReport) {
  REQUIRE_ACCELGEN();
  TempDir t;
  const core::AttentionConfig c = r_d16();
  const std::string cfg = std::string(ACCELGEN_SOURCE_DIR) + "/configs/regression/r_d16.json";
  core::AttentionWorkload w1 = core::make_workload(c, "peaky", 12, 16, 3);
  w1.params.slot = 2;
  core::write_workload(core::make_workload(c, "gaussian", 12, 16, 3), (t.path() / "a").string());
  core::write_workload(w1, (t.path() / "b").string());
  const fs::path out = t.path() / "sub" / "th.json";
  const CliRun r = run_accelgen(t, {"calibrate", "--config", cfg, "--workload", (t.path() / "a").string(),
                                    (t.path() / "b").string(), "--max-error", "0.05", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(out);
  const json j = json::parse(in);
  EXPECT_EQ(j["tool"], "accelgen");
  EXPECT_EQ(j["config_hash"], core::config_hash(c));
  ASSERT_EQ(j["thresholds"].size(), 2u);
  EXPECT_EQ(j["thresholds"][0]["slot"], 0);
  EXPECT_EQ(j["thresholds"][1]["slot"], 2);
  const json& s = j["report"]["slots"][1];
  EXPECT_EQ(s["queries"]["held_out"], 3);  // round(0.25 * 12)
  EXPECT_LE(s["learned"]["error"]["held_out"].get<double>(), 0.05);
  // Cycles of the golden cycle model: pruning never costs cycles here, and the dense run does
  // 12 * 16 * 8 = 1536 bit steps on 4 lanes, at least 384 score-phase cycles.
  EXPECT_GE(s["none"]["cycles"]["score_phase"].get<int64_t>(), 384);
  EXPECT_LE(s["learned"]["cycles"]["total"].get<int64_t>(), s["none"]["cycles"]["total"].get<int64_t>());
  EXPECT_EQ(s["none"]["bit_steps"], 1536);
  core::AttentionWorkload back = w1;
  apply_thresholds(out.string(), c, back);
  EXPECT_EQ(back.params.theta, j["thresholds"][1]["theta"].get<int64_t>());
}

}  // namespace
}  // namespace accelgen::calib
