// accelgen::core — integer matrix type used for Q, K, V and every exact-integer computation.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace accelgen::core {

// Row-major so that row i of Q/K/V (one query, key or value vector) is contiguous, matching .npy
// C order and the order the hardware streams rows in.
using IntMatrix = Eigen::Matrix<int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

}  // namespace accelgen::core
