// accelgen::core — NumPy .npy reading and writing for integer matrices (see npy.h): dtype and shape
// checks, data decoding and encoding, file I/O. The prefix and header parser is npy_header.cpp.
#include "core/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/npy_header.h"

namespace accelgen::core {
namespace {

using npy_internal::Header;
using npy_internal::kMagic;
using npy_internal::kPrefixLenV1;
using npy_internal::Prefix;

constexpr size_t kDataAlignment = 64;  // numpy's ARRAY_ALIGN

constexpr const char* kAllowedDtypes = "allowed: int8, int16, int32, int64, little or big endian";

// ---------------------------------------------------------------------------------------------
// dtype, shape and data

struct DType {
  size_t item_size;  // bytes per element: 1, 2, 4 or 8
  bool big_endian;
};

std::string describe_kind(char kind) {
  switch (kind) {
    case 'u':
      return " (unsigned integer)";
    case 'f':
      return " (floating point)";
    case 'c':
      return " (complex)";
    case 'b':
      return " (bool)";
    case 'O':
      return " (object)";
    case 'S':
    case 'U':
      return " (string)";
    default:
      return "";
  }
}

// Accepts '<iN', '>iN' and, for single bytes where order is meaningless, '|i1'.
DType parse_dtype(const std::string& descr, const std::string& name) {
  const auto reject = [&]() -> DType {
    const char kind = descr.size() >= 2 ? descr[1] : '?';
    throw InputError(name, "dtype '" + descr + "'" + describe_kind(kind) + " is not supported (" +
                               kAllowedDtypes + ")");
  };
  if (descr.size() != 3 || descr[1] != 'i') return reject();
  const char order = descr[0];
  const char size = descr[2];
  if (size != '1' && size != '2' && size != '4' && size != '8') return reject();
  if (order == '|' && size == '1') return {1, false};
  if (order != '<' && order != '>')
    return reject();  // '=' and '|' would depend on the writer's host
  return {static_cast<size_t>(size - '0'), order == '>'};
}

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

struct MatrixShape {
  int64_t rows;
  int64_t cols;
};

MatrixShape matrix_shape(const std::vector<int64_t>& shape, bool allow_1d,
                         const std::string& name) {
  if (shape.size() == 2) return {shape[0], shape[1]};
  if (shape.size() == 1 && allow_1d) return {1, shape[0]};
  const std::string allowed = allow_1d ? "allowed: 2-D arrays, or 1-D arrays read as one row"
                                       : "allowed: 2-D arrays of shape (rows, cols)";
  const std::string dims = shape.empty() ? "0-d (scalar)" : std::to_string(shape.size()) + "-D";
  throw InputError(name, dims + " array with shape " + describe_shape(shape) +
                             " is not supported (" + allowed + ")");
}

// Number of data bytes the header promises, or nullopt if it does not fit in 64 bits.
std::optional<uint64_t> expected_data_bytes(const std::vector<int64_t>& shape, size_t item_size) {
  uint64_t count = 1;
  for (const int64_t d : shape) {
    const auto dim = static_cast<uint64_t>(d);
    if (dim == 0) return 0;
    if (count > UINT64_MAX / dim) return std::nullopt;
    count *= dim;
  }
  if (count > UINT64_MAX / item_size) return std::nullopt;
  return count * item_size;
}

int64_t decode_element(const unsigned char* p, const DType& dtype) {
  uint64_t bits = 0;
  for (size_t i = 0; i < dtype.item_size; ++i) {
    const size_t index = dtype.big_endian ? i : dtype.item_size - 1 - i;  // most significant first
    bits = (bits << 8) | p[index];
  }
  // Move the element's sign bit to bit 63, then shift back arithmetically (defined in C++20).
  const int unused = static_cast<int>(64 - 8 * dtype.item_size);
  return static_cast<int64_t>(bits << unused) >> unused;
}

// Decodes the data into C order. In Fortran order the first index varies fastest.
std::vector<int64_t> decode_data(std::string_view data, const DType& dtype,
                                 const std::vector<int64_t>& shape, bool fortran_order) {
  const size_t count = data.size() / dtype.item_size;
  std::vector<int64_t> out(count);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::vector<size_t> idx(shape.size());
  for (size_t f = 0; f < count; ++f, p += dtype.item_size) {
    size_t c_index = f;
    if (fortran_order) {
      size_t rest = f, stride = 1;
      c_index = 0;
      for (size_t a = 0; a < shape.size(); ++a) {
        idx[a] = rest % static_cast<size_t>(shape[a]);
        rest /= static_cast<size_t>(shape[a]);
      }
      for (size_t a = shape.size(); a-- > 0;) {
        c_index += idx[a] * stride;
        stride *= static_cast<size_t>(shape[a]);
      }
    }
    out[c_index] = decode_element(p, dtype);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

std::string header_for(const std::vector<int64_t>& shape, size_t item_size) {
  const std::string descr = item_size == 1 ? "|i1" : "<i" + std::to_string(item_size);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       describe_shape(shape) + ", }";
  // numpy >= 1.24 appends 21 - digits(shape[0]) spaces so the leading dimension can grow in
  // place; then, like numpy, pad with at least one space so the data starts at a multiple of 64.
  if (!shape.empty()) header.append(21 - std::to_string(shape[0]).size(), ' ');
  const size_t unpadded = kPrefixLenV1 + header.size() + 1;  // +1 for the final '\n'
  header.append(kDataAlignment - unpadded % kDataAlignment, ' ');
  header += '\n';
  return header;
}

size_t smallest_item_size(const int64_t* data, size_t count) {
  if (count == 0) return 1;
  const auto [lo, hi] = std::minmax_element(data, data + count);
  for (size_t bytes : {1, 2, 4}) {
    const int64_t max = (int64_t{1} << (8 * bytes - 1)) - 1;
    if (*lo >= -max - 1 && *hi <= max) return bytes;
  }
  return 8;
}

// Validated header and data of a .npy file; `check_shape` may reject the shape (before the data
// length is checked, so a wrong rank is reported as such even if the data is also short).
struct Parsed {
  Header header;
  std::vector<int64_t> data;  // C order
};

Parsed parse_any(const std::string& bytes, const std::string& name,
                 const std::function<void(const std::vector<int64_t>&)>& check_shape) {
  const std::string_view all(bytes);
  const Prefix prefix = npy_internal::parse_prefix(all, name);
  const std::string_view header_text = all.substr(prefix.header_offset, prefix.header_len);
  Header header = npy_internal::parse_header(header_text, name);

  const DType dtype = parse_dtype(header.descr, name);
  check_shape(header.shape);
  const std::string_view data = all.substr(prefix.header_offset + prefix.header_len);
  const std::optional<uint64_t> expected = expected_data_bytes(header.shape, dtype.item_size);
  if (!expected) {
    throw InputError(name, "shape " + describe_shape(header.shape) +
                               " is too large (allowed: at most 2^64 data bytes)");
  }
  if (data.size() != *expected) {
    const std::string problem = data.size() < *expected ? "truncated data" : "trailing data";
    throw InputError(name, problem + ": shape " + describe_shape(header.shape) + " of '" +
                               header.descr + "' needs exactly " + std::to_string(*expected) +
                               " data bytes, found " + std::to_string(data.size()));
  }
  std::vector<int64_t> values = decode_data(data, dtype, header.shape, header.fortran_order);
  return {std::move(header), std::move(values)};
}

std::string serialize(const std::vector<int64_t>& shape, const int64_t* data, size_t count) {
  const size_t item_size = smallest_item_size(data, count);
  const std::string header = header_for(shape, item_size);
  std::string out;
  out.reserve(kPrefixLenV1 + header.size() + count * item_size);
  out += kMagic;
  out += '\x01';  // version 1.0
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);  // uint16 little-endian header length
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (size_t k = 0; k < count; ++k) {
    // Two's complement little-endian, independent of the host's byte order.
    const auto bits = static_cast<uint64_t>(data[k]);
    for (size_t i = 0; i < item_size; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return out;
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path, "is a directory (allowed: a readable .npy file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path, std::string("cannot open file: ") + std::strerror(errno) +
                               " (allowed: a readable .npy file)");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path, "cannot read file (allowed: a readable .npy file)");
  return bytes;
}

void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw InputError(path, std::string("cannot write file: ") + std::strerror(errno) +
                               " (allowed: a writable path in an existing directory)");
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    throw InputError(path,
                     "cannot write file: write failed (allowed: a writable path with free space)");
}

}  // namespace

IntMatrix parse_npy(const std::string& bytes, const std::string& name, bool allow_1d) {
  MatrixShape shape{};
  const Parsed p = parse_any(bytes, name, [&](const std::vector<int64_t>& dims) {
    shape = matrix_shape(dims, allow_1d, name);
  });
  IntMatrix m(shape.rows, shape.cols);
  std::copy(p.data.begin(), p.data.end(), m.data());  // both row-major (C order)
  return m;
}

std::string serialize_npy(const IntMatrix& m) {
  return serialize({m.rows(), m.cols()}, m.data(), static_cast<size_t>(m.size()));
}

IntMatrix read_npy(const std::string& path, bool allow_1d) {
  return parse_npy(read_file_bytes(path), path, allow_1d);
}

void write_npy(const std::string& path, const IntMatrix& m) {
  write_file_bytes(path, serialize_npy(m));
}

NpyArray parse_npy_array(const std::string& bytes, const std::string& name) {
  Parsed p = parse_any(bytes, name, [](const std::vector<int64_t>&) {});
  return {std::move(p.header.shape), std::move(p.data)};
}

std::string serialize_npy_array(const NpyArray& a) {
  uint64_t count = 1;
  for (const int64_t d : a.shape) count *= static_cast<uint64_t>(d);
  if (count != a.data.size()) {
    throw std::invalid_argument("serialize_npy_array: shape does not match the data length");
  }
  return serialize(a.shape, a.data.data(), a.data.size());
}

NpyArray read_npy_array(const std::string& path) {
  return parse_npy_array(read_file_bytes(path), path);
}

void write_npy_array(const std::string& path, const NpyArray& a) {
  write_file_bytes(path, serialize_npy_array(a));
}

}  // namespace accelgen::core
