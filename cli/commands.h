// accelgen::cli — the subcommands of the accelgen tool (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

// Registers every subcommand on `app`; the callbacks throw core::InputError for bad input.
void add_commands(CLI::App& app);

// Parses and runs; returns the exit status: 0 success, 1 failure (mismatch, tool error), 2 bad input.
int run_main(int argc, char** argv);

}  // namespace accelgen::cli
