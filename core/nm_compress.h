// accelgen::core — N:M compression of a dense integer weight matrix (docs/semantics.md) and the
// compressed-weights directory that `accelgen compress` writes (docs/formats.md).
//
// Layout and canonical slot rule: docs/nm_array.md "Compressed weight layout". For W [K, C] and a
// pattern n:m there are G = ceil(K / m) groups; each (group, column) has exactly n slots of
// (value, index), indices distinct and increasing in [0, m). Used by the CLI, the golden model and
// the testbench driver; knows nothing about RTL.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "core/tensor.h"

namespace accelgen::core {

enum class Prune {
  kNone,       // a group with more than n nonzeros is an error
  kMagnitude,  // keep the n largest |w| of each group, ties to the lower index
};

struct NmCompressed {
  int n = 1, m = 1;
  int64_t k = 0;     // rows of the dense W (K)
  int64_t cols = 0;  // columns of W (C)
  std::vector<int64_t> values;   // [groups][cols][n], C order
  std::vector<int64_t> indices;  // same shape, each in [0, m)

  int64_t groups() const { return (k + m - 1) / m; }
  size_t at(int64_t g, int64_t c, int s) const {
    return static_cast<size_t>((g * cols + c) * n + s);
  }
  bool operator==(const NmCompressed&) const = default;
};

// Throws InputError(n_field / m_field, ...) unless m is in {1, 2, 4, 8, 16} and 1 <= n <= m.
void check_nm_pattern(int n, int m, const std::string& n_field, const std::string& m_field);

struct NmViolation {
  int64_t group, column, nonzeros;
};
// The first (group, column), group major, with more than n nonzeros; nullopt if W is n:m sparse.
std::optional<NmViolation> first_nm_violation(const IntMatrix& w, int n, int m);

// Compresses W [K, C] (K, C >= 1). Without pruning, a matrix that is not n:m sparse throws
// InputError(w_name, "group G, column C has X nonzeros, n:m allows at most n").
NmCompressed compress(const IntMatrix& w, int n, int m, Prune prune,
                      const std::string& w_name = "w.npy");

// The dense W [K, C] the compressed form stands for. Checks the form first (validate_compressed).
IntMatrix decompress(const NmCompressed& c);

// Throws InputError naming `where` (or the file) unless: shapes match, every index is in [0, m),
// indices of each (group, column) strictly increase, and a slot pointing at a padding row (k >= K)
// holds 0.
void validate_compressed(const NmCompressed& c, const std::string& where);

// Number of nonzero entries (what pruning removes is the difference before and after).
int64_t count_nonzeros(const IntMatrix& w);

// The directory of docs/formats.md: values.npy, indices.npy ([G, C, n] each) and meta.json
// ({format, n, m, k, cols, groups, index_bits, prune}). Written through a temporary directory
// renamed into place; an existing `dir` is replaced only if it holds a meta.json.
void write_compressed(const NmCompressed& c, Prune prune, const std::string& dir);
NmCompressed read_compressed(const std::string& dir);

// Upper bound on K, C and the slot count G * C * n of a compressed form (far above any weight matrix
// a config can take, max_k * cols).
inline constexpr int64_t kMaxCompressedSlots = int64_t{1} << 40;

// read_compressed's checks on parts already read: meta.json (named meta_path in messages) and the
// two arrays (each with the name its messages use); `where` names the whole for validate_compressed.
struct NamedArray {
  const NpyArray& array;
  std::string name;
};
NmCompressed compressed_from_parts(const nlohmann::json& meta, const std::string& meta_path,
                                   const NamedArray& values, const NamedArray& indices,
                                   const std::string& where);

}  // namespace accelgen::core
