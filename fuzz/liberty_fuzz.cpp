// Fuzz target: the Liberty reader (flows/liberty.cpp and the cell-function evaluator it uses to
// find the NAND2 and buffer cells). Rejections must be core::InputError; an accepted library must
// name its reference cells only if they are among its cells.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "flows/liberty.h"
#include "fuzz/fuzz_support.h"

using namespace accelgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const flows::LibertyInfo lib = flows::parse_liberty(fuzz::as_text(data, size));
    FUZZ_CHECK(!lib.name.empty());
    if (!lib.nand2_cell.empty()) FUZZ_CHECK(lib.find(lib.nand2_cell) != nullptr);
    if (!lib.buffer_cell.empty()) FUZZ_CHECK(lib.find(lib.buffer_cell) != nullptr);
  } catch (const core::InputError&) {
  }
  return 0;
}
