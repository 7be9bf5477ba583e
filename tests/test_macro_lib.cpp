// Tests for flows/macro_lib.{h,cpp} and the memory() group of the Liberty reader: the RAM macros of
// the hand-written tests/data/macro/test_macros.lib and the cheapest tiling of each memory shape.
// Expected areas are computed by hand from that file (written next to each expectation), never by
// the code under test. Cost: milliseconds (no tool runs).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.h"
#include "flows/area.h"
#include "flows/liberty.h"
#include "flows/macro_lib.h"
#include "flows/memory_area.h"
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
  EXPECT_DOUBLE_EQ(m[0].clk_to_dout_ns, 1.5);  // max(cell_rise 1.5, cell_fall 1.25)
  EXPECT_EQ(m[1].name, "tm_ram_64x32");
  EXPECT_EQ(m[1].words, 64);  // address_width 6
  EXPECT_EQ(m[1].width, 32);
  EXPECT_EQ(m[1].area_um2, 9000);
  EXPECT_DOUBLE_EQ(m[1].clk_to_dout_ns, 3.25);  // the largest entry; din0's setup 9.0 is not an output arc
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

TEST(MacroLib, ClkToDoutFollowsTheTimeUnit) {
  const std::string lib = "library (x) {\n time_unit : \"1ps\";\n cell (r) {\n  area : 5;\n"
                          "  memory () { type : ram; address_width : 2; word_width : 4; }\n"
                          "  pin (q) {\n   direction : output;\n   timing () {\n    timing_type : rising_edge;\n"
                          "    cell_rise (scalar) { values (\"1500\"); }\n   }\n  }\n }\n}\n";
  const std::vector<MacroCell> m = macro_cells(parse_liberty(lib));
  ASSERT_EQ(m.size(), 1u);
  EXPECT_DOUBLE_EQ(m[0].clk_to_dout_ns, 1.5);  // 1500 ps
}

// Energies from the clock pins' internal_power groups, by hand from tests/data/macro/test_macros.lib.
TEST(MacroLib, EnergyFromClockPinInternalPowerByHand) {
  const std::vector<MacroCell> m = test_macros();
  ASSERT_EQ(m.size(), 2u);
  // tm_ram_16x8: idle = clk0's cheapest state (0.25 + 0.25) + clk1's (0.5 + 0.5) = 1.5 pJ per cycle;
  // access = max(clk0: 2.0 - 0.5, clk1: (1.5 + 1.5) - 1.0) = 2.0 pJ. csb1 is not a clock pin.
  EXPECT_DOUBLE_EQ(m[0].idle_pj_per_cycle, 1.5);
  EXPECT_DOUBLE_EQ(m[0].access_pj, 2.0);
  // tm_ram_64x32: one pin; idle 0.5 + 0.25 = 0.75, dearest state (write) 4.0 + 3.5 = 7.5: access 6.75.
  EXPECT_DOUBLE_EQ(m[1].idle_pj_per_cycle, 0.75);
  EXPECT_DOUBLE_EQ(m[1].access_pj, 6.75);
}

TEST(MacroLib, EnergyFollowsTheLibraryUnitsAndIsUnknownWithoutInternalPower) {
  // capacitive_load_unit 1 fF and voltage_unit 1 V: the energy unit is 1 fJ = 0.001 pJ.
  const std::string lib = "library (x) {\n voltage_unit : \"1V\";\n capacitive_load_unit (1, ff);\n"
                          " cell (r) {\n  area : 5;\n  memory () { type : ram; address_width : 2; word_width : 4; }\n"
                          "  pin (ck) {\n   direction : input;\n   clock : true;\n"
                          "   internal_power () { when : \"en\"; rise_power (scalar) { values (\"300\"); }"
                          " fall_power (scalar) { values (\"200\"); } }\n"
                          "   internal_power () { when : \"!en\"; rise_power (scalar) { values (\"60\"); }"
                          " fall_power (scalar) { values (\"40\"); } }\n  }\n }\n"
                          " cell (quiet) {\n  area : 5;\n  memory () { type : ram; address_width : 2; word_width : 4; }\n }\n}\n";
  const std::vector<MacroCell> m = macro_cells(parse_liberty(lib));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0].idle_pj_per_cycle, 0.1, 1e-12);  // 60 + 40 fJ
  EXPECT_NEAR(m[0].access_pj, 0.4, 1e-12);          // 500 - 100 fJ
  EXPECT_EQ(m[1].idle_pj_per_cycle, -1);            // no clock-pin internal_power: unknown
  EXPECT_EQ(m[1].access_pj, -1);
}

// The SRAM energy model (docs/memory.md "Energy"), by hand from the published OpenRAM macro
// sky130_sram_1kbyte_1rw1r_32x256_8 (32-bit words), scaled by 0.18 / 0.13:
// read  (port 1 selected 5.425334 pJ - deselected 2.079476) / 32 = 0.104558 pJ/bit -> 0.144773;
// write (port 0 write 4.598516 - deselected 2.083287) / 32      = 0.078601 pJ/bit -> 0.108832;
// idle  (both deselected 2.083287 + 2.079476) / 32             = 0.130086 pJ/bit -> 0.180119.
TEST(MacroLib, ModelEnergiesByHand) {
  const MemoryArea a = macro_memory_area({"t_mem_x", "key", 32, 128, 2}, {});
  EXPECT_NEAR(a.read_pj, 0.144773 * 128, 1e-3);
  EXPECT_NEAR(a.write_pj, 0.108832 * 128, 1e-3);
  EXPECT_NEAR(a.idle_pj_per_cycle, 0.180119 * 128, 1e-3);  // per instance
}

// With a macro library: a word is one row of the tiling (width_tiles macros accessed), every macro
// of an instance is clocked. 64 x 40 -> tm_ram_64x32 1 deep x 2 wide; 20 x 8 -> tm_ram_16x8 2 deep.
TEST(MacroLib, TilingEnergiesByHand) {
  const MemoryArea wide = macro_memory_area({"w", "value", 64, 40, 1}, test_macros());
  EXPECT_DOUBLE_EQ(wide.read_pj, 2 * 6.75);
  EXPECT_DOUBLE_EQ(wide.write_pj, 2 * 6.75);
  EXPECT_DOUBLE_EQ(wide.idle_pj_per_cycle, 2 * 0.75);
  const MemoryArea deep = macro_memory_area({"d", "collect", 20, 8, 2}, test_macros());
  EXPECT_DOUBLE_EQ(deep.read_pj, 2.0);              // one macro of the two holds the word
  EXPECT_DOUBLE_EQ(deep.idle_pj_per_cycle, 2 * 1.5);  // both are clocked, per instance
}

TEST(MacroLib, ModelAreaIsLinearInBits) {
  // docs/memory.md: 11.8 um^2 per bit; 64 x 128 = 8,192 bits -> 96,665.6 um^2.
  EXPECT_NEAR(model_area_um2(64, 128), 96665.6, 1e-6);
  EXPECT_NEAR(model_area_um2(1, 1), 11.8, 1e-9);
}

// ------------------------------------------------------------------ the area flow in macro mode

// A hand-made design: two instances of a 16 x 8 memory module with the interface of
// gen/rtl/mem.v.in, their read words XORed into an 8-bit register. Small enough that Yosys and
// OpenSTA take about a second each.
gen::Outputs two_memories(const std::string& mode) {
  const std::string mem = R"(module t_mem_x (
  input  wire       clk_i,
  input  wire       we_i,
  input  wire [3:0] waddr_i,
  input  wire [7:0] wdata_i,
  input  wire       re_i,
  input  wire [3:0] raddr_i,
  output wire [7:0] rdata_o
);
  reg [7:0] mem_q [0:15];
  reg [7:0] rdata_q;
  always @(posedge clk_i) begin
    if (we_i) mem_q[waddr_i] <= wdata_i;
    if (re_i) rdata_q <= mem_q[raddr_i];
  end
  assign rdata_o = rdata_q;
endmodule
)";
  const std::string top = R"(module t_top (
  input  wire       clk_i,
  input  wire       we_i,
  input  wire [3:0] addr_i,
  input  wire [7:0] data_i,
  output reg  [7:0] q_o
);
  wire [7:0] a, b;
  t_mem_x u_a (.clk_i(clk_i), .we_i(we_i), .waddr_i(addr_i), .wdata_i(data_i), .re_i(~we_i),
               .raddr_i(addr_i), .rdata_o(a));
  t_mem_x u_b (.clk_i(clk_i), .we_i(we_i), .waddr_i(~addr_i), .wdata_i(data_i), .re_i(~we_i),
               .raddr_i(~addr_i), .rdata_o(b));
  always @(posedge clk_i) q_o <= a ^ b;
endmodule
)";
  const nlohmann::json manifest = {
      {"config", {{"memory", mode}}},
      {"memories", {{{"module", "t_mem_x"}, {"role", "x"}, {"depth", 16}, {"width", 8}, {"bits", 128},
                     {"instances", 2}}}}};
  gen::Outputs o;
  o.top = "t_top";
  o.rtl_files = {"t_mem_x.v", "t_top.v"};
  o.files = {{"t_mem_x.v", mem}, {"t_top.v", top}, {"manifest.json", manifest.dump()}};
  return o;
}

AreaOptions no_cache_options() {
  AreaOptions o;
  o.use_cache = false;
  o.jobs = 1;
  return o;
}

TEST(MacroArea, MacroModeTakesTheMacroAreaAndTimesThroughTheBlackBox) {
  if (!fs::exists(default_liberty_path())) GTEST_SKIP() << "no OSU liberty: run ./setup.sh";
  AreaOptions o = no_cache_options();
  o.macro_libs = {kLib};
  const AreaResult r = synthesize_area(two_memories("macro"), o);
  ASSERT_TRUE(r.feasible) << r.reason;
  EXPECT_EQ(r.memory_mode, "macro");
  // Each 16 x 8 memory is one tm_ram_16x8 (area 1000): 2 x 1000.
  ASSERT_EQ(r.memories.size(), 1u);
  EXPECT_DOUBLE_EQ(r.memories[0].area_um2, 2000);
  EXPECT_EQ(r.memories[0].bits, 256);  // 16 x 8 x 2
  EXPECT_EQ(r.memories[0].source.rfind("tm_ram_16x8 x 1", 0), 0u) << r.memories[0].source;
  EXPECT_DOUBLE_EQ(r.memory_um2, 2000);
  EXPECT_NEAR(r.area_um2, r.logic_um2 + 2000, 1e-6);
  // The logic is the top alone: 8 flops and 8 XORs, no memory flops.
  EXPECT_EQ(r.flops, 8);
  EXPECT_GT(r.logic_um2, 0);
  // The macro's own clk-to-dout (1.5 ns, not the model's 4.1 ns) starts the critical path
  // rdata_o -> xor -> q_o.
  EXPECT_DOUBLE_EQ(r.memories[0].clk_to_dout_ns, 1.5);
  ASSERT_TRUE(r.timing_available) << r.timing_note;
  EXPECT_GT(r.critical_path_ns, 1.5);
  EXPECT_LT(r.critical_path_ns, kModelClkToDoutNs);
  EXPECT_NE(r.critical_startpoint.find("u_"), std::string::npos) << r.critical_startpoint;
}

TEST(MacroArea, ModelWithoutMacroLibAndFlopsModeSynthesizesTheMemory) {
  if (!fs::exists(default_liberty_path())) GTEST_SKIP() << "no OSU liberty: run ./setup.sh";
  const AreaResult m = synthesize_area(two_memories("macro"), no_cache_options());
  ASSERT_TRUE(m.feasible) << m.reason;
  // Model: 11.8 um^2 per bit x 256 bits = 3020.8.
  EXPECT_NEAR(m.memory_um2, 3020.8, 1e-6);
  EXPECT_EQ(m.memories[0].source, "model");
  ASSERT_TRUE(m.timing_available) << m.timing_note;
  EXPECT_GT(m.critical_path_ns, kModelClkToDoutNs);  // the model's 4.1 ns read starts the path
  const AreaResult f = synthesize_area(two_memories("flops"), no_cache_options());
  ASSERT_TRUE(f.feasible) << f.reason;
  EXPECT_EQ(f.memory_mode, "flops");
  EXPECT_EQ(f.memories[0].source, "synthesized");
  // 16 x 8 words + the 8-bit read register per instance, plus the top's 8: 2 x 136 + 8 flops.
  EXPECT_EQ(f.flops, 2 * 136 + 8);
  EXPECT_GT(f.memory_um2, 0);
  EXPECT_NEAR(f.area_um2, f.logic_um2 + f.memory_um2, 1e-6);
  EXPECT_NEAR(f.logic_um2, m.logic_um2, 1e-6);  // same top, mapped alone in both modes
}

}  // namespace
}  // namespace accelgen::flows
