// Fuzz target: the config parser (docs/config.md), both kinds. Bytes -> JSON -> config_kind ->
// parse_attention_config / parse_nm_config. A rejected input must be a core::InputError; anything
// else (another exception, a sanitizer report, an abort) is a crash. An accepted config must survive
// the round trip through to_json, and its derived widths and hash must be computable.
#include <cstddef>
#include <cstdint>

#include "core/config.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "fuzz/fuzz_support.h"

using namespace accelgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const nlohmann::json j = core::parse_json_text(fuzz::as_text(data, size), "fuzz.json");
    if (core::config_kind(j) == "nm_array") {
      const core::NmConfig c = core::parse_nm_config(j);
      FUZZ_CHECK(core::parse_nm_config(core::to_json(c)) == c);
      const core::NmWidths w = core::nm_widths(c);
      (void)w;
      FUZZ_CHECK(core::config_hash(c).size() == 16);
    } else {
      const core::AttentionConfig c = core::parse_attention_config(j);
      FUZZ_CHECK(core::parse_attention_config(core::to_json(c)) == c);
      const core::AttentionWidths w = core::widths(c);
      FUZZ_CHECK(w.sw > 0 && w.tw > w.sw);
      FUZZ_CHECK(core::config_hash(c).size() == 16);
    }
  } catch (const core::InputError&) {
    // rejected with a message naming the field: the expected outcome for bad input
  }
  return 0;
}
