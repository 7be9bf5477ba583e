#include "cli/space_cmd.h"

#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config.h"
#include "core/error.h"
#include "core/field_specs.h"
#include "core/nm_config.h"

namespace accelgen::cli {

namespace {

struct SpaceArgs {
  std::string config, kind;
  bool json = false;
};

void cmd_space(const SpaceArgs& a) {
  std::string kind = a.kind;
  nlohmann::json base, defaults;
  if (!a.config.empty()) {
    // The base config is validated exactly as `generate` would (bad input: exit 2 naming the field).
    const nlohmann::json raw = core::read_json_file(a.config, "config file (JSON)");
    const std::string ck = core::config_kind(raw);
    if (!kind.empty() && kind != ck) throw core::InputError("--kind", fmt::format("is {}, but {} is a {} config", kind, a.config, ck));
    kind = ck;
    base = kind == "nm_array" ? core::to_json(core::parse_nm_config(raw)) : core::all_fields_json(core::parse_attention_config(raw));
  }
  if (kind.empty()) kind = "attention";
  if (kind != "attention" && kind != "nm_array") {
    throw core::InputError("--kind", fmt::format("must be attention or nm_array, got \"{}\"", kind));
  }
  defaults = kind == "nm_array" ? core::to_json(core::NmConfig{}) : core::all_fields_json(core::AttentionConfig{});
  if (base.is_null()) base = kind == "nm_array" ? core::to_json(core::parse_nm_config({{"kind", "nm_array"}})) : defaults;
  const nlohmann::json space = core::search_space_json(kind, base, defaults);
  if (a.json) {
    std::cout << space.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("search space of a {} config (base hash {})\n", kind,
                           kind == "nm_array" ? core::config_hash(core::parse_nm_config(base))
                                              : core::config_hash(core::parse_attention_config(base)));
  std::cout << fmt::format("{:<16} {:<22} {:>8} {:>8}  {}\n", "field", "range", "default", "base", "meaning");
  for (const auto& f : space["fields"]) {
    std::string range;
    if (f.contains("choices")) {
      std::vector<std::string> c;
      for (const auto& v : f["choices"]) c.push_back(v.dump());
      range = fmt::format("{{{}}}", fmt::join(c, ", "));
    } else {
      range = fmt::format("{}..{} step {}", f["min"].get<int>(), f["max"].get<int>(), f["step"].get<int>());
    }
    std::cout << fmt::format("{:<16} {:<22} {:>8} {:>8}  {}\n", f["name"].get<std::string>(), range,
                             f["default"].dump(), f["base"].dump(), f["doc"].get<std::string>());
  }
  std::vector<std::string> fixed;
  for (const auto& f : space["fixed"]) fixed.push_back(f.get<std::string>());
  std::cout << fmt::format("fixed (not searchable): {}\n", fmt::join(fixed, ", "));
  for (const auto& c : space["constraints"]) {
    std::cout << fmt::format("constraint: {} (reported as config.{})\n", c["text"].get<std::string>(),
                             c["field"].get<std::string>());
  }
}

}  // namespace

void add_space_command(CLI::App& app) {
  auto a = std::make_shared<SpaceArgs>();
  auto* s = app.add_subcommand("space", "the searchable config fields: legal ranges, steps and constraints");
  s->add_option("--config", a->config, "base config JSON (its kind and values; validated like generate)");
  s->add_option("--kind", a->kind, "attention or nm_array, when no --config is given");
  s->add_flag("--json", a->json, "print JSON (what accelgen-search reads)");
  s->callback([a] { cmd_space(*a); });
}

}  // namespace accelgen::cli
