// accelgen::golden — internal to the fast model (fast_model.cpp): its exact score kernels. Not part of the
// public API (golden/fast_model.h: fast_score).
// May include: core/, Eigen and golden/ only.
#pragma once

#include "core/config.h"
#include "core/workload.h"
#include "golden/fast_model.h"

namespace accelgen::golden::fast_internal {

// Steps, kept flags and exact scores of every (query, key) pair of w, equal to golden::score_all's (see
// FastScores): the narrow kernels (SSE2, or AVX2 when the CPU has it) when no partial sum can leave 31 bits,
// else the bound of docs/semantics.md step by step in 64 bits. The inputs must already be checked (fast_model.cpp).
FastScores score_unchecked(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

}  // namespace accelgen::golden::fast_internal
