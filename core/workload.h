// accelgen::core — attention workloads: a directory with q.npy, k.npy, v.npy and params.json.
//
// Loading validates everything against the config (shapes, element ranges for the configured bit
// widths, theta range, slot, softmax scale) and throws InputError naming the file and field, so no
// later stage ever sees a workload the hardware cannot represent. docs/workload.md has the format.
#pragma once

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/tensor.h"

namespace accelgen::core {

// How a slot's threshold is read (docs/semantics.md): absolute keeps s_ij >= theta; relative keeps
// s_ij >= M_i - delta, M_i the largest score over the query's visible keys.
enum class ThresholdMode { absolute, relative };

const char* to_string(ThresholdMode m);

struct AttentionParams {
  ThresholdMode mode = ThresholdMode::absolute;
  int64_t theta = 0;           // absolute pruning threshold in score units (mode absolute)
  int64_t delta = 0;           // relative threshold in score units, >= 0 (mode relative)
  double softmax_scale = 1.0;  // sigma: probabilities proportional to exp(sigma * s)
  int slot = 0;                // threshold slot (layer, head) the head uses
  bool causal = false;         // key j visible to query i iff j <= i + causal_offset
  int64_t causal_offset = 0;   // >= 0; resolved on load (params.json default: Lk - Lq)
};

// Number of keys visible to query i (keys 0 .. n-1): lk without causal masking, else
// min(lk, i + causal_offset + 1).
int64_t visible_keys(const AttentionParams& p, int64_t i, int64_t lk);

struct AttentionWorkload {
  IntMatrix q;  // [Lq, d]
  IntMatrix k;  // [Lk, d]
  IntMatrix v;  // [Lk, dv]
  AttentionParams params;
};

// The softmax scales every config supports (docs/semantics.md "Softmax and output").
inline constexpr double kMinSoftmaxScale = 1e-9;
inline constexpr double kMaxSoftmaxScale = 1e3;

// The alpha register: alpha = mant * 2^-shift (docs/semantics.md "Softmax and output").
struct AlphaRegister {
  uint64_t mant = 0;  // alpha_mant_bits bits, unsigned
  int shift = 0;      // kAlphaShiftBits bits, unsigned
  uint64_t bits = 0;  // register value (cfg address 0): (shift << alpha_mant_bits) | mant
  double value = 0;   // the real number it stands for, mant * 2^-shift ("the unit's scale")
};

// The quantized softmax scale: alpha = sigma * log2(e) rounded to nearest with an alpha_mant_bits-bit
// mantissa whose top bit is set (relative error <= 2^-alpha_mant_bits). Throws
// InputError("params.json: softmax_scale") with the allowed range for a sigma that is not a finite
// number in [kMinSoftmaxScale, kMaxSoftmaxScale].
AlphaRegister quantize_alpha(double softmax_scale, const AttentionConfig& c);
// Any register value (the low alpha_mant_bits + kAlphaShiftBits bits of `bits`) taken apart.
AlphaRegister decode_alpha(uint64_t bits, const AttentionConfig& c);

AttentionWorkload load_attention_workload(const std::string& dir, const AttentionConfig& c);
void validate_workload(const AttentionWorkload& w, const AttentionConfig& c, const std::string& dir);

// Synthetic workloads. "gaussian": i.i.d. rounded normals, theta at the 75th percentile of the scores.
// "peaky": each query is a noisy copy of a few keys, so few scores are large; theta at the 90th.
AttentionWorkload make_workload(const AttentionConfig& c, const std::string& kind, int lq, int lk,
                                uint64_t seed);

// Writes q.npy, k.npy, v.npy, params.json through a temporary directory renamed into place.
void write_workload(const AttentionWorkload& w, const std::string& dir);

}  // namespace accelgen::core
