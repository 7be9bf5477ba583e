// Tests for core/nm_config.{h,cpp}: config kind dispatch, parsing and validation of NmConfig,
// derived widths, hashing, and the GEMM operand checks.
//
// Expected values never come from the code under test: ranges are those of the parameters table of
// docs/nm_array.md; derived widths are computed by hand from its "Derived widths" table (each
// computation is written next to the expectation).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

using accelgen::test_support::error_of;
using accelgen::test_support::has;
using accelgen::test_support::rows;
using TempDir = accelgen::test_support::TempDir;
using nlohmann::json;

json nm(json fields = json::object()) {
  fields["kind"] = "nm_array";
  return fields;
}

std::string parse_error(const json& j) {
  return error_of([&] { parse_nm_config(j); });
}

// ------------------------------------------------------------------------------------------ kind

TEST(NmConfigKind, AbsentKindIsAttention) {
  EXPECT_EQ(config_kind(json::object()), "attention");
  EXPECT_EQ(config_kind(json{{"d", 4}}), "attention");
}

TEST(NmConfigKind, NamedKindsAreReturned) {
  EXPECT_EQ(config_kind(json{{"kind", "attention"}}), "attention");
  EXPECT_EQ(config_kind(json{{"kind", "nm_array"}}), "nm_array");
}

TEST(NmConfigKind, OtherKindsNameTheFieldAndBothAllowedValues) {
  for (const json& kind : {json("mlp"), json("NM_ARRAY"), json(""), json(3), json(nullptr)}) {
    const std::string msg = error_of([&] { config_kind(json{{"kind", kind}}); });
    EXPECT_TRUE(has(msg, "config.kind")) << msg;
    EXPECT_TRUE(has(msg, "\"attention\" or \"nm_array\"")) << msg;
  }
}

TEST(NmConfigKind, NonObjectIsRejected) {
  EXPECT_TRUE(has(error_of([] { config_kind(json::array()); }), "config: must be a JSON object"));
}

TEST(NmConfigKind, AttentionParserStillRejectsTheNmKind) {
  // Attention behaviour is unchanged: it accepts "attention" and nothing else.
  EXPECT_EQ(parse_attention_config(json{{"kind", "attention"}}), AttentionConfig{});
  const std::string msg = error_of([] { parse_attention_config(json{{"kind", "nm_array"}}); });
  EXPECT_TRUE(has(msg, "config.kind")) << msg;
}

// -------------------------------------------------------------------------------------- parsing

TEST(NmConfigParse, KindOnlyGivesTheDocumentedDefaults) {
  const NmConfig c = parse_nm_config(nm());
  EXPECT_EQ(c.name, "nm");
  EXPECT_EQ(c.rows, 4);
  EXPECT_EQ(c.cols, 4);
  EXPECT_EQ(c.wx, 8);
  EXPECT_EQ(c.ww, 8);
  EXPECT_EQ(c.n, 2);
  EXPECT_EQ(c.m, 4);
  EXPECT_EQ(c.max_k, 256);
  EXPECT_FALSE(c.dense_baseline);
}

TEST(NmConfigParse, KindIsRequired) {
  EXPECT_TRUE(has(parse_error(json::object()), "config.kind")) << parse_error(json::object());
  EXPECT_TRUE(has(parse_error(json{{"kind", "attention"}}), "config.kind"));
}

TEST(NmConfigParse, EveryFieldIsRead) {
  const NmConfig c = parse_nm_config(nm({{"name", "sp_1"}, {"rows", 3}, {"cols", 5}, {"wx", 4},
                                         {"ww", 6}, {"n", 4}, {"m", 8}, {"max_k", 100},
                                         {"dense_baseline", true}}));
  EXPECT_EQ(c, (NmConfig{"sp_1", 3, 5, 4, 6, 4, 8, 100, true}));
}

TEST(NmConfigParse, TheRequiredPatternsAreAccepted) {
  // Issue 4: at least 1:2, 1:4, 2:4, 2:8, 4:8 and dense M:M; also 1:1 and the largest group.
  for (auto [n, m] : {std::pair{1, 2}, {1, 4}, {2, 4}, {2, 8}, {4, 8}, {4, 4}, {8, 8}, {1, 1},
                      {16, 16}, {3, 16}}) {
    const NmConfig c = parse_nm_config(nm({{"n", n}, {"m", m}}));
    EXPECT_EQ(c.n, n);
    EXPECT_EQ(c.m, m);
  }
}

TEST(NmConfigParse, DefaultNIsCappedByASmallerM) {
  EXPECT_EQ(parse_nm_config(nm({{"m", 1}})).n, 1);
  EXPECT_EQ(parse_nm_config(nm({{"m", 2}})).n, 2);
}

TEST(NmConfigValidation, OutOfRangeValuesNameTheFieldAndTheRange) {
  struct Case {
    const char* key;
    json value;
    const char* range;
  };
  for (const Case& c : {Case{"rows", 0, "[1, 64]"}, Case{"rows", 65, "[1, 64]"},
                        Case{"cols", 0, "[1, 64]"}, Case{"cols", 65, "[1, 64]"},
                        Case{"wx", 1, "[2, 16]"}, Case{"wx", 17, "[2, 16]"},
                        Case{"ww", 1, "[2, 16]"}, Case{"ww", 17, "[2, 16]"},
                        Case{"max_k", 0, "[1, 65536]"}, Case{"max_k", 65537, "[1, 65536]"},
                        Case{"m", 0, "[1, 16]"}, Case{"m", 32, "[1, 16]"},
                        Case{"n", 0, "[1, 4]"}, Case{"n", 5, "[1, 4]"},
                        Case{"rows", "4", "[1, 64]"}, Case{"rows", 2.5, "[1, 64]"}}) {
    const std::string msg = parse_error(nm({{c.key, c.value}}));
    EXPECT_TRUE(has(msg, std::string("config.") + c.key)) << c.key << ": " << msg;
    EXPECT_TRUE(has(msg, c.range)) << c.key << "=" << c.value.dump() << ": " << msg;
  }
}

TEST(NmConfigValidation, GroupSizeMustBeAPowerOfTwo) {
  for (int m : {3, 5, 6, 7, 12, 15}) {
    const std::string msg = parse_error(nm({{"m", m}, {"n", 1}}));
    EXPECT_TRUE(has(msg, "config.m")) << msg;
    EXPECT_TRUE(has(msg, "allowed 1, 2, 4, 8, 16")) << msg;
  }
}

TEST(NmConfigValidation, NAboveMNamesNAndTheRangeUpToM) {
  const std::string msg = parse_error(nm({{"n", 3}, {"m", 2}}));
  EXPECT_TRUE(has(msg, "config.n")) << msg;
  EXPECT_TRUE(has(msg, "[1, 2]")) << msg;
}

TEST(NmConfigValidation, UnknownKeysAreRejectedListingTheAllowedOnes) {
  const std::string msg = parse_error(nm({{"lanes", 4}}));  // an attention key
  EXPECT_TRUE(has(msg, "config.lanes")) << msg;
  EXPECT_TRUE(has(msg, "unknown key")) << msg;
  EXPECT_TRUE(has(msg, "max_k")) << msg;
}

TEST(NmConfigValidation, BadNameAndBadBoolAreRejected) {
  EXPECT_TRUE(has(parse_error(nm({{"name", "Bad-Name"}})), "config.name"));
  EXPECT_TRUE(has(parse_error(nm({{"dense_baseline", 1}})), "config.dense_baseline"));
}

TEST(NmConfigLoad, ReadsAFileAndNamesAMissingOne) {
  TempDir t;
  const auto p = t.path() / "nm.json";
  test_support::write_text(p, R"({"kind": "nm_array", "rows": 2, "n": 1, "m": 2})");
  const NmConfig c = load_nm_config(p.string());
  EXPECT_EQ(c.rows, 2);
  EXPECT_EQ(c.n, 1);
  const std::string missing = (t.path() / "none.json").string();
  EXPECT_TRUE(has(error_of([&] { load_nm_config(missing); }), missing));
}

// --------------------------------------------------------------------------------------- widths

TEST(NmWidths, DefaultConfigByHand) {
  const NmWidths w = nm_widths(NmConfig{});  // 4x4 PEs, wx = ww = 8, 2:4, max_k = 256
  EXPECT_EQ(w.kb, 4);         // m
  EXPECT_EQ(w.iw, 2);         // clog2(4)
  EXPECT_EQ(w.sw, 10);        // 8 + 2
  EXPECT_EQ(w.depth, 64);     // ceil(256 / 4)
  EXPECT_EQ(w.diw, 6);        // clog2(64)
  EXPECT_EQ(w.dcw, 7);        // clog2(65)
  EXPECT_EQ(w.products, 128); // 64 * 2
  EXPECT_EQ(w.aw, 23);        // 8 + 8 - 1 + clog2(129) = 15 + 8
  EXPECT_EQ(w.riw, 2);        // clog2(4)
  EXPECT_EQ(w.wbw, 80);       // 4 cols * 2 slots * 10
  EXPECT_EQ(w.xbw, 128);      // 4 rows * 4 k * 8
  EXPECT_EQ(w.ybw, 92);       // 4 * 23
}

TEST(NmWidths, DenseBaselineByHand) {
  NmConfig c;
  c.dense_baseline = true;
  const NmWidths w = nm_widths(c);
  EXPECT_EQ(w.kb, 2);          // n
  EXPECT_EQ(w.iw, 0);          // no indices
  EXPECT_EQ(w.sw, 8);
  EXPECT_EQ(w.depth, 128);     // ceil(256 / 2)
  EXPECT_EQ(w.diw, 7);
  EXPECT_EQ(w.dcw, 8);         // clog2(129)
  EXPECT_EQ(w.products, 256);  // every k is a product
  EXPECT_EQ(w.aw, 24);         // 15 + clog2(257) = 15 + 9
  EXPECT_EQ(w.wbw, 64);        // 4 * 2 * 8
  EXPECT_EQ(w.xbw, 64);        // 4 * 2 * 8
}

TEST(NmWidths, OddAndExtremeConfigsByHand) {
  {
    // 2:4, max_k = 5: D = ceil(5/4) = 2 beats, T = 4, AW = 4 + 4 - 1 + clog2(5) = 7 + 3 = 10.
    const NmWidths w = nm_widths(NmConfig{"nm", 1, 1, 4, 4, 2, 4, 5, false});
    EXPECT_EQ(w.depth, 2);
    EXPECT_EQ(w.products, 4);
    EXPECT_EQ(w.aw, 10);
    EXPECT_EQ(w.riw, 1);  // one row still needs a 1-bit pointer
    EXPECT_EQ(w.diw, 1);
    EXPECT_EQ(w.dcw, 2);
  }
  {
    // 1:1 has no index bits at all; D = max_k.
    const NmWidths w = nm_widths(NmConfig{"nm", 2, 2, 8, 8, 1, 1, 10, false});
    EXPECT_EQ(w.iw, 0);
    EXPECT_EQ(w.kb, 1);
    EXPECT_EQ(w.depth, 10);
    EXPECT_EQ(w.aw, 15 + 4);  // clog2(11) = 4
  }
  {
    // Largest: 16-bit operands, max_k = 65536, 16:16: T = 65536, AW = 31 + clog2(65537) = 48.
    const NmWidths w = nm_widths(NmConfig{"nm", 64, 64, 16, 16, 16, 16, 65536, false});
    EXPECT_EQ(w.products, 65536);
    EXPECT_EQ(w.aw, 48);
    EXPECT_EQ(w.iw, 4);
    EXPECT_EQ(w.wbw, 64 * 16 * 20);
  }
}

TEST(NmWidths, AccumulatorIsTheSmallestThatHoldsTheWorstCase) {
  // The worst case is T products of most-negative times most-negative, +2^(wx+ww-2) each.
  // AW must hold it as a signed value, AW - 1 must not.
  for (int wx : {2, 5, 8, 16}) {
    for (int ww : {2, 7, 16}) {
      for (int max_k : {1, 3, 4, 17, 256, 1000, 65536}) {
        for (auto [n, m] : {std::pair{1, 2}, {2, 4}, {4, 8}, {16, 16}, {1, 1}}) {
          for (bool dense : {false, true}) {
            const NmConfig c{"nm", 1, 1, wx, ww, n, m, max_k, dense};
            const NmWidths w = nm_widths(c);
            const int64_t worst = w.products << (wx + ww - 2);
            EXPECT_LE(worst, (int64_t{1} << (w.aw - 1)) - 1) << to_json(c).dump();
            EXPECT_GT(worst, (int64_t{1} << (w.aw - 2)) - 1) << to_json(c).dump();
            EXPECT_LE(w.aw, 48);
          }
        }
      }
    }
  }
}

// ----------------------------------------------------------------------------------------- hash

TEST(NmConfigHash, IndependentOfKeyOrderAndWrittenDefaults) {
  const NmConfig a = parse_nm_config(nm({{"rows", 2}}));
  const NmConfig b = parse_nm_config(json::parse(
      R"({"rows": 2, "max_k": 256, "kind": "nm_array", "cols": 4, "n": 2, "m": 4})"));
  EXPECT_EQ(config_hash(a), config_hash(b));
  EXPECT_EQ(config_hash(a).size(), 16u);
}

TEST(NmConfigHash, DiffersForTheDenseBaselineAndFromAttention) {
  NmConfig dense;
  dense.dense_baseline = true;
  EXPECT_NE(config_hash(NmConfig{}), config_hash(dense));
  EXPECT_NE(config_hash(NmConfig{}), config_hash(AttentionConfig{}));
}

TEST(NmConfigJson, CanonicalJsonParsesBackToTheSameConfig) {
  const NmConfig c{"x9", 7, 3, 5, 9, 2, 8, 1234, true};
  const json j = to_json(c);
  EXPECT_EQ(j.at("kind"), "nm_array");
  EXPECT_EQ(parse_nm_config(j), c);
}

// ------------------------------------------------------------------------------------- operands

TEST(NmOperands, AcceptsMatchingShapesInRange) {
  NmConfig c{"nm", 2, 2, 4, 4, 2, 4, 8, false};
  check_gemm_operands(c, rows({{-8, 7, 0}}), rows({{1}, {-8}, {7}}));
}

TEST(NmOperands, NamesTheFileAndTheRange) {
  const NmConfig c{"nm", 2, 2, 4, 4, 2, 4, 4, false};
  const auto err = [&](const IntMatrix& x, const IntMatrix& w) {
    return error_of([&] { check_gemm_operands(c, x, w); });
  };
  EXPECT_TRUE(has(err(rows({{1, 2}}), rows({{1}, {2}, {3}})), "w.npy: shape (3, 1)"));
  EXPECT_TRUE(has(err(rows({{1, 2, 3, 4, 5}}), IntMatrix::Zero(5, 1)), "allowed [1, 4]"));
  const std::string x_msg = err(rows({{1, 8}}), rows({{1}, {2}}));
  EXPECT_TRUE(has(x_msg, "x.npy: element (0, 1) = 8")) << x_msg;
  EXPECT_TRUE(has(x_msg, "[-8, 7]")) << x_msg;
  const std::string w_msg = err(rows({{1, 2}}), rows({{1}, {-9}}));
  EXPECT_TRUE(has(w_msg, "w.npy: element (1, 0) = -9")) << w_msg;
  EXPECT_TRUE(has(err(IntMatrix(0, 2), IntMatrix::Zero(2, 1)), "x.npy"));
  EXPECT_TRUE(has(err(rows({{1, 2}}), IntMatrix(2, 0)), "w.npy"));
}

}  // namespace
}  // namespace accelgen::core
