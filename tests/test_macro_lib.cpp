// Tests for flows/macro_lib.{h,cpp} and the memory() group of the Liberty reader: the RAM macros of
// the hand-written tests/data/macro/test_macros.lib and the cheapest tiling of each memory shape.
// Expected areas are computed by hand from that file (written next to each expectation), never by
// the code under test. Cost: milliseconds (no tool runs).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "flows/liberty.h"
#include "flows/macro_lib.h"
#include "flows/text_io.h"
#include "tests/test_support.h"

namespace accelgen::flows {
namespace {

namespace fs = std::filesystem;
using accelgen::test_support::error_of;

const fs::path kLib = fs::path(ACCELGEN_SOURCE_DIR) / "tests/data/macro/test_macros.lib";

std::vector<MacroCell> test_macros() { return macro_cells(parse_liberty(read_text(kLib))); }

TEST(MacroLib, OnlyRamCellsWithAreaAndWidthsAreMacros) {
  const std::vector<MacroCell> m = test_macros();
  ASSERT_EQ(m.size(), 2u);  // tm_rom_64x32 (type rom) and tm_inv (no memory group) are skipped
  EXPECT_EQ(m[0].name, "tm_ram_16x8");
  EXPECT_EQ(m[0].words, 16);  // address_width 4
  EXPECT_EQ(m[0].width, 8);
  EXPECT_EQ(m[0].area_um2, 1000);
  EXPECT_EQ(m[1].name, "tm_ram_64x32");
  EXPECT_EQ(m[1].words, 64);  // address_width 6
  EXPECT_EQ(m[1].width, 32);
  EXPECT_EQ(m[1].area_um2, 9000);
}

struct TilingCase {
  int depth, width;
  std::string cell;
  int depth_tiles, width_tiles;
  double area;
};

TEST(MacroLib, CheapestTilingByHand) {
  const std::vector<MacroCell> m = test_macros();
  const TilingCase cases[] = {
      // 64 x 128: 16x8 needs 4 x 16 = 64 macros = 64,000; 64x32 needs 1 x 4 = 36,000.
      {64, 128, "tm_ram_64x32", 1, 4, 36000},
      // 16 x 8: one 16x8 (1,000) against one 64x32 (9,000).
      {16, 8, "tm_ram_16x8", 1, 1, 1000},
      // 20 x 8: two 16x8 deep (2,000) against one 64x32 (9,000).
      {20, 8, "tm_ram_16x8", 2, 1, 2000},
      // 64 x 40: 4 x 5 = 20 16x8 (20,000) against 1 x 2 64x32 (18,000).
      {64, 40, "tm_ram_64x32", 1, 2, 18000},
      // 1 x 1: one 16x8.
      {1, 1, "tm_ram_16x8", 1, 1, 1000},
      // 144 x 9: 9 x 2 = 18 16x8 (18,000) against 3 x 1 64x32 (27,000).
      {144, 9, "tm_ram_16x8", 9, 2, 18000},
  };
  for (const TilingCase& c : cases) {
    const MacroTiling t = cheapest_tiling(m, c.depth, c.width);
    EXPECT_EQ(t.cell, c.cell) << c.depth << " x " << c.width;
    EXPECT_EQ(t.depth_tiles, c.depth_tiles) << c.depth << " x " << c.width;
    EXPECT_EQ(t.width_tiles, c.width_tiles) << c.depth << " x " << c.width;
    EXPECT_DOUBLE_EQ(t.area_um2, c.area) << c.depth << " x " << c.width;
  }
}

TEST(MacroLib, NoMacroIsAnInputErrorNamingTheOption) {
  const std::string e = error_of([] { cheapest_tiling({}, 4, 4); });
  EXPECT_EQ(e.rfind("--macro-lib: ", 0), 0u) << e;
}

TEST(MacroLib, BadMemoryWidthsNameTheLine) {
  const std::string lib = "library (x) {\n cell (r) {\n  area : 5;\n  memory () {\n   type : ram;\n"
                          "   address_width : 4.5;\n  }\n }\n}\n";
  const std::string e = error_of([&] { parse_liberty(lib); });
  EXPECT_EQ(e.rfind("liberty line 6: ", 0), 0u) << e;
  EXPECT_NE(e.find("address_width"), std::string::npos) << e;
}

TEST(MacroLib, ModelAreaIsLinearInBits) {
  // docs/memory.md: 11.8 um^2 per bit; 64 x 128 = 8,192 bits -> 96,665.6 um^2.
  EXPECT_NEAR(model_area_um2(64, 128), 96665.6, 1e-6);
  EXPECT_NEAR(model_area_um2(1, 1), 11.8, 1e-9);
}

}  // namespace
}  // namespace accelgen::flows
