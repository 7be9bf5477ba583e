#include "core/hash.h"

#include <fmt/format.h>

namespace accelgen::core {

void Fnv1a64::update(std::string_view bytes) {
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  for (unsigned char c : bytes) {
    state_ ^= c;
    state_ *= kPrime;
  }
}

std::string Fnv1a64::hex() const { return fmt::format("{:016x}", state_); }

std::string hash_hex(std::string_view bytes) {
  Fnv1a64 h;
  h.update(bytes);
  return h.hex();
}

}  // namespace accelgen::core
