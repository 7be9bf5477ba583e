// Tests of golden::run_fast (golden/fast_model.h): for full-rate stimulus it must give exactly the results of
// the pin-level run tb::run_attention(cfg, w, {seed, 1, 1, -1}, nullptr) — cycles_total, cycles_simulated,
// alpha and every query's row, count, empty flag, steps, score-phase cycles, back-end cycles and handshake
// cycle — on every regression config and variants (no overlap, dense, F_o = 0, more lanes than keys, Lk = 1,
// Lk = max_keys, every key pruned, none pruned, another threshold slot, both workload kinds, several seeds).
// fast_score must equal golden::score_all. The speed line is informational only (no wall-time assertion).
#include <gtest/gtest.h>

#include <chrono>
#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "golden/fast_model.h"
#include "golden/functional.h"
#include "tb/run.h"
#include "test_support.h"

namespace accelgen::golden {
namespace {

namespace fs = std::filesystem;
const fs::path kSource = ACCELGEN_SOURCE_DIR;

core::AttentionConfig regression_config(const std::string& name) {
  return core::load_attention_config((kSource / "configs/regression" / (name + ".json")).string());
}

std::string describe(const core::AttentionConfig& c, const std::string& kind, int lq, int lk, uint64_t seed,
                     const std::string& variant) {
  std::ostringstream os;
  os << "config " << core::to_json(c).dump() << " variant=" << variant << " kind=" << kind << " lq=" << lq
     << " lk=" << lk << " seed=" << seed;
  return os.str();
}

// Compares a fast run with the pin-level run of the same workload; returns "" when equal.
std::string compare(const FastRun& f, const tb::RunResult& p) {
  std::ostringstream os;
  if (!p.ok()) {
    os << "pin-level run not ok: " << p.functional_error << (p.timed_out ? " (timed out)" : "");
    return os.str();
  }
  if (f.alpha_bits != p.alpha_bits) os << "alpha_bits " << f.alpha_bits << " vs " << p.alpha_bits << "; ";
  if (f.cycles_total != p.cycles_total) os << "cycles_total " << f.cycles_total << " vs " << p.cycles_total << "; ";
  if (f.cycles_simulated != p.cycles_simulated)
    os << "cycles_simulated " << f.cycles_simulated << " vs " << p.cycles_simulated << "; ";
  if (f.queries.size() != p.queries.size()) {
    os << "queries " << f.queries.size() << " vs " << p.queries.size();
    return os.str();
  }
  for (size_t i = 0; i < f.queries.size() && os.tellp() < 2000; ++i) {
    const FastQuery& a = f.queries[i];
    const tb::QueryResult& b = p.queries[i];
    auto field = [&](const char* name, auto x, auto y) {
      if (x != y) os << "query " << i << " " << name << " " << x << " vs " << y << "; ";
    };
    field("count", a.count, b.count);
    field("empty", a.empty, b.empty);
    field("steps", a.steps, b.steps);
    field("cycles", a.cycles, b.cycles);
    field("bcycles", a.bcycles, b.bcycles);
    field("end_cycle", a.end_cycle, b.end_cycle);
    if (a.out != b.out) os << "query " << i << " output row differs; ";
  }
  return os.str();
}

// A variant of a config and workload.
struct Case {
  std::string variant;
  core::AttentionConfig cfg;
  core::AttentionWorkload w;
};

void check_case(const Case& c, const std::string& what) {
  const tb::RunResult pin = tb::run_attention(c.cfg, c.w, tb::StimulusOptions{1, 1.0, 1.0, -1}, nullptr);
  FastRun fast;
  try {
    fast = run_fast(c.cfg, c.w);
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": run_fast threw " << e.what();
    return;
  }
  const std::string diff = compare(fast, pin);
  EXPECT_EQ(diff, "") << what;
}

// The variants of one regression config for one (kind, seed).
std::vector<Case> variants(const core::AttentionConfig& base, const std::string& kind, uint64_t seed) {
  std::mt19937_64 rng(seed * 7919 + 13);
  auto pick = [&](int lo, int hi) { return static_cast<int>(lo + rng() % static_cast<uint64_t>(hi - lo + 1)); };
  const int mk = base.max_keys;
  const int lq = pick(1, 40);
  std::vector<Case> out;
  auto add = [&](const std::string& v, core::AttentionConfig c, int q, int k) {
    out.push_back({v, c, core::make_workload(c, kind, q, k, seed)});
  };
  add("base", base, lq, pick(1, mk));
  add("lk_max", base, pick(1, 12), mk);
  add("lk_1", base, pick(1, 40), 1);
  {
    core::AttentionConfig c = base;
    c.overlap_backend = false;
    add("no_overlap", c, lq, pick(1, mk));
  }
  {
    core::AttentionConfig c = base;
    c.dense_baseline = true;
    add("dense", c, pick(1, 20), pick(1, mk));
  }
  {
    core::AttentionConfig c = base;
    c.dense_baseline = true;
    c.overlap_backend = false;
    add("dense_no_overlap", c, pick(1, 10), pick(1, mk));
  }
  {
    core::AttentionConfig c = base;
    c.out_frac_bits = 0;
    add("fo0", c, lq, pick(1, mk));
  }
  {
    core::AttentionConfig c = base;
    c.lanes = std::min(64, std::max(c.lanes, 3) * 3);
    add("many_lanes", c, pick(1, 40), pick(1, std::max(1, std::min(mk, c.lanes - 1))));
  }
  const int tw = core::widths(base).tw;
  for (const bool keep_all : {false, true}) {
    Case c{keep_all ? "none_pruned" : "all_pruned", base, core::make_workload(base, kind, pick(1, 40), pick(1, mk), seed)};
    c.w.params.theta = keep_all ? core::signed_min(tw) : core::signed_max(tw);
    out.push_back(c);
  }
  if (base.threshold_slots > 1) {
    Case c{"slot_last", base, core::make_workload(base, kind, pick(1, 20), pick(1, mk), seed)};
    c.w.params.slot = base.threshold_slots - 1;
    out.push_back(c);
  }
  return out;
}

class FastModelRegression : public testing::TestWithParam<std::string> {};

TEST_P(FastModelRegression, EqualsPinLevelRun) {
  const core::AttentionConfig base = regression_config(GetParam());
  if (base.relative_thresholds && !base.dense_baseline) {
    // Not covered yet (golden::fast_model_supports): tb::run_attention_fast runs the cycle model instead.
    GTEST_SKIP() << "the event-driven model does not schedule relative-threshold hardware";
  }
  for (const std::string kind : {"gaussian", "peaky"}) {
    for (uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) {
      for (const Case& c : variants(base, kind, seed)) {
        check_case(c, describe(c.cfg, kind, static_cast<int>(c.w.q.rows()), static_cast<int>(c.w.k.rows()), seed,
                               c.variant));
        if (HasFailure()) return;  // the first difference is the useful one
      }
    }
  }
}

// Runs the event-driven model does not cover are refused by it and run on the cycle model by the tb layer:
// same results as the pin-level run with the full-rate driver.
TEST(FastModel, CausalAndRelativeRunsFallBackToThePinLevelModel) {
  const core::AttentionConfig rel = regression_config("r_rel");
  const core::AttentionConfig plain = regression_config("r_d7");
  const core::AttentionWorkload causal = test_support::causal(core::make_workload(plain, "peaky", 20, 20, 3), 0);
  const core::AttentionWorkload relative = test_support::relative(core::make_workload(rel, "gaussian", 6, 30, 4), 0.3);
  const core::AttentionWorkload both = test_support::causal(relative, 2);
  struct Run { const core::AttentionConfig& cfg; const core::AttentionWorkload& w; };
  for (const Run& r : {Run{plain, causal}, Run{rel, relative}, Run{rel, both}}) {
    EXPECT_FALSE(fast_model_supports(r.cfg, r.w));
    EXPECT_THROW(run_fast(r.cfg, r.w), std::invalid_argument);
    const tb::RunResult fast = tb::run_attention_fast(r.cfg, r.w);
    const tb::RunResult pin = tb::run_attention(r.cfg, r.w, tb::StimulusOptions{}, nullptr);
    ASSERT_TRUE(fast.ok()) << fast.functional_error;
    EXPECT_EQ(fast.cycles_total, pin.cycles_total);
    ASSERT_EQ(fast.queries.size(), pin.queries.size());
    for (size_t i = 0; i < pin.queries.size(); ++i) {
      EXPECT_EQ(fast.queries[i].steps, pin.queries[i].steps) << i;
      EXPECT_EQ(fast.queries[i].count, pin.queries[i].count) << i;
      EXPECT_EQ(fast.queries[i].out, pin.queries[i].out) << i;
    }
  }
  EXPECT_TRUE(fast_model_supports(plain, core::make_workload(plain, "peaky", 2, 5, 1)));
}

INSTANTIATE_TEST_SUITE_P(Configs, FastModelRegression,
                         testing::ValuesIn(test_support::regression_configs(kSource)),
                         [](const testing::TestParamInfo<std::string>& i) { return i.param; });

// Random configs around the edges the regression set does not reach: 1..64 lanes, wide and narrow widths,
// few and many keys, tight back-end (wv + F_o large: long DIV), overlap on and off.
TEST(FastModel, RandomConfigsEqualPinLevelRun) {
  std::mt19937_64 rng(2024);
  auto pick = [&](int lo, int hi) { return static_cast<int>(lo + rng() % static_cast<uint64_t>(hi - lo + 1)); };
  const int total = 600;
  int ran = 0;
  for (int n = 0; n < total; ++n) {
    core::AttentionConfig c;
    c.d = pick(1, 24);
    c.dv = pick(1, 6);
    c.wq = pick(2, 16);
    c.wk = pick(2, 16);
    c.wv = pick(2, 16);
    c.lanes = n % 5 == 0 ? 64 : pick(1, 20);
    if (n % 4 != 1) c.key_banks = 1 << pick(0, std::bit_width(static_cast<unsigned>(c.lanes)) - 1);  // else derived
    c.max_keys = pick(1, 80);
    c.threshold_slots = pick(1, 4);
    c.alpha_mant_bits = pick(13, 24);
    c.dense_baseline = n % 7 == 3;
    c.out_frac_bits = pick(0, 4);
    c.overlap_backend = n % 3 != 1;
    const std::string kind = n % 2 ? "peaky" : "gaussian";
    const uint64_t seed = 100 + static_cast<uint64_t>(n);
    const int lq = pick(1, 40), lk = pick(1, c.max_keys);
    const std::string what = describe(c, kind, lq, lk, seed, "random");
    core::AttentionWorkload w;
    try {
      w = core::make_workload(c, kind, lq, lk, seed);
    } catch (const std::exception& e) {
      continue;  // a synthetic workload that does not fit the random config
    }
    // Every fourth case: a softmax scale anywhere in the supported range [1e-9, 1e3] (log-uniform), so that
    // exponents are all ~0, all saturated, or anything between.
    if (n % 4 == 2) w.params.softmax_scale = std::pow(10.0, -9.0 + 12.0 * static_cast<double>(rng() % 1001) / 1000.0);
    check_case({"random", c, w}, what);
    if (HasFailure()) return;
    ++ran;
  }
  EXPECT_GE(ran, total / 2) << "too many random configs without a fitting synthetic workload";
  std::cout << "[random] " << ran << " of " << total << " random configs compared\n";
}

// The three softmax paths of run_fast: double sums (the common case), 64-bit integer sums (|A_c| beyond 2^53)
// and the reference 128-bit arithmetic (beyond 64 bits), plus an explicit exp table size.
TEST(FastModel, WideSoftmaxFormatsEqualPinLevelRun) {
  struct Wide {
    int wv, out_frac_bits, max_keys, lk, exp_lut_bits;
  };
  for (const Wide& x : {Wide{16, 2, 256, 200, 0}, Wide{16, 8, 4096, 300, 0}, Wide{12, 4, 512, 100, 12}}) {
    core::AttentionConfig c;
    c.d = 6;
    c.dv = 5;
    c.wq = 6;
    c.wk = 6;
    c.wv = x.wv;
    c.lanes = 16;
    c.max_keys = x.max_keys;
    c.out_frac_bits = x.out_frac_bits;
    c.exp_lut_bits = x.exp_lut_bits;
    for (const std::string kind : {"gaussian", "peaky"}) {
      for (uint64_t seed : {1, 2}) {
        Case k{"wide", c, core::make_workload(c, kind, 3, x.lk, seed)};
        check_case(k, describe(c, kind, 3, x.lk, seed, "wide"));
        if (HasFailure()) return;
      }
    }
  }
}

// fast_score against the functional model, including the 64-bit kernel (wq + wk + clog2 d beyond 32 bits).
TEST(FastModel, ScoresEqualFunctionalModel) {
  std::mt19937_64 rng(77);
  auto pick = [&](int lo, int hi) { return static_cast<int>(lo + rng() % static_cast<uint64_t>(hi - lo + 1)); };
  for (int n = 0; n < 40; ++n) {
    core::AttentionConfig c;
    c.d = n < 4 ? 256 : pick(1, 100);
    c.wq = n < 4 ? 16 : pick(2, 16);
    c.wk = n < 4 ? 16 : pick(2, 16);
    c.dv = 2;
    c.max_keys = 64;
    c.dense_baseline = n % 9 == 5;
    const std::string kind = n % 2 ? "peaky" : "gaussian";
    const uint64_t seed = 500 + static_cast<uint64_t>(n);
    const int lq = pick(1, 12), lk = pick(1, 64);
    SCOPED_TRACE(describe(c, kind, lq, lk, seed, "scores"));
    core::AttentionWorkload w = core::make_workload(c, kind, lq, lk, seed);
    if (n < 4) {  // extreme elements: every partial sum at its largest magnitude
      w.q.setConstant(core::signed_min(c.wq));
      w.k.setConstant(core::signed_min(c.wk));
      if (n % 2) w.k.row(0).setConstant(core::signed_max(c.wk));
    }
    const FastScores f = fast_score(c, w);
    const ScoreResults r = score_all(w.q, w.k, c.wk, w.params.theta, c.dense_baseline);
    for (int i = 0; i < lq; ++i) {
      for (int j = 0; j < lk; ++j) {
        const size_t x = static_cast<size_t>(i) * lk + j;
        ASSERT_EQ(f.steps[x], r.steps(i, j)) << "i=" << i << " j=" << j;
        ASSERT_EQ(f.kept[x] != 0, r.kept(i, j)) << "i=" << i << " j=" << j;
        if (f.kept[x]) {
          ASSERT_EQ(f.score[x], r.score(i, j)) << "i=" << i << " j=" << j;
        }
      }
    }
  }
}

TEST(FastModel, RejectsAnInvalidWorkload) {
  core::AttentionConfig c;
  core::AttentionWorkload w = core::make_workload(c, "gaussian", 2, 8, 1);
  w.k(0, 0) = 1 << c.wk;
  EXPECT_NE(test_support::error_of([&] { run_fast(c, w); }), "");
}

// Informational: simulated cycles per second of both models on the bench configs (Lk = 16 x lanes, 32
// queries, as `accelgen bench`). Not a timed assertion; only the results are checked.
TEST(FastModel, SpeedOnBenchConfigs) {
  for (const std::string name : {"b_default", "b_l16"}) {
    const core::AttentionConfig c = core::load_attention_config((kSource / "configs/bench" / (name + ".json")).string());
    const core::AttentionWorkload w = core::make_workload(c, "gaussian", 32, 16 * c.lanes, 1);
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    const tb::RunResult pin = tb::run_attention(c, w, tb::StimulusOptions{1, 1.0, 1.0, -1}, nullptr);
    const double pin_s = std::chrono::duration<double>(clock::now() - t0).count();
    FastRun fast;
    int reps = 0;
    t0 = clock::now();
    double fast_s = 0;
    do {
      fast = run_fast(c, w);
      ++reps;
      fast_s = std::chrono::duration<double>(clock::now() - t0).count();
    } while (fast_s < 0.2);
    const FastScores sc = fast_score(c, w);
    int reps2 = 0;
    t0 = clock::now();
    double sched_s = 0;
    do {
      run_fast(c, w, sc);
      ++reps2;
      sched_s = std::chrono::duration<double>(clock::now() - t0).count();
    } while (sched_s < 0.2);
    EXPECT_EQ(compare(fast, pin), "") << name;
    const double cyc = static_cast<double>(pin.cycles_simulated);
    std::cout << "[speed] " << name << ": " << pin.cycles_simulated << " cycles, pin-level "
              << cyc / pin_s / 1e6 << " Mcycles/s, fast " << cyc * reps / fast_s / 1e6
              << " Mcycles/s (scores included), " << cyc * reps2 / sched_s / 1e6
              << " Mcycles/s (scores given), evaluated cycles " << fast.events << "\n";
  }
}


// The relative-threshold timing contract (docs/microarchitecture.md "Relative thresholds"), by hand. One lane,
// d = 1, q = [1], wk = 4, keys K = (3, -2, 5), delta = 0: s = K. Keys are scored last first: 5, -2, 3.
// Cycle k ends at edge k; key 2 is issued at edge 0, key 1 waits in the lane's next-key register.
//   key 2 (5 = 0101b), cycles 1-4: no score has survived yet, nothing terminates: 4 steps, kept at edge 4.
//     Its score is registered at edge 4, becomes rmax = 5 at edge 5, and the table theta = 5 - 0 is loaded
//     at edge 6: the lane sees it from cycle 7 on.
//   key 1 (-2 = 1110b), from cycle 5: steps 1 and 2 (cycles 5, 6) still see the table of before, which
//     terminates nothing; step 3 (cycle 7: U3 = -2 + 1 = -1 < 5) terminates: 3 steps (ideal 1).
//   key 0 (3 = 0011b), from cycle 8: U1 = 7 >= 5, U2 = 3 < 5: 2 steps (ideal 2).
// Realized 4 + 3 + 2 = 9 bit steps against the ideal 4 + 1 + 2 = 7; only key 2 kept, nothing filtered.
TEST(RelativeThresholds, RunningMaximumReachesTheLanesThreeEdgesAfterTheScore) {
  core::AttentionConfig c;
  c.name = "rt";
  c.d = 1;
  c.dv = 1;
  c.wq = 2;
  c.wk = 4;
  c.wv = 4;
  c.lanes = 1;
  c.max_keys = 4;
  c.threshold_slots = 1;
  c.relative_thresholds = true;
  core::AttentionWorkload w;
  w.q = test_support::rows({{1}});
  w.k = test_support::rows({{3}, {-2}, {5}});
  w.v = test_support::rows({{1}, {2}, {3}});
  w.params.mode = core::ThresholdMode::relative;
  w.params.delta = 0;
  w.params.softmax_scale = 0.5;
  const tb::RunResult r = tb::run_attention(c, w, tb::StimulusOptions{}, nullptr);
  ASSERT_TRUE(r.ok()) << r.functional_error;
  ASSERT_EQ(r.queries.size(), 1u);
  EXPECT_EQ(r.queries[0].steps, 9u);
  EXPECT_EQ(r.queries[0].count, 1u);
  EXPECT_EQ(r.queries[0].filtered, 0u);
  EXPECT_EQ(score_all(w.q, w.k, c.wk, w.params, false).total_steps(), 7);
  EXPECT_EQ(r.queries[0].out, (std::vector<int64_t>{3 << c.out_frac_bits}));  // O = V[2]
}

}  // namespace
}  // namespace accelgen::golden
