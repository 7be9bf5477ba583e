#include "gen/nm_generator.h"

namespace accelgen::gen {

std::vector<Port> nm_top_ports(const core::NmConfig& c) { return plan_nm(c).design.top_ports; }

Outputs generate_nm(const core::NmConfig& c) { return generate(plan_nm(c).design); }

}  // namespace accelgen::gen
