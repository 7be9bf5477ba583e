// Tests for issue 10 in calib/: relative (max-anchored) thresholds, causal masking in the error metric, whole
// workloads held out from fitting, the thresholds file with modes, and the bad input of each (library and
// `accelgen calibrate` / `model` / `eval` / `sim` as a user runs them).
//
// Expected values never come from the code under test: the hand-made traces' errors are exact fractions worked
// out below from the weights 2^(s/10) (sigma = ln(2)/10), and the split of whole workloads is recomputed here
// from the algorithm docs/calibration.md states.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <set>
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

using accelgen::test_support::error_of;
using accelgen::test_support::has;
using accelgen::test_support::TempDir;
using accelgen::test_support::write_text;
namespace fs = std::filesystem;
using nlohmann::json;
using core::ThresholdMode;

// d = dv = 1, 8-bit, relative thresholds in the hardware. TW = 8 + 8 + 0 + 2 = 18: delta in [0, 131071].
core::AttentionConfig rel_config(bool relative = true) {
  core::AttentionConfig c;
  c.name = "tinyrel";
  c.d = 1;
  c.dv = 1;
  c.max_keys = 8;
  c.lanes = 1;
  c.threshold_slots = 2;
  c.relative_thresholds = relative;
  return c;
}

// Every query q = [1], so s_ij = K[j]; V as given. sigma = ln(2)/10: a key at score s weighs 2^(s/10).
core::AttentionWorkload trace(const std::vector<int64_t>& keys, const std::vector<int64_t>& vs, int queries,
                              int slot = 0) {
  core::AttentionWorkload w;
  w.q = core::IntMatrix::Ones(queries, 1);
  w.k.resize(static_cast<Eigen::Index>(keys.size()), 1);
  w.v.resize(static_cast<Eigen::Index>(keys.size()), 1);
  for (size_t j = 0; j < keys.size(); ++j) {
    w.k(static_cast<Eigen::Index>(j), 0) = keys[j];
    w.v(static_cast<Eigen::Index>(j), 0) = vs[j];
  }
  w.params.softmax_scale = std::log(2.0) / 10.0;
  w.params.slot = slot;
  return w;
}

// The hand-made trace of test_calibrate.cpp: one key at 100 (V = 9, weight 1024), two at 60 (weight 64 each),
// four at -20 (weight 1/4 each), V = 0 except the first. O = 9 * 1024 / (sum of kept weights):
//   nothing pruned: 9216/1153; the -20 keys pruned: 8 (error 1/1152); only 100 kept: 9 (error 1161/9216).
// Gaps M - s: 0, 40, 40, 120 x 4.
core::AttentionWorkload hand(int queries = 4, int slot = 0, int64_t shift = 0) {
  return trace({100 + shift, 60 + shift, 60 + shift, -20 + shift, -20 + shift, -20 + shift, -20 + shift},
               {9, 0, 0, 0, 0, 0, 0}, queries, slot);
}

CalibOptions opts_z0(double e) {
  CalibOptions o;
  o.max_error = e;
  o.z = 0.0;
  o.holdout = 0.0;
  o.learn.lambda_points = 8;  // small sets: a short path is plenty
  o.learn.steps = 40;
  return o;
}

// ------------------------------------------------------------------------------- relative thresholds

TEST(CalibRelative, HardEvalOfTheHandMadeTrace) {
  QuerySet s;
  s.add_all(hand());
  EXPECT_NEAR(hard_eval(s, Threshold::relative(0)).error, 1161.0 / 9216.0, 1e-12);  // only the max kept
  EXPECT_NEAR(hard_eval(s, Threshold::relative(39)).error, 1161.0 / 9216.0, 1e-12);
  EXPECT_NEAR(hard_eval(s, Threshold::relative(40)).error, 1.0 / 1152.0, 1e-12);    // 60 = 100 - 40 kept
  EXPECT_NEAR(hard_eval(s, Threshold::relative(119)).error, 1.0 / 1152.0, 1e-12);
  EXPECT_EQ(hard_eval(s, Threshold::relative(120)).error, 0.0);
  EXPECT_EQ(hard_eval(s, Threshold::relative(0)).kept, 4);
  EXPECT_EQ(hard_eval(s, Threshold::relative(40)).kept, 12);
  EXPECT_EQ(hard_eval(s, Threshold::relative(0)).empty_rows, 0);  // the max key is always kept
}

TEST(CalibRelative, LearnDeltaFindsTheKnownSmallestDelta) {
  QuerySet s;
  s.add_all(hand());
  // 1/1152 <= E < 1161/9216: the -20 keys may go, the 60 keys not: the smallest delta keeping 60 is 40.
  for (double e : {0.001, 0.01, 0.1}) {
    const DeltaResult r = learn_delta(s, Acceptance{e}, 131071);
    EXPECT_EQ(r.delta, 40) << "E " << e;
    EXPECT_TRUE(r.met);
    EXPECT_EQ(r.fit.kept, 12);
    EXPECT_EQ(r.levels, 3);  // gaps 0, 40, 120
  }
  EXPECT_EQ(learn_delta(s, Acceptance{0.2}, 131071).delta, 0);      // only the max key
  EXPECT_EQ(learn_delta(s, Acceptance{0.0005}, 131071).delta, 120);  // nothing pruned
  // A register too small for the keep-everything delta: the top of the range, not met.
  const DeltaResult capped = learn_delta(s, Acceptance{0.0005}, 100);
  EXPECT_EQ(capped.delta, 100);
  EXPECT_FALSE(capped.met);
}

TEST(CalibRelative, AutoPicksRelativeWhenTheQueriesSitAtDifferentLevels) {
  // Two workloads of one slot, the second shifted down by 100: same gaps, same errors per query (softmax ignores
  // a shift). Relative delta 40 keeps 3 of 7 keys in both. An absolute theta keeping the second workload's 60 - 100
  // = -40 keys (needed for E = 0.01) also keeps the first's -20 keys: 7 + 3 of 14.
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::automatic;
  const CalibrationResult r = calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}}, o);
  ASSERT_EQ(r.slots.size(), 1u);
  const SlotReport& s = r.slots[0];
  EXPECT_EQ(s.modes_considered, (std::vector<ThresholdMode>{ThresholdMode::absolute, ThresholdMode::relative}));
  EXPECT_EQ(s.learned.threshold, Threshold::relative(40));
  EXPECT_EQ(s.learned.fit.kept, 8 * 3);
  EXPECT_NEAR(s.learned.fit.error, 1.0 / 1152.0, 1e-12);
  ASSERT_TRUE(s.other.has_value());
  EXPECT_EQ(s.other->threshold.mode, ThresholdMode::absolute);
  EXPECT_GT(s.other->threshold.value, -120);  // prunes the shifted -20 keys (at -120) ...
  EXPECT_LE(s.other->threshold.value, -40);   // ... but keeps the shifted 60 keys (at -40)
  EXPECT_EQ(s.other->fit.kept, 4 * 7 + 4 * 3);
  // First workload exact, second 1/1152, equal reference norms: pooled error (1/1152) / sqrt(2).
  EXPECT_NEAR(s.other->fit.error, 1.0 / 1152.0 / std::sqrt(2.0), 1e-12);
  EXPECT_TRUE(s.learned.bit_steps_ideal);
  EXPECT_FALSE(s.other->bit_steps_ideal);
  // Mode absolute only: the same absolute threshold, no alternative.
  o.mode = ModeChoice::absolute;
  const CalibrationResult a = calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}}, o);
  EXPECT_EQ(a.slots[0].learned.threshold, s.other->threshold);
  EXPECT_FALSE(a.slots[0].other.has_value());
  // Mode relative only.
  o.mode = ModeChoice::relative;
  EXPECT_EQ(calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}}, o).slots[0].learned.threshold,
            Threshold::relative(40));
}

TEST(CalibRelative, AutoOnAConfigWithoutRelativeThresholdsFitsAbsoluteOnly) {
  const core::AttentionConfig c = rel_config(false);
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::automatic;
  const CalibrationResult r = calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}}, o);
  EXPECT_EQ(r.slots[0].modes_considered, std::vector<ThresholdMode>{ThresholdMode::absolute});
  EXPECT_EQ(r.slots[0].learned.threshold.mode, ThresholdMode::absolute);
  EXPECT_FALSE(r.slots[0].other.has_value());
  o.mode = ModeChoice::relative;
  const std::string m = error_of([&] { calibrate(c, {{"a", hand(4)}}, o); });
  EXPECT_TRUE(has(m, "--mode")) << m;
  EXPECT_TRUE(has(m, "absolute thresholds only")) << m;
}

TEST(CalibRelative, ParseMode) {
  EXPECT_EQ(parse_mode("absolute"), ModeChoice::absolute);
  EXPECT_EQ(parse_mode("relative"), ModeChoice::relative);
  EXPECT_EQ(parse_mode("auto"), ModeChoice::automatic);
  for (const char* bad : {"", "Auto", "rel", "absolute "}) {
    const std::string m = error_of([&] { parse_mode(bad); });
    EXPECT_TRUE(has(m, "--mode")) << m;
    EXPECT_TRUE(has(m, "absolute, relative, auto")) << m;
  }
}

// ----------------------------------------------------------------------------------- causal masking

// The hand-made trace with 7 queries and causal offset 0: query i sees keys 0..i. Reference outputs F_i
// (weights 1024, 64, 64, 1/4 ...): F_0 = 9, F_1 = 9216/1088, F_2 = 8, F_i = 9216 / (1152 + (i - 2)/4) for i >= 3.
std::vector<double> causal_reference() {
  std::vector<double> f = {9.0, 9216.0 / 1088.0, 8.0};
  for (int i = 3; i < 7; ++i) f.push_back(9216.0 / (1152.0 + (i - 2) / 4.0));
  return f;
}

double pooled(const std::vector<double>& out, const std::vector<double>& ref) {
  double d = 0.0, n = 0.0;
  for (size_t i = 0; i < ref.size(); ++i) {
    d += (out[i] - ref[i]) * (out[i] - ref[i]);
    n += ref[i] * ref[i];
  }
  return std::sqrt(d / n);
}

TEST(CalibCausal, ErrorMetricExcludesMaskedKeys) {
  core::AttentionWorkload w = hand(7);
  w.params.causal = true;
  w.params.causal_offset = 0;
  QuerySet s;
  s.add_all(w);
  EXPECT_EQ(s.scores(), 1 + 2 + 3 + 4 + 5 + 6 + 7);  // visible pairs only
  const std::vector<double> f = causal_reference();
  // theta = 61: only key 0 kept, O_i = 9 for every query.
  const HardEval only_max = hard_eval(s, 61);
  EXPECT_NEAR(only_max.error, pooled(std::vector<double>(7, 9.0), f), 1e-12);
  EXPECT_EQ(only_max.kept, 7);
  EXPECT_EQ(only_max.empty_rows, 0);
  // theta = -19: the -20 keys pruned; queries 0..2 see none of them (exact), queries 3..6 output 8.
  const HardEval no_low = hard_eval(s, -19);
  EXPECT_NEAR(no_low.error, pooled({f[0], f[1], f[2], 8, 8, 8, 8}, f), 1e-12);
  EXPECT_EQ(no_low.kept, 1 + 2 + 3 + 3 + 3 + 3 + 3);
  // The same relative: M_i = 100 for every query, delta 40 = theta 60.
  EXPECT_NEAR(hard_eval(s, Threshold::relative(40)).error, no_low.error, 1e-15);
  // Without the mask the reference is 9216/1153 for every query: a different error.
  QuerySet open;
  open.add_all(hand(7));
  EXPECT_NEAR(hard_eval(open, 61).error, 1161.0 / 9216.0, 1e-12);
  EXPECT_GT(std::abs(hard_eval(open, 61).error - only_max.error), 1e-3);
}

TEST(CalibCausal, RelativeThresholdIsAnchoredToTheVisibleMaximum) {
  // Keys 60 (V = 5) then 100 (V = 9): query 0 sees only the 60 key, so M_0 = 60 and delta 0 keeps it (an anchor
  // at the overall maximum 100 would leave query 0 empty). Query 1 sees both: delta 0 keeps only 100.
  core::AttentionWorkload w = trace({60, 100}, {5, 9}, 2);
  w.params.causal = true;
  w.params.causal_offset = 0;
  QuerySet s;
  s.add_all(w);
  const HardEval h = hard_eval(s, Threshold::relative(0));
  EXPECT_EQ(h.empty_rows, 0);
  EXPECT_EQ(h.kept, 2);
  const double f1 = (5.0 * 64.0 + 9.0 * 1024.0) / 1088.0;  // query 1 unpruned
  EXPECT_NEAR(h.error, std::sqrt((9.0 - f1) * (9.0 - f1) / (25.0 + f1 * f1)), 1e-12);
}

TEST(CalibCausal, OptionMakesWorkloadsCausalAndCountsVisibleScoresOnly) {
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.causal = true;  // offset Lk - Lq = 0
  const CalibrationResult r = calibrate(c, {{"a", hand(7)}}, o);
  const SlotReport& s = r.slots[0];
  EXPECT_EQ(s.none.all.scores, 28);
  EXPECT_EQ(s.none.masked, 49 - 28);
  EXPECT_EQ(s.none.dense_bit_steps, 28 * 8);  // visible pairs * wk
  EXPECT_EQ(s.none.bit_steps, 28 * 8);        // nothing pruned: wk steps per visible key
  // E = 0.01 allows pruning the -20 keys (error computed above, about 0.00036) but not the 60 keys.
  const std::vector<double> f = causal_reference();
  EXPECT_NEAR(s.learned.fit.error, pooled({f[0], f[1], f[2], 8, 8, 8, 8}, f), 1e-12);
  // An explicit offset 2: query i sees min(7, i + 3) keys.
  o.causal_offset = 2;
  EXPECT_EQ(calibrate(c, {{"a", hand(7)}}, o).slots[0].none.all.scores, 3 + 4 + 5 + 6 + 7 + 7 + 7);
  // A workload causal by its params keeps its own offset (1 here).
  core::AttentionWorkload own = hand(7);
  own.params.causal = true;
  own.params.causal_offset = 1;
  EXPECT_EQ(calibrate(c, {{"a", own}}, o).slots[0].none.all.scores, 2 + 3 + 4 + 5 + 6 + 7 + 7);
  // Not causal: every pair.
  o.causal = false;
  o.causal_offset.reset();
  EXPECT_EQ(calibrate(c, {{"a", hand(7)}}, o).slots[0].none.masked, 0);
}

TEST(CalibCausal, BadOffsets) {
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.causal = true;
  o.causal_offset = -1;
  std::string m = error_of([&] { calibrate(c, {{"a", hand(7)}}, o); });
  EXPECT_TRUE(has(m, "--causal-offset")) << m;
  EXPECT_TRUE(has(m, ">= 0")) << m;
  // More queries than keys: the default Lk - Lq is negative.
  o.causal_offset.reset();
  m = error_of([&] { calibrate(c, {{"dir_q", hand(9)}}, o); });
  EXPECT_TRUE(has(m, "--causal-offset")) << m;
  EXPECT_TRUE(has(m, "dir_q")) << m;
}

// ------------------------------------------------------------------------------ whole workloads held out

// docs/calibration.md "Split": shuffle 0..n-1 with std::mt19937_64(seed * 0xD1B54A32D192ED03 + slot), swapping
// element i - 1 with element rng() % i for i = n down to 2; the first k, sorted.
std::vector<size_t> documented_choice(size_t n, int k, uint64_t seed, int slot) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  std::mt19937_64 rng(seed * 0xD1B54A32D192ED03ULL + static_cast<uint64_t>(slot));
  for (size_t i = n; i > 1; --i) {
    const size_t j = static_cast<size_t>(rng() % i);
    std::swap(v[i - 1], v[j]);
  }
  v.resize(static_cast<size_t>(k));
  std::sort(v.begin(), v.end());
  return v;
}

TEST(CalibHoldoutWorkloads, ChoiceIsDeterministicAndFollowsTheDocumentedShuffle) {
  std::set<std::vector<size_t>> seen;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    for (int slot : {0, 3}) {
      const std::vector<size_t> got = held_out_workload_indices(5, 2, seed, slot);
      EXPECT_EQ(got, documented_choice(5, 2, seed, slot)) << "seed " << seed;
      EXPECT_EQ(got, held_out_workload_indices(5, 2, seed, slot));
      seen.insert(got);
    }
  }
  EXPECT_GE(seen.size(), 5u);  // the seed matters (10 possible pairs)
  EXPECT_TRUE(held_out_workload_indices(4, 0, 1, 0).empty());
}

TEST(CalibHoldoutWorkloads, CalibrateHoldsOutTheChosenWorkloadsWhole) {
  const core::AttentionConfig c = rel_config();
  // Slot 0: three workloads; slot 1: two. Each 4 queries.
  std::vector<NamedWorkload> ws = {{"a", hand(4)}, {"b", hand(4)}, {"c", hand(4)}, {"d", hand(4, 1)}, {"e", hand(4, 1)}};
  for (uint64_t seed : {1, 2, 3, 7}) {
    CalibOptions o = opts_z0(0.01);
    o.holdout.reset();  // default: 0 when workloads are held out
    o.holdout_workloads = 1;
    o.seed = seed;
    const CalibrationResult r = calibrate(c, ws, o);
    EXPECT_EQ(r.holdout, 0.0);
    ASSERT_EQ(r.slots.size(), 2u);
    const std::string names0 = "abc", names1 = "de";
    const size_t k0 = documented_choice(3, 1, seed, 0)[0], k1 = documented_choice(2, 1, seed, 1)[0];
    EXPECT_EQ(r.slots[0].held_out_workloads, std::vector<std::string>{std::string(1, names0[k0])});
    EXPECT_EQ(r.slots[1].held_out_workloads, std::vector<std::string>{std::string(1, names1[k1])});
    EXPECT_EQ(r.slots[0].fit_queries, 8);
    EXPECT_EQ(r.slots[0].held_out_queries, 4);
    EXPECT_EQ(r.slots[1].fit_queries, 4);
    ASSERT_EQ(r.slots[0].learned.held_out_workloads.size(), 1u);
    EXPECT_EQ(r.slots[0].learned.held_out_workloads[0].eval.queries, 4);
  }
  // An explicit query holdout applies to the fitting workloads' queries on top.
  CalibOptions o = opts_z0(0.01);
  o.holdout = 0.25;
  o.holdout_workloads = 1;
  const CalibrationResult r = calibrate(c, ws, o);
  EXPECT_EQ(r.slots[0].fit_queries, 6);       // 8 - round(0.25 * 8)
  EXPECT_EQ(r.slots[0].held_out_queries, 6);  // 2 queries + a whole workload of 4
}

TEST(CalibHoldoutWorkloads, HeldOutWorkloadErrorIsReportedPerWorkload) {
  // Fit on the hand-made trace (delta 40 at E = 0.01); hold out a workload with four keys at 60 and two at -20:
  // delta 40 prunes the two -20 keys: O = 9216 / 1280 against 9216 / 1280.5, error 0.5 / 1280 = 1/2560.
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::relative;
  const core::AttentionWorkload other = trace({100, 60, 60, 60, 60, -20, -20}, {9, 0, 0, 0, 0, 0, 0}, 3);
  const CalibrationResult r = calibrate(c, {{"fit", hand(4)}, {"w4", other, true}}, o);
  const SlotReport& s = r.slots[0];
  EXPECT_EQ(s.learned.threshold, Threshold::relative(40));
  EXPECT_EQ(s.held_out_workloads, std::vector<std::string>{"w4"});
  ASSERT_EQ(s.learned.held_out_workloads.size(), 1u);
  EXPECT_NEAR(s.learned.held_out_workloads[0].eval.error, 1.0 / 2560.0, 1e-12);
  EXPECT_EQ(s.learned.held_out_workloads[0].eval.kept, 3 * 5);
  EXPECT_NEAR(s.learned.held_out.error, 1.0 / 2560.0, 1e-12);  // the only held-out part
  EXPECT_EQ(s.fit_queries, 4);
  // Ideal bit steps of the held-out workload alone, and its dense count (3 queries x 7 keys x wk 8).
  EXPECT_EQ(s.learned.held_out_workloads[0].dense_bit_steps, 3 * 7 * 8);
  EXPECT_GT(s.learned.held_out_workloads[0].bit_steps, 0);
  EXPECT_LT(s.learned.held_out_workloads[0].bit_steps, 3 * 7 * 8);
  const json j = thresholds_json(c, r, o, "t");
  const json& hw = j["report"]["slots"][0]["learned"]["held_out_workloads"][0];
  EXPECT_EQ(hw["dir"], "w4");
  EXPECT_NEAR(hw["error"].get<double>(), 1.0 / 2560.0, 1e-12);
  EXPECT_NEAR(j["report"]["overall"]["learned"]["error_max"]["held_out_workload"].get<double>(), 1.0 / 2560.0, 1e-12);
}

TEST(CalibHoldoutWorkloads, BadCounts) {
  const core::AttentionConfig c = rel_config();
  const std::vector<NamedWorkload> ws = {{"a", hand(4)}, {"b", hand(4)}, {"c", hand(4)}, {"d", hand(4, 1)}, {"e", hand(4, 1)}};
  CalibOptions o = opts_z0(0.01);
  o.holdout_workloads = 2;  // slot 1 has only 2 workloads
  std::string m = error_of([&] { calibrate(c, ws, o); });
  EXPECT_TRUE(has(m, "--holdout-workloads")) << m;
  EXPECT_TRUE(has(m, "slot 1")) << m;
  EXPECT_TRUE(has(m, "[0, 1]")) << m;
  o.holdout_workloads = -1;
  EXPECT_TRUE(has(error_of([&] { calibrate(c, ws, o); }), "--holdout-workloads"));
  // By name: every workload of a slot held out.
  o.holdout_workloads = 0;
  const std::vector<NamedWorkload> all_held = {{"a", hand(4), true}, {"d", hand(4, 1)}};
  m = error_of([&] { calibrate(c, all_held, o); });
  EXPECT_TRUE(has(m, "--holdout-dir")) << m;
  EXPECT_TRUE(has(m, "slot 0")) << m;
  // By name and by count at once.
  o.holdout_workloads = 1;
  const std::vector<NamedWorkload> both = {{"a", hand(4), true}, {"b", hand(4)}, {"c", hand(4)}};
  EXPECT_TRUE(has(error_of([&] { calibrate(c, both, o); }), "--holdout-workloads"));
}

// ------------------------------------------------------------------------------------- --cv-margin

TEST(CalibCvMargin, GridIsMarginDownToThirtyPercent) {
  const std::vector<double> g = margin_grid(1.0);
  ASSERT_EQ(g.size(), 15u);
  EXPECT_DOUBLE_EQ(g.front(), 1.0);
  EXPECT_DOUBLE_EQ(g[1], 0.95);
  EXPECT_DOUBLE_EQ(g.back(), 0.3);
  EXPECT_EQ(margin_grid(0.5).size(), 5u);  // 0.5 .. 0.3
  EXPECT_EQ(margin_grid(0.2), std::vector<double>{0.2});
}

TEST(CalibCvMargin, LeaveOneWorkloadOutLowersTheMarginUntilEveryLeftOutWorkloadHolds) {
  // A: keys 100 (V 9), 60, 60, 30 (V 0); weights 1024, 64, 64, 8. Pruning the 30 key (delta 40 .. 69): error
  // 8/1152 = 0.00694; keeping it (delta >= 70): 0. B: the same keys, V = 9, 0, 0, 30: pruning the 30 key gives O = 8
  // against (9216 + 240)/1160, error 0.1517/8.1517 = 0.0186 > E = 0.01.
  // Fold "B left out": fitted on A to m * E, delta = 40 while m * 0.01 >= 0.00694 (m >= 0.70), failing on B; at
  // m = 0.65 delta = 70 and B is exact. Fold "A left out": fitted on B, delta = 70 at any m; A exact.
  // So the margin is 0.65 after 8 tries (1.00, 0.95, ..., 0.65).
  const core::AttentionConfig c = rel_config();
  const core::AttentionWorkload a = trace({100, 60, 60, 30}, {9, 0, 0, 0}, 3);
  const core::AttentionWorkload b = trace({100, 60, 60, 30}, {9, 0, 0, 30}, 3);
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::relative;
  o.cv_margin = true;
  const CalibrationResult r = calibrate(c, {{"a", a}, {"b", b}}, o);
  const SlotReport& s = r.slots[0];
  ASSERT_EQ(s.cv.size(), 1u);
  EXPECT_EQ(s.cv[0].mode, ThresholdMode::relative);
  EXPECT_DOUBLE_EQ(s.cv[0].margin, 0.65);
  EXPECT_TRUE(s.cv[0].met);
  EXPECT_EQ(s.cv[0].margins_tried, 8);
  EXPECT_EQ(s.cv[0].folds, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.cv[0].fold_errors, (std::vector<double>{0.0, 0.0}));
  EXPECT_DOUBLE_EQ(s.learned.margin, 0.65);
  // Fitted on both at 0.0065: delta 40 gives a pooled error of about 0.014, so delta 70 (nothing pruned).
  EXPECT_EQ(s.learned.threshold, Threshold::relative(70));
  // Without --cv-margin: delta 40 would be rejected on the pooled error too, so compare a single fold instead:
  // fitted on A alone at E, the delta is 40 (the fold that failed above).
  o.cv_margin = false;
  EXPECT_EQ(calibrate(c, {{"a", a}}, o).slots[0].learned.threshold, Threshold::relative(40));
}

TEST(CalibCvMargin, NoGridMarginHoldsWhenAFoldFailsAtEveryMargin) {
  // A: the hand-made trace (delta 40 for any target in [1/1152, 1161/9216)); B: keys 100, 50, 50, -20 x 4 (weights
  // 1024, 32, 32, 1/4): delta 40 keeps only the 100 key, error 1089/1024 - 1 = 0.0635 > E at every grid margin.
  const core::AttentionConfig c = rel_config();
  const core::AttentionWorkload b = trace({100, 50, 50, -20, -20, -20, -20}, {9, 0, 0, 0, 0, 0, 0}, 4);
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::relative;
  o.cv_margin = true;
  const CalibrationResult r = calibrate(c, {{"a", hand(4)}, {"b", b}}, o);
  const CvMargin& cv = r.slots[0].cv.at(0);
  EXPECT_FALSE(cv.met);
  EXPECT_DOUBLE_EQ(cv.margin, 0.3);
  EXPECT_EQ(cv.margins_tried, 15);
  EXPECT_NEAR(cv.fold_errors[1], 1089.0 / 1024.0 - 1.0, 1e-12);  // B left out, fitted on A: delta 40
  const json j = thresholds_json(c, r, o, "t");
  EXPECT_EQ(j["report"]["slots"][0]["cv_margin"][0]["met"], false);
  EXPECT_EQ(j["report"]["slots"][0]["cv_margin"][0]["folds"][1]["left_out"], "b");
}

TEST(CalibCvMargin, AutoCrossValidatesAbsoluteOnlyWhenItCanWin) {
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::automatic;
  o.cv_margin = true;
  // As in AutoPicksRelative...: absolute keeps 40 fitting scores at the top margin, relative 24, and a smaller
  // margin only keeps more: absolute is not cross-validated.
  const CalibrationResult r = calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}}, o);
  ASSERT_EQ(r.slots[0].cv.size(), 1u);
  EXPECT_EQ(r.slots[0].cv[0].mode, ThresholdMode::relative);
  EXPECT_EQ(r.slots[0].learned.threshold, Threshold::relative(40));
  // Two copies of the hand-made trace: both modes keep 24 at the top margin (a tie, absolute wins): both are
  // cross-validated (each fold is the same trace, so the top margin holds).
  const CalibrationResult t = calibrate(c, {{"a", hand(4)}, {"b", hand(4)}}, o);
  ASSERT_EQ(t.slots[0].cv.size(), 2u);
  EXPECT_EQ(t.slots[0].cv[0].mode, ThresholdMode::absolute);
  EXPECT_EQ(t.slots[0].cv[1].mode, ThresholdMode::relative);
  EXPECT_DOUBLE_EQ(t.slots[0].cv[0].margin, 1.0);
  EXPECT_EQ(t.slots[0].learned.threshold.mode, ThresholdMode::absolute);
}

TEST(CalibCvMargin, NeedsTwoFittingWorkloads) {
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.cv_margin = true;
  const std::string m = error_of([&] { calibrate(c, {{"a", hand(4)}, {"b", hand(4), true}}, o); });
  EXPECT_TRUE(has(m, "--cv-margin")) << m;
  EXPECT_TRUE(has(m, "at least 2")) << m;
}

// ------------------------------------------------------------------------------------- --cv-rule

// Student t quantiles t_{df, q} from a printed table (e.g. any statistics textbook's t table), not from the code.
struct TRow {
  int df;
  double q, t;
};
const std::vector<TRow> kTTable = {{1, 0.95, 6.313752}, {2, 0.90, 1.885618}, {2, 0.95, 2.919986},
                                   {3, 0.95, 2.353363}, {4, 0.975, 2.776445}, {10, 0.95, 1.812461},
                                   {30, 0.99, 2.457262}, {1, 0.975, 12.706205}, {5, 0.5, 0.0}};

TEST(CalibCvRule, StudentTQuantilesMatchThePrintedTable) {
  for (const TRow& r : kTTable) {
    EXPECT_NEAR(student_t_quantile(r.df, r.q), r.t, 2e-6) << "df " << r.df << " q " << r.q;
  }
  EXPECT_NEAR(student_t_quantile(2, 0.05), -2.919986, 2e-6);  // symmetric
}

double t_of(int df, double q) {
  for (const TRow& r : kTTable)
    if (r.df == df && r.q == q) return r.t;
  ADD_FAILURE() << "no table row for df " << df << " q " << q;
  return 0.0;
}

TEST(CalibCvRule, PredictionBoundDecisionsByHand) {
  // bound = mean + t_{n-1,q} * s * sqrt(1 + 1/n), s with n - 1 in the denominator.
  struct Case {
    std::vector<double> e;
    double level, bound;  // bound worked out by hand from the table's t
    bool accept_002;      // bound <= E = 0.02
  };
  const std::vector<Case> cases = {
      // mean 0.012, s 0.002: 0.012 + 2.919986 * 0.002 * sqrt(4/3) = 0.0187434
      {{0.010, 0.012, 0.014}, 0.95, 0.012 + t_of(2, 0.95) * 0.002 * std::sqrt(4.0 / 3.0), true},
      // mean 0.015, s 0.003: 0.015 + 2.919986 * 0.003 * 1.1547005 = 0.0251151 (every fold within E, yet rejected)
      {{0.012, 0.015, 0.018}, 0.95, 0.015 + t_of(2, 0.95) * 0.003 * std::sqrt(4.0 / 3.0), false},
      // the same at level 0.90: 0.015 + 1.885618 * 0.003 * 1.1547005 = 0.0215320, still rejected
      {{0.012, 0.015, 0.018}, 0.90, 0.015 + t_of(2, 0.90) * 0.003 * std::sqrt(4.0 / 3.0), false},
      // level 0.5: t = 0, the bound is the mean
      {{0.012, 0.015, 0.018}, 0.5, 0.015, true},
      // two folds: mean 0.011, s = 0.002 / sqrt(2): 0.011 + 6.313752 * 0.0014142 * sqrt(1.5) = 0.0219357
      {{0.010, 0.012}, 0.95, 0.011 + t_of(1, 0.95) * 0.002 / std::sqrt(2.0) * std::sqrt(1.5), false},
      // five folds, level 0.975: mean 0.012, s = sqrt(1e-5 / 4): 0.012 + 2.776445 * 0.0015811 * sqrt(1.2) = 0.0168089
      {{0.010, 0.011, 0.012, 0.013, 0.014}, 0.975, 0.012 + t_of(4, 0.975) * std::sqrt(1e-5 / 4.0) * std::sqrt(1.2), true},
      // equal errors: no spread, the bound is the common error
      {{0.019, 0.019, 0.019}, 0.95, 0.019, true},
  };
  for (const Case& c : cases) {
    // The table's t has 6 decimals: its rounding (5e-7) times s * sqrt(1 + 1/n) (<= 0.004) stays below 1e-8.
    EXPECT_NEAR(cv_bound(c.e, CvRule::predict, c.level), c.bound, 1e-8) << c.e.size() << " folds, level " << c.level;
    EXPECT_EQ(cv_accepts(c.e, 0.02, CvRule::predict, c.level), c.accept_002) << c.e.size() << " folds";
  }
  // Spot values written out, so a wrong formula in both places above cannot pass.
  EXPECT_NEAR(cv_bound({0.012, 0.015, 0.018}, CvRule::predict, 0.95), 0.0251151, 1e-7);
  EXPECT_NEAR(cv_bound({0.010, 0.012}, CvRule::predict, 0.95), 0.0219357, 1e-7);
  // worst: the largest error, every fold within E.
  EXPECT_DOUBLE_EQ(cv_bound({0.012, 0.015, 0.018}, CvRule::worst, 0.95), 0.018);
  EXPECT_TRUE(cv_accepts({0.012, 0.015, 0.018}, 0.02, CvRule::worst, 0.95));
  EXPECT_FALSE(cv_accepts({0.012, 0.021, 0.018}, 0.02, CvRule::worst, 0.95));
  // An infinite fold error, or a single fold under predict, never accepts.
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(cv_accepts({0.001, inf, 0.001}, 0.02, CvRule::predict, 0.95));
  EXPECT_FALSE(cv_accepts({0.001, inf}, 0.02, CvRule::worst, 0.95));
  EXPECT_FALSE(cv_accepts({0.001}, 0.02, CvRule::predict, 0.95));
}

TEST(CalibCvRule, ParseAndRange) {
  EXPECT_EQ(parse_cv_rule("worst"), CvRule::worst);
  EXPECT_EQ(parse_cv_rule("predict"), CvRule::predict);
  std::string m = error_of([] { parse_cv_rule("mean"); });
  EXPECT_TRUE(has(m, "--cv-rule")) << m;
  EXPECT_TRUE(has(m, "worst, predict")) << m;
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  for (double bad : {0.49, 1.0, std::nan("")}) {
    o.cv_level = bad;
    m = error_of([&] { check_options(c, o); });
    EXPECT_TRUE(has(m, "--cv-level")) << m;
    EXPECT_TRUE(has(m, "[0.5, 0.999]")) << m;
  }
}

// Three windows where every fold is within E but one is far from the others. A: keys 100 (V 9), 60, 60, 30 (V 0),
// weights 1024, 64, 64, 8: O_full = 9216/1160; pruning the 30 key (delta 40 .. 69) gives O = 8, error
// 9280/9216 - 1 = 1/144 = 0.006944; delta < 40 keeps the 100 key alone (O = 9, error 0.13). B = C: the same keys,
// V = 9, 0, 0, 8: O_full = 9280/1160 = 8 exactly, so pruning the 30 key costs nothing (error 0), delta < 40 gives
// 9 (error 1/8).
// Fold "A left out" (fitted on B, C): delta 40 at any margin (error 0), A's error 1/144.
// Fold "B left out" (fitted on A, C; 3 queries each): delta 40 has pooled error (8 - 9216/1160) / sqrt(f_A + 64)
// = 0.004893 (f_A = (9216/1160)^2), accepted while m * 0.01 >= 0.004893; otherwise delta 70; B's error 0 either way.
// Same for "C left out". So at every grid margin the fold errors are {1/144, 0, 0}:
//   worst: 1/144 <= 0.01, margin 1.00 at the first try; fitted on A, B, C to 0.01: pooled error at delta 40
//          (8 - 9216/1160) / sqrt(f_A + 128) = 0.00399, accepted: delta 40.
//   predict, 0.95: mean 1/432, s = (1/144) / sqrt(3): bound = 1/432 + 2.919986 * (1/144) * (2/3) = 0.015833 > 0.01
//          at every margin: not met, 0.30 after 15 tries; fitted to 0.003 < 0.00399: delta 70 (nothing pruned).
//   predict with E = 0.02: 0.015833 <= 0.02, margin 1.00 met.
TEST(CalibCvRule, PredictRejectsWhatTheWorstFoldAccepts) {
  const core::AttentionConfig c = rel_config();
  const core::AttentionWorkload a = trace({100, 60, 60, 30}, {9, 0, 0, 0}, 3);
  const core::AttentionWorkload b = trace({100, 60, 60, 30}, {9, 0, 0, 8}, 3);
  const std::vector<NamedWorkload> ws = {{"a", a}, {"b", b}, {"c", b}};
  const double bound = 1.0 / 432.0 + t_of(2, 0.95) * (1.0 / 144.0) * (2.0 / 3.0);
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::relative;
  o.cv_margin = true;

  const SlotReport w = calibrate(c, ws, o).slots.at(0);
  ASSERT_EQ(w.cv.size(), 1u);
  EXPECT_EQ(w.cv[0].rule, CvRule::worst);
  EXPECT_TRUE(w.cv[0].met);
  EXPECT_DOUBLE_EQ(w.cv[0].margin, 1.0);
  EXPECT_EQ(w.cv[0].margins_tried, 1);
  ASSERT_EQ(w.cv[0].fold_errors.size(), 3u);
  EXPECT_NEAR(w.cv[0].fold_errors[0], 1.0 / 144.0, 1e-12);
  EXPECT_NEAR(w.cv[0].fold_errors[1], 0.0, 1e-12);
  EXPECT_NEAR(w.cv[0].fold_errors[2], 0.0, 1e-12);
  EXPECT_NEAR(w.cv[0].bound, 1.0 / 144.0, 1e-12);
  EXPECT_EQ(w.learned.threshold, Threshold::relative(40));

  o.cv_rule = CvRule::predict;
  const CalibrationResult pr = calibrate(c, ws, o);
  const SlotReport& p = pr.slots.at(0);
  ASSERT_EQ(p.cv.size(), 1u);
  EXPECT_EQ(p.cv[0].rule, CvRule::predict);
  EXPECT_FALSE(p.cv[0].met);
  EXPECT_DOUBLE_EQ(p.cv[0].margin, 0.3);
  EXPECT_EQ(p.cv[0].margins_tried, 15);
  EXPECT_NEAR(p.cv[0].bound, bound, 1e-6);
  EXPECT_NEAR(p.cv[0].bound, 0.015833, 1e-6);
  EXPECT_EQ(p.learned.threshold, Threshold::relative(70));
  const json j = thresholds_json(c, pr, o, "t");
  EXPECT_EQ(j["report"]["options"]["cv_rule"], "predict");
  EXPECT_EQ(j["report"]["slots"][0]["cv_margin"][0]["rule"], "predict");
  EXPECT_DOUBLE_EQ(j["report"]["slots"][0]["cv_margin"][0]["level"].get<double>(), 0.95);
  EXPECT_NEAR(j["report"]["slots"][0]["cv_margin"][0]["bound"].get<double>(), bound, 1e-6);
  EXPECT_TRUE(has(summary(pr, o), "prediction bound at level 0.95: 0.0158")) << summary(pr, o);

  o.max_error = 0.02;
  const SlotReport q = calibrate(c, ws, o).slots.at(0);
  EXPECT_TRUE(q.cv[0].met);
  EXPECT_DOUBLE_EQ(q.cv[0].margin, 1.0);
  EXPECT_EQ(q.learned.threshold, Threshold::relative(40));
}

// ---------------------------------------------------------------------------------- thresholds file

json file_of(const core::AttentionConfig& c, const json& thresholds) {
  return {{"tool", "accelgen"}, {"config_hash", core::config_hash(c)}, {"thresholds", thresholds}};
}

TEST(CalibThresholdsModes, RoundTripSetsModeAndValue) {
  TempDir t;
  const core::AttentionConfig c = rel_config();
  CalibOptions o = opts_z0(0.01);
  o.mode = ModeChoice::automatic;
  // Slot 0 as in AutoPicksRelative... (relative, delta 40); slot 1 one workload: absolute and relative keep the
  // same 12 scores, so auto keeps absolute (ties go to absolute).
  const CalibrationResult r = calibrate(c, {{"a", hand(4)}, {"b", hand(4, 0, -100)}, {"c", hand(4, 1)}}, o);
  ASSERT_EQ(r.slots.size(), 2u);
  ASSERT_EQ(r.slots[1].learned.threshold.mode, ThresholdMode::absolute);
  const fs::path file = t.path() / "th.json";
  const json j = thresholds_json(c, r, o, "t");
  EXPECT_EQ(j["thresholds"][0], (json{{"slot", 0}, {"mode", "relative"}, {"delta", 40}}));
  EXPECT_EQ(j["thresholds"][1]["mode"], "absolute");
  EXPECT_EQ(j["report"]["slots"][0]["mode"], "relative");
  EXPECT_EQ(j["report"]["slots"][0]["other_mode"]["mode"], "absolute");
  write_text(file, j.dump(2));
  core::AttentionWorkload w = hand(2);
  w.params.theta = 77;
  apply_thresholds(file.string(), c, w);
  EXPECT_EQ(w.params.mode, ThresholdMode::relative);
  EXPECT_EQ(w.params.delta, 40);
  w.params.slot = 1;
  apply_thresholds(file.string(), c, w);
  EXPECT_EQ(w.params.mode, ThresholdMode::absolute);
  EXPECT_EQ(w.params.theta, r.slots[1].learned.threshold.value);
  EXPECT_GT(w.params.theta, -20);
  EXPECT_LE(w.params.theta, 60);
  // The workload as applied survives writing and loading (params.json threshold_mode / delta).
  w.params.slot = 0;
  apply_thresholds(file.string(), c, w);
  core::write_workload(w, (t.path() / "w").string());
  const core::AttentionWorkload back = core::load_attention_workload((t.path() / "w").string(), c);
  EXPECT_EQ(back.params.mode, ThresholdMode::relative);
  EXPECT_EQ(back.params.delta, 40);
}

TEST(CalibThresholdsModes, HandWrittenFileWithModes) {
  TempDir t;
  const core::AttentionConfig c = rel_config();
  const fs::path file = t.path() / "t.json";
  write_text(file, file_of(c, json::array({{{"slot", 0}, {"mode", "relative"}, {"delta", 7}},
                                           {{"slot", 1}, {"theta", -3}}}))
                       .dump());
  const std::vector<SlotThreshold> th = read_thresholds(file.string(), c);
  ASSERT_EQ(th.size(), 2u);
  EXPECT_EQ(th[0].threshold, Threshold::relative(7));
  EXPECT_EQ(th[1].threshold, Threshold::absolute(-3));  // no "mode": absolute
}

TEST(CalibThresholdsModes, BadEntriesAreRejectedNamingTheField) {
  TempDir t;
  const core::AttentionConfig c = rel_config();
  const fs::path file = t.path() / "t.json";
  auto reject = [&](const core::AttentionConfig& cfg, const json& text, const std::vector<std::string>& parts) {
    write_text(file, text.dump());
    core::AttentionWorkload w = hand(2);
    w.params.theta = 5;
    const std::string m = error_of([&] { apply_thresholds(file.string(), cfg, w); });
    for (const std::string& p : parts) EXPECT_TRUE(has(m, p)) << p << " not in: " << m;
    EXPECT_EQ(w.params.mode, ThresholdMode::absolute);
    EXPECT_EQ(w.params.theta, 5);
  };
  auto entry = [](const json& e) { return json::array({e}); };
  const core::AttentionConfig abs_only = rel_config(false);
  reject(abs_only, file_of(abs_only, entry({{"slot", 0}, {"mode", "relative"}, {"delta", 3}})),
         {"thresholds[0].mode", "relative"});
  reject(c, file_of(c, entry({{"slot", 0}, {"mode", "relative"}, {"delta", -1}})), {"thresholds[0].delta", "[0, 131071]"});
  reject(c, file_of(c, entry({{"slot", 0}, {"mode", "relative"}, {"delta", 131072}})),
         {"thresholds[0].delta", "[0, 131071]"});
  reject(c, file_of(c, entry({{"slot", 0}, {"mode", "rel"}, {"delta", 3}})), {"thresholds[0].mode", "\"rel\""});
  reject(c, file_of(c, entry({{"slot", 0}, {"mode", "relative"}, {"theta", 3}})),
         {"thresholds[0]", "slot, mode and delta"});
  reject(c, file_of(c, entry({{"slot", 0}, {"mode", "absolute"}, {"theta", 3}, {"delta", 1}})),
         {"thresholds[0]", "slot, mode and theta"});
  // Another config (here: the same unit without relative thresholds) has another hash.
  reject(c, file_of(abs_only, entry({{"slot", 0}, {"theta", 3}})), {"config_hash", "another config"});
}

// ------------------------------------------------------------------------------------------ CLI

using test_support::accelgen_binary;
using test_support::CliRun;
using test_support::run_accelgen;

#define REQUIRE_ACCELGEN() \
  if (accelgen_binary().empty()) GTEST_SKIP() << "build/accelgen not built"

// r_d16 (absolute only) and the same unit with relative thresholds, as files.
struct CliSetup {
  explicit CliSetup(const TempDir& t) {
    abs_cfg = std::string(ACCELGEN_SOURCE_DIR) + "/configs/regression/r_d16.json";
    json j = core::to_json(core::load_attention_config(abs_cfg));
    j["threshold_modes"] = {"absolute", "relative"};
    rel_cfg = (t.path() / "rel.json").string();
    write_text(rel_cfg, j.dump());
    const core::AttentionConfig c = core::load_attention_config(rel_cfg);
    for (int k = 0; k < 3; ++k) {
      dirs.push_back((t.path() / ("w" + std::to_string(k))).string());
      core::write_workload(core::make_workload(c, "peaky", 12, 12, static_cast<uint64_t>(k + 1)), dirs.back());
    }
  }
  std::string abs_cfg, rel_cfg;
  std::vector<std::string> dirs;
};

TEST(CalibModesCli, BadInputExitsWithStatus2AndOneLineNamingTheField) {
  REQUIRE_ACCELGEN();
  TempDir t;
  const CliSetup s(t);
  const std::string out = (t.path() / "th.json").string();
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> parts;
  };
  const std::string w0 = s.dirs[0], w1 = s.dirs[1];
  const std::vector<Case> cases = {
      {{"--config", s.abs_cfg, "--workload", w0, "--mode", "relative"}, {"--mode", "absolute thresholds only"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--mode", "sideways"}, {"--mode", "sideways"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--causal", "--causal-offset", "-1"}, {"--causal-offset", ">= 0"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--causal-offset", "x"}, {"--causal-offset", "integer"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--holdout-workloads", "1"}, {"--holdout-workloads", "[0, 0]"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--workload", w1, "--holdout-workloads", "2"},
       {"--holdout-workloads", "slot 0", "[0, 1]"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--holdout-dir", w1, "--holdout-workloads", "1"},
       {"--holdout-workloads", "--holdout-dir"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--holdout-dir", w0}, {w0, "twice"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--workload", w1, "--cv-rule", "mean"}, {"--cv-rule", "worst, predict"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--workload", w1, "--cv-level", "0.3"}, {"--cv-level", "[0.5, 0.999]"}},
      {{"--config", s.rel_cfg, "--workload", w0, "--workload", w1, "--cv-level", "high"}, {"--cv-level"}},
      // --cv-rule implies --cv-margin, which needs 2 fitting workloads
      {{"--config", s.rel_cfg, "--workload", w0, "--cv-rule", "predict"}, {"--cv-margin", "at least 2"}},
  };
  for (const Case& k : cases) {
    std::vector<std::string> args = {"calibrate", "--max-error", "0.05", "--out", out, "--no-cycles"};
    args.insert(args.end(), k.args.begin(), k.args.end());
    const CliRun r = run_accelgen(t, args);
    EXPECT_EQ(r.status, 2) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
    for (const std::string& p : k.parts) EXPECT_TRUE(has(r.output, p)) << p << " not in: " << r.output;
    EXPECT_FALSE(fs::exists(out)) << r.output;
  }
}

TEST(CalibModesCli, ThresholdsFilesTheConfigCannotUseExit2InModelEvalAndSim) {
  REQUIRE_ACCELGEN();
  TempDir t;
  const CliSetup s(t);
  const core::AttentionConfig abs_c = core::load_attention_config(s.abs_cfg);
  const core::AttentionConfig rel_c = core::load_attention_config(s.rel_cfg);
  const int tw = core::widths(rel_c).tw;
  struct Case {
    std::string cfg;
    json file;
    std::vector<std::string> parts;
  };
  auto entry = [](const json& e) { return json::array({e}); };
  const std::vector<Case> cases = {
      // written for the other config
      {s.abs_cfg, file_of(rel_c, entry({{"slot", 0}, {"theta", 0}})), {"config_hash", "another config"}},
      // a mode the hardware lacks
      {s.abs_cfg, file_of(abs_c, entry({{"slot", 0}, {"mode", "relative"}, {"delta", 10}})), {"thresholds[0].mode"}},
      // delta outside [0, 2^(TW-1) - 1]
      {s.rel_cfg, file_of(rel_c, entry({{"slot", 0}, {"mode", "relative"}, {"delta", core::signed_max(tw) + 1}})),
       {"thresholds[0].delta", std::to_string(core::signed_max(tw))}},
      {s.rel_cfg, file_of(rel_c, entry({{"slot", 0}, {"mode", "relative"}, {"delta", -5}})), {"thresholds[0].delta"}},
  };
  int n = 0;
  for (const Case& k : cases) {
    const std::string file = (t.path() / ("bad" + std::to_string(n++) + ".json")).string();
    write_text(file, k.file.dump());
    for (const std::vector<std::string>& cmd :
         {std::vector<std::string>{"model"}, std::vector<std::string>{"eval", "--no-area"},
          std::vector<std::string>{"sim", "--cache", (t.path() / "cache").string()}}) {
      std::vector<std::string> args = cmd;
      args.insert(args.end(), {"--config", k.cfg, "--workload", s.dirs[0], "--thresholds", file});
      const CliRun r = run_accelgen(t, args);
      EXPECT_EQ(r.status, 2) << cmd[0] << ": " << r.output;
      EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << cmd[0] << ": " << r.output;
      for (const std::string& p : k.parts) EXPECT_TRUE(has(r.output, p)) << cmd[0] << ": " << p << " not in: " << r.output;
    }
  }
}

TEST(CalibModesCli, AutoCausalWithAHeldOutWorkload) {
  REQUIRE_ACCELGEN();
  TempDir t;
  const CliSetup s(t);
  const fs::path out = t.path() / "th.json";
  const CliRun r = run_accelgen(t, {"calibrate", "--config", s.rel_cfg, "--workload", s.dirs[0], "--workload", s.dirs[1],
                           "--workload", s.dirs[2], "--holdout-workloads", "1", "--causal", "--mode", "auto",
                           "--max-error", "0.05", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "held out")) << r.output;
  std::ifstream in(out);
  const json j = json::parse(in);
  const json& th = j["thresholds"][0];
  ASSERT_TRUE(th["mode"] == "absolute" || th["mode"] == "relative") << th;
  EXPECT_TRUE(th.contains(th["mode"] == "relative" ? "delta" : "theta")) << th;
  const json& slot = j["report"]["slots"][0];
  EXPECT_EQ(slot["modes_considered"], (json{"absolute", "relative"}));
  EXPECT_EQ(slot["held_out_workloads"].size(), 1u);
  EXPECT_EQ(slot["queries"]["held_out"], 12);  // the whole workload; no query holdout by default
  EXPECT_EQ(slot["queries"]["fit"], 24);
  EXPECT_EQ(j["report"]["options"]["causal"], true);
  // 12 x 12, offset 0: 78 visible pairs per workload, 66 masked; dense = visible * wk (8).
  const json& none = slot["none"];
  EXPECT_EQ(none["masked"], 3 * 66);
  EXPECT_EQ(none["dense_bit_steps"], 3 * 78 * 8);
  EXPECT_EQ(none["bit_steps"], 3 * 78 * 8);
  // Cycles only where the golden cycle model runs the rule; otherwise a note and the functional bit steps.
  for (const char* m : {"none", "learned"}) {
    const json& mj = slot[m];
    if (mj["cycles"].is_null()) {
      EXPECT_TRUE(mj.contains("cycles_note")) << mj;
    } else {
      EXPECT_GE(mj["cycles"]["bit_steps"].get<int64_t>(), mj["bit_steps"].get<int64_t>()) << mj;
    }
  }
  // `model` takes the file (the mode is applied: a relative entry on an absolute-only config would exit 2).
  const CliRun m = run_accelgen(t, {"model", "--config", s.rel_cfg, "--workload", s.dirs[0], "--thresholds", out.string()});
  EXPECT_EQ(m.status, 0) << m.output;
}

}  // namespace
}  // namespace accelgen::calib
