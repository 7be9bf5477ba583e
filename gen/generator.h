// accelgen::gen — turns a validated config into the generated outputs.
//
// A config is first elaborated into its design plan (plan.h); the emitters then read only the plan
// (STYLE.md, after OpenTitan's reggen): the Verilog modules (one per file), the filelist, the
// manifest, and the C++ header that carries the hardware constants to the testbench. Nothing here
// touches the file system except write_outputs(), which writes a whole directory atomically.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "gen/plan.h"

namespace accelgen::gen {

inline constexpr const char* kToolName = "accelgen";
const char* tool_version();

struct GeneratedFile {
  std::string name;     // file name inside the output directory
  std::string content;
};

struct Outputs {
  std::string top;                      // top module name
  std::vector<std::string> rtl_files;   // in compile order (leaves first, top last)
  std::string params_header;            // name of the C++ header
  std::vector<GeneratedFile> files;     // every output, RTL included
};

// Every output of a design plan. Pure function: same plan, byte-identical outputs.
Outputs generate(const DesignPlan& plan);

// Ports of the score engine `<name>_score_top` (a submodule of the unit) and of the unit top
// `<name>_attn_top` (docs/softmax.md), from the plan.
std::vector<Port> score_top_ports(const core::AttentionConfig& c);
std::vector<Port> unit_top_ports(const core::AttentionConfig& c);

// The attention unit: generate(plan_attention(c).design).
Outputs generate(const core::AttentionConfig& c);

// Writes every file into `out` through a temporary sibling directory renamed into place, so a
// failure leaves no partial directory. An existing `out` is replaced only if it holds a previous
// accelgen output (a manifest.json) or is empty; otherwise InputError.
void write_outputs(const Outputs& outputs, const std::filesystem::path& out);

}  // namespace accelgen::gen
