// accelgen::core — the searchable config fields of each block, as data: name, type, legal range
// (or choices), and the cross-field constraints. The config validators (core/config.cpp,
// core/nm_config.cpp) read their ranges from these tables and `accelgen space` prints them, so a
// design search sees exactly the space `generate` accepts (docs/search.md).
#pragma once

#include <climits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace accelgen::core {

struct FieldSpec {
  std::string name;
  std::string type;          // "int", "bool", "choice" (one of `names`), "modes" (threshold_modes)
                             // or "name" (a module-name prefix, not searchable)
  int lo = 0, hi = 0;        // "int": inclusive range, step 1 unless `choices` is set
  std::vector<int> choices;  // "int": non-empty means only these values
  std::string doc;
  std::vector<std::string> names = {};  // "choice": the allowed strings, the default first
};

// A linear cross-field constraint: lo <= sum(coef * field) <= hi (INT_MIN / INT_MAX: no bound).
// `field` is the key a violation is reported under (config.<field>).
struct FieldConstraint {
  std::string field;
  std::vector<std::pair<int, std::string>> terms;
  int lo = INT_MIN, hi = INT_MAX;
  std::string text;  // human form, e.g. "lanes <= max_keys"
};

const std::vector<FieldSpec>& attention_field_specs();
const std::vector<FieldSpec>& nm_field_specs();
const std::vector<FieldConstraint>& attention_constraints();
const std::vector<FieldConstraint>& nm_constraints();

// The spec of `name` in `specs` (std::logic_error if absent: a programming error).
const FieldSpec& field_spec(const std::vector<FieldSpec>& specs, std::string_view name);
// sum(coef * values[field]) over the constraint's terms; `values` is a canonical config JSON.
long long constraint_value(const FieldConstraint& c, const nlohmann::json& values);

// The search space of a config kind as JSON (what `accelgen space --json` prints): fields with
// range/choices, default and `base` value, the fixed fields, and the constraints.
nlohmann::json search_space_json(const std::string& kind, const nlohmann::json& base_canonical,
                                 const nlohmann::json& defaults_canonical);

}  // namespace accelgen::core
