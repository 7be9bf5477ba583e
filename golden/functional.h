// accelgen::golden — bit-exact functional model of the bit-serial attention score unit.
//
// Owns: docs/semantics.md "Scores and the kept set" to "Early termination and n_ij" for one head: exact scores
// s_ij, the per-score step count n_ij (first m with U_m < theta, else Wk) and the kept set. Written straight
// from docs/semantics.md (accumulator A, bound U_m = A*2^b + (2^b-1)*Qpos, c_b = -1 on the sign bit); it
// deliberately does NOT use the shared bound table (tc_b = ceil(T_b/2^b)) of docs/microarchitecture.md, so
// that the RTL's table formulation is checked against an independent one. May include: core/ and Eigen only.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "core/tensor.h"
#include "core/workload.h"

namespace accelgen::golden {

// Outcome of scoring one (query, key) pair.
struct KeyResult {
  int64_t score = 0;  // exact s_ij
  int steps = 0;      // n_ij: bit steps the score costs (Wk when never below theta, or in dense mode)
  bool kept = false;  // s_ij >= theta (always true in dense mode)

  bool operator==(const KeyResult&) const = default;
};

// Qpos_i = sum_t max(Q[row][t], 0).
int64_t qpos(const core::IntMatrix& q, Eigen::Index row);

// Scores query row `i` of `q` against key row `j` of `k` (K elements `wk`-bit signed). With `dense`,
// termination and pruning are off: kept, `wk` steps. Throws core::InputError when the rows differ in length
// or a K element does not fit in `wk` bits.
KeyResult score_key(const core::IntMatrix& q, Eigen::Index i, const core::IntMatrix& k, Eigen::Index j,
                    int wk, int64_t theta, bool dense);

// U_1 .. U_wk of query row i against key row j (docs/semantics.md "The upper bound U_m"); the last is s_ij.
// Cycle models use it to terminate a lane against a threshold that changes while the key is scored.
std::vector<int64_t> upper_bounds(const core::IntMatrix& q, Eigen::Index i, const core::IntMatrix& k,
                                  Eigen::Index j, int wk);

using IntGrid = Eigen::Matrix<int, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using BoolGrid = Eigen::Matrix<bool, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// One head, all queries: element (i, j) is query i against key j.
struct ScoreResults {
  core::IntMatrix score;  // Lq x Lk exact scores (of every pair, visible or not)
  IntGrid steps;          // n_ij; 0 for a masked key. Relative mode: the ideal n*_ij against M_i - delta
  BoolGrid kept;          // j in S_i (never a masked key)
  BoolGrid visible;       // j visible to i (all true without causal masking)

  int64_t total_steps() const;   // sum of n_ij (relative mode: the ideal bit steps)
  int64_t kept_count() const;    // number of kept (i, j)
  int64_t masked_count() const;  // number of (i, j) with j invisible to i
  int empty_rows() const;        // queries with an empty kept set
};

// Scores every query of `q` against every key of `k` with one absolute threshold, every key visible.
ScoreResults score_all(const core::IntMatrix& q, const core::IntMatrix& k, int wk, int64_t theta, bool dense);

// The same under a workload's rule: causal masking (p.causal, p.causal_offset) and the threshold mode
// (absolute theta, or relative delta against M_i, the largest score over the visible keys of query i).
ScoreResults score_all(const core::IntMatrix& q, const core::IntMatrix& k, int wk, const core::AttentionParams& p,
                       bool dense);

}  // namespace accelgen::golden
