// accelgen::gen — turns a validated config into the generated outputs.
//
// One emitter per output, each reading only the config value type (STYLE.md, after OpenTitan's
// reggen): the Verilog modules (one per file), the filelist, the manifest, and the C++ header that
// carries the hardware constants to the testbench. Nothing here touches the file system except
// write_outputs(), which writes a whole directory atomically.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"

namespace accelgen::gen {

inline constexpr const char* kToolName = "accelgen";
const char* tool_version();

struct GeneratedFile {
  std::string name;     // file name inside the output directory
  std::string content;
};

struct Port {
  std::string group;    // heading the port is listed under
  std::string name;
  bool input;
  int width;
  bool is_signed;
  std::string comment;
};

struct Outputs {
  std::string top;                      // top module name
  std::vector<std::string> rtl_files;   // in compile order (leaves first, top last)
  std::string params_header;            // name of the C++ header
  std::vector<GeneratedFile> files;     // every output, RTL included
};

// Ports of the score engine `<name>_score_top` (a submodule of the unit) and of the unit top
// `<name>_attn_top` (docs/softmax.md).
std::vector<Port> score_top_ports(const core::AttentionConfig& c);
std::vector<Port> unit_top_ports(const core::AttentionConfig& c);

// Pure function of the config: same config, byte-identical outputs.
Outputs generate(const core::AttentionConfig& c);

// Writes every file into `out` through a temporary sibling directory renamed into place, so a
// failure leaves no partial directory. An existing `out` is replaced only if it holds a previous
// accelgen output (a manifest.json) or is empty; otherwise InputError.
void write_outputs(const Outputs& outputs, const std::filesystem::path& out);

}  // namespace accelgen::gen
