// Tests for core/config.{h,cpp}: parsing, validation, derived widths and hashing of AttentionConfig.
//
// Expected values never come from the code under test: ranges are the ones in the parameters table
// of docs/microarchitecture.md, derived widths are computed by hand from the formulas in its
// "Derived widths" table (each computation is written out next to the expectation).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "core/error.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

using accelgen::test_support::has;

using accelgen::test_support::error_of;
using TempDir = accelgen::test_support::TempDir;

using nlohmann::json;


std::string parse_error(const json& j) {
  return error_of([&] { parse_attention_config(j); });
}

// True if `s` contains `part` (used with EXPECT_TRUE(...) << s for readable failures).

// "[lo, hi]", the way every range message writes an allowed range.
std::string range_text(int lo, int hi) {
  std::ostringstream os;
  os << '[' << lo << ", " << hi << ']';
  return os.str();
}


void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream os(p, std::ios::binary);
  os << text;
  ASSERT_TRUE(os.good()) << p;
}

// ------------------------------------------------------------------------------------- defaults

TEST(ConfigDefaults, EmptyObjectGivesDocumentedDefaults) {
  const AttentionConfig c = parse_attention_config(json::object());
  EXPECT_EQ(c.name, "ag");
  EXPECT_EQ(c.d, 16);
  EXPECT_EQ(c.dv, 16);
  EXPECT_EQ(c.wq, 8);
  EXPECT_EQ(c.wk, 8);
  EXPECT_EQ(c.wv, 8);
  EXPECT_EQ(c.lanes, 4);
  EXPECT_EQ(c.max_keys, 64);
  EXPECT_EQ(c.threshold_slots, 4);
  EXPECT_EQ(c.alpha_mant_bits, 16);
  EXPECT_FALSE(c.dense_baseline);
}

TEST(ConfigDefaults, KindAttentionAloneGivesDefaults) {
  EXPECT_EQ(parse_attention_config(json{{"kind", "attention"}}), AttentionConfig{});
}

TEST(ConfigDefaults, CheckedInDefaultConfigEqualsBuiltInDefaults) {
  const AttentionConfig c =
      load_attention_config(std::string(ACCELGEN_SOURCE_DIR) + "/configs/default.json");
  EXPECT_EQ(c, parse_attention_config(json::object()));
}

TEST(ConfigDefaults, GivenKeysOverrideOnlyThemselves) {
  const AttentionConfig c = parse_attention_config(json{{"d", 3}, {"lanes", 2}});
  EXPECT_EQ(c.d, 3);
  EXPECT_EQ(c.lanes, 2);
  EXPECT_EQ(c.dv, 16);
  EXPECT_EQ(c.wq, 8);
  EXPECT_EQ(c.max_keys, 64);
  EXPECT_EQ(c.alpha_mant_bits, 16);
}

TEST(ConfigDefaults, ParsesEveryFieldOfAFullConfig) {
  const json j = {{"kind", "attention"},   {"name", "eng_2"},       {"d", 33},
                  {"dv", 9},               {"wq", 6},               {"wk", 11},
                  {"wv", 5},               {"lanes", 7},            {"max_keys", 100},
                  {"threshold_slots", 2},  {"alpha_mant_bits", 13}, {"dense_baseline", true}};
  const AttentionConfig c = parse_attention_config(j);
  EXPECT_EQ(c.name, "eng_2");
  EXPECT_EQ(c.d, 33);
  EXPECT_EQ(c.dv, 9);
  EXPECT_EQ(c.wq, 6);
  EXPECT_EQ(c.wk, 11);
  EXPECT_EQ(c.wv, 5);
  EXPECT_EQ(c.lanes, 7);
  EXPECT_EQ(c.max_keys, 100);
  EXPECT_EQ(c.threshold_slots, 2);
  EXPECT_EQ(c.alpha_mant_bits, 13);
  EXPECT_TRUE(c.dense_baseline);
}

// ---------------------------------------------------------------------------- integer ranges

struct IntRange {
  const char* key;
  int lo;
  int hi;
};

// docs/config.md, parameters table.
const std::vector<IntRange> kRanges = {
    {"d", 1, 256},          {"dv", 1, 256},           {"wq", 2, 16},
    {"wk", 2, 16},          {"wv", 2, 16},            {"lanes", 1, 64},
    {"max_keys", 1, 4096},  {"threshold_slots", 1, 256}, {"alpha_mant_bits", 13, 24},
    {"out_frac_bits", 0, 8},  {"exp_lut_bits", 0, 12},  {"key_queue", 1, 2},
};

// A config with `key` set to `value` whose other fields keep every cross-field rule satisfied
// for any in-range value of `key` (lanes <= max_keys).
json with(const std::string& key, int value) {
  json j = {{"lanes", 1}, {"max_keys", 4096}};
  if (key == "lanes") j["max_keys"] = 4096;
  if (key == "max_keys") j["lanes"] = 1;
  j[key] = value;
  return j;
}

int field(const AttentionConfig& c, const std::string& key) {
  if (key == "d") return c.d;
  if (key == "dv") return c.dv;
  if (key == "wq") return c.wq;
  if (key == "wk") return c.wk;
  if (key == "wv") return c.wv;
  if (key == "lanes") return c.lanes;
  if (key == "max_keys") return c.max_keys;
  if (key == "threshold_slots") return c.threshold_slots;
  if (key == "alpha_mant_bits") return c.alpha_mant_bits;
  if (key == "out_frac_bits") return c.out_frac_bits;
  if (key == "exp_lut_bits") return c.exp_lut_bits;
  if (key == "key_queue") return c.key_queue;
  ADD_FAILURE() << "no field " << key;
  return -1;
}

TEST(ConfigValidation, AcceptsLowerAndUpperBoundOfEveryInteger) {
  for (const IntRange& r : kRanges) {
    SCOPED_TRACE(r.key);
    for (int v : {r.lo, r.hi}) {
      AttentionConfig c;
      ASSERT_NO_THROW(c = parse_attention_config(with(r.key, v))) << r.key << " = " << v;
      EXPECT_EQ(field(c, r.key), v);
    }
  }
}

TEST(ConfigValidation, RejectsOneBelowLowerBoundNamingFieldAndRange) {
  for (const IntRange& r : kRanges) {
    SCOPED_TRACE(r.key);
    const std::string msg = parse_error(with(r.key, r.lo - 1));
    EXPECT_TRUE(has(msg, std::string("config.") + r.key)) << msg;
    EXPECT_TRUE(has(msg, std::to_string(r.lo))) << msg;
    EXPECT_TRUE(has(msg, std::to_string(r.hi))) << msg;
    EXPECT_TRUE(has(msg, std::to_string(r.lo - 1))) << "message should show the bad value: " << msg;
  }
}

TEST(ConfigValidation, RejectsOneAboveUpperBoundNamingFieldAndRange) {
  for (const IntRange& r : kRanges) {
    SCOPED_TRACE(r.key);
    const std::string msg = parse_error(with(r.key, r.hi + 1));
    EXPECT_TRUE(has(msg, std::string("config.") + r.key)) << msg;
    EXPECT_TRUE(has(msg, range_text(r.lo, r.hi))) << msg;
    EXPECT_TRUE(has(msg, std::to_string(r.hi + 1))) << "message should show the bad value: " << msg;
  }
}

TEST(ConfigValidation, RejectsFarOutOfRangeValues) {
  for (const IntRange& r : kRanges) {
    SCOPED_TRACE(r.key);
    for (int64_t v : {int64_t{-1}, int64_t{-1000000}, int64_t{1} << 32, int64_t{1} << 40}) {
      json j = with(r.key, 0);
      j[r.key] = v;
      const std::string msg = parse_error(j);
      EXPECT_TRUE(has(msg, std::string("config.") + r.key)) << msg;
    }
  }
}

TEST(ConfigValidation, RejectsNonIntegerNumbersAndWrongTypes) {
  for (const IntRange& r : kRanges) {
    SCOPED_TRACE(r.key);
    for (const json& bad : {json(8.5), json(8.0), json("8"), json(true), json(nullptr),
                            json::array({8}), json::object()}) {
      json j = with(r.key, 0);
      j[r.key] = bad;
      const std::string msg = parse_error(j);
      EXPECT_TRUE(has(msg, std::string("config.") + r.key)) << bad.dump() << ": " << msg;
      EXPECT_TRUE(has(msg, range_text(r.lo, r.hi)))
          << bad.dump() << ": " << msg;
    }
  }
}

TEST(ConfigValidation, HugeUnsignedValueIsReportedAsWritten) {
  // 2^64 - 1 is a valid JSON number (nlohmann stores it unsigned); it is out of range, and the
  // message should show the number the user wrote, not a wrapped-around value.
  const json j = json::parse(R"({"d": 18446744073709551615})");
  const std::string msg = parse_error(j);
  EXPECT_TRUE(has(msg, "config.d")) << msg;
  EXPECT_TRUE(has(msg, "18446744073709551615")) << msg;
  EXPECT_FALSE(has(msg, "-1 ")) << msg;
}

TEST(ConfigValidation, DenseBaselineAcceptsBooleansOnly) {
  EXPECT_TRUE(parse_attention_config(json{{"dense_baseline", true}}).dense_baseline);
  EXPECT_FALSE(parse_attention_config(json{{"dense_baseline", false}}).dense_baseline);
  for (const json& bad : {json(1), json(0), json("true"), json(nullptr), json(1.0)}) {
    const std::string msg = parse_error(json{{"dense_baseline", bad}});
    EXPECT_TRUE(has(msg, "config.dense_baseline")) << bad.dump() << ": " << msg;
    EXPECT_TRUE(has(msg, "true") && has(msg, "false")) << msg;
  }
}

// ------------------------------------------------------------------------- unknown keys, kind

TEST(ConfigValidation, RejectsUnknownKeyNamingIt) {
  const std::string msg = parse_error(json{{"d", 16}, {"lane", 4}});
  EXPECT_TRUE(has(msg, "config.lane")) << msg;
  EXPECT_TRUE(has(msg, "unknown")) << msg;
}

TEST(ConfigValidation, UnknownKeyMessageListsTheAllowedKeys) {
  const std::string msg = parse_error(json{{"maxkeys", 64}});
  EXPECT_TRUE(has(msg, "config.maxkeys")) << msg;
  for (const char* k : {"kind", "name", "d", "dv", "wq", "wk", "wv", "lanes", "max_keys",
                        "threshold_slots", "alpha_mant_bits", "dense_baseline"}) {
    EXPECT_TRUE(has(msg, k)) << k << " missing from: " << msg;
  }
}

TEST(ConfigValidation, KeysAreCaseSensitive) {
  EXPECT_TRUE(has(parse_error(json{{"D", 16}}), "config.D"));
  EXPECT_TRUE(has(parse_error(json{{"Lanes", 4}}), "config.Lanes"));
}

TEST(ConfigValidation, RejectsKindOtherThanAttention) {
  for (const json& kind : {json("mlp"), json("Attention"), json(""), json(1), json(nullptr)}) {
    const std::string msg = parse_error(json{{"kind", kind}});
    EXPECT_TRUE(has(msg, "config.kind")) << kind.dump() << ": " << msg;
    EXPECT_TRUE(has(msg, "attention")) << msg;
  }
}

TEST(ConfigValidation, RejectsNonObjectTopLevel) {
  for (const json& j : {json::array(), json(16), json("attention"), json(nullptr)}) {
    const std::string msg = parse_error(j);
    EXPECT_TRUE(has(msg, "config")) << j.dump() << ": " << msg;
    EXPECT_TRUE(has(msg, "object")) << j.dump() << ": " << msg;
  }
}

// ---------------------------------------------------------------------------------------- name

TEST(ConfigValidation, AcceptsLegalNames) {
  for (const std::string name :
       {"a", "ag", "z9", "a_b", "attn_l3_h7", "a_", "abcdefghijklmnopqrstuvwx" /* 24 chars */}) {
    AttentionConfig c;
    ASSERT_NO_THROW(c = parse_attention_config(json{{"name", name}})) << name;
    EXPECT_EQ(c.name, name);
  }
}

TEST(ConfigValidation, RejectsIllegalNamesNamingTheField) {
  for (const json& name :
       {json(""), json("A"), json("Ag"), json("aG"), json("1a"), json("_a"), json("a-b"),
        json("a b"), json("a.b"), json("a/b"), json("\xc3\xa4"), json("ag\n"),
        json("abcdefghijklmnopqrstuvwxy" /* 25 chars */), json(5), json(nullptr),
        json::array({"ag"})}) {
    const std::string msg = parse_error(json{{"name", name}});
    EXPECT_TRUE(has(msg, "config.name")) << name.dump() << ": " << msg;
    EXPECT_TRUE(has(msg, "[a-z]")) << "message should give the allowed pattern: " << msg;
  }
}

// ---------------------------------------------------------------------------- cross-field rules

TEST(ConfigValidation, RetiredAlphaFieldsAreRejectedSayingWhatReplacedThem) {
  // The fixed-point scale register of earlier releases (alpha_int_bits + alpha_frac_bits) is gone:
  // an old config must fail naming the field and pointing at alpha_mant_bits, also when the value
  // was the old default and when the new field is given too.
  for (const char* old : {"alpha_int_bits", "alpha_frac_bits"}) {
    for (const json& j : {json{{old, 4}}, json{{old, 20}, {"alpha_mant_bits", 16}},
                          json{{"alpha_int_bits", 4}, {"alpha_frac_bits", 20}, {"d", 8}}}) {
      if (!j.contains(old)) continue;
      const std::string msg = parse_error(j);
      EXPECT_TRUE(has(msg, std::string("config.")) && has(msg, "alpha_")) << msg;
      EXPECT_TRUE(has(msg, "removed")) << msg;
      EXPECT_TRUE(has(msg, "alpha_mant_bits")) << "message should name the replacement: " << msg;
    }
    const std::string msg = parse_error(json{{old, 4}});
    EXPECT_TRUE(has(msg, std::string("config.") + old)) << msg;
  }
}

TEST(ConfigValidation, AcceptsLanesEqualToMaxKeys) {
  const AttentionConfig c = parse_attention_config(json{{"lanes", 8}, {"max_keys", 8}});
  EXPECT_EQ(c.lanes, 8);
  EXPECT_EQ(c.max_keys, 8);
  EXPECT_NO_THROW(parse_attention_config(json{{"lanes", 1}, {"max_keys", 1}}));
}

TEST(ConfigValidation, RejectsLanesAboveMaxKeys) {
  const std::string msg = parse_error(json{{"lanes", 9}, {"max_keys", 8}});
  EXPECT_TRUE(has(msg, "config.lanes")) << msg;
  EXPECT_TRUE(has(msg, "[1, 8]")) << msg;
}

TEST(ConfigValidation, RejectsDefaultLanesAboveSmallMaxKeys) {
  // lanes defaults to 4, so max_keys = 3 alone is inconsistent.
  const std::string msg = parse_error(json{{"max_keys", 3}});
  EXPECT_TRUE(has(msg, "config.lanes") || has(msg, "config.max_keys")) << msg;
  EXPECT_TRUE(has(msg, "3")) << msg;
}

// ----------------------------------------------------------------------------- loading a file

TEST(ConfigLoad, MissingFileNamesThePath) {
  TempDir t;
  const std::string path = (t.path() / "no_such_config.json").string();
  const std::string msg = error_of([&] { load_attention_config(path); });
  EXPECT_TRUE(has(msg, path)) << msg;
}

TEST(ConfigLoad, InvalidJsonNamesThePath) {
  TempDir t;
  const std::string path = (t.path() / "broken.json").string();
  write_text(path, "{\"d\": 16,, }");
  const std::string msg = error_of([&] { load_attention_config(path); });
  EXPECT_TRUE(has(msg, path)) << msg;
  EXPECT_TRUE(has(msg, "JSON")) << msg;
}

TEST(ConfigLoad, EmptyFileNamesThePath) {
  TempDir t;
  const std::string path = (t.path() / "empty.json").string();
  write_text(path, "");
  const std::string msg = error_of([&] { load_attention_config(path); });
  EXPECT_TRUE(has(msg, path)) << msg;
}

TEST(ConfigLoad, DirectoryInsteadOfFileIsAnInputError) {
  TempDir t;
  const std::string msg = error_of([&] { load_attention_config(t.path().string()); });
  EXPECT_TRUE(has(msg, t.path().string())) << msg;
}

TEST(ConfigLoad, ValidFileIsParsedAndValidated) {
  TempDir t;
  const std::string good = (t.path() / "good.json").string();
  write_text(good, R"({"name": "x1", "d": 5, "lanes": 2, "max_keys": 2})");
  const AttentionConfig c = load_attention_config(good);
  EXPECT_EQ(c.name, "x1");
  EXPECT_EQ(c.d, 5);
  EXPECT_EQ(c.lanes, 2);
  EXPECT_EQ(c.max_keys, 2);

  const std::string bad = (t.path() / "bad.json").string();
  write_text(bad, R"({"d": 257})");
  const std::string msg = error_of([&] { load_attention_config(bad); });
  EXPECT_TRUE(has(msg, "config.d")) << msg;
  EXPECT_TRUE(has(msg, "[1, 256]")) << msg;
}

TEST(ConfigLoad, EveryCheckedInConfigLoads) {
  const std::filesystem::path dir = std::filesystem::path(ACCELGEN_SOURCE_DIR) / "configs";
  int n = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    SCOPED_TRACE(e.path().string());
    const std::string kind = config_kind(read_json_file(e.path().string(), "config"));
    if (kind == "nm_array") {
      EXPECT_NO_THROW(load_nm_config(e.path().string()));
    } else {
      EXPECT_NO_THROW(load_attention_config(e.path().string()));
    }
    ++n;
  }
  EXPECT_GE(n, 2);
}

// ----------------------------------------------------------------------------------- widths

TEST(ConfigWidths, Clog2MatchesVerilogOnSmallValues) {
  EXPECT_EQ(clog2(1), 0);
  EXPECT_EQ(clog2(2), 1);
  EXPECT_EQ(clog2(3), 2);
  EXPECT_EQ(clog2(4), 2);
  EXPECT_EQ(clog2(5), 3);
  EXPECT_EQ(clog2(7), 3);
  EXPECT_EQ(clog2(8), 3);
  EXPECT_EQ(clog2(9), 4);
  EXPECT_EQ(clog2(255), 8);
  EXPECT_EQ(clog2(256), 8);
  EXPECT_EQ(clog2(257), 9);
  EXPECT_EQ(clog2(4096), 12);
  EXPECT_EQ(clog2(4097), 13);
  EXPECT_EQ(clog2(65537), 17);
}

TEST(ConfigWidths, Clog2OnLargeValues) {
  EXPECT_EQ(clog2(uint64_t{1} << 32), 32);
  EXPECT_EQ(clog2((uint64_t{1} << 32) + 1), 33);
  EXPECT_EQ(clog2(uint64_t{1} << 62), 62);
  EXPECT_EQ(clog2((uint64_t{1} << 62) + 1), 63);
  EXPECT_EQ(clog2(uint64_t{1} << 63), 63);
}

TEST(ConfigWidths, SignedRangeOfBitWidths) {
  EXPECT_EQ(signed_min(2), -2);
  EXPECT_EQ(signed_max(2), 1);
  EXPECT_EQ(signed_min(8), -128);
  EXPECT_EQ(signed_max(8), 127);
  EXPECT_EQ(signed_min(16), -32768);
  EXPECT_EQ(signed_max(16), 32767);
  EXPECT_EQ(signed_min(22), -2097152);
  EXPECT_EQ(signed_max(22), 2097151);
}

TEST(ConfigWidths, DefaultConfig) {
  // d=16, wq=wk=8, lanes=4, max_keys=64, threshold_slots=4, alpha mantissa 16.
  const AttentionWidths w = widths(parse_attention_config(json::object()));
  EXPECT_EQ(w.sw, 20);   // 8 + 8 + clog2(16)=4
  EXPECT_EQ(w.tw, 22);   // SW + 2
  EXPECT_EQ(w.bw, 23);   // SW + 3
  EXPECT_EQ(w.aw, 22);   // 16 + 6 (shift)
  EXPECT_EQ(w.cdw, 22);  // max(22, 22)
  EXPECT_EQ(w.caw, 3);   // clog2(4 + 1 = 5)
  EXPECT_EQ(w.kiw, 6);   // max(1, clog2(64))
  EXPECT_EQ(w.kcw, 7);   // clog2(65)
  EXPECT_EQ(w.stw, 10);  // clog2(64*8 + 1 = 513)
  EXPECT_EQ(w.slw, 2);   // max(1, clog2(4))
  EXPECT_EQ(w.cyw, 32);
  EXPECT_EQ(w.ef, 19);   // wv + F_o + clog2(64) + 3 = 8 + 2 + 6 + 3
  EXPECT_EQ(w.xf, 14);   // wv + F_o + 4
  EXPECT_EQ(w.xw, 19);   // 14 + clog2(19 + 2 = 21) = 14 + 5
}

TEST(ConfigWidths, SmallestConfig) {
  // d=1, wq=wk=2, lanes=max_keys=threshold_slots=1, alpha mantissa 13.
  const AttentionWidths w = widths(parse_attention_config(
      json{{"d", 1}, {"wq", 2}, {"wk", 2}, {"lanes", 1}, {"max_keys", 1}, {"threshold_slots", 1},
           {"alpha_mant_bits", 13}, {"wv", 2}, {"out_frac_bits", 0}}));
  EXPECT_EQ(w.sw, 4);   // 2 + 2 + clog2(1)=0
  EXPECT_EQ(w.tw, 6);
  EXPECT_EQ(w.bw, 7);
  EXPECT_EQ(w.aw, 19);  // 13 + 6
  EXPECT_EQ(w.cdw, 19);  // max(6, 19)
  EXPECT_EQ(w.caw, 1);  // clog2(1 + 1)
  EXPECT_EQ(w.kiw, 1);  // max(1, clog2(1)=0)
  EXPECT_EQ(w.kcw, 1);  // clog2(2)
  EXPECT_EQ(w.stw, 2);  // clog2(1*2 + 1 = 3)
  EXPECT_EQ(w.slw, 1);  // max(1, clog2(1)=0)
  EXPECT_EQ(w.cyw, 32);
  EXPECT_EQ(w.ef, 5);   // 2 + 0 + clog2(1)=0 + 3
  EXPECT_EQ(w.xf, 6);   // 2 + 0 + 4
  EXPECT_EQ(w.xw, 9);   // 6 + clog2(7) = 6 + 3
}

TEST(ConfigWidths, OddSizesNotPowersOfTwo) {
  // r_d33-like: d=33, wq=6, wk=11, lanes=7, max_keys=100, threshold_slots=3, alpha mantissa 24.
  const AttentionWidths w = widths(parse_attention_config(
      json{{"d", 33}, {"wq", 6}, {"wk", 11}, {"lanes", 7}, {"max_keys", 100},
           {"threshold_slots", 3}, {"alpha_mant_bits", 24}}));
  EXPECT_EQ(w.sw, 23);   // 6 + 11 + clog2(33)=6
  EXPECT_EQ(w.tw, 25);
  EXPECT_EQ(w.bw, 26);
  EXPECT_EQ(w.aw, 30);   // 24 + 6
  EXPECT_EQ(w.cdw, 30);  // max(25, 30)
  EXPECT_EQ(w.caw, 2);   // clog2(3 + 1 = 4)
  EXPECT_EQ(w.kiw, 7);   // clog2(100)
  EXPECT_EQ(w.kcw, 7);   // clog2(101)
  EXPECT_EQ(w.stw, 11);  // clog2(100*11 + 1 = 1101): 1024 < 1101 <= 2048
  EXPECT_EQ(w.slw, 2);   // clog2(3)
}

TEST(ConfigWidths, LargestConfig) {
  // d=256, wq=wk=16, wv=16, lanes=64, max_keys=4096, threshold_slots=256, F_o 8, alpha mantissa 24.
  const AttentionWidths w = widths(parse_attention_config(
      json{{"d", 256}, {"wq", 16}, {"wk", 16}, {"lanes", 64}, {"max_keys", 4096},
           {"threshold_slots", 256}, {"alpha_mant_bits", 24}, {"wv", 16}, {"out_frac_bits", 8}}));
  EXPECT_EQ(w.sw, 40);   // 16 + 16 + 8
  EXPECT_EQ(w.tw, 42);
  EXPECT_EQ(w.bw, 43);
  EXPECT_EQ(w.aw, 30);   // 24 + 6
  EXPECT_EQ(w.cdw, 42);  // max(42, 30)
  EXPECT_EQ(w.ef, 39);   // 16 + 8 + 12 + 3
  EXPECT_EQ(w.xf, 28);   // 16 + 8 + 4
  EXPECT_EQ(w.xw, 34);   // 28 + clog2(41) = 28 + 6
  EXPECT_EQ(w.caw, 9);   // clog2(257)
  EXPECT_EQ(w.kiw, 12);  // clog2(4096)
  EXPECT_EQ(w.kcw, 13);  // clog2(4097)
  EXPECT_EQ(w.stw, 17);  // clog2(4096*16 + 1 = 65537)
  EXPECT_EQ(w.slw, 8);   // clog2(256)
}

TEST(ConfigWidths, DenseBaselineHasOneBitConfigAddress) {
  // Only address 0 (alpha) is mapped in the dense baseline: CAW = 1 whatever threshold_slots is.
  const AttentionWidths w = widths(parse_attention_config(
      json{{"threshold_slots", 256}, {"dense_baseline", true}}));
  EXPECT_EQ(w.caw, 1);
  EXPECT_EQ(w.sw, 20);  // the datapath widths do not change
  EXPECT_EQ(w.kcw, 7);
}

// ------------------------------------------------------------------------------------- hash

TEST(ConfigHash, EqualConfigsHashEqual) {
  const json j = {{"name", "h1"}, {"d", 7}, {"lanes", 5}, {"max_keys", 40}};
  const AttentionConfig a = parse_attention_config(j);
  const AttentionConfig b = parse_attention_config(j);
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_EQ(config_hash(a), config_hash(a));
  EXPECT_FALSE(config_hash(a).empty());
}

TEST(ConfigHash, ExplicitDefaultsHashLikeOmittedKeys) {
  const std::string full =
      R"({"kind":"attention","name":"ag","d":16,"dv":16,"wq":8,"wk":8,"wv":8,"lanes":4,
          "max_keys":64,"threshold_slots":4,"alpha_mant_bits":16,
          "dense_baseline":false})";
  EXPECT_EQ(config_hash(parse_attention_config(json::parse(full))),
            config_hash(parse_attention_config(json::object())));
}

// key_queue came after configs had been hashed (area caches, thresholds files, RTL banners): its
// default is left out of the hashed JSON, so those hashes stay valid; any other value is hashed.
TEST(ConfigHash, KeyQueueOneHashesLikeAConfigWithoutIt) {
  const json base = {{"name", "kq"}, {"lanes", 4}};
  json one = base, two = base;
  one["key_queue"] = 1;
  two["key_queue"] = 2;
  EXPECT_EQ(config_hash(parse_attention_config(one)), config_hash(parse_attention_config(base)));
  EXPECT_NE(config_hash(parse_attention_config(two)), config_hash(parse_attention_config(base)));
  EXPECT_EQ(parse_attention_config(to_json(parse_attention_config(two))).key_queue, 2);
}

TEST(ConfigHash, IndependentOfKeyOrderInTheInput) {
  const std::string a =
      R"({"name":"ord","d":9,"dv":4,"wq":7,"wk":9,"wv":7,"lanes":3,"max_keys":30,)"
      R"("threshold_slots":2,"dense_baseline":true})";
  const std::string b =
      R"({"dense_baseline":true,"threshold_slots":2,"max_keys":30,"lanes":3,"wv":7,"wk":9,)"
      R"("wq":7,"dv":4,"d":9,"name":"ord"})";
  const std::string c =
      R"({"wk":9,"lanes":3,"name":"ord","threshold_slots":2,"d":9,"wv":7,"max_keys":30,)"
      R"("dense_baseline":true,"dv":4,"wq":7})";
  const std::string ha = config_hash(parse_attention_config(json::parse(a)));
  EXPECT_EQ(ha, config_hash(parse_attention_config(json::parse(b))));
  EXPECT_EQ(ha, config_hash(parse_attention_config(json::parse(c))));
  // ordered_json keeps insertion order; parsing through it must not matter either.
  const nlohmann::ordered_json ob = nlohmann::ordered_json::parse(b);
  EXPECT_EQ(ha, config_hash(parse_attention_config(json::parse(ob.dump()))));
}

TEST(ConfigHash, ChangesWhenAnyFieldChanges) {
  const AttentionConfig base = parse_attention_config(json::object());
  const std::string h0 = config_hash(base);
  std::vector<std::pair<std::string, json>> changes = {
      {"name", "ah"},          {"d", 17},
      {"dv", 15},              {"wq", 9},
      {"wk", 7},               {"wv", 10},
      {"lanes", 5},            {"max_keys", 65},
      {"threshold_slots", 3},  {"alpha_mant_bits", 17},
      {"dense_baseline", true},
  };
  std::set<std::string> seen = {h0};
  for (const auto& [key, value] : changes) {
    const AttentionConfig c = parse_attention_config(json{{key, value}});
    ASSERT_NE(c, base) << key;
    const std::string h = config_hash(c);
    EXPECT_NE(h, h0) << key;
    EXPECT_TRUE(seen.insert(h).second) << key << " collides with another single-field change";
  }
}

TEST(ConfigHash, SwappingTwoFieldsChangesTheHash) {
  // wq=8, wk=9 vs wq=9, wk=8: same multiset of values, different configs.
  EXPECT_NE(config_hash(parse_attention_config(json{{"wq", 8}, {"wk", 9}})),
            config_hash(parse_attention_config(json{{"wq", 9}, {"wk", 8}})));
  EXPECT_NE(config_hash(parse_attention_config(json{{"d", 16}, {"dv", 32}})),
            config_hash(parse_attention_config(json{{"d", 32}, {"dv", 16}})));
}

TEST(ConfigHash, IsSixteenLowercaseHexDigits) {
  const std::string h = config_hash(AttentionConfig{});
  ASSERT_EQ(h.size(), 16u) << h;
  for (char ch : h) EXPECT_TRUE((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')) << h;
}

TEST(ConfigJson, CanonicalJsonRoundTrips) {
  const AttentionConfig c = parse_attention_config(
      json{{"name", "rt"}, {"d", 3}, {"dv", 5}, {"wq", 5}, {"wk", 7}, {"wv", 6}, {"lanes", 2},
           {"key_banks", 2}, {"max_keys", 17}, {"threshold_slots", 3}, {"alpha_mant_bits", 14},
           {"dense_baseline", true}, {"out_frac_bits", 5}, {"exp_lut_bits", 3},
           {"overlap_backend", false}});
  const json j = to_json(c);
  EXPECT_EQ(j.at("kind"), "attention");
  EXPECT_EQ(j.size(), 18u);
  EXPECT_EQ(c.key_banks, 2);
  EXPECT_EQ(c.out_frac_bits, 5);
  EXPECT_EQ(c.exp_lut_bits, 3);
  EXPECT_FALSE(c.overlap_backend);
  EXPECT_EQ(parse_attention_config(j), c);
}

// nlohmann's dump() and comparisons recurse, and error messages dump the offending value: a config
// of a million '[' parsed fine and then overflowed the stack. Nesting is bounded while parsing.
TEST(JsonText, NestingDeeperThanTheLimitIsAnInputErrorNamingTheFile) {
  const std::string msg = error_of([] { parse_json_text(std::string(1000000, '[') , "c.json"); });
  EXPECT_NE(msg.find("c.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nested deeper than 64"), std::string::npos) << msg;
  std::string ok;
  for (int i = 0; i < kMaxJsonDepth; ++i) ok += "[";
  for (int i = 0; i < kMaxJsonDepth; ++i) ok += "]";
  EXPECT_NO_THROW(parse_json_text(ok, "ok.json"));
  EXPECT_NE(error_of([] { parse_json_text("{\"d\": 1,", "t.json"); }).find("t.json: not valid JSON"), std::string::npos);
}

// key_banks: 0 (derived) or a power of two up to lanes; the derived value is the largest power of
// two <= lanes / 2, at least 1 (docs/config.md).
TEST(ConfigKeyBanks, DerivedValueAndLimits) {
  const auto banks = [](int lanes, int key_banks) {
    AttentionConfig c = parse_attention_config(json{{"lanes", lanes}, {"key_banks", key_banks}});
    return core::key_banks(c);
  };
  EXPECT_EQ(banks(1, 0), 1);
  EXPECT_EQ(banks(2, 0), 1);
  EXPECT_EQ(banks(3, 0), 1);
  EXPECT_EQ(banks(4, 0), 2);
  EXPECT_EQ(banks(7, 0), 2);
  EXPECT_EQ(banks(8, 0), 4);
  EXPECT_EQ(banks(16, 0), 8);
  EXPECT_EQ(banks(64, 0), 32);
  EXPECT_EQ(banks(4, 4), 4);
  EXPECT_EQ(banks(5, 1), 1);
  for (const json& bad : {json{{"key_banks", 3}}, json{{"lanes", 2}, {"key_banks", 4}},
                          json{{"key_banks", -1}}, json{{"key_banks", 128}}, json{{"key_banks", "2"}}}) {
    try {
      parse_attention_config(bad);
      ADD_FAILURE() << "accepted " << bad.dump();
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("config.key_banks"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace accelgen::core
