// accelgen::core — N:M array workloads: a directory with x.npy [R, K] and w.npy [K, C], dense
// signed integer matrices (the testbench driver compresses w per docs/nm_array.md).
//
// Loading validates against the config (shapes, K <= max_k, element ranges, and for an N:M config
// that w is n:m sparse, naming the first offending (group, column) as `accelgen compress` does), so
// no later stage sees a GEMM the array cannot run. The dense baseline accepts any w.
#pragma once

#include <cstdint>
#include <string>

#include "core/nm_config.h"
#include "core/tensor.h"

namespace accelgen::core {

struct NmWorkload {
  IntMatrix x;  // [R, K] activations
  IntMatrix w;  // [K, C] weights, dense form
};

// Throws InputError naming <dir>/x.npy or <dir>/w.npy and the allowed range.
void validate_nm_workload(const NmWorkload& w, const NmConfig& c, const std::string& dir);
NmWorkload load_nm_workload(const std::string& dir, const NmConfig& c);

// A synthetic GEMM: x uniform over the wx-bit range, w n:m sparse in groups of m along k (also for
// the dense baseline, so a baseline and its N:M design run the same workload), each (group, column)
// with a random number 0..n of nonzeros; extremes (most negative, largest) often. Throws InputError
// for shapes out of range (R, C >= 1, 1 <= K <= max_k).
NmWorkload make_nm_workload(const NmConfig& c, int64_t r, int64_t k, int64_t cols, uint64_t seed);

// Writes x.npy and w.npy through a temporary directory renamed into place; an existing `dir` is
// replaced only if it holds an x.npy (or is empty).
void write_nm_workload(const NmWorkload& w, const std::string& dir);

}  // namespace accelgen::core
