// accelgen::flows — SRAM macros for the storage arrays in "memory": "macro" mode (docs/memory.md):
// the memory cells of Liberty files as SRAM compilers write them, the cheapest macro or tiling of
// macros that covers a memory of depth x width, and the SRAM area model used without a macro
// library.
#pragma once

#include <string>
#include <vector>

#include "flows/liberty.h"

namespace accelgen::flows {

// One macro: a Liberty cell with a `memory() { type : ram; ... }` group and an area.
struct MacroCell {
  std::string name;
  int words = 0;  // 2^address_width
  int width = 0;  // word_width
  double area_um2 = 0;
  double clk_to_dout_ns = -1;  // largest rising_edge arc of an output (-1: the cell has none)
  // Energy from the clock pins' internal_power groups (docs/memory.md "Energy"), pJ; -1 when the
  // cell has none. idle: every cycle, the sum over clock pins of their cheapest state; access: one
  // read or write, the largest (dearest state - cheapest state) of a clock pin.
  double idle_pj_per_cycle = -1;
  double access_pj = -1;
};

// The RAM macros of `lib` (cells with a memory group of type ram, both widths and an area), in
// file order. Cells of other types (rom, ...) or without an area are skipped.
std::vector<MacroCell> macro_cells(const LibertyInfo& lib);

// `count() = depth_tiles * width_tiles` instances of `cell`: ceil(depth / words) macros deep and
// ceil(width / width) macros wide.
struct MacroTiling {
  std::string cell;
  int depth_tiles = 0, width_tiles = 0;
  double area_um2 = 0;  // count() x the cell's area
  double clk_to_dout_ns = -1;  // the cell's
  double idle_pj_per_cycle = -1, access_pj = -1;  // the cell's, one macro
  int count() const { return depth_tiles * width_tiles; }
};

// The cheapest tiling of one macro of `macros` that covers depth x width (ties: fewer instances,
// then the first cell in the list). Throws core::InputError("--macro-lib", ...) when `macros` is
// empty.
MacroTiling cheapest_tiling(const std::vector<MacroCell>& macros, int depth, int width);

// The SRAM area model (docs/memory.md "Area model"): um^2 per bit in OSU 0.18 um, from the
// published OpenRAM sky130 1rw1r macro scaled by (0.18 / 0.13)^2.
inline constexpr double kModelUm2PerBit = 11.8;
double model_area_um2(int depth, int width);

// The SRAM energy model (docs/memory.md "Energy"), pJ per bit of word width, from the clock-pin
// internal_power of the same OpenRAM sky130 macro (sky130_sram_1kbyte_1rw1r_32x256_8, typical
// corner, 1.8 V; 32-bit words; energy in pF x V^2 = pJ, rise + fall per cycle), scaled to 0.18 um
// by the feature size (capacitance; same 1.8 V): writes use its rw port 0, reads its r port 1.
inline constexpr double kModelNodeScale = 0.18 / 0.13;
// Both ports deselected: port 0 (csb0 & web0) 1.034863 + 1.048424, port 1 (csb1) 1.071456 + 1.008020.
inline constexpr double kModelIdlePjPerBitCycle = (1.034863 + 1.048424 + 1.071456 + 1.008020) / 32 * kModelNodeScale;
// A read on port 1 (!csb1: 2.843456 + 2.581878) over its idle state.
inline constexpr double kModelReadPjPerBit = (2.843456 + 2.581878 - 1.071456 - 1.008020) / 32 * kModelNodeScale;
// A write on port 0 (!csb0 & !web0: 2.226912 + 2.371604) over its idle state.
inline constexpr double kModelWritePjPerBit = (2.226912 + 2.371604 - 1.034863 - 1.048424) / 32 * kModelNodeScale;

}  // namespace accelgen::flows
