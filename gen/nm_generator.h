// accelgen::gen — the N:M structured-sparse MAC array (docs/nm_array.md) through the same emitters
// as the attention unit: `<name>_store_count`, `<name>_nm_wstore`, `<name>_nm_pe`,
// `<name>_nm_array`, `<name>_nm_top`, files.f, manifest.json and `<name>_params.h`. Every construct
// whose width could be zero (index fields, sign extensions, a wider group counter) is chosen or
// dropped by the plan (plan_nm), so no zero-width part-select or replication reaches a tool.
#pragma once

#include <vector>

#include "core/nm_config.h"
#include "gen/generator.h"

namespace accelgen::gen {

// Ports of `<name>_nm_top` in declaration order (docs/nm_array.md "Ports").
std::vector<Port> nm_top_ports(const core::NmConfig& c);

// generate(plan_nm(c).design). Write with write_outputs().
Outputs generate_nm(const core::NmConfig& c);

}  // namespace accelgen::gen
