// Tests for golden/nm_model.{h,cpp} and tb/nm_driver.{h,cpp}: the functional model, the
// pin-level cycle model of docs/nm_array.md, the port packing and the GEMM driver.
//
// Expected values: products computed by hand; cycle timelines and cycle counts worked out by hand
// from docs/nm_array.md "One cycle" (the reasoning is written next to each number); random GEMMs
// (seeded loops that print their seed) against the dense Eigen product of W (nm_reference), which
// does not go through the compressed form the cycle model gathers from.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/nm_compress.h"
#include "core/nm_config.h"
#include "golden/nm_model.h"
#include "tb/nm_driver.h"
#include "tests/test_support.h"

namespace accelgen::golden {
namespace {

using accelgen::test_support::error_of;
using accelgen::test_support::has;
using accelgen::test_support::random_nm_sparse;
using accelgen::test_support::rows;
using core::IntMatrix;
using core::NmConfig;
using tb::nm_tiling;
using tb::NmRunResult;
using tb::NmTiling;
using tb::StimulusOptions;
using tb::run_nm_gemm;

NmConfig make(int rows_, int cols, int n, int m, int max_k, bool dense = false, int wx = 8,
              int ww = 8) {
  return NmConfig{"nm", rows_, cols, wx, ww, n, m, max_k, dense};
}

// ----------------------------------------------------------------------------- functional model

TEST(NmFunctional, HandComputedProduct) {
  // X [2, 4], W [4, 2] 2:4. Y[0][0] = 1*0 + 2*3 + 3*0 + 4*(-1) = 2; Y[0][1] = 1*5 + 4*2 = 13;
  // Y[1][0] = -1*0 + 0*3 + 2*0 + 5*(-1) = -5; Y[1][1] = -1*5 + 5*2 = 5.
  const IntMatrix x = rows({{1, 2, 3, 4}, {-1, 0, 2, 5}});
  const IntMatrix w = rows({{0, 5}, {3, 0}, {0, 0}, {-1, 2}});
  EXPECT_EQ(nm_reference(x, w), rows({{2, 13}, {-5, 5}}));
  EXPECT_EQ(nm_functional(x, core::compress(w, 2, 4, core::Prune::kNone)), rows({{2, 13}, {-5, 5}}));
}

TEST(NmFunctional, ShapesMustChain) {
  EXPECT_THROW(nm_reference(IntMatrix::Zero(2, 3), IntMatrix::Zero(4, 1)), std::invalid_argument);
}

TEST(NmFunctional, Int64IsExactForEveryLegalConfig) {
  // Largest legal sum: 65536 + 15 padded k times 2^30 = about 2^46.
  EXPECT_TRUE(nm_int64_exact(16, 16, 65536 + 15));
  EXPECT_TRUE(nm_int64_exact(16, 16, (int64_t{1} << 33) - 1));  // 2^33 * 2^30 = 2^63 would not fit
  EXPECT_FALSE(nm_int64_exact(16, 16, int64_t{1} << 33));
  EXPECT_FALSE(nm_int64_exact(40, 30, 1));
}

// ------------------------------------------------------------------------- pin-level timelines

struct Pins {
  const NmConfig cfg;
  NmCycleModel model;
  explicit Pins(const NmConfig& c) : cfg(c), model(c) {}
  NmInputs idle() const {
    const core::NmWidths w = core::nm_widths(cfg);
    NmInputs in;
    in.w_values.assign(static_cast<size_t>(cfg.cols * cfg.n), 0);
    in.w_indices.assign(static_cast<size_t>(cfg.cols * cfg.n), 0);
    in.x_data.assign(static_cast<size_t>(cfg.rows * w.kb), 0);
    return in;
  }
  NmInputs w_beat(std::vector<int64_t> v, std::vector<uint32_t> i, bool last) const {
    NmInputs in = idle();
    in.w_valid = true;
    in.w_values = std::move(v);
    in.w_indices = std::move(i);
    in.w_last = last;
    return in;
  }
  NmInputs x_beat(std::vector<int64_t> x, bool last) const {
    NmInputs in = idle();
    in.x_valid = true;
    in.x_data = std::move(x);
    in.x_last = last;
    return in;
  }
  // Evaluates, ticks and returns the outputs of the cycle.
  NmOutputs cycle(const NmInputs& in) {
    const NmOutputs o = model.eval(in);
    model.tick(in);
    return o;
  }
  void reset() {
    NmInputs in = idle();
    in.rst_n = false;
    cycle(in);
  }
};

void expect_ready(const NmOutputs& o, bool w_ready, bool x_ready, bool y_valid, const char* when) {
  EXPECT_EQ(o.w_ready, w_ready) << when << ": " << o;
  EXPECT_EQ(o.x_ready, x_ready) << when << ": " << o;
  EXPECT_EQ(o.y_valid, y_valid) << when << ": " << o;
}

TEST(NmCycleTimeline, OnePeOneToTwoByHand) {
  // 1 PE, 1:2, K = 4: W = [0, 5, 6, 0]^T -> group 0 (index 1, value 5), group 1 (index 0, 6).
  // X = [1, 2, 3, 4]: Y = 2*5 + 3*6 = 28.
  Pins p(make(1, 1, 1, 2, 4));
  NmInputs rst = p.idle();
  rst.rst_n = false;
  expect_ready(p.cycle(rst), true, false, false, "reset");
  // Weight beats: w_ready = no row tile in progress; x_ready needs a complete set.
  expect_ready(p.cycle(p.w_beat({5}, {1}, false)), true, false, false, "w beat 0");
  expect_ready(p.cycle(p.w_beat({6}, {0}, true)), true, false, false, "w beat 1 (last)");
  // x beat 0 goes into the x register; the weight set is complete.
  expect_ready(p.cycle(p.x_beat({1, 2}, false)), true, true, false, "x beat 0");
  // x register holds group 0 (w_ready drops); it is multiplied now, so x_ready stays 1.
  expect_ready(p.cycle(p.x_beat({3, 4}, true)), false, true, false, "x beat 1 (last)");
  // The last group is multiplied and captured into the empty output buffer.
  expect_ready(p.cycle(p.idle()), false, true, false, "capture");
  NmInputs ready = p.idle();
  ready.y_ready = false;
  // Back-pressure: y_valid and y_data stay while y_ready is low.
  for (int i = 0; i < 3; ++i) {
    const NmOutputs o = p.cycle(ready);
    expect_ready(o, true, true, true, "y held");
    EXPECT_EQ(o.y_data, (std::vector<int64_t>{28}));
    EXPECT_TRUE(o.y_last);
  }
  ready.y_ready = true;
  EXPECT_EQ(p.cycle(ready).y_data, (std::vector<int64_t>{28}));
  const NmOutputs after = p.cycle(p.idle());
  expect_ready(after, true, true, false, "after the y beat");
  EXPECT_EQ(after.y_data, (std::vector<int64_t>{0}));  // the model shows 0 while not valid
  EXPECT_FALSE(after.y_last);
}

TEST(NmCycleTimeline, WeightSetEndsAtDepthWithoutLast) {
  // max_k = 4, 1:2: D = 2 beats; the second beat completes the set by itself.
  Pins p(make(1, 1, 1, 2, 4));
  p.reset();
  p.cycle(p.w_beat({1}, {0}, false));
  EXPECT_FALSE(p.cycle(p.w_beat({1}, {0}, false)).x_ready);
  EXPECT_TRUE(p.cycle(p.idle()).x_ready);
}

TEST(NmCycleTimeline, RowTileEndsAtXLastOrAtTheWeightCount) {
  Pins p(make(1, 1, 1, 2, 8));  // D = 4
  p.reset();
  p.cycle(p.w_beat({3}, {1}, false));
  p.cycle(p.w_beat({5}, {0}, true));  // a set of 2 groups
  // x_last on the first group ends the tile there: y = 3 * x[1] = 3 * 7 = 21.
  p.cycle(p.x_beat({2, 7}, true));
  p.cycle(p.idle());  // multiply + capture
  NmInputs ready = p.idle();
  ready.y_ready = true;
  EXPECT_EQ(p.cycle(ready).y_data, (std::vector<int64_t>{21}));
  // Without x_last the tile ends at its 2nd beat (wcount = 2): y = 3*1 + 5*4 = 23.
  p.cycle(p.x_beat({0, 1}, false));
  const NmOutputs o = p.cycle(p.x_beat({4, 9}, false));
  EXPECT_FALSE(o.w_ready);  // a row tile is in progress
  const NmOutputs capture = p.cycle(p.idle());
  EXPECT_FALSE(capture.w_ready);  // the last group is still in the x register
  EXPECT_TRUE(p.cycle(ready).y_valid);
  EXPECT_TRUE(p.cycle(p.idle()).w_ready);  // the next x beat would start a new tile
}

TEST(NmCycleTimeline, WeightBeatHasPriorityOverXAtATileBoundary) {
  Pins p(make(1, 1, 1, 2, 4));
  p.reset();
  p.cycle(p.w_beat({1}, {0}, true));
  NmInputs both = p.x_beat({1, 1}, false);
  both.w_valid = true;
  both.w_last = false;
  const NmOutputs o = p.cycle(both);
  EXPECT_TRUE(o.w_ready);
  EXPECT_FALSE(o.x_ready);                 // x_ready depends on w_valid (ready on valid)
  EXPECT_FALSE(p.cycle(p.idle()).x_ready); // the beat started a new, incomplete set
}

TEST(NmCycleTimeline, NoWeightBeatInsideARowTile) {
  Pins p(make(1, 1, 1, 2, 8));
  p.reset();
  p.cycle(p.w_beat({1}, {0}, false));
  p.cycle(p.w_beat({1}, {0}, true));
  p.cycle(p.x_beat({1, 1}, false));  // group 0 of 2
  p.cycle(p.idle());                 // multiplied; the x register is empty again
  EXPECT_FALSE(p.cycle(p.idle()).w_ready);  // xg_q = 1: the tile is still open
}

TEST(NmCycleTimeline, ResetShowsTheResetStateInTheSameCycle) {
  Pins p(make(1, 1, 1, 2, 4));
  p.reset();
  p.cycle(p.w_beat({1}, {0}, true));
  p.cycle(p.x_beat({1, 1}, true));
  NmInputs rst = p.x_beat({1, 1}, true);
  rst.rst_n = false;
  const NmOutputs o = p.cycle(rst);
  expect_ready(o, true, false, false, "in reset");
  expect_ready(p.cycle(p.idle()), true, false, false, "after reset: the weight set is gone");
}

TEST(NmCycleTimeline, InputsAreReadAsPortBits) {
  // ww = wx = 8, 1:2 (IW = 1): value 0x1F5 -> 0xF5 = -11, index 0xFF -> 1, x 0x180 -> -128.
  Pins p(make(1, 1, 1, 2, 2));
  p.reset();
  p.cycle(p.w_beat({0x1F5}, {0xFF}, true));
  p.cycle(p.x_beat({5, 0x180}, true));
  p.cycle(p.idle());
  NmInputs ready = p.idle();
  ready.y_ready = true;
  EXPECT_EQ(p.cycle(ready).y_data, (std::vector<int64_t>{-11 * -128}));
}

TEST(NmCycleTimeline, DenseBaselineUsesSlotSAsTheIndex) {
  // Dense, n = 2: beat = k rows 0, 1; slot s multiplies x[s]. The index port does not exist.
  Pins p(make(1, 1, 2, 4, 2, true));
  p.reset();
  p.cycle(p.w_beat({3, -2}, {}, true));
  p.cycle(p.x_beat({10, 7}, true));
  p.cycle(p.idle());
  NmInputs ready = p.idle();
  ready.y_ready = true;
  EXPECT_EQ(p.cycle(ready).y_data, (std::vector<int64_t>{3 * 10 - 2 * 7}));
}

// ---------------------------------------------------------------------------- driver, counts

TEST(NmDriverCycles, OnePeOneToTwoTakesSixCyclesDenseTen) {
  // Everything valid and ready. 1:2, K = 4, G = 2: w beats at 0, 1; x at 2, 3; the last group is
  // multiplied at 4; the y beat at 5 -> 6 cycles. Dense n = 1: G = 4: 4 + 4 + 1 + 1 = 10.
  const IntMatrix x = rows({{1, 2, 3, 4}});
  const IntMatrix w = rows({{0}, {5}, {6}, {0}});
  const NmRunResult r = run_nm_gemm(make(1, 1, 1, 2, 4), x, w);
  EXPECT_EQ(r.y, rows({{28}}));
  EXPECT_EQ(r.stats.cycles, 6);
  EXPECT_EQ(r.stats.compute_cycles, 2);
  EXPECT_EQ(r.stats.macs, 2);            // n * R * C * G = 1 * 1 * 1 * 2
  EXPECT_EQ(r.stats.effective_macs, 4);  // R * K * C
  EXPECT_EQ(r.cycles_simulated, 2 + 6);  // two reset cycles first
  const NmRunResult d = run_nm_gemm(make(1, 1, 1, 2, 4, true), x, w);
  EXPECT_EQ(d.y, rows({{28}}));
  EXPECT_EQ(d.stats.cycles, 10);
  EXPECT_EQ(d.stats.macs, 4);
}

TEST(NmDriverCycles, ComputeBoundTwoByTwoTilesByHand) {
  // rows = 2, cols = 1, 2:4, K = 16 (G = 4), R = 4 (RT = 2), C = 2 (CT = 2); G >= rows + 1.
  // Column tile 0: w 0..3; x rt0 4..7, its last group multiplied at 8 (y 9, 10); x rt1 8..11
  // (the register empties at 8), last multiplied at 12 (buffer free since 11; y 13, 14).
  // Column tile 1: the x register holds rt1's last group at 12, so w_ready from 13: w 13..16;
  // x 17..20 and 21..24; last multiplied at 25; y 26, 27 -> 28 cycles.
  std::mt19937_64 rng(7);
  const IntMatrix x = IntMatrix::Random(4, 16).unaryExpr([](int64_t v) { return v % 100; });
  const IntMatrix w = random_nm_sparse(rng, 16, 2, 2, 4, 8);
  const NmRunResult r = run_nm_gemm(make(2, 1, 2, 4, 16), x, w);
  EXPECT_EQ(r.y, nm_reference(x, w));
  EXPECT_EQ(r.stats.cycles, 28);
  EXPECT_EQ(r.stats.compute_cycles, 16);  // CT * RT * G = 2 * 2 * 4
}

TEST(NmDriverCycles, OutputBoundRowTilesTakeRowsPlusOne) {
  // rows = 4, cols = 1, 1:2, K = 4 (G = 2 < rows + 1), R = 8 (RT = 2), C = 1.
  // w 0, 1; x rt0 2, 3; multiplied + captured at 4, y 5..8 (buffer free from 9). x rt1: 4, 5;
  // its last group waits in the x register for the registered buffer state: captured at 9,
  // y 10..13 -> 14 cycles (row-tile period rows + 1 = 5).
  std::mt19937_64 rng(3);
  const IntMatrix x = IntMatrix::Random(8, 4).unaryExpr([](int64_t v) { return v % 100; });
  const IntMatrix w = random_nm_sparse(rng, 4, 1, 1, 2, 8);
  const NmRunResult r = run_nm_gemm(make(4, 1, 1, 2, 4), x, w);
  EXPECT_EQ(r.y, nm_reference(x, w));
  EXPECT_EQ(r.stats.cycles, 14);
}

// docs/nm_array.md: with G >= rows + 1, total = (CT - 1) * P + (RT + 1) * G + rows + 1 with
// P = (RT + 1) * G + 1.
int64_t compute_bound_cycles(int64_t rt, int64_t ct, int64_t g, int64_t rows_) {
  const int64_t period = (rt + 1) * g + 1;
  return (ct - 1) * period + (rt + 1) * g + rows_ + 1;
}

TEST(NmDriverCycles, MatchTheDocumentedFormulaWhenComputeBound) {
  struct Case {
    int rows, cols, n, m, r, k, c;
    bool dense;
  };
  for (const Case& t : {Case{2, 1, 2, 4, 4, 16, 2, false}, Case{3, 2, 1, 4, 7, 50, 5, false},
                        Case{4, 4, 2, 8, 9, 100, 9, false}, Case{2, 3, 2, 4, 5, 33, 4, true},
                        Case{1, 1, 4, 8, 3, 16, 3, false}}) {
    const NmConfig cfg = make(t.rows, t.cols, t.n, t.m, t.k, t.dense);
    std::mt19937_64 rng(11);
    const IntMatrix x = IntMatrix::Random(t.r, t.k).unaryExpr([](int64_t v) { return v % 100; });
    const IntMatrix w = random_nm_sparse(rng, t.k, t.c, t.n, t.m, 8);
    const NmRunResult r = run_nm_gemm(cfg, x, w);
    const NmTiling tl = nm_tiling(cfg, t.r, t.k, t.c);
    ASSERT_GE(tl.groups, t.rows + 1);
    EXPECT_EQ(r.y, nm_reference(x, w));
    EXPECT_EQ(r.stats.cycles, compute_bound_cycles(tl.row_tiles, tl.col_tiles, tl.groups, t.rows))
        << core::to_json(cfg).dump();
  }
}

TEST(NmDriverCycles, SparseArrayTakesAboutNOverMOfTheDenseCycles) {
  // R = 64, K = 512, C = 64 on 8 x 8 PEs, compute bound. 2:4: G = 128, RT = CT = 8:
  // 7 * (9*128 + 1) + 9*128 + 9 = 9232; dense (n = 2): G = 256: 7 * 2305 + 2313 = 18448.
  std::mt19937_64 rng(5);
  const IntMatrix x = IntMatrix::Random(64, 512).unaryExpr([](int64_t v) { return v % 128; });
  struct Pattern {
    int n, m;
  };
  for (const Pattern p : {Pattern{2, 4}, Pattern{1, 4}, Pattern{2, 8}, Pattern{4, 8}}) {
    const IntMatrix w = random_nm_sparse(rng, 512, 64, p.n, p.m, 8);
    const NmRunResult sparse = run_nm_gemm(make(8, 8, p.n, p.m, 512), x, w);
    const NmRunResult dense = run_nm_gemm(make(8, 8, p.n, p.m, 512, true), x, w);
    ASSERT_EQ(sparse.y, nm_reference(x, w));
    ASSERT_EQ(dense.y, sparse.y);
    if (p.n == 2 && p.m == 4) {
      EXPECT_EQ(sparse.stats.cycles, 9232);
      EXPECT_EQ(dense.stats.cycles, 18448);
    }
    const double ratio = static_cast<double>(sparse.stats.cycles) / dense.stats.cycles;
    const double target = static_cast<double>(p.n) / p.m;
    EXPECT_GE(ratio, target) << p.n << ":" << p.m;
    EXPECT_LE(ratio, target * 1.01) << p.n << ":" << p.m;
    EXPECT_EQ(sparse.stats.effective_macs, dense.stats.effective_macs);
    EXPECT_DOUBLE_EQ(sparse.stats.pe_utilization, 1.0);  // full tiles
    EXPECT_GT(sparse.stats.array_utilization, 0.85);
  }
}

// ------------------------------------------------------------------------ driver, correctness

TEST(NmDriverRandom, MatchesTheFunctionalModelWithGapsAndBackPressure) {
  const std::pair<int, int> patterns[] = {{1, 2}, {1, 4}, {2, 4}, {2, 8}, {4, 8}, {4, 4},
                                          {1, 1}, {3, 16}};
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto [n, m] = patterns[seed % std::size(patterns)];
    const auto pick = [&](int lo, int hi) { return lo + static_cast<int>(rng() % (hi - lo + 1)); };
    const int wx = pick(2, 16), ww = pick(2, 16), k = pick(1, 30);
    const NmConfig cfg = make(pick(1, 5), pick(1, 5), n, m, k + pick(0, 9), rng() % 4 == 0, wx, ww);
    const int r = pick(1, 12), c = pick(1, 12);
    IntMatrix x = random_nm_sparse(rng, r, k, k, k, wx);  // dense within range, extremes often
    const IntMatrix w = random_nm_sparse(rng, k, c, n, m, ww);
    StimulusOptions stim;
    stim.seed = seed;
    stim.valid_prob = std::vector<double>{1.0, 0.6, 0.2}[rng() % 3];
    stim.ready_prob = std::vector<double>{1.0, 0.5, 0.1}[rng() % 3];
    const NmRunResult res = run_nm_gemm(cfg, x, w, stim);
    ASSERT_FALSE(res.timed_out) << core::to_json(cfg).dump();
    ASSERT_EQ(res.y, nm_reference(x, w)) << core::to_json(cfg).dump() << " R=" << r << " C=" << c;
    const NmTiling t = nm_tiling(cfg, r, k, c);
    EXPECT_EQ(res.stats.compute_cycles, t.col_tiles * t.row_tiles * t.groups);
    EXPECT_EQ(res.stats.macs, n * r * c * t.groups);
    EXPECT_EQ(res.stats.effective_macs, int64_t{r} * k * c);
  }
}

TEST(NmDriverRandom, ResetInTheMiddleStartsOver) {
  std::mt19937_64 rng(21);
  const IntMatrix x = IntMatrix::Random(5, 20).unaryExpr([](int64_t v) { return v % 100; });
  const IntMatrix w = random_nm_sparse(rng, 20, 6, 2, 4, 8);
  StimulusOptions stim;
  stim.reset_at = 17;
  stim.valid_prob = 0.7;
  const NmRunResult r = run_nm_gemm(make(2, 4, 2, 4, 20), x, w, stim);
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.y, nm_reference(x, w));
  StimulusOptions plain = stim;
  plain.reset_at = -1;
  EXPECT_GT(r.cycles_simulated, run_nm_gemm(make(2, 4, 2, 4, 20), x, w, plain).cycles_simulated);
}

TEST(NmDriverExtremes, MostNegativeEverywhereIsExactAndFitsTheAccumulator) {
  // Every x and w most-negative: Y = (nonzero products) * 2^(wx+ww-2), the largest accumulator
  // value; 4:4 and the dense baseline use every k, 2:4 half of them.
  for (int bits : {2, 8, 16}) {
    for (auto [n, m, dense] : {std::tuple{4, 4, false}, {2, 4, true}, {2, 4, false}}) {
      const int k = 37;
      const NmConfig cfg = make(3, 2, n, m, k, dense, bits, bits);
      const int64_t lo = -(int64_t{1} << (bits - 1));
      const IntMatrix x = IntMatrix::Constant(4, k, lo);
      IntMatrix w = IntMatrix::Constant(k, 3, lo);
      int64_t terms = k;
      if (!dense && n < m) {  // keep rows 0, 1 of every group of 4: 2 * 9 + 1 (k = 36) = 19
        for (int i = 0; i < k; ++i) {
          if (i % m >= n) w.row(i).setZero();
        }
        terms = 19;
      }
      const NmRunResult r = run_nm_gemm(cfg, x, w);
      const int64_t expected = terms << (2 * bits - 2);
      EXPECT_EQ(r.y, IntMatrix::Constant(4, 3, expected)) << core::to_json(cfg).dump();
      EXPECT_LE(expected, (int64_t{1} << (core::nm_widths(cfg).aw - 1)) - 1);
    }
  }
}

TEST(NmDriverExtremes, AllZeroWeightsAndSparseGroupsGiveExactResults) {
  const IntMatrix x = rows({{1, -2, 3, -4, 5}, {6, 7, -8, 9, 10}});
  EXPECT_EQ(run_nm_gemm(make(2, 2, 2, 4, 5), x, IntMatrix::Zero(5, 3)).y, IntMatrix::Zero(2, 3));
  // Groups with fewer than n nonzeros: 4:8 with one nonzero per column.
  const IntMatrix w = rows({{0, 0}, {0, 3}, {0, 0}, {0, 0}, {-2, 0}});
  EXPECT_EQ(run_nm_gemm(make(1, 1, 4, 8, 5), x, w).y, nm_reference(x, w));
}

TEST(NmDriverErrors, RejectsOperandsTheArrayCannotTake) {
  const IntMatrix x = rows({{1, 2, 3, 4}});
  const std::string dense_w = error_of([&] {
    run_nm_gemm(make(1, 1, 1, 2, 4), x, rows({{1}, {1}, {0}, {0}}));
  });
  EXPECT_EQ(dense_w, "w.npy: group 0, column 0 has 2 nonzeros, 1:2 allows at most 1");
  EXPECT_TRUE(has(error_of([&] { run_nm_gemm(make(1, 1, 1, 2, 3), x, IntMatrix::Zero(4, 1)); }),
                  "config.max_k"));
}

// ------------------------------------------------------------------------------- port packing

TEST(NmPacking, WeightBeatBitsByHand) {
  // cols = 2, n = 2, ww = 4, 2:4 -> IW = 2, SW = 6, WBW = 24. Slot (c, s) at (c*2 + s) * 6:
  // (0,0) v 1 i 0: bits 0..3 = 0001, 4..5 = 00      (0,1) v -2 i 2: 6..9 = 1110, 10..11 = 10
  // (1,0) v 7 i 1: 12..15 = 0111, 16..17 = 01        (1,1) v -8 i 3: 18..21 = 1000, 22..23 = 11
  // -> 0b1110_0001_0111_1011_1000_0001 = 0xE17B81.
  const NmConfig cfg = make(1, 2, 2, 4, 4, false, 3, 4);
  NmInputs in;
  in.w_values = {1, -2, 7, -8};
  in.w_indices = {0, 2, 1, 3};
  EXPECT_EQ(pack_w_data(cfg, in), (std::vector<uint32_t>{0xE17B81}));
}

TEST(NmPacking, ActivationBeatBitsByHand) {
  // rows = 1, KB = 4, wx = 3: elements 1, -1, 3, -4 = 001, 111, 011, 100 at 0, 3, 6, 9
  // -> 1 + (7 << 3) + (3 << 6) + (4 << 9) = 0x8F9.
  const NmConfig cfg = make(1, 2, 2, 4, 4, false, 3, 4);
  NmInputs in;
  in.x_data = {1, -1, 3, -4};
  EXPECT_EQ(pack_x_data(cfg, in), (std::vector<uint32_t>{0x8F9}));
}

TEST(NmPacking, ResultBeatRoundTripsAcrossWordBoundaries) {
  const NmConfig cfg = make(4, 3, 2, 4, 256);  // AW = 23, YBW = 69: three words
  const std::vector<int64_t> y = {-1, (1 << 22) - 1, -(1 << 22)};
  const std::vector<uint32_t> words = pack_y_data(cfg, y);
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[0] & 0x7FFFFF, 0x7FFFFFu);  // element 0 = -1: bits 0..22 set
  EXPECT_EQ(unpack_y_data(cfg, words), y);
}

}  // namespace
}  // namespace accelgen::golden
