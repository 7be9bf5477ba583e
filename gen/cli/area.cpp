#include "gen/cli/area.h"

namespace accelgen::cli {

void add_area_command(CLI::App& app) { (void)app; }

}  // namespace accelgen::cli
