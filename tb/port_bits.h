// accelgen::tb — bit access to Verilator ports of any width, shared by the per-config harnesses
// (tb/verilator_dut.h for the attention unit, tb/nm_verilator_dut.h for the N:M array).
//
// Verilator's port C++ type changes with width: CData/SData/IData/QData up to 64 bits, VlWide<words>
// (32-bit words, word 0 = bits [31:0]) above. These helpers write and read bit fields of either.
// Header-only; needs nothing from Verilator itself.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace accelgen::tb {

// Writes `width` bits of `value` at bit `lsb` of a Verilator port of any width.
template <class Port>
void put_bits(Port& port, int lsb, int width, uint64_t value) {
  for (int done = 0; done < width;) {
    if constexpr (std::is_integral_v<Port>) {
      using U = std::make_unsigned_t<Port>;
      const int n = width;  // integral ports are at most 64 bits: one chunk
      const uint64_t mask = n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
      U p = static_cast<U>(port);
      p = static_cast<U>((p & ~static_cast<U>(mask << lsb)) | static_cast<U>((value & mask) << lsb));
      port = static_cast<Port>(p);
      done = width;
    } else {
      const int bit = lsb + done;
      const int n = std::min(width - done, 32 - bit % 32);
      const uint32_t mask = n >= 32 ? ~uint32_t{0} : (uint32_t{1} << n) - 1;
      const uint32_t chunk = static_cast<uint32_t>(value >> done) & mask;
      uint32_t& word = port.at(static_cast<size_t>(bit / 32));
      word = (word & ~(mask << (bit % 32))) | (chunk << (bit % 32));
      done += n;
    }
  }
}

template <class Port>
uint64_t get_bits(const Port& port, int lsb, int width) {
  uint64_t value = 0;
  for (int done = 0; done < width;) {
    if constexpr (std::is_integral_v<Port>) {
      using U = std::make_unsigned_t<Port>;
      const uint64_t mask = width >= 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
      value = (static_cast<uint64_t>(static_cast<U>(port)) >> lsb) & mask;
      done = width;
    } else {
      const int bit = lsb + done;
      const int n = std::min(width - done, 32 - bit % 32);
      const uint32_t mask = n >= 32 ? ~uint32_t{0} : (uint32_t{1} << n) - 1;
      value |= static_cast<uint64_t>((port.at(static_cast<size_t>(bit / 32)) >> (bit % 32)) & mask) << done;
      done += n;
    }
  }
  return value;
}

template <class Port>
void pack_row(Port& port, const std::vector<int64_t>& row, int width) {
  for (size_t t = 0; t < row.size(); ++t) {
    put_bits(port, static_cast<int>(t) * width, width, static_cast<uint64_t>(row[t]));
  }
}

inline int64_t sign_extend(uint64_t bits, int width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((bits ^ sign) - sign);
}

}  // namespace accelgen::tb
