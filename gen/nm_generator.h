// accelgen::gen — the emitter of the N:M structured-sparse MAC array (docs/nm_array.md).
//
// Same outputs as the attention emitter (generator.h), from a core::NmConfig: one Verilog module per
// file (`<name>_nm_wstore`, `<name>_nm_pe`, `<name>_nm_array`, `<name>_nm_top`), files.f,
// manifest.json and `<name>_params.h` with the widths the testbench packs the ports with. Widths are
// computed here (core::nm_widths) and printed as literals, and every construct whose width could be
// zero (index fields, sign extensions, a wider group counter) is chosen or dropped by the emitter,
// so no zero-width part-select or replication ever reaches a tool.
#pragma once

#include <vector>

#include "core/nm_config.h"
#include "gen/generator.h"

namespace accelgen::gen {

// Ports of `<name>_nm_top` in declaration order (docs/nm_array.md "Ports").
std::vector<Port> nm_top_ports(const core::NmConfig& c);

// Pure function of the config: same config, byte-identical outputs. Write with write_outputs().
Outputs generate_nm(const core::NmConfig& c);

}  // namespace accelgen::gen
