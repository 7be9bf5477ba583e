// accelgen::gen — the one text-template engine of the project (RTL modules, flow scripts, the Icarus
// testbench).
//
// Verilog is full of braces, so fmt-style "{}" templates would need escaping everywhere; instead a
// template names its holes as ${key}. Two layers:
// - fill() / select_blocks(): plain holes and `//@if FLAG` ... `//@else` ... `//@endif` blocks.
// - render_module(): an RTL module template. Its first lines declare the design-plan parameters it
//   uses (`//@uses Name Name ...`); the renderer checks every name against the plan, emits the
//   declared ones as Verilog parameters (those the port list needs, in the module header) and
//   localparams (the rest), and fails on any unknown, undeclared or unused name.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace accelgen::gen {

using Vars = std::map<std::string, std::string>;

// Replaces every ${key} by vars[key]; a hole without a value throws std::logic_error. When `used`
// is given, every key that was filled is added to it.
std::string fill(const std::string& text, const Vars& vars, std::set<std::string>* used = nullptr);

// Keeps the lines between "//@if FLAG" and "//@else" (or "//@endif") iff flags[FLAG], the lines
// between "//@else" and "//@endif" iff !flags[FLAG]; drops the marker lines (alone on their line,
// no nesting). An unknown flag or unbalanced markers throw std::logic_error.
std::string select_blocks(const std::string& text, const std::map<std::string, bool>& flags);

// A named integer of the design plan, printed as a Verilog parameter or localparam.
struct Param {
  std::string name;     // UpperCamelCase Verilog identifier
  int64_t value;
  std::string comment;  // what it is, and how it is derived from the config
};

// Everything a module template may read: the block's parameters, its flags, and the text holes of
// this one module (module-name prefix, generated port lists, tables, expressions).
struct ModuleInputs {
  const std::vector<Param>* params = nullptr;
  const std::map<std::string, bool>* flags = nullptr;
  Vars texts;
};

// Renders the module template `name` (its text `tpl`) as described above. Throws std::logic_error
// naming the template and the offending name for an unknown parameter in `//@uses`, a plan
// parameter used but not declared, a declared parameter the code never uses, an unknown hole, or a
// text hole that the template does not use.
std::string render_module(std::string_view name, std::string_view tpl, const ModuleInputs& in);

}  // namespace accelgen::gen
