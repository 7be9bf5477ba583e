// accelgen::gen — the generator for whichever block a config file describes ("kind": "attention",
// the default, or "nm_array"), for the commands that only need the RTL (generate, area).
#pragma once

#include <string>

#include "gen/generator.h"

namespace accelgen::gen {

struct GeneratedConfig {
  std::string kind;         // "attention" or "nm_array"
  std::string config_hash;  // hash of the validated config
  Outputs outputs;
};

// Loads and validates the config file (InputError naming the field), then generates.
GeneratedConfig generate_file(const std::string& config_path);

}  // namespace accelgen::gen
