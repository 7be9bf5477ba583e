// Fuzz target: the thresholds-file reader (calib::parse_thresholds, docs/calibration.md) against two
// configs: configs/default.json's values (absolute thresholds only) and a unit with relative
// thresholds, chosen by the input's last byte (the JSON parser ignores no trailing byte, so the
// choice is the byte before the end of a valid file: '}' (0x7d, odd) or '\n' (even)). Rejections
// must be core::InputError; an accepted file must give distinct slots in range and values that fit
// the threshold register.
#include <cstddef>
#include <cstdint>
#include <set>

#include "calib/calibrate.h"
#include "core/config.h"
#include "core/error.h"
#include "fuzz/fuzz_support.h"

using namespace accelgen;

namespace {

core::AttentionConfig fuzz_config(bool relative) {
  core::AttentionConfig c;  // the defaults are configs/default.json's values
  c.relative_thresholds = relative;
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool relative = size > 0 && (data[size - 1] & 1) != 0;
  const core::AttentionConfig cfg = fuzz_config(relative);
  try {
    const nlohmann::json j = core::parse_json_text(fuzz::as_text(data, size), "t.json");
    const std::vector<calib::SlotThreshold> t = calib::parse_thresholds(j, "t.json", cfg);
    const int tw = core::widths(cfg).tw;
    std::set<int> slots;
    for (const calib::SlotThreshold& s : t) {
      FUZZ_CHECK(s.slot >= 0 && s.slot < cfg.threshold_slots);
      FUZZ_CHECK(slots.insert(s.slot).second);
      FUZZ_CHECK(s.threshold.value <= core::signed_max(tw));
      FUZZ_CHECK(s.threshold.value >= (s.threshold.mode == core::ThresholdMode::relative ? 0 : core::signed_min(tw)));
      FUZZ_CHECK(relative || s.threshold.mode == core::ThresholdMode::absolute);
    }
  } catch (const core::InputError&) {
  }
  return 0;
}
