// Parsing, validation, derived widths and hashing of AttentionConfig (docs/config.md).
#include "core/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/json_fields.h"

namespace accelgen::core {

int clog2(uint64_t x) {
  int bits = 0;
  while (bits < 64 && (uint64_t{1} << bits) < x) ++bits;
  return bits;
}

int64_t signed_min(int bits) { return -(int64_t{1} << (bits - 1)); }
int64_t signed_max(int bits) { return (int64_t{1} << (bits - 1)) - 1; }

AttentionWidths widths(const AttentionConfig& c) {
  AttentionWidths w{};
  w.sw = c.wq + c.wk + clog2(static_cast<uint64_t>(c.d));
  w.tw = w.sw + 2;
  w.bw = w.sw + 3;
  w.aw = c.alpha_mant_bits + kAlphaShiftBits;
  // A relative-threshold slot register holds a mode bit above theta/delta.
  w.cdw = std::max(w.tw + (c.relative_thresholds && !c.dense_baseline ? 1 : 0), w.aw);
  w.caw = c.dense_baseline ? 1 : clog2(static_cast<uint64_t>(c.threshold_slots) + 1);
  w.kiw = std::max(1, clog2(static_cast<uint64_t>(c.max_keys)));
  w.kcw = clog2(static_cast<uint64_t>(c.max_keys) + 1);
  w.stw = clog2(static_cast<uint64_t>(c.max_keys) * static_cast<uint64_t>(c.wk) + 1);
  w.slw = std::max(1, clog2(static_cast<uint64_t>(c.threshold_slots)));
  w.cyw = 32;
  w.ef = c.wv + c.out_frac_bits + clog2(static_cast<uint64_t>(c.max_keys)) + 3;
  w.lb = c.exp_lut_bits != 0 ? c.exp_lut_bits : (c.wv + c.out_frac_bits + 1) / 2;
  w.xf = c.wv + c.out_frac_bits + 4;
  w.xw = w.xf + clog2(static_cast<uint64_t>(w.ef) + 2);
  w.ow = c.wv + c.out_frac_bits + 1;
  w.zw = w.ef + 1 + w.kcw;
  w.qb = c.wv + c.out_frac_bits;
  return w;
}

int key_banks(const AttentionConfig& c) {
  if (c.key_banks != 0) return c.key_banks;
  // Derived: the largest power of two <= lanes / 2 (at least 1). A lane spends 2 or more steps on
  // most keys, so half as many keys per cycle as lanes keeps the lanes fed (docs/memory.md).
  int b = 1;
  while (b * 4 <= c.lanes) b *= 2;
  return b;
}

namespace {

const std::set<std::string>& known_keys() {
  static const std::set<std::string> keys = known_keys_of(attention_field_specs());
  return keys;
}

const FieldSpec& spec(std::string_view name) { return field_spec(attention_field_specs(), name); }

// "threshold_modes": a list of distinct mode names that includes "absolute" (every unit runs absolute
// thresholds); "relative" adds the relative-threshold hardware. Returns whether "relative" is listed.
bool parse_threshold_modes(const nlohmann::json& j, bool fallback) {
  if (!j.contains("threshold_modes")) return fallback;
  const nlohmann::json& m = j.at("threshold_modes");
  const std::string allowed = R"(allowed ["absolute"] or ["absolute", "relative"])";
  if (!m.is_array() || m.empty()) {
    throw InputError("config.threshold_modes", fmt::format("must be a non-empty list; {}", allowed));
  }
  std::set<std::string> seen;
  for (const auto& v : m) {
    if (!v.is_string() || (v != "absolute" && v != "relative") || !seen.insert(v.get<std::string>()).second) {
      throw InputError("config.threshold_modes",
                       fmt::format("{} is not a mode or is listed twice; {}", v.dump(), allowed));
    }
  }
  if (!seen.contains("absolute")) {
    throw InputError("config.threshold_modes", fmt::format("must include \"absolute\"; {}", allowed));
  }
  return seen.contains("relative");
}
// Fields of earlier releases that a config may no longer carry, with what replaced them: rejected by
// name (before the unknown-key check) so that an old config says what to change.
constexpr const char* kAlphaFixedPointRemoved =
    "removed: the softmax scale register is now floating point (alpha = mant * 2^-shift) and covers every "
    "softmax_scale in [1e-9, 1e3]; delete this field (replaced by alpha_mant_bits, default 16, range 13..24; "
    "docs/config.md)";
constexpr std::pair<const char*, const char*> kRetiredFields[] = {
    {"alpha_int_bits", kAlphaFixedPointRemoved},
    {"alpha_frac_bits", kAlphaFixedPointRemoved},
};

}  // namespace

AttentionConfig parse_attention_config(const nlohmann::json& j) {
  for (const auto& [name, replacement] : kRetiredFields) {
    if (j.is_object() && j.contains(name)) throw InputError(std::string("config.") + name, replacement);
  }
  check_known_keys(j, known_keys());
  if (j.contains("kind") && j.at("kind") != "attention") {
    throw InputError("config.kind", fmt::format("must be \"attention\", got {}", j.at("kind").dump()));
  }
  AttentionConfig c;
  c.name = get_name(j, c.name);
  c.d = get_int(j, spec("d"), c.d);
  c.dv = get_int(j, spec("dv"), c.dv);
  c.wq = get_int(j, spec("wq"), c.wq);
  c.wk = get_int(j, spec("wk"), c.wk);
  c.wv = get_int(j, spec("wv"), c.wv);
  c.lanes = get_int(j, spec("lanes"), c.lanes);
  c.key_banks = get_int(j, spec("key_banks"), c.key_banks);
  const std::vector<int>& banks = spec("key_banks").choices;
  if (std::find(banks.begin(), banks.end(), c.key_banks) == banks.end()) {
    throw InputError("config.key_banks",
                     fmt::format("{} is not allowed; allowed 0 (derived) or a power of two 1..64", c.key_banks));
  }
  c.key_queue = get_int(j, spec("key_queue"), c.key_queue);
  c.max_keys = get_int(j, spec("max_keys"), c.max_keys);
  c.threshold_slots = get_int(j, spec("threshold_slots"), c.threshold_slots);
  c.alpha_mant_bits = get_int(j, spec("alpha_mant_bits"), c.alpha_mant_bits);
  c.dense_baseline = get_bool(j, "dense_baseline", c.dense_baseline);
  c.out_frac_bits = get_int(j, spec("out_frac_bits"), c.out_frac_bits);
  c.exp_lut_bits = get_int(j, spec("exp_lut_bits"), c.exp_lut_bits);
  c.overlap_backend = get_bool(j, "overlap_backend", c.overlap_backend);
  c.relative_thresholds = parse_threshold_modes(j, c.relative_thresholds);
  c.memory = get_choice(j, spec("memory"), c.memory);
  // Cross-field constraints (core/field_specs.cpp): lanes <= max_keys, key_banks <= lanes.
  const nlohmann::json values = to_json(c);
  const FieldConstraint& lanes = attention_constraints().at(0);
  if (constraint_value(lanes, values) > lanes.hi) {
    throw InputError("config." + lanes.field, fmt::format("{} lanes exceed max_keys = {}; allowed [1, {}]",
                                                          c.lanes, c.max_keys, c.max_keys));
  }
  const FieldConstraint& kb = attention_constraints().at(1);
  if (constraint_value(kb, values) > kb.hi) {
    throw InputError("config." + kb.field,
                     fmt::format("{} banks exceed lanes = {}; allowed 0 or a power of two <= {}", c.key_banks,
                                 c.lanes, c.lanes));
  }
  return c;
}

nlohmann::json parse_json_text(const std::string& text, const std::string& where) {
  // Every accelgen JSON file is a few levels deep. Deeper nesting is refused while parsing, because
  // nlohmann's dump() and comparisons recurse: a file of a million '[' would overflow the stack in
  // the error message that quotes it.
  const auto depth_limit = [&](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth) {
      throw InputError(where, fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, depth_limit);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(where, fmt::format("not valid JSON ({})", e.what()));
  }
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  if (std::filesystem::is_directory(path)) throw InputError(path, "is a directory, expected a " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open " + what);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path, "cannot read " + what);
  return parse_json_text(text.str(), path);
}

AttentionConfig load_attention_config(const std::string& path) {
  return parse_attention_config(read_json_file(path, "config file (JSON)"));
}

nlohmann::json to_json(const AttentionConfig& c) {
  // nlohmann::ordered_json would keep insertion order; plain json sorts keys, which is just as
  // canonical and is what the hash is taken over.
  nlohmann::json j{{"kind", "attention"},
                        {"name", c.name},
                        {"d", c.d},
                        {"dv", c.dv},
                        {"wq", c.wq},
                        {"wk", c.wk},
                        {"wv", c.wv},
                        {"lanes", c.lanes},
                        {"key_banks", c.key_banks},
                        {"max_keys", c.max_keys},
                        {"threshold_slots", c.threshold_slots},
                        {"alpha_mant_bits", c.alpha_mant_bits},
                        {"dense_baseline", c.dense_baseline},
                        {"out_frac_bits", c.out_frac_bits},
                        {"exp_lut_bits", c.exp_lut_bits},
                        {"overlap_backend", c.overlap_backend},
                        {"threshold_modes", threshold_modes_json(c.relative_thresholds)},
                        {"memory", c.memory}};
  // Written only when it differs from 1, so that the hash (and every banner) of a config that existed
  // before the option stays what it was.
  if (c.key_queue != 1) j["key_queue"] = c.key_queue;
  return j;
}

nlohmann::json threshold_modes_json(bool relative) {
  return relative ? nlohmann::json::array({"absolute", "relative"}) : nlohmann::json::array({"absolute"});
}

nlohmann::json all_fields_json(const AttentionConfig& c) {
  nlohmann::json j = to_json(c);
  j["key_queue"] = c.key_queue;
  return j;
}

std::string config_hash(const AttentionConfig& c) { return hash_hex(to_json(c).dump()); }

}  // namespace accelgen::core
