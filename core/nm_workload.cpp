#include "core/nm_workload.h"

#include <algorithm>
#include <filesystem>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "core/atomic_dir.h"
#include "core/config.h"
#include "core/error.h"
#include "core/nm_compress.h"
#include "core/npy.h"

namespace accelgen::core {

namespace fs = std::filesystem;

void validate_nm_workload(const NmWorkload& w, const NmConfig& c, const std::string& dir) {
  const std::string xf = (fs::path(dir) / "x.npy").string();
  const std::string wf = (fs::path(dir) / "w.npy").string();
  check_gemm_operands(c, w.x, w.w, xf, wf);
  // The N:M array has n slots per group: compress() names the first (group, column) with more.
  if (!c.dense_baseline) compress(w.w, c.n, c.m, Prune::kNone, wf);
}

NmWorkload load_nm_workload(const std::string& dir, const NmConfig& c) {
  if (!fs::is_directory(dir)) throw InputError(dir, "workload directory does not exist");
  NmWorkload w;
  w.x = read_npy((fs::path(dir) / "x.npy").string());
  w.w = read_npy((fs::path(dir) / "w.npy").string());
  validate_nm_workload(w, c, dir);
  return w;
}

namespace {

// One value of a `bits`-wide signed range: an extreme one time in four, else uniform.
int64_t random_value(std::mt19937_64& rng, int bits) {
  const int64_t lo = signed_min(bits), hi = signed_max(bits);
  if (rng() % 4 == 0) return rng() % 2 ? lo : hi;
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}

// Nonzeros of one (group, column): a random count 0..n at random positions of the group's rows.
void fill_group(std::mt19937_64& rng, IntMatrix& w, int64_t k0, int rows, int64_t col, int n,
                int bits) {
  std::vector<int> pos(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) pos[static_cast<size_t>(i)] = i;
  std::shuffle(pos.begin(), pos.end(), rng);
  const int nz = static_cast<int>(rng() % static_cast<uint64_t>(std::min(n, rows) + 1));
  for (int i = 0; i < nz; ++i) {
    const int64_t v = random_value(rng, bits);
    w(k0 + pos[static_cast<size_t>(i)], col) = v == 0 ? 1 : v;
  }
}

}  // namespace

NmWorkload make_nm_workload(const NmConfig& c, int64_t r, int64_t k, int64_t cols, uint64_t seed) {
  if (r < 1) throw InputError("--rows", fmt::format("R = {}; allowed >= 1", r));
  if (k < 1 || k > c.max_k) {
    throw InputError("--k", fmt::format("K = {}; allowed [1, max_k = {}]", k, c.max_k));
  }
  if (cols < 1) throw InputError("--cols", fmt::format("C = {}; allowed >= 1", cols));
  std::mt19937_64 rng(seed);
  NmWorkload w;
  w.x.resize(r, k);
  for (Eigen::Index i = 0; i < w.x.size(); ++i) w.x.data()[i] = random_value(rng, c.wx);
  w.w = IntMatrix::Zero(k, cols);
  for (int64_t k0 = 0; k0 < k; k0 += c.m) {
    const int rows = static_cast<int>(std::min<int64_t>(c.m, k - k0));
    for (int64_t col = 0; col < cols; ++col) fill_group(rng, w.w, k0, rows, col, c.n, c.ww);
  }
  return w;
}

void write_nm_workload(const NmWorkload& w, const std::string& dir) {
  write_dir_atomically(dir, "x.npy", [&](const fs::path& tmp) {
    write_npy((tmp / "x.npy").string(), w.x);
    write_npy((tmp / "w.npy").string(), w.w);
  });
}

}  // namespace accelgen::core
