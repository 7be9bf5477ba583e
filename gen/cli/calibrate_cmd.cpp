#include "gen/cli/calibrate_cmd.h"

namespace accelgen::cli {

void add_calibrate_command(CLI::App& app) { (void)app; }

}  // namespace accelgen::cli
