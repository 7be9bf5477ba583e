#include "gen/dispatch.h"

#include "core/nm_config.h"
#include "gen/nm_generator.h"

namespace accelgen::gen {

GeneratedConfig generate_file(const std::string& config_path) {
  const std::string kind = core::config_kind(core::read_json_file(config_path, "config file (JSON)"));
  if (kind == "nm_array") {
    const core::NmConfig c = core::load_nm_config(config_path);
    return {kind, core::config_hash(c), generate_nm(c)};
  }
  const core::AttentionConfig c = core::load_attention_config(config_path);
  return {kind, core::config_hash(c), generate(c)};
}

}  // namespace accelgen::gen
