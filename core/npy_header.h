// accelgen::core — internals of the .npy reader shared by npy.cpp (dtype, data, writing, files) and
// npy_header.cpp (prefix and header parsing). Not part of the public API: include core/npy.h instead.
//
// Layout of a .npy file: the magic "\x93NUMPY", a major and a minor version byte, the header length
// (uint16 little-endian for 1.0, uint32 for 2.0 and 3.0), the header (a Python dict literal padded
// with spaces and ended by '\n'), then the raw array data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accelgen::core::npy_internal {

constexpr std::string_view kMagic{"\x93NUMPY", 6};
constexpr size_t kPrefixLenV1 = kMagic.size() + 2 + 2;  // magic, version, uint16 header length

// The header dict's three keys, as read (not yet validated beyond their syntax).
struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

// Where the header text is in the file.
struct Prefix {
  size_t header_offset;
  size_t header_len;
};

// Validates magic and version and locates the header text. Throws InputError(name, ...).
Prefix parse_prefix(std::string_view bytes, const std::string& name);

// Parses the header text (a Python dict literal). Throws InputError(name, ...).
Header parse_header(std::string_view text, const std::string& name);

}  // namespace accelgen::core::npy_internal
