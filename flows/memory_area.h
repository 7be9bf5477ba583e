// accelgen::flows — the memories of a design in the area flow (docs/memory.md): which modules are
// memories (the manifest's `memories`), the config's "memory" mode, and in "macro" mode each
// memory's area (cheapest macro tiling of the --macro-lib files, else the SRAM area model) and a
// generated Liberty file that gives OpenSTA each memory module as a cell with its clk-to-dout.
#pragma once

#include <string>
#include <vector>

#include "flows/area_result.h"
#include "flows/macro_lib.h"
#include "gen/generator.h"

namespace accelgen::flows {

// One memory module of the manifest.
struct MemorySpec {
  std::string module, role;
  int depth = 0, width = 0, instances = 0;
};

// The manifest's `memories` (empty when it has none) and its config's "memory" mode ("flops" when
// absent). std::runtime_error when manifest.json is missing or malformed.
std::vector<MemorySpec> manifest_memories(const gen::Outputs& outputs);
std::string manifest_memory_mode(const gen::Outputs& outputs);

// Model clk-to-dout of an SRAM read in OSU 0.18 um (docs/memory.md "Timing model").
inline constexpr double kModelClkToDoutNs = 4.1;

// The macro-mode cost of one memory: the cheapest tiling of `macros`, or the area model when
// `macros` is empty. `area_um2` is for all instances.
MemoryArea macro_memory_area(const MemorySpec& m, const std::vector<MacroCell>& macros);

// A Liberty library with one cell per memory module (its ports as buses, area per instance,
// a rising-edge arc clk_i -> rdata_o of the memory's clk_to_dout_ns and zero-setup checks on the
// inputs), so that OpenSTA links the black boxes and times paths through them.
std::string memory_liberty(const std::vector<MemoryArea>& memories);

}  // namespace accelgen::flows
