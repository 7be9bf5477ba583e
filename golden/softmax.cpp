// accelgen::golden — softmax/xV back-end functional model (docs/softmax.md), see softmax.h.
// May include: core/, Eigen and golden/functional.h only.
//
// Every quantity of docs/softmax.md is an exact integer here. Widths (docs/softmax.md "Widths", worst case of the
// allowed formats): the product mant * d needs up to 32 + 64 bits (unsigned __int128), the exponent x saturates
// at XW = F + clog2(E + 2) <= 46 bits (int64); e <= 2^E <= 2^48 fits int64; Z and A_c, and the rounding numerator
// 2 * |A_c| * 2^F_o + Z (up to E + wv + log2(n) + F_o + 1 bits, 64 bits already for the largest default
// config), are __int128 with checked arithmetic: an overflow throws std::logic_error instead of wrapping.
#include "golden/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace accelgen::golden {
namespace {

// GCC/Clang 128-bit integers (__extension__: no -Wpedantic warning for the non-ISO type).
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

void check_range(const char* field, int value, int lo, int hi) {
  if (value < lo || value > hi) {
    throw core::InputError(std::string("softmax.") + field, std::to_string(value) + " outside the allowed range [" +
                                                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
}

i128 checked_add(i128 a, i128 b) {
  i128 r;
  if (__builtin_add_overflow(a, b, &r)) throw std::logic_error("softmax: 128-bit overflow in a sum");
  return r;
}

i128 checked_mul(i128 a, i128 b) {
  i128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw std::logic_error("softmax: 128-bit overflow in a product");
  return r;
}

// ---------------------------------------------------------------- exp table (step 4)

// 2^E * 2^(-i / 2^L) to about 106 significant bits: exp(-ln2 * t) by its Taylor series in binary128 (basic
// operations only, so no libquadmath), ln 2 as the sum of two doubles (error 6e-34).
__float128 exp_entry_quad(int64_t i, int L, int E) {
  const __float128 ln2 = static_cast<__float128>(0x1.62e42fefa39efp-1) + static_cast<__float128>(0x1.abc9e3b39803fp-56);
  const __float128 t = ln2 * static_cast<__float128>(i) / static_cast<__float128>(int64_t{1} << L);  // in [0, ln2)
  __float128 term = 1, sum = 1;
  for (int k = 1; k <= 45; ++k) {
    term = term * -t / static_cast<__float128>(k);
    sum += term;
  }
  return sum * static_cast<__float128>(int64_t{1} << E);
}

// round half up of the exact 2^E * 2^(-i / 2^L). For 0 < i < 2^L the exact value is irrational (never a tie); the
// long double value (64-bit significand, glibc exp2l within a few ulp) decides unless its fraction is within 256
// ulp of 1/2, and then the binary128 value decides (within 2^(E-96) of 1/2 would be undecidable: throws).
int64_t exp_entry(int64_t i, int L, int E) {
  const int64_t n = int64_t{1} << L;
  if (i == 0) return int64_t{1} << E;
  if (i == n) return int64_t{1} << (E - 1);
  const long double y = std::ldexp(std::exp2(-static_cast<long double>(i) / static_cast<long double>(n)), E);
  const long double fl = std::floor(y);
  const long double frac = y - fl;  // exact: y >= 1
  if (std::fabs(frac - 0.5L) > std::ldexp(1.0L, E - 56)) {
    return static_cast<int64_t>(fl) + (frac > 0.5L ? 1 : 0);
  }
  const __float128 q = exp_entry_quad(i, L, E);
  const int64_t qfl = static_cast<int64_t>(q);  // q > 0: truncation is floor
  const __float128 qfrac = q - static_cast<__float128>(qfl);
  const __float128 half = 0.5;
  const __float128 diff = qfrac > half ? qfrac - half : half - qfrac;
  if (diff <= static_cast<__float128>(std::ldexp(1.0, E - 96))) {
    throw std::logic_error("softmax: exp table entry " + std::to_string(i) + " (E = " + std::to_string(E) +
                           ", L = " + std::to_string(L) + ") too close to a rounding tie to decide");
  }
  return qfl + (qfrac > half ? 1 : 0);
}

std::shared_ptr<const std::vector<int64_t>> cached_table(int E, int L) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, std::shared_ptr<const std::vector<int64_t>>> cache;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find({E, L});
    if (it != cache.end()) return it->second;
  }
  const int64_t n = int64_t{1} << L;
  auto t = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(n + 1));
  for (int64_t i = 0; i <= n; ++i) (*t)[static_cast<size_t>(i)] = exp_entry(i, L, E);
  for (int64_t i = 0; i < n; ++i) {
    if ((*t)[static_cast<size_t>(i)] < (*t)[static_cast<size_t>(i + 1)]) {
      throw std::logic_error("softmax: exp table not monotone at " + std::to_string(i));
    }
  }
  std::lock_guard<std::mutex> lock(mu);
  return cache.emplace(std::make_pair(E, L), std::move(t)).first->second;
}

// ---------------------------------------------------------------- exponential (steps 2-6)

// Steps 3-6 for an exponent x >= 0 (units 2^-F).
int64_t exp_core(u128 x, const SoftmaxFormat& f, const std::vector<int64_t>& T) {
  const int Fa = f.x_frac_bits, L = f.exp_lut_bits, E = f.exp_frac_bits;
  const u128 I = x >> Fa;                                                   // step 3
  if (I > static_cast<u128>(E)) return 0;                                   // step 6: 0 when I > E
  const int64_t fr = static_cast<int64_t>(x & ((u128{1} << Fa) - 1));     // 0 <= f < 2^F_a
  const int G = std::max(Fa, L);
  const int64_t g = fr << (G - Fa);
  const int64_t idx = g >> (G - L);
  const int64_t r = g - (idx << (G - L));                                   // 0 <= r < 2^(G-L)
  const int64_t ti = T[static_cast<size_t>(idx)], tn = T[static_cast<size_t>(idx + 1)];
  const i128 prod = checked_mul(static_cast<i128>(ti - tn), static_cast<i128>(r));  // step 5
  const int64_t u = ti - static_cast<int64_t>(prod >> (G - L));
  return u >> static_cast<int>(I);                                          // step 6
}

// m - s for m >= s (below 2^64).
uint64_t gap(int64_t m, int64_t s) { return static_cast<uint64_t>(static_cast<i128>(m) - static_cast<i128>(s)); }

// mant * d (< 2^96) and shift of an alpha register value.
u128 alpha_product(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f, int& shift) {
  const int m = f.alpha_mant_bits;
  const uint64_t mant = alpha_bits & ((uint64_t{1} << m) - 1);
  shift = static_cast<int>((alpha_bits >> m) & ((uint64_t{1} << core::kAlphaShiftBits) - 1));
  return static_cast<u128>(mant) * d;
}

void check_v_row(const core::IntMatrix& v, int j, int wv) {
  const int64_t lo = core::signed_min(wv), hi = core::signed_max(wv);
  for (Eigen::Index c = 0; c < v.cols(); ++c) {
    const int64_t x = v(j, c);
    if (x < lo || x > hi) {
      throw core::InputError("V[" + std::to_string(j) + "][" + std::to_string(c) + "]",
                             "value " + std::to_string(x) + " does not fit in " + std::to_string(wv) +
                                 "-bit signed [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
  }
}

// kept entries of query row i, keys in index order.
std::vector<std::pair<int, int64_t>> kept_of(const ScoreResults& s, Eigen::Index i) {
  std::vector<std::pair<int, int64_t>> kept;
  for (Eigen::Index j = 0; j < s.kept.cols(); ++j) {
    if (s.kept(i, j)) kept.emplace_back(static_cast<int>(j), s.score(i, j));
  }
  return kept;
}

void check_shapes(const ScoreResults& s, const core::IntMatrix& v) {
  if (s.kept.rows() != s.score.rows() || s.kept.cols() != s.score.cols()) {
    throw core::InputError("scores", "kept mask " + std::to_string(s.kept.rows()) + "x" +
                                         std::to_string(s.kept.cols()) + " differs from score matrix " +
                                         std::to_string(s.score.rows()) + "x" + std::to_string(s.score.cols()));
  }
  if (v.rows() != s.score.cols()) {
    throw core::InputError("V", std::to_string(v.rows()) + " rows but " + std::to_string(s.score.cols()) +
                                    " keys were scored");
  }
}

// Step 2 (the format is validated by the caller): x = min(floor(mant * d * 2^F / 2^shift), 2^XW - 1).
int64_t exponent_of(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f) {
  int shift = 0;
  const u128 p = alpha_product(d, alpha_bits, f, shift);
  const u128 lim = (u128{1} << (f.x_frac_bits + core::clog2(static_cast<uint64_t>(f.exp_frac_bits) + 2))) - 1;
  const int F = f.x_frac_bits;
  u128 x;
  if (shift >= F) {
    x = p >> (shift - F);  // floor(p / 2^(shift - F)); shift - F <= 63
  } else {
    x = p > (lim >> (F - shift)) ? lim : p << (F - shift);  // p << (F - shift) > lim: saturate
  }
  return static_cast<int64_t>(std::min(x, lim));
}

}  // namespace

void validate_softmax_format(const SoftmaxFormat& f) {
  check_range("x_frac_bits", f.x_frac_bits, 0, kMaxXFracBits);
  check_range("out_frac_bits", f.out_frac_bits, 0, kMaxOutFracBits);
  check_range("exp_frac_bits", f.exp_frac_bits, 1, kMaxExpFracBits);
  check_range("exp_lut_bits", f.exp_lut_bits, 0, kMaxExpLutBits);
  check_range("wv", f.wv, kMinWv, kMaxWv);
  check_range("alpha_mant_bits", f.alpha_mant_bits, kMinAlphaMantBits, kMaxAlphaMantBits);
}

SoftmaxFormat default_softmax_format(const core::AttentionConfig& c) {
  check_range("out_frac_bits", c.out_frac_bits, 0, kMaxOutFracBits);
  const core::AttentionWidths w = core::widths(c);
  SoftmaxFormat f{};
  f.x_frac_bits = w.xf;  // wv + F_o + 4
  f.alpha_mant_bits = c.alpha_mant_bits;
  f.out_frac_bits = c.out_frac_bits;
  f.wv = c.wv;
  f.exp_frac_bits = w.ef;  // wv + F_o + clog2(max_keys) + 3
  f.exp_lut_bits = w.lb;   // config value, or ceil((wv + F_o) / 2)
  validate_softmax_format(f);
  return f;
}

SoftmaxFormat default_softmax_format(const core::AttentionConfig& c, int out_frac_bits) {
  check_range("out_frac_bits", out_frac_bits, 0, kMaxOutFracBits);
  core::AttentionConfig with = c;
  with.out_frac_bits = out_frac_bits;
  return default_softmax_format(with);
}

std::vector<int64_t> exp_table(const SoftmaxFormat& f) {
  validate_softmax_format(f);
  return *cached_table(f.exp_frac_bits, f.exp_lut_bits);
}

int exponent_width(const SoftmaxFormat& f) {
  return f.x_frac_bits + core::clog2(static_cast<uint64_t>(f.exp_frac_bits) + 2);
}

int64_t exponent_fixed(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f) {
  validate_softmax_format(f);
  return exponent_of(d, alpha_bits, f);
}

double exponent_real(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f) {
  validate_softmax_format(f);
  int shift = 0;
  const u128 p = alpha_product(d, alpha_bits, f, shift);
  return std::ldexp(static_cast<double>(p), -shift);
}

int64_t exp_fixed(int64_t x, const SoftmaxFormat& f) {
  validate_softmax_format(f);
  if (x < 0) throw std::invalid_argument("exp_fixed: exponent " + std::to_string(x) + " < 0");
  return exp_core(static_cast<u128>(x), f, *cached_table(f.exp_frac_bits, f.exp_lut_bits));
}

double exp_error_bound(const SoftmaxFormat& f) {
  validate_softmax_format(f);
  const double ln2 = std::log(2.0);
  return std::ldexp(ln2 * ln2 / 8.0, f.exp_frac_bits - 2 * f.exp_lut_bits) + 3.0;
}

double output_error_bound(const SoftmaxFormat& f, int64_t n) {
  validate_softmax_format(f);
  const double ln2 = std::log(2.0);
  const double rel_i = ln2 * ln2 / 8.0 * std::ldexp(1.0, -2 * f.exp_lut_bits) *
                       std::exp2(std::ldexp(1.0, -f.exp_lut_bits));
  const double rel_x = std::expm1(ln2 * std::ldexp(1.0, -f.x_frac_bits));  // 2^(2^-F) - 1
  const double rel = (1.0 + rel_i) * (1.0 + rel_x) - 1.0;
  const double per_key = 1.5 * static_cast<double>(n) * std::ldexp(1.0, -f.exp_frac_bits);
  return std::ldexp(1.0, f.wv + f.out_frac_bits) * (rel + per_key) / (1.0 - rel);
}

SoftmaxRow softmax_row(const std::vector<std::pair<int, int64_t>>& kept, const core::IntMatrix& v,
                       uint64_t alpha_bits, const SoftmaxFormat& f) {
  validate_softmax_format(f);
  const Eigen::Index dv = v.cols();
  SoftmaxRow row;
  row.out.assign(static_cast<size_t>(dv), 0);
  if (kept.empty()) {  // step 9
    row.empty = true;
    return row;
  }
  std::vector<bool> seen(static_cast<size_t>(v.rows()), false);
  for (const auto& [j, s] : kept) {
    if (j < 0 || j >= v.rows()) {
      throw core::InputError("kept", "key index " + std::to_string(j) + " outside V's rows [0, " +
                                         std::to_string(v.rows()) + ")");
    }
    if (seen[static_cast<size_t>(j)]) throw core::InputError("kept", "key index " + std::to_string(j) + " repeated");
    seen[static_cast<size_t>(j)] = true;
    check_v_row(v, j, f.wv);
  }
  const auto table = cached_table(f.exp_frac_bits, f.exp_lut_bits);

  int64_t m = kept.front().second;  // step 1
  for (const auto& ks : kept) m = std::max(m, ks.second);

  i128 Z = 0;  // step 7
  std::vector<i128> A(static_cast<size_t>(dv), 0);
  for (const auto& [j, s] : kept) {
    const int64_t x = exponent_of(gap(m, s), alpha_bits, f);       // step 2
    const int64_t e = exp_core(static_cast<u128>(x), f, *table);  // steps 3-6
    if (e == 0) continue;
    Z = checked_add(Z, e);
    for (Eigen::Index c = 0; c < dv; ++c) {
      A[static_cast<size_t>(c)] = checked_add(A[static_cast<size_t>(c)], checked_mul(e, v(j, c)));
    }
  }
  if (Z < (i128{1} << f.exp_frac_bits)) throw std::logic_error("softmax: Z < 2^E (maximum key lost)");

  const i128 two_z = checked_mul(Z, 2);  // step 8
  for (Eigen::Index c = 0; c < dv; ++c) {
    const i128 a = A[static_cast<size_t>(c)];
    const i128 mag = a < 0 ? -a : a;
    const i128 num = checked_add(checked_mul(checked_mul(mag, 2), i128{1} << f.out_frac_bits), Z);
    const i128 q = num / two_z;
    if (q > std::numeric_limits<int64_t>::max()) throw std::logic_error("softmax: output exceeds 64 bits");
    row.out[static_cast<size_t>(c)] = static_cast<int64_t>(a < 0 ? -q : q);
  }
  return row;
}

AttentionOutput attention_output(const ScoreResults& scores, const core::IntMatrix& v, uint64_t alpha_bits,
                                 const SoftmaxFormat& f) {
  validate_softmax_format(f);
  check_shapes(scores, v);
  const Eigen::Index lq = scores.score.rows(), dv = v.cols();
  AttentionOutput out;
  out.o = core::IntMatrix::Zero(lq, dv);
  out.empty.assign(static_cast<size_t>(lq), false);
  for (Eigen::Index i = 0; i < lq; ++i) {
    const SoftmaxRow r = softmax_row(kept_of(scores, i), v, alpha_bits, f);
    for (Eigen::Index c = 0; c < dv; ++c) out.o(i, c) = r.out[static_cast<size_t>(c)];
    out.empty[static_cast<size_t>(i)] = r.empty;
  }
  return out;
}

Eigen::MatrixXd attention_output_float(const ScoreResults& scores, const core::IntMatrix& v, uint64_t alpha_bits,
                                       const SoftmaxFormat& f) {
  validate_softmax_format(f);
  check_shapes(scores, v);
  const Eigen::Index lq = scores.score.rows(), dv = v.cols();
  Eigen::MatrixXd o = Eigen::MatrixXd::Zero(lq, dv);
  for (Eigen::Index i = 0; i < lq; ++i) {
    const auto kept = kept_of(scores, i);
    if (kept.empty()) continue;
    int64_t m = kept.front().second;
    for (const auto& ks : kept) m = std::max(m, ks.second);
    double z = 0;
    Eigen::VectorXd a = Eigen::VectorXd::Zero(dv);
    for (const auto& [j, s] : kept) {
      // 2^(alpha * (s - m)) with alpha * (m - s) = mant * (m - s) * 2^-shift formed exactly, then rounded
      // once to double (no truncation to F fraction bits: that is part of the hardware's error).
      const double p = std::exp2(-exponent_real(gap(m, s), alpha_bits, f));
      z += p;
      for (Eigen::Index c = 0; c < dv; ++c) a(c) += p * static_cast<double>(v(j, c));
    }
    for (Eigen::Index c = 0; c < dv; ++c) o(i, c) = std::ldexp(a(c) / z, f.out_frac_bits);
  }
  return o;
}

}  // namespace accelgen::golden
