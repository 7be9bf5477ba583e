// accelgen::golden — bit-exact functional model of the softmax/xV back-end (docs/semantics.md "Softmax and
// output"), written straight from docs/softmax.md: the exp table, the interpolated fixed-point exponential, the
// sums Z and A_c and the final rounded division. The RTL must match softmax_row / attention_output bit for bit;
// attention_output_float is the float64 evaluation of docs/semantics.md's formula that the accuracy requirement
// (every element within 1 LSB) is stated against. May include: core/, Eigen and golden/functional.h only.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/tensor.h"
#include "golden/functional.h"

namespace accelgen::golden {

// Fixed-point formats of docs/softmax.md ("Parameters").
struct SoftmaxFormat {
  int x_frac_bits;           // F: fraction bits of the exponent x = alpha * (max - s)
  int out_frac_bits;         // F_o: fraction bits of the output O
  int exp_frac_bits;         // E: fraction bits of the exponentials (e = 2^E for the maximum-score key)
  int exp_lut_bits;          // L: the exp table has 2^L + 1 entries
  int wv;                    // V element width (signed)
  int alpha_mant_bits = 16;  // M: alpha register = (shift << M) | mant, alpha = mant * 2^-shift

  bool operator==(const SoftmaxFormat&) const = default;
};

// Allowed ranges (checked by validate_softmax_format; the defaults of every valid config lie inside).
inline constexpr int kMaxXFracBits = 40;       // config: wv + out_frac_bits + 4 <= 28
inline constexpr int kMinAlphaMantBits = 1, kMaxAlphaMantBits = 32;  // config: 13..24
inline constexpr int kMaxOutFracBits = 16;
inline constexpr int kMaxExpFracBits = 48;
inline constexpr int kMaxExpLutBits = 22;     // table of 2^22 + 1 entries at most
inline constexpr int kMinWv = 2, kMaxWv = 16;  // as config.wv

// Throws core::InputError naming the field ("softmax.<field>") and the allowed range.
void validate_softmax_format(const SoftmaxFormat& f);

// The format of a config (docs/softmax.md): F = wv + F_o + 4, F_o = c.out_frac_bits,
// E = wv + F_o + clog2(max_keys) + 3, L = c.exp_lut_bits or, when that is 0, ceil((wv + F_o) / 2),
// M = c.alpha_mant_bits. Validated.
SoftmaxFormat default_softmax_format(const core::AttentionConfig& c);
// The same with F_o overridden (F, E and a derived L follow it).
SoftmaxFormat default_softmax_format(const core::AttentionConfig& c, int out_frac_bits);

// The exp table T[i] = round(2^E * 2^(-i / 2^L)), i = 0 .. 2^L, round half up of the exact value
// (T[0] = 2^E, T[2^L] = 2^(E-1)). Cached per (E, L); thread-safe.
std::vector<int64_t> exp_table(const SoftmaxFormat& f);

// Width XW of the exponent x: F + clog2(E + 2) (docs/softmax.md step 2; x saturates at 2^XW - 1).
int exponent_width(const SoftmaxFormat& f);

// docs/softmax.md step 2: the exponent of a key whose score is d below the maximum, in units of 2^-F:
// x = min(floor(mant * d * 2^F / 2^shift), 2^XW - 1) for alpha register value alpha_bits (any value:
// mant = the low M bits, shift = the next 6 bits; higher bits are ignored).
int64_t exponent_fixed(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f);

// The real exponent alpha * d = mant * d * 2^-shift that x approximates (rounded once to double).
double exponent_real(uint64_t d, uint64_t alpha_bits, const SoftmaxFormat& f);

// docs/softmax.md steps 3-6: e ~ 2^E * 2^(-x / 2^F) for an exponent x >= 0 in units of 2^-F.
// Throws std::invalid_argument for x < 0.
int64_t exp_fixed(int64_t x, const SoftmaxFormat& f);

// Bound of docs/softmax.md on |e - 2^E * 2^(-x / 2^F)| (units of 2^-E):
// eta = 2^E * (ln 2)^2 / 8 * 2^(-2L) + 3.
double exp_error_bound(const SoftmaxFormat& f);

// Bound of docs/softmax.md on |O_hw - O*| before the final rounding, in output LSB, for n kept keys, against
// the exact exponents alpha * d: 2^(wv+F_o) * (rel + 1.5 n 2^-E) / (1 - rel) with
// rel = (1 + rel_i)(1 + rel_x) - 1, rel_i = (ln 2)^2 / 8 * 2^(-2L) * 2^(2^-L) (interpolation) and
// rel_x = 2^(2^-F) - 1 (the truncation of x).
double output_error_bound(const SoftmaxFormat& f, int64_t n);

// One query's output.
struct SoftmaxRow {
  std::vector<int64_t> out;  // dv integers, units of 2^-F_o (the real value is out[c] / 2^F_o)
  bool empty = false;        // kept set empty: out is all zeros
};

// One query: its kept keys as (key index = row of v, exact score), any order, distinct indices; v is the head's
// V (Lk x dv, elements wv-bit signed); alpha_bits the alpha register value ((shift << M) | mant).
// Throws core::InputError for an index outside v, a repeated index or a V element that does not fit in wv bits.
SoftmaxRow softmax_row(const std::vector<std::pair<int, int64_t>>& kept, const core::IntMatrix& v,
                       uint64_t alpha_bits, const SoftmaxFormat& f);

// Whole head.
struct AttentionOutput {
  core::IntMatrix o;        // Lq x dv, units of 2^-F_o
  std::vector<bool> empty;  // Lq flags: query with an empty kept set (its row of o is zero)
};

// Every query of `scores` (kept mask and exact scores from score_all) through softmax_row, keys in index order.
// Throws core::InputError when v's row count differs from the number of keys.
AttentionOutput attention_output(const ScoreResults& scores, const core::IntMatrix& v, uint64_t alpha_bits,
                                 const SoftmaxFormat& f);

// float64 evaluation of docs/semantics.md's formula over the same kept sets with alpha = mant * 2^-shift:
// p_ij = 2^(alpha * s_ij) / sum_k 2^(alpha * s_ik) (max-subtracted), O = sum_j p_ij V[j][c], returned in units
// of 2^-F_o and not rounded; empty rows are zero.
Eigen::MatrixXd attention_output_float(const ScoreResults& scores, const core::IntMatrix& v, uint64_t alpha_bits,
                                       const SoftmaxFormat& f);

}  // namespace accelgen::golden
