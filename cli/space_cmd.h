// accelgen::cli — `accelgen space`: the searchable fields of a config kind with their legal ranges,
// choices and cross-field constraints (core/field_specs.h, the tables the validators use), and the
// base config's values. `--json` is what the design search (search/, docs/search.md) reads.
#pragma once

#include <CLI/CLI.hpp>

namespace accelgen::cli {

void add_space_command(CLI::App& app);

}  // namespace accelgen::cli
