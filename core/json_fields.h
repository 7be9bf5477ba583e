// accelgen::core — typed, range-checked reads of config JSON fields, shared by every config kind.
//
// Each reader returns `fallback` when the key is absent and throws InputError("config.<key>", ...)
// with the allowed range for a wrong type or an out-of-range value.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/field_specs.h"

namespace accelgen::core {

int get_int(const nlohmann::json& j, const std::string& key, int lo, int hi, int fallback);
// The same, with the range of a field spec (core/field_specs.h).
int get_int(const nlohmann::json& j, const FieldSpec& f, int fallback);
bool get_bool(const nlohmann::json& j, const std::string& key, bool fallback);
// A "choice" field: one of f.names (exit-2 error naming config.<field> and the allowed strings).
std::string get_choice(const nlohmann::json& j, const FieldSpec& f, const std::string& fallback);
// A module-name prefix: [a-z][a-z0-9_]{0,23}.
std::string get_name(const nlohmann::json& j, const std::string& fallback);
// Throws for a non-object, or for the first key not in `known`, listing the allowed keys.
void check_known_keys(const nlohmann::json& j, const std::set<std::string>& known);
// "kind" and every field of `specs`.
std::set<std::string> known_keys_of(const std::vector<FieldSpec>& specs);

}  // namespace accelgen::core
