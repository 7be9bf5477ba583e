// accelgen::cli — `accelgen area`: the area/timing flow (flows/area.h) on a config's RTL, printed
// as a per-module table and optionally written as JSON.
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

void add_area_command(CLI::App& app);

}  // namespace accelgen::cli
