// accelgen::cli — `accelgen area`: Yosys area and OpenSTA timing of a config's RTL (issue 5).
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

void add_area_command(CLI::App& app);

}  // namespace accelgen::cli
