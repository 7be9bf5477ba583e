// accelgen::core — stable content hash (FNV-1a, 64 bit) for config hashes and cache keys.
//
// Not cryptographic: it only has to be stable across runs, machines and compilers (std::hash is not).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace accelgen::core {

class Fnv1a64 {
 public:
  void update(std::string_view bytes);
  uint64_t value() const { return state_; }
  std::string hex() const;  // 16 lowercase hex digits

 private:
  uint64_t state_ = 0xcbf29ce484222325ULL;
};

std::string hash_hex(std::string_view bytes);

}  // namespace accelgen::core
