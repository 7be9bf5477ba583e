// accelgen::core — NumPy .npy reading and writing for integer matrices.
//
// This file owns the on-disk exchange format for Q, K, V and golden outputs: 2-D arrays of signed
// integers in NumPy's .npy format
// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html). Reading is strict:
// anything that is not exactly a signed-integer 1-D/2-D array whose data length matches its shape
// is rejected with an InputError naming the file and the problem. Writing produces the same bytes
// numpy itself would write for the chosen dtype.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace accelgen::core {

// Reads a 2-D .npy file of signed integers.
// Accepted: dtypes int8/int16/int32/int64 in little- or big-endian form ('|i1', '<i1', '>i1',
// '<i2',
// '>i2', '<i4', '>i4', '<i8', '>i8'), fortran_order True or False, format versions 1.0, 2.0, 3.0.
// A 1-D array of length n is returned as a 1 x n matrix only if `allow_1d` is true.
// Throws InputError(path, ...) for a missing/unreadable file or any malformed or unsupported
// content, including data whose length does not match the shape exactly.
IntMatrix read_npy(const std::string& path, bool allow_1d = false);

// Writes `m` as a C-order, version 1.0 .npy using the smallest signed dtype that holds every value
// ('|i1', '<i2', '<i4' or '<i8'). The header is padded with spaces and a final '\n' so the data
// starts at a multiple of 64 bytes, as numpy does. Throws InputError(path, ...) if the file cannot
// be written.
void write_npy(const std::string& path, const IntMatrix& m);

// In-memory forms of the above. `name` stands in for the file path in error messages.
IntMatrix parse_npy(const std::string& bytes, const std::string& name, bool allow_1d = false);
std::string serialize_npy(const IntMatrix& m);

// An array of any rank (the compressed N:M weights are 3-D), data in C order.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;
  bool operator==(const NpyArray&) const = default;
};

// Same rules as read_npy/write_npy, for any rank (0-D included). The header is written exactly as
// numpy >= 1.24 writes it, including the spaces that let the first dimension grow in place.
NpyArray read_npy_array(const std::string& path);
void write_npy_array(const std::string& path, const NpyArray& a);
NpyArray parse_npy_array(const std::string& bytes, const std::string& name);
std::string serialize_npy_array(const NpyArray& a);

}  // namespace accelgen::core
