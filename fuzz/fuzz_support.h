// Shared by the fuzz targets: the input as text, and the check that turns a broken property into a
// crash libFuzzer reports (abort), in the libFuzzer build and in the CTest replay alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace accelgen::fuzz {

inline std::string as_text(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// A property every accepted input must have (a round trip, a postcondition). Not an assert: the
// replay runs in Release builds, where NDEBUG would drop it.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

}  // namespace accelgen::fuzz
