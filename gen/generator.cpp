// The emitters strung together: a design plan to its outputs.
#include "gen/generator.h"

#include <fstream>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "gen/emit.h"

#ifndef ACCELGEN_VERSION
#error "ACCELGEN_VERSION must be defined by the build"
#endif

namespace accelgen::gen {

const char* tool_version() { return ACCELGEN_VERSION; }

Outputs generate(const DesignPlan& plan) {
  Outputs o;
  o.top = plan.top;
  o.params_header = plan.name + "_params.h";
  for (const ModulePlan& m : plan.modules) {
    GeneratedFile f = emit_module(plan, m);
    o.rtl_files.push_back(f.name);
    o.files.push_back(std::move(f));
  }
  o.files.push_back(emit_filelist(o));
  o.files.push_back(emit_params_header(plan, o));
  o.files.push_back(emit_manifest(plan, o));
  return o;
}

std::vector<Port> score_top_ports(const core::AttentionConfig& c) {
  return plan_attention(c).score_ports;
}

std::vector<Port> unit_top_ports(const core::AttentionConfig& c) {
  return plan_attention(c).design.top_ports;
}

Outputs generate(const core::AttentionConfig& c) { return generate(plan_attention(c).design); }

void write_outputs(const Outputs& outputs, const std::filesystem::path& out) {
  core::write_dir_atomically(out, "manifest.json", [&](const std::filesystem::path& tmp) {
    for (const GeneratedFile& f : outputs.files) {
      core::write_file_checked(tmp / f.name, f.content, (out / f.name).string());
    }
  });
}

}  // namespace accelgen::gen
