// accelgen::cli — `accelgen compress` (docs/formats.md "Compressed N:M weights").
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

void add_compress_command(CLI::App& app);

}  // namespace accelgen::cli
