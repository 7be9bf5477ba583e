// accelgen::gen — minimal text templating for the Verilog emitters.
//
// Verilog is full of braces, so fmt-style "{}" templates would need escaping everywhere; instead a
// template names its holes as ${key}. A hole with no value is a generator bug and throws.
#pragma once

#include <map>
#include <string>

namespace accelgen::gen {

using Vars = std::map<std::string, std::string>;

// Replaces every ${key} by vars[key]; a hole without a value throws std::logic_error.
std::string fill(const std::string& text, const Vars& vars);

// Keeps the lines between "//@if FLAG" and "//@endif" (marker lines alone on their line, no
// nesting) iff flags[FLAG]; drops the marker lines. An unknown flag throws std::logic_error.
std::string select_blocks(const std::string& text, const std::map<std::string, bool>& flags);

}  // namespace accelgen::gen
