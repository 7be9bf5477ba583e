// accelgen::flows — reading a Liberty (.lib) cell library: each cell's area, whether it is a flop,
// latch or other sequential cell, its pins and output functions; the library's name, whether it
// has timing data, its default operating conditions, and the reference cells the area flow needs
// (the smallest NAND2 for gate equivalents, the smallest buffer for ABC's driving cell).
//
// Only what the area flow uses is kept; every other group and attribute is parsed and skipped.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace accelgen::flows {

struct LibertyCell {
  std::string name;
  double area = 0;
  bool has_area = false;
  bool flop = false;        // has an ff / ff_bank group
  bool latch = false;       // has a latch / latch_bank group
  bool sequential = false;  // flop, latch or statetable
  bool dont_use = false;
  bool three_state = false;
  bool bus = false;  // has bus or bundle pins
  std::vector<std::string> inputs;
  std::vector<std::pair<std::string, std::string>> outputs;  // pin, function ("" if none)
  // A `memory() { type : ram; address_width : A; word_width : W; }` group, as SRAM compilers
  // write it for a macro (2^A words of W bits); widths 0 when absent.
  bool memory = false;
  std::string memory_type;
  int address_width = 0, word_width = 0;
  // Largest cell_rise/cell_fall value of a rising_edge timing arc of an output pin or bus, in ns
  // (the library's time_unit applied); -1 when the cell has none. For a macro: its clk-to-dout.
  double clk_to_out_ns = -1;
  // Energy per clock cycle of each `internal_power` group of each clock pin (`clock : true`), in
  // pJ: the group's largest rise_power entry plus its largest fall_power entry, in the library's
  // energy unit (capacitive_load_unit x voltage_unit^2) converted to pJ. SRAM compilers write one
  // group per state of the port (`when : "!csb0 & web0"`: read, ...); only these are kept.
  struct ClockPinPower {
    std::string pin;
    std::vector<double> state_pj;  // one entry per internal_power group, file order
  };
  std::vector<ClockPinPower> clock_power;
};

struct LibertyInfo {
  std::string name;
  std::vector<LibertyCell> cells;
  bool has_timing = false;  // any timing() group: OpenSTA can time it
  std::string default_operating_conditions;
  std::string nand2_cell;  // smallest 2-input NAND ("" if none)
  double nand2_area = 0;
  std::string buffer_cell;  // smallest non-inverting buffer ("" if none)

  const LibertyCell* find(const std::string& cell) const;
};

// Throws core::InputError("liberty line N", ...) on a syntax error, an area that is not a number or
// groups nested deeper than 64.
LibertyInfo parse_liberty(const std::string& text);

}  // namespace accelgen::flows
