// Tests for core/field_specs.{h,cpp} and `accelgen space`: the search space is the space the
// validators accept. Expected ranges are copied by hand from docs/config.md (not read from the
// tables under test); each boundary must parse and one step outside must be rejected naming the field.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/field_specs.h"
#include "core/nm_config.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

using accelgen::test_support::error_of;
using nlohmann::json;

// docs/config.md, attention table.
const std::map<std::string, std::pair<int, int>> kAttentionRanges = {
    {"d", {1, 256}},          {"dv", {1, 256}},          {"wq", {2, 16}},           {"wk", {2, 16}},
    {"wv", {2, 16}},          {"lanes", {1, 64}},        {"max_keys", {1, 4096}},   {"threshold_slots", {1, 256}},
    {"alpha_mant_bits", {13, 24}}, {"out_frac_bits", {0, 8}}, {"exp_lut_bits", {0, 12}}, {"key_queue", {1, 2}}};
// docs/config.md, N:M table (m has choices, n is bounded by m).
const std::map<std::string, std::pair<int, int>> kNmRanges = {
    {"rows", {1, 64}}, {"cols", {1, 64}}, {"wx", {2, 16}}, {"ww", {2, 16}}, {"max_k", {1, 65536}}};

// "" when `f` does not throw, else the InputError message (error_of() insists on a throw).
std::string error_or_empty(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

json space_of(const std::string& kind) {
  const json defaults = kind == "nm_array" ? to_json(NmConfig{}) : all_fields_json(AttentionConfig{});
  return search_space_json(kind, defaults, defaults);
}

json field(const json& space, const std::string& name) {
  for (const auto& f : space["fields"]) {
    if (f["name"] == name) return f;
  }
  return json();
}

TEST(SearchSpace, AttentionRangesAreTheDocumentedOnes) {
  const json s = space_of("attention");
  for (const auto& [name, range] : kAttentionRanges) {
    const json f = field(s, name);
    ASSERT_FALSE(f.is_null()) << name;
    EXPECT_EQ(f["min"], range.first) << name;
    EXPECT_EQ(f["max"], range.second) << name;
    EXPECT_EQ(f["step"], 1) << name;
  }
  EXPECT_EQ(field(s, "dense_baseline")["choices"], json({false, true}));
  EXPECT_EQ(field(s, "overlap_backend")["choices"], json({false, true}));
  EXPECT_EQ(field(s, "threshold_modes")["choices"], json::parse(R"([["absolute"], ["absolute", "relative"]])"));
  EXPECT_EQ(field(s, "key_banks")["choices"], json({0, 1, 2, 4, 8, 16, 32, 64}));  // 0: derived
  EXPECT_EQ(field(s, "memory")["choices"], json({"flops", "macro"}));
  EXPECT_EQ(s["fields"].size(), kAttentionRanges.size() + 5);
  EXPECT_EQ(s["fixed"], json({"kind", "name"}));
}

TEST(SearchSpace, AttentionBoundariesParseAndOneStepOutsideIsRejectedNamingTheField) {
  for (const auto& [name, range] : kAttentionRanges) {
    // lanes <= max_keys holds at every single-field boundary with these partners.
    json base = {{"max_keys", 4096}, {"lanes", 1}};
    for (int v : {range.first, range.second}) {
      json j = base;
      j[name] = v;
      EXPECT_EQ(error_or_empty([&] { parse_attention_config(j); }), "") << name << " = " << v;
    }
    for (int v : {range.first - 1, range.second + 1}) {
      json j = base;
      j[name] = v;
      EXPECT_EQ(error_of([&] { parse_attention_config(j); }).rfind("config." + name + ": ", 0), 0u)
          << name << " = " << v;
    }
  }
}

TEST(SearchSpace, NmRangesChoicesAndBoundaries) {
  const json s = space_of("nm_array");
  for (const auto& [name, range] : kNmRanges) {
    const json f = field(s, name);
    EXPECT_EQ(f["min"], range.first) << name;
    EXPECT_EQ(f["max"], range.second) << name;
    for (int v : {range.first, range.second}) {
      EXPECT_EQ(error_or_empty([&] { parse_nm_config({{"kind", "nm_array"}, {name, v}}); }), "") << name << " = " << v;
    }
    for (int v : {range.first - 1, range.second + 1}) {
      EXPECT_EQ(error_of([&] { parse_nm_config({{"kind", "nm_array"}, {name, v}}); }).rfind("config." + name + ": ", 0),
                0u)
          << name << " = " << v;
    }
  }
  EXPECT_EQ(field(s, "m")["choices"], json({1, 2, 4, 8, 16}));
  for (int m = 0; m <= 17; ++m) {
    const bool legal = m == 1 || m == 2 || m == 4 || m == 8 || m == 16;
    const std::string e = error_or_empty([&] { parse_nm_config({{"kind", "nm_array"}, {"m", m}, {"n", 1}}); });
    EXPECT_EQ(e.empty(), legal) << "m = " << m << ": " << e;
  }
}

// docs/config.md: "memory" is "flops" (default) or "macro" for both kinds; anything else (another
// string, a number, a bool, the right word in another case) is rejected naming config.memory and
// both allowed values.
TEST(SearchSpace, MemoryIsAStringChoiceOfBothKinds) {
  for (const std::string kind : {"attention", "nm_array"}) {
    const json f = field(space_of(kind), "memory");
    EXPECT_EQ(f["type"], "choice") << kind;
    EXPECT_EQ(f["choices"], json({"flops", "macro"})) << kind;
    EXPECT_EQ(f["default"], "flops") << kind;
  }
  EXPECT_EQ(parse_attention_config(json::object()).memory, "flops");
  EXPECT_EQ(parse_attention_config({{"memory", "macro"}}).memory, "macro");
  EXPECT_EQ(parse_nm_config({{"kind", "nm_array"}}).memory, "flops");
  EXPECT_EQ(parse_nm_config({{"kind", "nm_array"}, {"memory", "macro"}}).memory, "macro");
  EXPECT_EQ(to_json(parse_attention_config({{"memory", "macro"}})).at("memory"), "macro");
  EXPECT_NE(config_hash(parse_attention_config({{"memory", "macro"}})), config_hash(AttentionConfig{}));
  for (const json& bad : {json("sram"), json("Macro"), json(""), json(1), json(true), json::array({"macro"})}) {
    for (const std::string& e : {error_of([&] { parse_attention_config({{"memory", bad}}); }),
                                 error_of([&] { parse_nm_config({{"kind", "nm_array"}, {"memory", bad}}); })}) {
      EXPECT_EQ(e.rfind("config.memory: ", 0), 0u) << bad.dump() << ": " << e;
      EXPECT_NE(e.find("\"flops\", \"macro\""), std::string::npos) << e;
    }
  }
}

TEST(SearchSpace, ConstraintsAreDataAndMatchTheValidators) {
  const json a = space_of("attention")["constraints"];
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]["text"], "lanes <= max_keys");
  EXPECT_EQ(a[0]["terms"], json({{"lanes", 1}, {"max_keys", -1}}));
  EXPECT_EQ(a[0]["max"], 0);
  EXPECT_TRUE(a[0]["min"].is_null());
  // lanes = max_keys passes, one more lane fails naming config.lanes (the field the constraint names).
  EXPECT_EQ(error_or_empty([] { parse_attention_config({{"lanes", 8}, {"max_keys", 8}}); }), "");
  EXPECT_EQ(error_of([] { parse_attention_config({{"lanes", 9}, {"max_keys", 8}}); }),
            "config.lanes: 9 lanes exceed max_keys = 8; allowed [1, 8]");
  EXPECT_EQ(a[1]["text"], "key_banks <= lanes");
  EXPECT_EQ(a[1]["terms"], json({{"key_banks", 1}, {"lanes", -1}}));
  EXPECT_EQ(a[1]["max"], 0);
  EXPECT_EQ(error_or_empty([] { parse_attention_config({{"lanes", 4}, {"key_banks", 4}}); }), "");
  EXPECT_EQ(error_of([] { parse_attention_config({{"lanes", 4}, {"key_banks", 8}}); }).rfind("config.key_banks: ", 0),
            0u);
  const json n = space_of("nm_array")["constraints"];
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0]["text"], "n <= m");
  EXPECT_EQ(error_or_empty([] { parse_nm_config({{"kind", "nm_array"}, {"m", 4}, {"n", 4}}); }), "");
  EXPECT_EQ(error_of([] { parse_nm_config({{"kind", "nm_array"}, {"m", 4}, {"n", 5}}); }).rfind("config.n: ", 0), 0u);
}

TEST(SearchSpace, DefaultsAndBaseValuesAreReported) {
  const json defaults = all_fields_json(AttentionConfig{});
  json base = defaults;
  base["lanes"] = 8;
  const json s = search_space_json("attention", base, defaults);
  EXPECT_EQ(field(s, "lanes")["default"], 4);  // docs/config.md default
  EXPECT_EQ(field(s, "lanes")["base"], 8);
  EXPECT_EQ(s["base"]["lanes"], 8);
}

}  // namespace
}  // namespace accelgen::core
