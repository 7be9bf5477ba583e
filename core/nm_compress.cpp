// N:M compression, decompression and the compressed-weights directory (see nm_compress.h).
#include "core/nm_compress.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_dir.h"
#include "core/config.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "core/npy.h"

namespace accelgen::core {
namespace {

constexpr const char* kFormat = "accelgen-nm-compressed";

// |v| without overflow for INT64_MIN.
uint64_t magnitude(int64_t v) { return v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : v; }

// Rows of group g that exist in W (the last group may be cut by K).
int rows_in_group(int64_t k, int m, int64_t g) {
  return static_cast<int>(std::min<int64_t>(m, k - g * m));
}

std::vector<int> nonzero_positions(const IntMatrix& w, int m, int64_t g, int64_t c) {
  std::vector<int> pos;
  for (int i = 0; i < rows_in_group(w.rows(), m, g); ++i) {
    if (w(g * m + i, c) != 0) pos.push_back(i);
  }
  return pos;
}

// The n largest |w| among `pos`, ties to the lower index; returned in increasing index order.
std::vector<int> keep_largest(const IntMatrix& w, int m, int64_t g, int64_t c, std::vector<int> pos,
                              int n) {
  std::stable_sort(pos.begin(), pos.end(), [&](int a, int b) {
    return magnitude(w(g * m + a, c)) > magnitude(w(g * m + b, c));
  });
  pos.resize(static_cast<size_t>(n));
  std::sort(pos.begin(), pos.end());
  return pos;
}

// Canonical slot indices: the kept nonzeros plus the smallest unused indices, sorted.
std::vector<int> slot_indices(std::vector<int> kept, int n) {
  for (int i = 0; static_cast<int>(kept.size()) < n; ++i) {
    if (std::find(kept.begin(), kept.end(), i) == kept.end()) kept.push_back(i);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

[[noreturn]] void not_sparse(const std::string& w_name, const NmViolation& v, int n, int m) {
  throw InputError(w_name, fmt::format("group {}, column {} has {} nonzeros, {}:{} allows at most {}",
                                       v.group, v.column, v.nonzeros, n, m, n));
}

// K and C in [1, kMaxCompressedSlots] and G * C * n <= kMaxCompressedSlots, so that the slot count and
// every index computed from it fit int64 (a meta.json or an in-memory form may claim anything).
void check_sizes(const NmCompressed& c, const std::string& where) {
  if (c.k < 1 || c.cols < 1 || c.k > kMaxCompressedSlots || c.cols > kMaxCompressedSlots ||
      c.groups() * c.n > kMaxCompressedSlots / c.cols) {
    throw InputError(where, fmt::format("k = {}, cols = {}; allowed k >= 1, cols >= 1 and G * C * n <= {}", c.k,
                                        c.cols, kMaxCompressedSlots));
  }
}

int64_t get_meta_int(const nlohmann::json& j, const std::string& key, const std::string& file) {
  if (!j.contains(key) || !j.at(key).is_number_integer() || j.at(key).get<int64_t>() < 0) {
    throw InputError(file, fmt::format("field \"{}\" must be a non-negative integer", key));
  }
  return j.at(key).get<int64_t>();
}

// The sizes meta.json gives, checked: a supported pattern, K and C >= 1, and G * C * n small enough to
// compute (the arrays' shapes are compared against it next).
NmCompressed check_meta(const nlohmann::json& meta, const std::string& meta_path) {
  if (!meta.is_object() || meta.value("format", "") != kFormat) {
    throw InputError(meta_path, fmt::format("field \"format\" must be \"{}\"", kFormat));
  }
  NmCompressed c;
  // Clamped before the int cast so a huge value is reported by check_nm_pattern, not wrapped.
  c.n = static_cast<int>(std::min<int64_t>(get_meta_int(meta, "n", meta_path), 1 << 20));
  c.m = static_cast<int>(std::min<int64_t>(get_meta_int(meta, "m", meta_path), 1 << 20));
  c.k = get_meta_int(meta, "k", meta_path);
  c.cols = get_meta_int(meta, "cols", meta_path);
  check_nm_pattern(c.n, c.m, meta_path + ": n", meta_path + ": m");
  check_sizes(c, meta_path);
  return c;
}

void check_shape(const NpyArray& a, const std::vector<int64_t>& shape, const std::string& name) {
  if (a.shape != shape) {
    throw InputError(name, fmt::format("shape must be [G, C, n] = [{}, {}, {}] (from meta.json)", shape[0],
                                       shape[1], shape[2]));
  }
}

}  // namespace

void check_nm_pattern(int n, int m, const std::string& n_field, const std::string& m_field) {
  if (!nm_group_size_supported(m)) {
    throw InputError(m_field, fmt::format("{} is not supported; allowed 1, 2, 4, 8, 16", m));
  }
  if (n < 1 || n > m) {
    throw InputError(n_field, fmt::format("{} is out of range; allowed [1, {}] (at most m)", n, m));
  }
}

std::optional<NmViolation> first_nm_violation(const IntMatrix& w, int n, int m) {
  const int64_t groups = (w.rows() + m - 1) / m;
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t c = 0; c < w.cols(); ++c) {
      const auto nz = static_cast<int64_t>(nonzero_positions(w, m, g, c).size());
      if (nz > n) return NmViolation{g, c, nz};
    }
  }
  return std::nullopt;
}

NmCompressed compress(const IntMatrix& w, int n, int m, Prune prune, const std::string& w_name) {
  check_nm_pattern(n, m, "n", "m");
  if (w.rows() < 1 || w.cols() < 1) {
    throw InputError(w_name, fmt::format("shape ({}, {}) is empty; allowed K >= 1 rows, C >= 1 "
                                         "columns", w.rows(), w.cols()));
  }
  if (prune == Prune::kNone) {
    if (const auto v = first_nm_violation(w, n, m)) not_sparse(w_name, *v, n, m);
  }
  NmCompressed out{n, m, w.rows(), w.cols(), {}, {}};
  const size_t size = static_cast<size_t>(out.groups() * out.cols * n);
  out.values.resize(size);
  out.indices.resize(size);
  for (int64_t g = 0; g < out.groups(); ++g) {
    for (int64_t c = 0; c < out.cols; ++c) {
      std::vector<int> kept = nonzero_positions(w, m, g, c);
      if (static_cast<int>(kept.size()) > n) kept = keep_largest(w, m, g, c, kept, n);
      const std::vector<int> idx = slot_indices(kept, n);
      for (int s = 0; s < n; ++s) {
        const int64_t k = g * m + idx[static_cast<size_t>(s)];
        const bool is_kept = std::find(kept.begin(), kept.end(), idx[static_cast<size_t>(s)]) != kept.end();
        out.indices[out.at(g, c, s)] = idx[static_cast<size_t>(s)];
        out.values[out.at(g, c, s)] = is_kept ? w(k, c) : 0;
      }
    }
  }
  return out;
}

void validate_compressed(const NmCompressed& c, const std::string& where) {
  check_nm_pattern(c.n, c.m, where + ": n", where + ": m");
  check_sizes(c, where);
  const auto size = static_cast<size_t>(c.groups() * c.cols * c.n);
  if (c.values.size() != size || c.indices.size() != size) {
    throw InputError(where, fmt::format("values/indices hold {}/{} slots; [G, C, n] = [{}, {}, {}] "
                                        "needs {}", c.values.size(), c.indices.size(), c.groups(),
                                        c.cols, c.n, size));
  }
  for (int64_t g = 0; g < c.groups(); ++g) {
    for (int64_t col = 0; col < c.cols; ++col) {
      for (int s = 0; s < c.n; ++s) {
        const int64_t i = c.indices[c.at(g, col, s)];
        const int64_t prev = s == 0 ? -1 : c.indices[c.at(g, col, s - 1)];
        if (i < 0 || i >= c.m || i <= prev) {
          throw InputError(where, fmt::format("group {}, column {}: indices must be distinct, "
                                              "increasing and in [0, {}], slot {} has {}",
                                              g, col, c.m - 1, s, i));
        }
        if (g * c.m + i >= c.k && c.values[c.at(g, col, s)] != 0) {
          throw InputError(where, fmt::format("group {}, column {}, slot {} points at padding row "
                                              "{} >= K = {} but holds {}; allowed 0",
                                              g, col, s, g * c.m + i, c.k,
                                              c.values[c.at(g, col, s)]));
        }
      }
    }
  }
}

IntMatrix decompress(const NmCompressed& c) {
  validate_compressed(c, "compressed weights");
  IntMatrix w = IntMatrix::Zero(c.k, c.cols);
  for (int64_t g = 0; g < c.groups(); ++g) {
    for (int64_t col = 0; col < c.cols; ++col) {
      for (int s = 0; s < c.n; ++s) {
        const int64_t k = g * c.m + c.indices[c.at(g, col, s)];
        if (k < c.k) w(k, col) = c.values[c.at(g, col, s)];
      }
    }
  }
  return w;
}

int64_t count_nonzeros(const IntMatrix& w) { return (w.array() != 0).count(); }

void write_compressed(const NmCompressed& c, Prune prune, const std::string& dir) {
  validate_compressed(c, dir);
  const std::vector<int64_t> shape = {c.groups(), c.cols, c.n};
  const nlohmann::json meta = {{"format", kFormat},
                               {"n", c.n},
                               {"m", c.m},
                               {"k", c.k},
                               {"cols", c.cols},
                               {"groups", c.groups()},
                               {"index_bits", clog2(static_cast<uint64_t>(c.m))},
                               {"prune", prune == Prune::kMagnitude ? "magnitude" : "none"}};
  write_dir_atomically(dir, "meta.json", [&](const std::filesystem::path& tmp) {
    write_npy_array((tmp / "values.npy").string(), {shape, c.values});
    write_npy_array((tmp / "indices.npy").string(), {shape, c.indices});
    write_file_checked(tmp / "meta.json", meta.dump(2) + "\n", (std::filesystem::path(dir) / "meta.json").string());
  });
}

NmCompressed read_compressed(const std::string& dir) {
  const std::string meta_path = (std::filesystem::path(dir) / "meta.json").string();
  const nlohmann::json meta = read_json_file(meta_path, "compressed-weights meta.json");
  const NmCompressed sizes = check_meta(meta, meta_path);  // a bad meta.json is named first
  const std::vector<int64_t> shape = {sizes.groups(), sizes.cols, sizes.n};
  const std::string values_path = (std::filesystem::path(dir) / "values.npy").string();
  const std::string indices_path = (std::filesystem::path(dir) / "indices.npy").string();
  const NpyArray values = read_npy_array(values_path);
  check_shape(values, shape, values_path);
  const NpyArray indices = read_npy_array(indices_path);
  return compressed_from_parts(meta, meta_path, {values, values_path}, {indices, indices_path}, dir);
}

NmCompressed compressed_from_parts(const nlohmann::json& meta, const std::string& meta_path,
                                   const NamedArray& values, const NamedArray& indices,
                                   const std::string& where) {
  NmCompressed c = check_meta(meta, meta_path);
  const std::vector<int64_t> shape = {c.groups(), c.cols, c.n};
  check_shape(values.array, shape, values.name);
  check_shape(indices.array, shape, indices.name);
  c.values = values.array.data;
  c.indices = indices.array.data;
  validate_compressed(c, where);
  return c;
}

}  // namespace accelgen::core
