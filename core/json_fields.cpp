// Range-checked config field readers shared by every config kind (see json_fields.h).
#include "core/json_fields.h"

#include <cstdint>
#include <regex>

#include <fmt/format.h>

#include "core/error.h"

namespace accelgen::core {

int get_int(const nlohmann::json& j, const std::string& key, int lo, int hi, int fallback) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  const std::string where = "config." + key;
  if (!v.is_number_integer()) {
    throw InputError(where, fmt::format("must be an integer in [{}, {}], got {}", lo, hi, v.dump()));
  }
  // A value above INT64_MAX is unsigned in nlohmann::json; reading it as int64 would wrap.
  const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi);
  if (huge || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    throw InputError(where, fmt::format("{} is out of range; allowed [{}, {}]", v.dump(), lo, hi));
  }
  return static_cast<int>(v.get<int64_t>());
}

int get_int(const nlohmann::json& j, const FieldSpec& f, int fallback) {
  return get_int(j, f.name, f.lo, f.hi, fallback);
}

bool get_bool(const nlohmann::json& j, const std::string& key, bool fallback) {
  if (!j.contains(key)) return fallback;
  const auto& v = j.at(key);
  if (!v.is_boolean()) {
    throw InputError("config." + key, fmt::format("must be true or false, got {}", v.dump()));
  }
  return v.get<bool>();
}

std::string get_choice(const nlohmann::json& j, const FieldSpec& f, const std::string& fallback) {
  if (!j.contains(f.name)) return fallback;
  const auto& v = j.at(f.name);
  for (const std::string& allowed : f.names) {
    if (v.is_string() && v.get<std::string>() == allowed) return allowed;
  }
  std::string list;
  for (const std::string& allowed : f.names) list += (list.empty() ? "\"" : ", \"") + allowed + "\"";
  throw InputError("config." + f.name, fmt::format("{} is not allowed; allowed {}", v.dump(), list));
}

std::string get_name(const nlohmann::json& j, const std::string& fallback) {
  if (!j.contains("name")) return fallback;
  const auto& v = j.at("name");
  // The name prefixes every module and file name, so it must be a legal, portable identifier.
  static const std::regex legal("[a-z][a-z0-9_]{0,23}");
  if (!v.is_string() || !std::regex_match(v.get<std::string>(), legal)) {
    throw InputError("config.name",
                     fmt::format("must match [a-z][a-z0-9_]{{0,23}} (a module-name prefix), got {}",
                                 v.dump()));
  }
  return v.get<std::string>();
}

void check_known_keys(const nlohmann::json& j, const std::set<std::string>& known) {
  if (!j.is_object()) throw InputError("config", "must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key)) {
      std::string allowed;
      for (const auto& k : known) allowed += (allowed.empty() ? "" : ", ") + k;
      throw InputError("config." + key, fmt::format("unknown key (allowed: {})", allowed));
    }
  }
}


std::set<std::string> known_keys_of(const std::vector<FieldSpec>& specs) {
  std::set<std::string> keys = {"kind"};
  for (const FieldSpec& f : specs) keys.insert(f.name);
  return keys;
}

}  // namespace accelgen::core
