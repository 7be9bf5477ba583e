// The field tables of core/field_specs.h. Ranges and docs follow docs/config.md; the validators
// read them from here, so changing a range here changes both the checks and `accelgen space`.
#include "core/field_specs.h"

#include <stdexcept>

#include "core/config.h"

namespace accelgen::core {

namespace {
// The RTL is the same in both modes; only the area, timing and energy flow differ.
constexpr const char* kMemoryDoc =
    "storage arrays in the area/timing/energy flow: flops (synthesized) or macro (SRAM macros, docs/memory.md)";
}  // namespace

const std::vector<FieldSpec>& attention_field_specs() {
  static const std::vector<FieldSpec> specs = {
      {"name", "name", 0, 0, {}, "prefix of every module and file name ([a-z][a-z0-9_]{0,23})"},
      {"d", "int", 1, 256, {}, "head dimension: elements per Q and K row"},
      {"dv", "int", 1, 256, {}, "elements per V row"},
      {"wq", "int", 2, 16, {}, "signed bit width of Q elements"},
      {"wk", "int", 2, 16, {}, "signed bit width of K elements (bit-serial steps per score)"},
      {"wv", "int", 2, 16, {}, "signed bit width of V elements"},
      {"lanes", "int", 1, 64, {}, "parallel bit-serial score lanes"},
      {"key_banks", "int", 0, 64, {0, 1, 2, 4, 8, 16, 32, 64},
       "key store banks: keys the lanes can start per cycle (0: derived from lanes)"},
      {"key_queue", "int", 1, 2, {},
       "keys each lane holds issued ahead of its current key (2: no idle cycle after a one-step key)"},
      {"max_keys", "int", 1, 4096, {}, "keys held on chip"},
      {"threshold_slots", "int", 1, 256, {}, "(layer, head) threshold registers"},
      {"alpha_mant_bits", "int", 13, 24, {},
       "softmax scale register: mantissa bits (alpha = mant * 2^-shift; relative error <= 2^-bits)"},
      {"dense_baseline", "bool", 0, 1, {}, "termination and pruning off"},
      {"out_frac_bits", "int", 0, 8, {}, "fraction bits of the attention output O"},
      {"exp_lut_bits", "int", 0, 12, {}, "exp table index bits (0: derived, within 1 LSB)"},
      {"overlap_backend", "bool", 0, 1, {}, "score the next queries while the back-end finishes"},
      {"threshold_modes", "modes", 0, 1, {}, "threshold modes in hardware: [absolute] or [absolute, relative]"},
      {"memory", "choice", 0, 0, {}, kMemoryDoc, {"flops", "macro"}},
  };
  return specs;
}

const std::vector<FieldSpec>& nm_field_specs() {
  static const std::vector<FieldSpec> specs = {
      {"name", "name", 0, 0, {}, "prefix of every module and file name ([a-z][a-z0-9_]{0,23})"},
      {"rows", "int", 1, 64, {}, "PE rows: activation rows per row tile"},
      {"cols", "int", 1, 64, {}, "PE columns: output columns per column tile"},
      {"wx", "int", 2, 16, {}, "signed bit width of activations"},
      {"ww", "int", 2, 16, {}, "signed bit width of weights"},
      {"m", "int", 1, 16, {1, 2, 4, 8, 16}, "group size along k"},
      {"n", "int", 1, 16, {}, "nonzeros per group = multipliers per PE"},
      {"max_k", "int", 1, 65536, {}, "largest reduction length K the weight store holds"},
      {"dense_baseline", "bool", 0, 1, {}, "no indices or multiplexers (dense baseline)"},
      {"memory", "choice", 0, 0, {}, kMemoryDoc, {"flops", "macro"}},
  };
  return specs;
}

const std::vector<FieldConstraint>& attention_constraints() {
  static const std::vector<FieldConstraint> c = {
      {"lanes", {{1, "lanes"}, {-1, "max_keys"}}, INT_MIN, 0, "lanes <= max_keys"},
      {"key_banks", {{1, "key_banks"}, {-1, "lanes"}}, INT_MIN, 0, "key_banks <= lanes"},
  };
  return c;
}

const std::vector<FieldConstraint>& nm_constraints() {
  static const std::vector<FieldConstraint> c = {
      {"n", {{1, "n"}, {-1, "m"}}, INT_MIN, 0, "n <= m"},
  };
  return c;
}

const FieldSpec& field_spec(const std::vector<FieldSpec>& specs, std::string_view name) {
  for (const FieldSpec& f : specs) {
    if (f.name == name) return f;
  }
  throw std::logic_error("no field spec for " + std::string(name));
}

long long constraint_value(const FieldConstraint& c, const nlohmann::json& values) {
  long long sum = 0;
  for (const auto& [coef, field] : c.terms) sum += static_cast<long long>(coef) * values.at(field).get<int>();
  return sum;
}

nlohmann::json search_space_json(const std::string& kind, const nlohmann::json& base_canonical,
                                 const nlohmann::json& defaults_canonical) {
  const bool nm = kind == "nm_array";
  const auto& specs = nm ? nm_field_specs() : attention_field_specs();
  const auto& cons = nm ? nm_constraints() : attention_constraints();
  nlohmann::json fields = nlohmann::json::array();
  nlohmann::json fixed = nlohmann::json::array({"kind"});
  for (const FieldSpec& f : specs) {
    if (f.type == "name") {
      fixed.push_back(f.name);
      continue;
    }
    nlohmann::json j = {{"name", f.name}, {"type", f.type}, {"doc", f.doc},
                        {"default", defaults_canonical.at(f.name)}, {"base", base_canonical.at(f.name)}};
    if (f.type == "bool") {
      j["choices"] = {false, true};
    } else if (f.type == "choice") {
      j["choices"] = f.names;
    } else if (f.type == "modes") {
      j["choices"] = {threshold_modes_json(false), threshold_modes_json(true)};
    } else if (!f.choices.empty()) {
      j["choices"] = f.choices;
    } else {
      j["min"] = f.lo;
      j["max"] = f.hi;
      j["step"] = 1;
    }
    fields.push_back(j);
  }
  nlohmann::json constraints = nlohmann::json::array();
  for (const FieldConstraint& c : cons) {
    nlohmann::json terms = nlohmann::json::object();
    for (const auto& [coef, field] : c.terms) terms[field] = coef;
    constraints.push_back({{"field", c.field},
                           {"terms", terms},
                           {"min", c.lo == INT_MIN ? nlohmann::json() : nlohmann::json(c.lo)},
                           {"max", c.hi == INT_MAX ? nlohmann::json() : nlohmann::json(c.hi)},
                           {"text", c.text}});
  }
  return {{"kind", kind}, {"fields", fields}, {"fixed", fixed}, {"constraints", constraints},
          {"base", base_canonical}};
}

}  // namespace accelgen::core
