// accelgen::gen — the design plan: a validated config elaborated once into everything the emitters
// print (after OpenTitan's reggen: spec -> typed IR -> one emitter per output).
//
// A plan holds the block's named parameters (primary ones from the config and every derived width,
// each with the formula it comes from), the flags that select template blocks, the list of modules
// with the text holes each one fills, the top's ports and the constants of the C++ params header.
// The emitters (generator.cpp, emit.cpp) read only a plan; nothing after plan_*() derives a width.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "gen/template.h"

namespace accelgen::gen {

// A port of a generated top. `width_expr` is how the Verilog declares the width (named
// parameters, e.g. "HeadDim*KWidth"); `width` is its value for the manifest and testbenches.
struct Port {
  std::string group;        // heading the port is listed under
  std::string name;
  bool input;
  int width;
  std::string width_expr;   // empty for 1-bit ports
  bool is_signed;           // every element of the port is two's complement
  std::string comment;
};

// One generated module: `<name>_<tpl>` from gen/rtl/<tpl>.v.in with its text holes. A template
// rendered more than once (the memory) names each module and gives it parameters of its own.
struct ModulePlan {
  std::string tpl;
  Vars texts;                // the template's ${lower_case} holes (module prefix, port lists, tables)
  std::string name = {};     // module name after `<name>_`; empty: the template's name
  std::vector<Param> params = {};  // parameters of this module only, besides the plan's

  std::string suffix() const { return name.empty() ? tpl : name; }
};

// A storage array of the design: a generated memory module (gen/rtl/mem.v.in, one write port, one
// synchronous read port) and how many instances of it the design holds. The area flow synthesizes
// it to flops (config "memory": "flops") or takes it as an SRAM macro ("macro").
struct MemoryPlan {
  std::string module;  // full module name, `<name>_mem_<role>`
  std::string role;    // what it stores (key_store, value_store, collect, weight_store)
  int depth;           // words
  int width;           // bits per word
  int instances;       // instances in the design (banks)
};

// A constant of the C++ params header (`inline constexpr long long <name>`).
struct HeaderConstant {
  std::string name;
  int64_t value;
  std::string comment;
};

struct DesignPlan {
  std::string name;          // config name: module-name prefix
  std::string hash;          // config hash
  nlohmann::json config;     // canonical config JSON
  std::string top;           // top module
  std::vector<Param> params;                 // every named parameter of the block
  std::map<std::string, bool> flags;         // template //@if flags
  std::vector<ModulePlan> modules;           // compile order: leaves first, top last
  std::vector<MemoryPlan> memories;          // storage arrays (their modules are in `modules`)
  std::vector<Port> top_ports;
  std::vector<HeaderConstant> header;        // params header constants, in order

  // The value of a parameter of this plan; std::logic_error if there is none of that name.
  int64_t param(const std::string& name) const;
};

// The attention unit `<name>_attn_top` (docs/microarchitecture.md, docs/softmax.md).
struct AttentionPlan {
  core::AttentionConfig config;
  core::AttentionWidths widths;
  std::vector<Port> score_ports;  // the score engine `<name>_score_top`
  DesignPlan design;
};

// The N:M array `<name>_nm_top` (docs/nm_array.md).
struct NmPlan {
  core::NmConfig config;
  core::NmWidths widths;
  DesignPlan design;
};

AttentionPlan plan_attention(const core::AttentionConfig& c);

// Adds the memory module `<name>_mem_<role>` of `depth` words of `width` bits, `instances` times in
// the design, to `plan` (module list and memory list).
void add_memory(DesignPlan& plan, const std::string& role, int depth, int width, int instances);
NmPlan plan_nm(const core::NmConfig& c);

// ANSI port list, grouped under comment headings, one trailing comment per port.
std::string port_decls(const std::vector<Port>& ports);

}  // namespace accelgen::gen
