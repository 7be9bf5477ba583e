// Parsing, validation, derived widths and hashing of NmConfig (docs/nm_array.md, docs/config.md).
#include "core/nm_config.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/config.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json_fields.h"

namespace accelgen::core {

bool nm_group_size_supported(int m) {
  const auto& choices = field_spec(nm_field_specs(), "m").choices;
  return std::find(choices.begin(), choices.end(), m) != choices.end();
}

NmWidths nm_widths(const NmConfig& c) {
  NmWidths w{};
  w.kb = c.dense_baseline ? c.n : c.m;
  w.iw = c.dense_baseline ? 0 : clog2(static_cast<uint64_t>(c.m));
  w.sw = c.ww + w.iw;
  w.depth = (c.max_k + w.kb - 1) / w.kb;
  w.diw = std::max(1, clog2(static_cast<uint64_t>(w.depth)));
  w.dcw = clog2(static_cast<uint64_t>(w.depth) + 1);
  // Bounded by beats, not by K: no bit pattern on the pins can overflow an accumulator.
  w.products = static_cast<int64_t>(w.depth) * c.n;
  w.aw = c.wx + c.ww - 1 + clog2(static_cast<uint64_t>(w.products) + 1);
  w.riw = std::max(1, clog2(static_cast<uint64_t>(c.rows)));
  w.wbw = c.cols * c.n * w.sw;
  w.xbw = c.rows * w.kb * c.wx;
  w.ybw = c.cols * w.aw;
  return w;
}

std::string config_kind(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("config", "must be a JSON object");
  if (!j.contains("kind")) return "attention";
  const auto& k = j.at("kind");
  if (k == "attention" || k == "nm_array") return k.get<std::string>();
  throw InputError("config.kind",
                   fmt::format("must be \"attention\" or \"nm_array\", got {}", k.dump()));
}

namespace {

const std::set<std::string>& nm_known_keys() {
  static const std::set<std::string> keys = known_keys_of(nm_field_specs());
  return keys;
}

const FieldSpec& spec(std::string_view name) { return field_spec(nm_field_specs(), name); }

int get_group_size(const nlohmann::json& j, int fallback) {
  const int m = get_int(j, spec("m"), fallback);
  if (!nm_group_size_supported(m)) {
    throw InputError("config.m", fmt::format("{} is not supported; allowed {}", m, fmt::join(spec("m").choices, ", ")));
  }
  return m;
}

}  // namespace

NmConfig parse_nm_config(const nlohmann::json& j) {
  check_known_keys(j, nm_known_keys());
  if (config_kind(j) != "nm_array") {
    throw InputError("config.kind", "must be \"nm_array\" for an N:M array config");
  }
  NmConfig c;
  c.name = get_name(j, c.name);
  c.rows = get_int(j, spec("rows"), c.rows);
  c.cols = get_int(j, spec("cols"), c.cols);
  c.wx = get_int(j, spec("wx"), c.wx);
  c.ww = get_int(j, spec("ww"), c.ww);
  c.m = get_group_size(j, c.m);
  c.n = get_int(j, "n", spec("n").lo, c.m, std::min(c.n, c.m));  // n <= m (nm_constraints())
  c.max_k = get_int(j, spec("max_k"), c.max_k);
  c.dense_baseline = get_bool(j, "dense_baseline", c.dense_baseline);
  c.memory = get_choice(j, spec("memory"), c.memory);
  return c;
}

NmConfig load_nm_config(const std::string& path) {
  return parse_nm_config(read_json_file(path, "config file (JSON)"));
}

nlohmann::json to_json(const NmConfig& c) {
  return nlohmann::json{{"kind", "nm_array"}, {"name", c.name}, {"rows", c.rows},
                        {"cols", c.cols},     {"wx", c.wx},     {"ww", c.ww},
                        {"n", c.n},           {"m", c.m},       {"max_k", c.max_k},
                        {"dense_baseline", c.dense_baseline}, {"memory", c.memory}};
}

namespace {

void check_range(const IntMatrix& a, int bits, const std::string& name, const char* width) {
  const int64_t lo = signed_min(bits), hi = signed_max(bits);
  for (Eigen::Index r = 0; r < a.rows(); ++r) {
    for (Eigen::Index k = 0; k < a.cols(); ++k) {
      if (a(r, k) < lo || a(r, k) > hi) {
        throw InputError(name, fmt::format("element ({}, {}) = {} is outside the {} = {}-bit "
                                           "signed range [{}, {}]", r, k, a(r, k), width, bits,
                                           lo, hi));
      }
    }
  }
}

}  // namespace

void check_gemm_operands(const NmConfig& c, const IntMatrix& x, const IntMatrix& w,
                         const std::string& x_name, const std::string& w_name) {
  if (x.rows() < 1 || x.cols() < 1) {
    throw InputError(x_name, fmt::format("shape ({}, {}) is empty; allowed [R >= 1, K >= 1]",
                                         x.rows(), x.cols()));
  }
  if (w.rows() != x.cols() || w.cols() < 1) {
    throw InputError(w_name, fmt::format("shape ({}, {}) must be [K, C] with K = {} (the columns "
                                         "of {}) and C >= 1", w.rows(), w.cols(), x.cols(), x_name));
  }
  if (x.cols() > c.max_k) {
    throw InputError(x_name, fmt::format("K = {} exceeds config.max_k; allowed [1, {}]", x.cols(),
                                         c.max_k));
  }
  check_range(x, c.wx, x_name, "wx");
  check_range(w, c.ww, w_name, "ww");
}

std::string config_hash(const NmConfig& c) { return hash_hex(to_json(c).dump()); }

}  // namespace accelgen::core
