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

}  // namespace accelgen::flows
