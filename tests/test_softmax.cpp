// Tests of accelgen::golden softmax/xV back-end (golden/softmax.h) against docs/softmax.md and docs/semantics.md
// "Softmax and output". Expected values are worked out by hand in the comments, or come from a float evaluation of
// docs/semantics.md's formula written here with plain loops (ref_row), never from the code under test. Code under
// test is used only to *choose* adversarial inputs (the sign of each exponential's error) in the stress test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/error.h"
#include "core/tensor.h"
#include "core/workload.h"
#include "golden/functional.h"
#include "golden/softmax.h"
#include "tests/test_support.h"

namespace accelgen::golden {
namespace {

using accelgen::test_support::rows;

using Kept = std::vector<std::pair<int, int64_t>>;

// F (x fraction bits), F_o, E, L, wv, M (alpha mantissa bits).
SoftmaxFormat fmt(int fx, int fo, int e, int l, int wv, int m = 16) { return SoftmaxFormat{fx, fo, e, l, wv, m}; }

// The alpha register value of mant * 2^-shift with an m-bit mantissa (docs/semantics.md "Softmax and output").
uint64_t reg(uint64_t mant, int shift, int m = 16) { return (static_cast<uint64_t>(shift) << m) | mant; }

// alpha > 0 as a normalized register value, rounded to nearest (written here, not core::quantize_alpha).
uint64_t reg_of(long double alpha, int m = 16) {
  int p = 0;
  const long double y = std::frexp(alpha, &p);  // alpha = y 2^p, y in [0.5, 1)
  uint64_t mant = static_cast<uint64_t>(std::llround(std::ldexp(y, m)));
  int shift = m - p;
  if (mant == uint64_t{1} << m) {
    mant >>= 1;
    --shift;
  }
  return reg(mant, shift, m);
}

// The real number an m-bit-mantissa register value stands for.
long double alpha_of(uint64_t bits, int m = 16) {
  return std::ldexp(static_cast<long double>(bits & ((uint64_t{1} << m) - 1)), -static_cast<int>((bits >> m) & 63));
}

// Independent float evaluation of docs/semantics.md's formula for one query, in units of 2^-F_o (not rounded):
// p_j = 2^(alpha*(s_j - m)) / sum_k 2^(alpha*(s_k - m)), O = sum_j p_j V[j][c], alpha = mant * 2^-shift from
// the register value alpha_bits (mantissa bits mb). long double throughout: mant * (m - s) < 2^24 * 2^41 is exact,
// the exponent is not truncated to any fraction bits.
std::vector<double> ref_row(const Kept& kept, const core::IntMatrix& v, uint64_t alpha_bits, int mb, int fo) {
  std::vector<double> out(static_cast<size_t>(v.cols()), 0.0);
  if (kept.empty()) return out;
  int64_t m = std::numeric_limits<int64_t>::min();
  for (const auto& [j, s] : kept) m = std::max(m, s);
  const uint64_t mant = alpha_bits & ((uint64_t{1} << mb) - 1);
  const int shift = static_cast<int>((alpha_bits >> mb) & 63);
  long double z = 0;
  std::vector<long double> a(out.size(), 0.0L);
  for (const auto& [j, s] : kept) {
    const long double x = static_cast<long double>(mant) * static_cast<long double>(m - s);
    const long double p = std::exp2(-std::ldexp(x, -shift));
    z += p;
    for (size_t c = 0; c < out.size(); ++c) a[c] += p * static_cast<long double>(v(j, static_cast<Eigen::Index>(c)));
  }
  for (size_t c = 0; c < out.size(); ++c) out[c] = static_cast<double>(std::ldexp(a[c] / z, fo));
  return out;
}

// Unrounded hardware value sum_j e_j V[j][c] / sum_j e_j * 2^F_o, from the exponentials of the code under test:
// used only to measure how much of the error comes before the final rounding (the doc's bound).
std::vector<double> unrounded_row(const Kept& kept, const core::IntMatrix& v, uint64_t alpha_bits,
                                  const SoftmaxFormat& f) {
  int64_t m = std::numeric_limits<int64_t>::min();
  for (const auto& [j, s] : kept) m = std::max(m, s);
  long double z = 0;
  std::vector<long double> a(static_cast<size_t>(v.cols()), 0.0L);
  for (const auto& [j, s] : kept) {
    const long double e =
        static_cast<long double>(exp_fixed(exponent_fixed(static_cast<uint64_t>(m - s), alpha_bits, f), f));
    z += e;
    for (size_t c = 0; c < a.size(); ++c) a[c] += e * static_cast<long double>(v(j, static_cast<Eigen::Index>(c)));
  }
  std::vector<double> out;
  for (long double x : a) out.push_back(static_cast<double>(std::ldexp(x / z, f.out_frac_bits)));
  return out;
}

// round to nearest, ties away from zero.
double round_away(double x) { return std::round(x); }

std::vector<int64_t> times(const core::IntMatrix& v, Eigen::Index j, int64_t k) {
  std::vector<int64_t> r;
  for (Eigen::Index c = 0; c < v.cols(); ++c) r.push_back(v(j, c) * k);
  return r;
}

core::AttentionConfig big_config() {  // largest widths the config allows for the back-end
  core::AttentionConfig c;
  c.wv = 16;
  c.max_keys = 4096;
  c.lanes = 1;
  c.d = 256;
  c.wq = c.wk = 16;  // 40-bit scores: gaps up to 2^40, alpha * gap spans the whole exponent range
  return c;
}

struct ErrStats {
  double max = 0, sum = 0;
  int64_t n = 0;
  void add(double e) {
    max = std::max(max, e);
    sum += e;
    ++n;
  }
  double mean() const { return n ? sum / static_cast<double>(n) : 0.0; }
};

// ---------------------------------------------------------------- formats

TEST(SoftmaxFormat, DefaultsFollowDocsFromConfig) {
  // r_d16: wv 8, max_keys 64 (clog2 6), F_o 2: E = 8 + 2 + 6 + 3 = 19, L = ceil(10 / 2) = 5, F = 8 + 2 + 4 = 14,
  // M = 16 (default alpha_mant_bits).
  const auto d16 = core::load_attention_config(ACCELGEN_SOURCE_DIR "/configs/regression/r_d16.json");
  EXPECT_EQ(default_softmax_format(d16), fmt(14, 2, 19, 5, 8, 16));
  // out_frac_bits 0: E = 17, L = ceil(8 / 2) = 4, F = 12.
  EXPECT_EQ(default_softmax_format(d16, 0), fmt(12, 0, 17, 4, 8));
  // r_d3: wv 6, max_keys 17 (clog2 5): E = 6 + 2 + 5 + 3 = 16, L = ceil(8 / 2) = 4, F = 12.
  const auto d3 = core::load_attention_config(ACCELGEN_SOURCE_DIR "/configs/regression/r_d3.json");
  EXPECT_EQ(default_softmax_format(d3), fmt(12, 2, 16, 4, 6, d3.alpha_mant_bits));
  // An explicit exp_lut_bits wins over the derived value.
  core::AttentionConfig lut7 = d16;
  lut7.exp_lut_bits = 7;
  EXPECT_EQ(default_softmax_format(lut7), fmt(14, 2, 19, 7, 8));
  // max_keys 1 (clog2 0), wv 2, F_o 0, alpha_mant_bits 13: E = 5, L = 1, F = 6.
  core::AttentionConfig tiny;
  tiny.wv = 2;
  tiny.max_keys = 1;
  tiny.lanes = 1;
  tiny.alpha_mant_bits = 13;
  EXPECT_EQ(default_softmax_format(tiny, 0), fmt(6, 0, 5, 1, 2, 13));
  // Largest: wv 16, max_keys 4096 (clog2 12), F_o 16: E = 47, L = 16 (65,537 entries; with F_o 2, L = 9),
  // F = 16 + 16 + 4 = 36.
  EXPECT_EQ(default_softmax_format(big_config(), 16), fmt(36, 16, 47, 16, 16));
  EXPECT_EQ(default_softmax_format(big_config()).exp_lut_bits, 9);
  EXPECT_EQ(default_softmax_format(big_config()).x_frac_bits, 22);
  // The exponent width XW = F + clog2(E + 2): 14 + clog2(21) = 19; 36 + clog2(49) = 42; 6 + clog2(7) = 9.
  EXPECT_EQ(exponent_width(fmt(14, 2, 19, 5, 8)), 19);
  EXPECT_EQ(exponent_width(fmt(36, 16, 47, 16, 16)), 42);
  EXPECT_EQ(exponent_width(fmt(6, 0, 5, 1, 2)), 9);
}

// docs/softmax.md "Error bound": for every config the defaults (E, L, F) keep the error before the final
// rounding below 0.34 output LSB for n = max_keys kept keys (the doc's worst case is wv = 2, F_o = 0). The bound
// is recomputed here from the doc's formula and compared with golden::output_error_bound.
TEST(SoftmaxFormat, DefaultsBoundEveryConfigBelowALittleOverAThirdOfAnLsb) {
  const double ln2 = std::log(2.0);
  double worst = 0;
  for (int wv = 2; wv <= 16; ++wv) {
    for (int fo = 0; fo <= 8; ++fo) {
      for (int max_keys : {1, 2, 3, 5, 64, 100, 1025, 4096}) {
        core::AttentionConfig c;
        c.wv = wv;
        c.out_frac_bits = fo;
        c.max_keys = max_keys;
        c.lanes = 1;
        const SoftmaxFormat f = default_softmax_format(c);
        ASSERT_EQ(f.x_frac_bits, wv + fo + 4);
        const double rel_i = ln2 * ln2 / 8 * std::ldexp(1.0, -2 * f.exp_lut_bits) *
                             std::pow(2.0, std::ldexp(1.0, -f.exp_lut_bits));
        const double rel_x = std::pow(2.0, std::ldexp(1.0, -f.x_frac_bits)) - 1;
        const double rel = (1 + rel_i) * (1 + rel_x) - 1;
        const double doc = std::ldexp(1.0, wv + fo) * (rel + 1.5 * max_keys * std::ldexp(1.0, -f.exp_frac_bits)) /
                           (1 - rel);
        EXPECT_NEAR(output_error_bound(f, max_keys), doc, 1e-12 * doc) << "wv " << wv << " F_o " << fo;
        EXPECT_LT(doc, 0.34) << "wv " << wv << " F_o " << fo << " max_keys " << max_keys;
        worst = std::max(worst, doc);
      }
    }
  }
  std::cout << "[ bound     ] largest pre-rounding bound over the config grid: " << worst << " LSB\n";
}

TEST(SoftmaxFormat, InvalidFieldsAreNamed) {
  const auto where = [](const SoftmaxFormat& f) {
    try {
      validate_softmax_format(f);
    } catch (const core::InputError& e) {
      return e.where();
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(where(fmt(20, 2, 19, 8, 8)), "(accepted)");
  EXPECT_EQ(where(fmt(-1, 2, 19, 8, 8)), "softmax.x_frac_bits");
  EXPECT_EQ(where(fmt(41, 2, 19, 8, 8)), "softmax.x_frac_bits");
  EXPECT_EQ(where(fmt(40, 2, 19, 8, 8, 32)), "(accepted)");
  EXPECT_EQ(where(fmt(20, 2, 19, 8, 8, 0)), "softmax.alpha_mant_bits");
  EXPECT_EQ(where(fmt(20, 2, 19, 8, 8, 33)), "softmax.alpha_mant_bits");
  EXPECT_EQ(where(fmt(20, -1, 19, 8, 8)), "softmax.out_frac_bits");
  EXPECT_EQ(where(fmt(20, 17, 19, 8, 8)), "softmax.out_frac_bits");
  EXPECT_EQ(where(fmt(20, 2, 0, 8, 8)), "softmax.exp_frac_bits");
  EXPECT_EQ(where(fmt(20, 2, 49, 8, 8)), "softmax.exp_frac_bits");
  EXPECT_EQ(where(fmt(20, 2, 19, -1, 8)), "softmax.exp_lut_bits");
  EXPECT_EQ(where(fmt(20, 2, 19, 23, 8)), "softmax.exp_lut_bits");
  EXPECT_EQ(where(fmt(20, 2, 19, 8, 1)), "softmax.wv");
  EXPECT_EQ(where(fmt(20, 2, 19, 8, 17)), "softmax.wv");
  EXPECT_THROW(default_softmax_format(core::AttentionConfig{}, -1), core::InputError);
  EXPECT_THROW(exp_table(fmt(20, 2, 0, 8, 8)), core::InputError);
  EXPECT_THROW(exp_fixed(0, fmt(20, 2, 19, 8, 99)), core::InputError);
  EXPECT_THROW(softmax_row({}, core::IntMatrix(0, 1), 1, fmt(20, 2, 19, 8, 1)), core::InputError);
}

// ---------------------------------------------------------------- exp table

TEST(SoftmaxExpTable, HandComputedEntries) {
  // E = 4, L = 1: 16, 16 / sqrt(2) = 11.31 -> 11, 8.
  EXPECT_EQ(exp_table(fmt(2, 2, 4, 1, 8)), (std::vector<int64_t>{16, 11, 8}));
  // E = 10, L = 2: 1024 * 2^(-i/4) = 1024, 861.08, 724.08, 608.87, 512.
  EXPECT_EQ(exp_table(fmt(20, 2, 10, 2, 8)), (std::vector<int64_t>{1024, 861, 724, 609, 512}));
  // E = 1, L = 0: 2, 1.
  EXPECT_EQ(exp_table(fmt(0, 0, 1, 0, 2)), (std::vector<int64_t>{2, 1}));
}

TEST(SoftmaxExpTable, EndpointsMonotoneAndRoundedForDefaultFormats) {
  for (const SoftmaxFormat& f : {fmt(20, 2, 19, 8, 8), fmt(20, 2, 21, 9, 8), fmt(20, 2, 33, 15, 16),
                                 fmt(24, 0, 30, 20, 16)}) {
    SCOPED_TRACE(testing::Message() << "E=" << f.exp_frac_bits << " L=" << f.exp_lut_bits);
    const auto t = exp_table(f);
    const int64_t n = int64_t{1} << f.exp_lut_bits;
    ASSERT_EQ(static_cast<int64_t>(t.size()), n + 1);
    EXPECT_EQ(t.front(), int64_t{1} << f.exp_frac_bits);
    EXPECT_EQ(t.back(), int64_t{1} << (f.exp_frac_bits - 1));
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_GT(t[static_cast<size_t>(i)], t[static_cast<size_t>(i + 1)]) << "i=" << i;
      // Within half a unit of the exact value (double is good to ~2^(E-52) here; ties are impossible).
      const double y = std::ldexp(std::exp2(-static_cast<double>(i) / static_cast<double>(n)), f.exp_frac_bits);
      ASSERT_LE(std::fabs(static_cast<double>(t[static_cast<size_t>(i)]) - y), 0.5 + 1e-6) << "i=" << i;
    }
  }
}

// ---------------------------------------------------------------- exp_fixed

TEST(SoftmaxExpFixed, HandComputedInterpolation) {
  // F_a = 2, L = 1, E = 4: T = {16, 11, 8}, G = 2.
  const SoftmaxFormat a = fmt(2, 2, 4, 1, 8);
  EXPECT_EQ(exp_fixed(0, a), 16);
  EXPECT_EQ(exp_fixed(1, a), 14);  // f=1: i=0, r=1: 16 - ((16-11)*1 >> 1) = 16 - 2
  EXPECT_EQ(exp_fixed(2, a), 11);  // f=2: i=1, r=0
  EXPECT_EQ(exp_fixed(3, a), 10);  // f=3: i=1, r=1: 11 - ((11-8)*1 >> 1) = 11 - 1
  EXPECT_EQ(exp_fixed(4, a), 8);   // I=1: 16 >> 1
  EXPECT_EQ(exp_fixed(6, a), 5);   // I=1, u=11: 11 >> 1
  EXPECT_EQ(exp_fixed(7, a), 5);   // I=1, u=10
  EXPECT_EQ(exp_fixed(16, a), 1);  // I=4 = E, u=16: 16 >> 4
  EXPECT_EQ(exp_fixed(19, a), 0);  // I=4, u=10: 10 >> 4
}

TEST(SoftmaxExpFixed, FractionNarrowerThanTable) {
  // F_a = 1, L = 2, E = 10: T = {1024, 861, 724, 609, 512}, G = 2: g = f << 1, r = 0.
  const SoftmaxFormat f = fmt(1, 2, 10, 2, 8);
  EXPECT_EQ(exp_fixed(1, f), 724);  // f=1 -> g=2 -> T[2]
  EXPECT_EQ(exp_fixed(3, f), 362);  // I=1, T[2] >> 1
  EXPECT_EQ(exp_fixed(2, f), 512);
}

TEST(SoftmaxExpFixed, IntegerExponentsAreExactShifts) {
  for (const SoftmaxFormat& f : {fmt(20, 2, 19, 8, 8), fmt(2, 2, 4, 1, 8), fmt(0, 2, 12, 5, 4), fmt(24, 2, 33, 15, 16)}) {
    SCOPED_TRACE(testing::Message() << "F=" << f.x_frac_bits << " E=" << f.exp_frac_bits);
    const int64_t one = int64_t{1} << f.x_frac_bits;
    for (int k = 0; k <= f.exp_frac_bits + 3; ++k) {
      const int64_t expect = k <= f.exp_frac_bits ? (int64_t{1} << (f.exp_frac_bits - k)) : 0;
      EXPECT_EQ(exp_fixed(k * one, f), expect) << "k=" << k;
    }
    EXPECT_EQ(exp_fixed(std::numeric_limits<int64_t>::max(), f), 0);
    EXPECT_EQ(exp_fixed((f.exp_frac_bits + 1) * one, f), 0);
  }
  EXPECT_THROW(exp_fixed(-1, fmt(20, 2, 19, 8, 8)), std::invalid_argument);
}

TEST(SoftmaxExpFixed, MonotoneNonIncreasing) {
  // Exhaustive for a small format, strided for a default one.
  const SoftmaxFormat small = fmt(6, 2, 12, 4, 8);
  int64_t prev = exp_fixed(0, small);
  for (int64_t x = 1; x <= (12 + 2) * 64; ++x) {
    const int64_t e = exp_fixed(x, small);
    ASSERT_LE(e, prev) << "x=" << x;
    prev = e;
  }
  const SoftmaxFormat def = fmt(20, 2, 19, 8, 8);
  prev = exp_fixed(0, def);
  for (int64_t x = 1; x <= (int64_t{21} << 20); x += 97) {
    const int64_t e = exp_fixed(x, def);
    ASSERT_LE(e, prev) << "x=" << x;
    prev = e;
  }
}

TEST(SoftmaxExpFixed, ErrorWithinDocsEta) {
  std::mt19937_64 rng(7);
  for (const SoftmaxFormat& f : {fmt(2, 2, 4, 1, 8), fmt(20, 2, 12, 5, 4), fmt(20, 2, 19, 8, 8),
                                 fmt(20, 2, 21, 9, 8), fmt(20, 2, 33, 15, 16), fmt(8, 2, 16, 10, 6)}) {
    SCOPED_TRACE(testing::Message() << "F=" << f.x_frac_bits << " E=" << f.exp_frac_bits
                                    << " L=" << f.exp_lut_bits);
    // eta = 2^E (ln 2)^2 / 8 * 2^-2L + 3, computed here from the doc's formula.
    const double eta = std::ldexp(std::log(2.0) * std::log(2.0) / 8.0, f.exp_frac_bits - 2 * f.exp_lut_bits) + 3.0;
    EXPECT_NEAR(exp_error_bound(f), eta, 1e-12);
    std::uniform_int_distribution<int64_t> pick(0, (int64_t{f.exp_frac_bits} + 2) << f.x_frac_bits);
    double worst = 0;
    for (int n = 0; n < 20000; ++n) {
      const int64_t x = pick(rng);
      const long double exact =
          std::ldexp(std::exp2(-std::ldexp(static_cast<long double>(x), -f.x_frac_bits)), f.exp_frac_bits);
      const double err = static_cast<double>(std::fabs(static_cast<long double>(exp_fixed(x, f)) - exact));
      worst = std::max(worst, err);
      ASSERT_LE(err, eta) << "x=" << x;
    }
    std::cout << "[ exp_fixed ] F=" << f.x_frac_bits << " E=" << f.exp_frac_bits << " L=" << f.exp_lut_bits
              << ": max |e - e*| = " << worst << " (eta = " << eta << ")\n";
  }
}

// ---------------------------------------------------------------- exponent (step 2)

TEST(SoftmaxExponent, HandComputedFloorShiftAndSaturation) {
  // F = 14, E = 19, L = 5, M = 16: XW = 14 + clog2(21) = 19, x saturates at 2^19 - 1 = 524287.
  const SoftmaxFormat f = fmt(14, 2, 19, 5, 8);
  const int64_t lim = 524287;
  // alpha = 1 (2^15 * 2^-15): x = d * 2^14.
  EXPECT_EQ(exponent_fixed(0, reg(1 << 15, 15), f), 0);
  EXPECT_EQ(exponent_fixed(3, reg(1 << 15, 15), f), 3 * 16384);
  // alpha = 3 * 2^-15: 3 * 1 * 2^14 / 2^15 = 1.5 -> 1 (floor); d = 5: 7.5 -> 7.
  EXPECT_EQ(exponent_fixed(1, reg(3, 15), f), 1);
  EXPECT_EQ(exponent_fixed(5, reg(3, 15), f), 7);
  // shift < F: a left shift. mant 1, shift 0 (alpha = 1): d = 31 -> 31 * 2^14 = 507904 fits; d = 32 ->
  // 524288 does not: saturated.
  EXPECT_EQ(exponent_fixed(31, reg(1, 0), f), 507904);
  EXPECT_EQ(exponent_fixed(32, reg(1, 0), f), lim);
  // sigma = 1e3 (mant 46166, shift 5): d = 1 -> 46166 * 2^9 = 23,636,992 > lim: saturated.
  EXPECT_EQ(exponent_fixed(1, reg(46166, 5), f), lim);
  // sigma = 1e-9 (mant 50760, shift 45): d = 2^30 -> 50760 * 2^30 * 2^14 / 2^45 = 25380 exactly;
  // d = 2^30 + 1 adds 50760 * 2^-31 < 1 -> still 25380; d = 1000 -> 0.
  EXPECT_EQ(exponent_fixed(uint64_t{1} << 30, reg(50760, 45), f), 25380);
  EXPECT_EQ(exponent_fixed((uint64_t{1} << 30) + 1, reg(50760, 45), f), 25380);
  EXPECT_EQ(exponent_fixed(1000, reg(50760, 45), f), 0);
  // shift 63, mant 2^16 - 1, d = 2^40 - 1: (2^16 - 1)(2^40 - 1) / 2^49 = 127.998... - 1.2e-10 -> 127.
  EXPECT_EQ(exponent_fixed((uint64_t{1} << 40) - 1, reg(65535, 63), f), 127);
  // Bits above the register are ignored.
  EXPECT_EQ(exponent_fixed(3, reg(1 << 15, 15) | (uint64_t{1} << 22), f), 3 * 16384);
  // The real exponent: mant * d * 2^-shift, not truncated.
  EXPECT_EQ(exponent_real(5, reg(3, 15), f), 15.0 / 32768.0);
  EXPECT_EQ(exponent_real(1, reg(46166, 5), f), 46166.0 / 32.0);
}

TEST(SoftmaxExponent, FloorOfTheExactExponentOrSaturated) {
  // x = floor(alpha * d * 2^F) exactly (checked in 128-bit integers here), or 2^XW - 1 when that is larger.
  __extension__ typedef unsigned __int128 u128;
  std::mt19937_64 rng(5);
  for (const SoftmaxFormat& f : {fmt(14, 2, 19, 5, 8), fmt(6, 0, 5, 1, 2, 13), fmt(36, 16, 47, 16, 16, 24),
                                 fmt(22, 2, 33, 9, 16)}) {
    const int m = f.alpha_mant_bits, F = f.x_frac_bits;
    const u128 lim = (u128{1} << exponent_width(f)) - 1;
    for (int n = 0; n < 20000; ++n) {
      const uint64_t mant = rng() & ((uint64_t{1} << m) - 1);
      const int shift = static_cast<int>(rng() % 64);
      const uint64_t d = rng() >> (24 + rng() % 40);  // 0 .. 2^40
      const u128 p = static_cast<u128>(mant) * d;      // < 2^64
      // floor(p * 2^F / 2^shift) = floor((p << F) >> shift), p << F < 2^104.
      const u128 exact = (p << F) >> shift;
      const int64_t want = static_cast<int64_t>(exact > lim ? lim : exact);
      ASSERT_EQ(exponent_fixed(d, reg(mant, shift, m), f), want)
          << "mant " << mant << " shift " << shift << " d " << d << " F " << F;
    }
  }
}

// Real models' softmax scales sigma (scores in integer units of quantized Q*K): 1e-9 .. 1e3, through the
// quantized register of a default-mantissa config, with score gaps spread so that the exponents alpha * d
// cover [0, E + 2] (and gaps of 1 for the large scales). Every element within 1 LSB of float64 with the same
// quantized alpha, and the error before the final rounding within the doc's bound (which includes the
// truncation of x).
TEST(SoftmaxAccuracy, RealModelScalesWithinOneLsb) {
  std::mt19937_64 rng(23);
  for (int fo : {0, 2}) {
    for (const core::AttentionConfig& cfg : {big_config(), core::AttentionConfig{}}) {
      const SoftmaxFormat f = default_softmax_format(cfg, fo);
      const int64_t max_gap = (int64_t{1} << core::widths(cfg).sw) - 1;  // what the score width allows
      const int n = std::min(cfg.max_keys, 512);
      const int64_t lo = core::signed_min(cfg.wv), hi = core::signed_max(cfg.wv);
      for (double sigma : {1e-9, 4.6e-7, 5.9e-4, 1.0, 1e3}) {
        const core::AlphaRegister a = core::quantize_alpha(sigma, cfg);
        const long double alpha = alpha_of(a.bits, cfg.alpha_mant_bits);
        ASSERT_EQ(static_cast<double>(alpha), a.value);
        ErrStats st, pre;
        for (int trial = 0; trial < 6; ++trial) {
          SCOPED_TRACE(testing::Message() << "wv=" << cfg.wv << " F_o=" << fo << " sigma=" << sigma
                                          << " trial=" << trial);
          // Gaps: key 0 is the maximum; the others at alpha * d uniform in [0, E + 2] (trial 0-2), in [0, 1]
          // (3), all equal to 1 (4: the smallest nonzero gap), nearly equal (5).
          Kept kept;
          kept.emplace_back(0, 0);
          std::uniform_real_distribution<long double> t(0.0L, trial == 3 ? 1.0L : f.exp_frac_bits + 2.0L);
          for (int j = 1; j < n; ++j) {
            int64_t d = 1;
            if (trial <= 3) d = static_cast<int64_t>(std::llround(t(rng) / alpha));
            if (trial == 5) d = j;
            kept.emplace_back(j, -std::clamp<int64_t>(d, 0, max_gap));
          }
          // V: the sign of each exponential's error (chosen with the code under test), its opposite, random.
          core::IntMatrix v(n, 3);
          for (int j = 0; j < n; ++j) {
            const uint64_t d = static_cast<uint64_t>(-kept[static_cast<size_t>(j)].second);
            const int64_t e = exp_fixed(exponent_fixed(d, a.bits, f), f);
            const long double exact = std::ldexp(std::exp2(-alpha * static_cast<long double>(d)), f.exp_frac_bits);
            const bool up = static_cast<long double>(e) >= exact;
            v(j, 0) = up ? hi : lo;
            v(j, 1) = up ? lo : hi;
            v(j, 2) = rng() % 2 ? hi : lo;
          }
          const SoftmaxRow r = softmax_row(kept, v, a.bits, f);
          const auto ref = ref_row(kept, v, a.bits, cfg.alpha_mant_bits, fo);
          const auto unr = unrounded_row(kept, v, a.bits, f);
          for (int c = 0; c < 3; ++c) {
            const double err = std::fabs(static_cast<double>(r.out[static_cast<size_t>(c)]) - ref[static_cast<size_t>(c)]);
            st.add(err);
            pre.add(std::fabs(unr[static_cast<size_t>(c)] - ref[static_cast<size_t>(c)]));
            EXPECT_LE(err, 1.0) << "col " << c << ": o=" << r.out[static_cast<size_t>(c)]
                                << " ref=" << ref[static_cast<size_t>(c)];
          }
        }
        const double bound = output_error_bound(f, n);
        EXPECT_LT(bound, 0.5);
        EXPECT_LE(pre.max, bound);
        std::cout << "[ scales    ] wv=" << cfg.wv << " F_o=" << fo << " sigma=" << sigma << " (mant " << a.mant
                  << ", shift " << a.shift << ", F=" << f.x_frac_bits << "): max " << st.max << " LSB, mean "
                  << st.mean() << " LSB; before rounding max " << pre.max << " LSB (doc bound " << bound << ")\n";
      }
    }
  }
}

// ---------------------------------------------------------------- softmax_row: directed

TEST(SoftmaxRowDirected, OneKeptKeyGivesItsRowExactly) {
  const auto v = rows({{1, 2, 3, 4}, {-128, 127, 0, -5}, {9, 9, 9, 9}});
  const SoftmaxFormat f = fmt(20, 2, 19, 8, 8);
  const SoftmaxRow r = softmax_row({{1, -57}}, v, reg(12345, 3), f);
  EXPECT_FALSE(r.empty);
  EXPECT_EQ(r.out, (std::vector<int64_t>{-512, 508, 0, -20}));  // V[1] * 2^2
}

TEST(SoftmaxRowDirected, EqualScoresAverageWithTiesAwayFromZero) {
  // F_o = 0, two keys with equal scores: O = round((V0 + V1) / 2).
  const auto v = rows({{1, -1, 3, -3, 0, 7}, {2, -2, 4, -4, 0, -7}});
  const SoftmaxRow r = softmax_row({{0, 40}, {1, 40}}, v, reg(999, 0), fmt(20, 0, 10, 4, 4));
  // 1.5 -> 2, -1.5 -> -2, 3.5 -> 4, -3.5 -> -4, 0 -> 0, 0 -> 0.
  EXPECT_EQ(r.out, (std::vector<int64_t>{2, -2, 4, -4, 0, 0}));

  // F_o = 2, eight keys with equal scores: O = sum * 4 / 8 = sum / 2.
  core::IntMatrix v8(8, 5);
  const int64_t cols[5][8] = {{1, 1, 1, 1, 1, 0, 0, 0},        // sum 5 -> 2.5 -> 3
                              {-1, -1, -1, -1, -1, 0, 0, 0},   // -5 -> -2.5 -> -3
                              {1, 1, 1, 0, 0, 0, 0, 0},        // 3 -> 1.5 -> 2
                              {7, 7, 7, 7, -8, -8, -8, -8},    // -4 -> -2
                              {7, -8, 0, 0, 0, 0, 0, 0}};      // -1 -> -0.5 -> -1
  for (int c = 0; c < 5; ++c)
    for (int j = 0; j < 8; ++j) v8(j, c) = cols[c][j];
  Kept kept;
  for (int j = 0; j < 8; ++j) kept.emplace_back(j, -3);
  const SoftmaxRow r8 = softmax_row(kept, v8, reg(1 << 15, 15), fmt(20, 2, 12, 5, 4));
  EXPECT_EQ(r8.out, (std::vector<int64_t>{3, -3, 2, -2, -1}));
}

TEST(SoftmaxRowDirected, DominantKeyGivesItsRow) {
  // alpha = 1.0 (mant 2^15, shift 15; x = gap * 2^F): a score gap of E + 1 gives I = E + 1 > E, e = 0 exactly.
  const SoftmaxFormat f = fmt(20, 2, 4, 1, 8);
  const uint64_t one = reg(1 << 15, 15);
  const auto v = rows({{5, -128, 127}, {-8, 100, -100}, {127, 127, 127}});
  const SoftmaxRow r = softmax_row({{0, 100}, {1, 100 - 5}, {2, -1000}}, v, one, f);
  EXPECT_EQ(r.out, (std::vector<int64_t>{20, -512, 508}));
  // Gap of exactly E = 4: e1 = 2^4 >> 4 = 1, Z = 17, A = 16 * V0 + V1.
  //   c0: A = 80 - 8 = 72,     72 * 4 / 17 = 16.94  -> 17
  //   c1: A = -2048 + 100,    -1948 * 4 / 17 = -458.35 -> -458
  //   c2: A = 2032 - 100 = 1932, 1932 * 4 / 17 = 454.59 -> 455
  const SoftmaxRow r4 = softmax_row({{0, 100}, {1, 96}}, v, one, f);
  EXPECT_EQ(r4.out, (std::vector<int64_t>{17, -458, 455}));
  // The largest scale the register holds (mant 2^16 - 1, shift 0): x saturates for any gap >= 1
  // (65535 * 2^20 > 2^XW - 1 = 2^23 - 1), e = 0, O = V0 exactly.
  const SoftmaxRow rs = softmax_row({{0, 100}, {1, 99}, {2, -1000}}, v, reg(65535, 0), f);
  EXPECT_EQ(rs.out, (std::vector<int64_t>{20, -512, 508}));
}

TEST(SoftmaxRowDirected, ExtremeValuesDoNotOverflow) {
  // wv = 16, max_keys = 4096: E = 33 (default) and E = 47 (F_o = 16): A_c reaches 4096 * 2^47 * 2^15 = 2^74.
  for (int fo : {2, 16}) {
    const SoftmaxFormat f = default_softmax_format(big_config(), fo);
    SCOPED_TRACE(testing::Message() << "F_o=" << fo << " E=" << f.exp_frac_bits);
    const int n = 4096;
    const int64_t lo = -32768, hi = 32767;
    core::IntMatrix v(n, 3);
    for (int j = 0; j < n; ++j) {
      v(j, 0) = lo;
      v(j, 1) = j % 2 == 0 ? hi : lo;
      v(j, 2) = j < n / 2 ? hi : lo;
    }
    Kept equal, spread;
    for (int j = 0; j < n; ++j) {
      equal.emplace_back(j, 1000);
      spread.emplace_back(j, (1LL << 39) - 1 - j * 37);  // scores near the top of a 40-bit score
    }
    const int64_t s = int64_t{1} << fo;
    // Equal scores: col 0 = -32768, cols 1, 2 = (32767 - 32768) / 2 = -0.5.
    const SoftmaxRow r = softmax_row(equal, v, 1, f);
    EXPECT_EQ(r.out, (std::vector<int64_t>{lo * s, -s / 2, -s / 2}));
    // Any weights: a constant column is reproduced exactly (A = V * Z). alpha = 2^-20, 3000 * 2^-20, 1,
    // (2^16 - 1) * 2^-12 ~ 16, the largest (2^16 - 1) and the smallest normalized (2^15 * 2^-63) register.
    for (uint64_t alpha : {reg(1 << 15, 35), reg(3000, 20), reg(1 << 15, 15), reg(65535, 12), reg(65535, 0),
                           reg(1 << 15, 63)}) {
      const SoftmaxRow rs = softmax_row(spread, v, alpha, f);
      EXPECT_EQ(rs.out[0], lo * s) << "alpha=" << alpha;
      const auto ref = ref_row(spread, v, alpha, f.alpha_mant_bits, fo);
      for (int c = 1; c < 3; ++c) {
        EXPECT_LE(std::fabs(static_cast<double>(rs.out[static_cast<size_t>(c)]) - ref[static_cast<size_t>(c)]), 1.0)
            << "alpha=" << alpha << " c=" << c;
      }
    }
  }
}

TEST(SoftmaxRowDirected, DvDiffersFromDAndEmptyRows) {
  // r_d3: d = 3, dv = 5. Query 0 keeps key 2 only, query 1 keeps nothing, query 2 keeps keys 0 and 3 equally.
  const auto cfg = core::load_attention_config(ACCELGEN_SOURCE_DIR "/configs/regression/r_d3.json");
  const SoftmaxFormat f = default_softmax_format(cfg);
  ScoreResults s;
  s.score = rows({{1, 2, 30, 4}, {5, 6, 7, 8}, {-9, 0, 0, -9}});
  s.steps = IntGrid::Zero(3, 4);
  s.kept = BoolGrid::Zero(3, 4);
  s.kept(0, 2) = true;
  s.kept(2, 0) = s.kept(2, 3) = true;
  const auto v = rows({{1, 2, 3, 4, 5}, {-32, 31, 0, 1, -1}, {-32, 31, 7, -7, 0}, {3, -3, 3, -3, 2}});
  const AttentionOutput out = attention_output(s, v, reg(777, 2), f);
  ASSERT_EQ(out.o.rows(), 3);
  ASSERT_EQ(out.o.cols(), 5);
  EXPECT_EQ(out.empty, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(times(out.o, 0, 1), times(v, 2, 4));
  EXPECT_EQ(times(out.o, 1, 1), (std::vector<int64_t>{0, 0, 0, 0, 0}));
  // (V0 + V3) / 2 * 4 = 2 * (V0 + V3) exactly: {8, -2, 12, 2, 14}.
  EXPECT_EQ(times(out.o, 2, 1), (std::vector<int64_t>{8, -2, 12, 2, 14}));
  const Eigen::MatrixXd fl = attention_output_float(s, v, reg(777, 2), f);
  EXPECT_DOUBLE_EQ(fl(0, 0), -128.0);
  EXPECT_DOUBLE_EQ(fl(1, 3), 0.0);
  EXPECT_DOUBLE_EQ(fl(2, 4), 14.0);
}

TEST(SoftmaxRowDirected, EmptyKeptSetIsZeroAndFlagged) {
  const auto v = rows({{1, 2}, {3, 4}});
  const SoftmaxRow r = softmax_row({}, v, 5, fmt(20, 2, 19, 8, 8));
  EXPECT_TRUE(r.empty);
  EXPECT_EQ(r.out, (std::vector<int64_t>{0, 0}));
}

TEST(SoftmaxRowDirected, RejectsBadKeptAndV) {
  const auto v = rows({{1, 2}, {3, 400}});
  const SoftmaxFormat f = fmt(20, 2, 19, 8, 8);
  EXPECT_THROW(softmax_row({{2, 0}}, v, 5, f), core::InputError);
  EXPECT_THROW(softmax_row({{-1, 0}}, v, 5, f), core::InputError);
  EXPECT_THROW(softmax_row({{0, 0}, {0, 1}}, v, 5, f), core::InputError);
  try {
    softmax_row({{1, 0}}, v, 5, f);
    ADD_FAILURE() << "V out of range accepted";
  } catch (const core::InputError& e) {
    EXPECT_EQ(e.where(), "V[1][1]");
  }
  ScoreResults s;
  s.score = core::IntMatrix::Zero(1, 3);
  s.steps = IntGrid::Zero(1, 3);
  s.kept = BoolGrid::Constant(1, 3, true);
  EXPECT_THROW(attention_output(s, v, 5, f), core::InputError);  // 3 keys, 2 V rows
  EXPECT_THROW(attention_output_float(s, v, 5, f), core::InputError);
}

// ---------------------------------------------------------------- accuracy against float


TEST(SoftmaxAccuracy, RegressionConfigsWithinOneLsb) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(ACCELGEN_SOURCE_DIR "/configs/regression")) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    const core::AttentionConfig cfg = core::load_attention_config(path.string());
    const SoftmaxFormat f = default_softmax_format(cfg);
    // Doc's bound before the final rounding, in output LSB, for n = max_keys kept keys.
    const double bound = output_error_bound(f, cfg.max_keys);
    EXPECT_LT(bound, 0.5) << "defaults must leave room for the final rounding";
    ErrStats st, pre;
    int64_t kept_total = 0, empty_total = 0, differs = 0;
    for (const char* kind : {"gaussian", "peaky"}) {
      for (uint64_t seed : {1, 2, 3, 4, 5}) {
        SCOPED_TRACE(testing::Message() << cfg.name << " kind=" << kind << " seed=" << seed);
        const int lq = 12, lk = cfg.max_keys;
        const core::AttentionWorkload w = core::make_workload(cfg, kind, lq, lk, seed);
        const uint64_t alpha = core::quantize_alpha(w.params.softmax_scale, cfg).bits;
        const ScoreResults sc = score_all(w.q, w.k, cfg.wk, w.params.theta, cfg.dense_baseline);
        const AttentionOutput out = attention_output(sc, w.v, alpha, f);
        const Eigen::MatrixXd fl = attention_output_float(sc, w.v, alpha, f);
        ASSERT_EQ(out.o.rows(), lq);
        ASSERT_EQ(out.o.cols(), cfg.dv);
        for (int i = 0; i < lq; ++i) {
          Kept kept;
          for (int j = 0; j < lk; ++j)
            if (sc.kept(i, j)) kept.emplace_back(j, sc.score(i, j));
          kept_total += static_cast<int64_t>(kept.size());
          ASSERT_EQ(out.empty[static_cast<size_t>(i)], kept.empty()) << "query " << i;
          if (kept.empty()) {
            ++empty_total;
            for (int c = 0; c < cfg.dv; ++c) ASSERT_EQ(out.o(i, c), 0);
            continue;
          }
          const auto ref = ref_row(kept, w.v, alpha, cfg.alpha_mant_bits, f.out_frac_bits);
          const auto unr = unrounded_row(kept, w.v, alpha, f);
          for (int c = 0; c < cfg.dv; ++c) {
            const double err = std::fabs(static_cast<double>(out.o(i, c)) - ref[static_cast<size_t>(c)]);
            st.add(err);
            pre.add(std::fabs(unr[static_cast<size_t>(c)] - ref[static_cast<size_t>(c)]));
            if (static_cast<double>(out.o(i, c)) != round_away(ref[static_cast<size_t>(c)])) ++differs;
            ASSERT_LE(err, 1.0) << "query " << i << " col " << c << ": o=" << out.o(i, c)
                                << " ref=" << ref[static_cast<size_t>(c)];
            ASSERT_NEAR(fl(i, c), ref[static_cast<size_t>(c)], 1e-9) << "float reference, query " << i;
          }
        }
      }
    }
    std::cout << "[ accuracy  ] " << cfg.name << " (E=" << f.exp_frac_bits << " L=" << f.exp_lut_bits
              << " F_o=" << f.out_frac_bits << "): max " << st.max << " LSB, mean " << st.mean() << " LSB over "
              << st.n << " elements (" << kept_total << " kept scores, " << empty_total
              << " empty rows); before rounding max " << pre.max << " mean " << pre.mean() << " LSB (doc bound "
              << bound << "); " << differs << " elements differ from round(float)\n";
    EXPECT_LE(pre.max, bound);
    RecordProperty(cfg.name + "_max_lsb", std::to_string(st.max));
    RecordProperty(cfg.name + "_mean_lsb", std::to_string(st.mean()));
    RecordProperty(cfg.name + "_max_lsb_before_rounding", std::to_string(pre.max));
  }
}

// Many kept keys with nearly equal scores, extreme V, and V chosen per key from the sign of that key's
// exponential error so that the errors add up (the worst case of the doc's bound), for several alphas.
TEST(SoftmaxAccuracy, StressNearlyEqualScoresExtremeV) {
  for (int fo : {0, 2}) {
    for (const core::AttentionConfig& cfg : {big_config(), core::AttentionConfig{}}) {
      const SoftmaxFormat f = default_softmax_format(cfg, fo);
      const int n = cfg.max_keys;
      const int64_t lo = core::signed_min(cfg.wv), hi = core::signed_max(cfg.wv);
      ErrStats st, pre;
      std::mt19937_64 rng(11);
      // alphas: exponents spanning ~0.01, 1, 3 and 12 octaves over the n keys, and random ones (random
      // normalized mantissa, shift 20..32: alpha in [2^-17, 2^-4)).
      std::vector<uint64_t> alphas;
      for (double span : {0.01, 1.0, 3.0, 12.0}) alphas.push_back(reg_of(static_cast<long double>(span) / n));
      for (int k = 0; k < 4; ++k) {
        alphas.push_back(reg((1 << 15) + rng() % (1 << 15), 20 + static_cast<int>(rng() % 13)));
      }
      for (uint64_t alpha : alphas) {
        SCOPED_TRACE(testing::Message() << "wv=" << cfg.wv << " max_keys=" << n << " F_o=" << fo << " alpha=" << alpha);
        Kept kept;
        for (int j = 0; j < n; ++j) kept.emplace_back(j, 5000 - j);  // consecutive scores
        // Exponential errors eps_j (chosen with the code under test; only the inputs depend on it).
        std::vector<int> sgn(static_cast<size_t>(n));
        std::vector<int64_t> e(static_cast<size_t>(n));
        for (int j = 0; j < n; ++j) {
          e[static_cast<size_t>(j)] = exp_fixed(exponent_fixed(static_cast<uint64_t>(j), alpha, f), f);
          const long double exact = std::ldexp(std::exp2(-alpha_of(alpha) * j), f.exp_frac_bits);
          sgn[static_cast<size_t>(j)] = static_cast<long double>(e[static_cast<size_t>(j)]) >= exact ? 1 : -1;
        }
        // Columns: V follows the error sign, the opposite sign, all-extreme alternating, random extremes.
        core::IntMatrix v(n, 4);
        for (int j = 0; j < n; ++j) {
          const bool up = sgn[static_cast<size_t>(j)] > 0;
          v(j, 0) = up ? hi : lo;
          v(j, 1) = up ? lo : hi;
          v(j, 2) = j % 2 ? hi : lo;
          v(j, 3) = rng() % 2 ? hi : lo;
        }
        const SoftmaxRow r = softmax_row(kept, v, alpha, f);
        const auto ref = ref_row(kept, v, alpha, f.alpha_mant_bits, fo);
        for (int c = 0; c < 4; ++c) {
          const double err = std::fabs(static_cast<double>(r.out[static_cast<size_t>(c)]) - ref[static_cast<size_t>(c)]);
          st.add(err);
          EXPECT_LE(err, 1.0) << "col " << c << ": o=" << r.out[static_cast<size_t>(c)] << " ref=" << ref[static_cast<size_t>(c)];
          // Unrounded hardware value sum e V / Z * 2^F_o (measures the doc's pre-rounding bound).
          long double a = 0, z = 0;
          for (int j = 0; j < n; ++j) {
            a += static_cast<long double>(e[static_cast<size_t>(j)]) * static_cast<long double>(v(j, c));
            z += static_cast<long double>(e[static_cast<size_t>(j)]);
          }
          pre.add(std::fabs(static_cast<double>(std::ldexp(a / z, fo)) - ref[static_cast<size_t>(c)]));
        }
      }
      const double bound = output_error_bound(f, n);
      EXPECT_LE(pre.max, bound);
      std::cout << "[ stress    ] wv=" << cfg.wv << " max_keys=" << n << " F_o=" << fo << " (E=" << f.exp_frac_bits
                << " L=" << f.exp_lut_bits << "): max " << st.max << " LSB, mean " << st.mean()
                << " LSB; before rounding max " << pre.max << " LSB (doc bound " << bound << ")\n";
    }
  }
}

// The case the doc's bound is built for: one dominant key (e = 2^E, no error) and n - 1 keys with tiny weights
// whose exponentials all lose almost a whole unit to the final shift (x / 2^F = E - k + small, so
// u = 2^E - small and e = floor(u / 2^(E-k)) = 2^k - 1 while e* ~ 2^k), with V at the opposite extreme: the
// errors add up coherently against a Z of only about 2^E.
TEST(SoftmaxAccuracy, StressDominantKeyWithManyTinyKeys) {
  for (int fo : {0, 2}) {
    for (const core::AttentionConfig& cfg : {big_config(), core::AttentionConfig{}}) {
      const SoftmaxFormat f = default_softmax_format(cfg, fo);
      const int n = cfg.max_keys, E = f.exp_frac_bits;
      const int64_t lo = core::signed_min(cfg.wv), hi = core::signed_max(cfg.wv);
      ErrStats st, pre;
      for (int k = 0; k <= 3; ++k) {
        for (int64_t small : {int64_t{1}, int64_t{37}, int64_t{512}}) {
          // alpha = 1 + a * 2^-15 (mant 2^15 + a, shift 15), gap D = E - k:
          // alpha * D = (E - k) + a * (E - k) * 2^-15, x = floor of that in units of 2^-F.
          const int64_t a = std::max<int64_t>(1, small / std::max(1, E - k));
          const uint64_t alpha = reg(static_cast<uint64_t>((1 << 15) + a), 15);
          SCOPED_TRACE(testing::Message() << "wv=" << cfg.wv << " n=" << n << " F_o=" << fo << " k=" << k
                                          << " alpha=" << alpha);
          Kept kept;
          kept.emplace_back(0, 100);
          for (int j = 1; j < n; ++j) kept.emplace_back(j, 100 - (E - k));
          core::IntMatrix v(n, 3);
          for (int j = 0; j < n; ++j) {
            v(j, 0) = j == 0 ? hi : lo;
            v(j, 1) = j == 0 ? lo : hi;
            v(j, 2) = j == 0 ? 0 : (j % 2 ? hi : lo);
          }
          const SoftmaxRow r = softmax_row(kept, v, alpha, f);
          const auto ref = ref_row(kept, v, alpha, f.alpha_mant_bits, fo);
          const auto unr = unrounded_row(kept, v, alpha, f);
          for (int c = 0; c < 3; ++c) {
            const double err = std::fabs(static_cast<double>(r.out[static_cast<size_t>(c)]) - ref[static_cast<size_t>(c)]);
            st.add(err);
            pre.add(std::fabs(unr[static_cast<size_t>(c)] - ref[static_cast<size_t>(c)]));
            EXPECT_LE(err, 1.0) << "col " << c << ": o=" << r.out[static_cast<size_t>(c)]
                                << " ref=" << ref[static_cast<size_t>(c)];
          }
        }
      }
      const double bound = output_error_bound(f, n);
      EXPECT_LE(pre.max, bound);
      std::cout << "[ tiny keys ] wv=" << cfg.wv << " max_keys=" << n << " F_o=" << fo << " (E=" << E
                << " L=" << f.exp_lut_bits << "): max " << st.max << " LSB, mean " << st.mean()
                << " LSB; before rounding max " << pre.max << " LSB (doc bound " << bound << ")\n";
    }
  }
}

}  // namespace
}  // namespace accelgen::golden
