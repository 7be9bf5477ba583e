// Fuzz target: the .npy reader (core/npy.cpp, core/npy_header.cpp). Bytes -> parse_npy_array and
// parse_npy (1-D allowed or not, by the first byte). Rejections must be core::InputError; an
// accepted array must come back unchanged from serialize + parse, and its data length must match
// its shape.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/npy.h"
#include "fuzz/fuzz_support.h"

using namespace accelgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes = fuzz::as_text(data, size);
  try {
    const core::NpyArray a = core::parse_npy_array(bytes, "fuzz.npy");
    int64_t elements = 1;
    for (int64_t dim : a.shape) elements *= dim;
    FUZZ_CHECK(static_cast<int64_t>(a.data.size()) == elements);
    FUZZ_CHECK(core::parse_npy_array(core::serialize_npy_array(a), "again.npy") == a);
  } catch (const core::InputError&) {
  }
  try {
    const bool allow_1d = size > 0 && (data[size - 1] & 1) != 0;
    const core::IntMatrix m = core::parse_npy(bytes, "fuzz.npy", allow_1d);
    FUZZ_CHECK(core::parse_npy(core::serialize_npy(m), "again.npy") == m);
  } catch (const core::InputError&) {
  }
  return 0;
}
