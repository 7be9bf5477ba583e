// accelgen::golden — internal to the fast model (fast_model.cpp): one query's output row through the
// fixed-point softmax/xV of docs/softmax.md (steps 1-9), with the same arithmetic as golden::softmax_row.
// Not part of the public API.
// May include: core/, Eigen and golden/ only.
#pragma once

#include <cstdint>
#include <vector>

#include "core/config.h"
#include "core/tensor.h"
#include "golden/fast_model.h"
#include "golden/softmax.h"

namespace accelgen::golden::fast_internal {

struct SoftmaxCtx {
  SoftmaxFormat f;
  std::vector<int64_t> table;
  uint64_t alpha;      // the alpha register value
  uint64_t mant = 0;   // its mantissa
  int rsh = 0;         // its shift - F: x = p >> rsh (rsh >= 0) or p << -rsh, saturating at xlim
  uint64_t xlim = 0;   // 2^XW - 1
  bool narrow;  // every sum and the rounding numerator fit in int64
  bool exact_double;       // ... and every sum is an integer below 2^53: accumulate in doubles (vectorized)
  std::vector<double> vd;  // V as doubles (exact_double)
  bool interp64 = false;   // every |table[i] - table[i + 1]| * 2^(G - L) below 2^62: interpolate in int64
  uint64_t d_lim = 0;      // mant * d fits in 64 bits for d <= d_lim
};

// The context of one run: the format and exp table of cfg, the alpha register value, and which fast paths
// the widths allow for Lk = lk keys and the value matrix v.
SoftmaxCtx softmax_ctx(const core::AttentionConfig& cfg, uint64_t alpha_bits, int lk, const core::IntMatrix& v);

// Scratch buffers reused across the rows of a run.
struct RowScratch {
  std::vector<int64_t> acc;
  std::vector<double> accd;
  std::vector<int> idx;  // kept keys of the row, in index order
};

// Query i's output row (dv elements, units of 2^-out_frac_bits) from its kept keys' scores in sc.
std::vector<int64_t> output_row(const SoftmaxCtx& s, const FastScores& sc, int i, const core::IntMatrix& v,
                                RowScratch& scr);

}  // namespace accelgen::golden::fast_internal
