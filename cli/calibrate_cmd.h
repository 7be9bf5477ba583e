// accelgen::cli — `accelgen calibrate` (docs/calibration.md).
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

void add_calibrate_command(CLI::App& app);

}  // namespace accelgen::cli
