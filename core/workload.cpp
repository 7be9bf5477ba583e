#include "core/workload.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/npy.h"

namespace accelgen::core {

namespace fs = std::filesystem;

AlphaRegister decode_alpha(uint64_t bits, const AttentionConfig& c) {
  const int m = c.alpha_mant_bits;
  AlphaRegister a;
  a.mant = bits & ((uint64_t{1} << m) - 1);
  a.shift = static_cast<int>((bits >> m) & ((uint64_t{1} << kAlphaShiftBits) - 1));
  a.bits = (static_cast<uint64_t>(a.shift) << m) | a.mant;
  a.value = std::ldexp(static_cast<double>(a.mant), -a.shift);
  return a;
}

AlphaRegister quantize_alpha(double softmax_scale, const AttentionConfig& c) {
  if (!(softmax_scale >= kMinSoftmaxScale && softmax_scale <= kMaxSoftmaxScale)) {  // also NaN
    throw InputError("params.json: softmax_scale",
                     fmt::format("{} is outside the supported range; allowed [1e-9, 1e3]", softmax_scale));
  }
  // alpha = sigma * log2(e) in long double (relative error ~1e-19), written as y * 2^p with y in
  // [0.5, 1): mant = round(y * 2^M) in [2^(M-1), 2^M], shift = M - p; a mantissa that rounds up to
  // 2^M becomes 2^(M-1) with shift - 1. The supported range needs shift in [M - 12, M + 29], inside
  // [0, 63] for every allowed M (13..24).
  const int m = c.alpha_mant_bits;
  const long double log2e = 1.442695040888963407359924681001892137L;
  int p = 0;
  const long double y = std::frexp(static_cast<long double>(softmax_scale) * log2e, &p);
  uint64_t mant = static_cast<uint64_t>(std::llround(std::ldexp(y, m)));
  int shift = m - p;
  if (mant == (uint64_t{1} << m)) {
    mant >>= 1;
    --shift;
  }
  if (shift < 0 || shift >= (1 << kAlphaShiftBits)) {
    throw std::logic_error(fmt::format("quantize_alpha: shift {} outside the register", shift));
  }
  return decode_alpha((static_cast<uint64_t>(shift) << m) | mant, c);
}

const char* to_string(ThresholdMode m) { return m == ThresholdMode::relative ? "relative" : "absolute"; }

int64_t visible_keys(const AttentionParams& p, int64_t i, int64_t lk) {
  if (!p.causal) return lk;
  return std::min(lk, i + p.causal_offset + 1);
}

namespace {

void check_shape(const IntMatrix& m, const std::string& file, Eigen::Index rows_lo,
                 Eigen::Index rows_hi, Eigen::Index cols, const std::string& shape_text) {
  if (m.cols() != cols || m.rows() < rows_lo || m.rows() > rows_hi) {
    throw InputError(file, fmt::format("shape [{}, {}] does not match the config; expected {}",
                                       m.rows(), m.cols(), shape_text));
  }
}

void check_range(const IntMatrix& m, const std::string& file, int bits, const std::string& field) {
  const int64_t lo = signed_min(bits);
  const int64_t hi = signed_max(bits);
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      if (m(i, j) < lo || m(i, j) > hi) {
        throw InputError(file, fmt::format("element [{}][{}] = {} is out of range for {} = {}; "
                                           "allowed [{}, {}]",
                                           i, j, m(i, j), field, bits, lo, hi));
      }
    }
  }
}

// An integer field of params.json in [lo, hi].
int64_t get_param_int(const nlohmann::json& j, const std::string& path, const std::string& key, int64_t lo,
                      int64_t hi, const std::string& what) {
  const nlohmann::json& v = j.at(key);
  const bool fits = v.is_number_integer() &&
                    !(v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) &&
                    v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!fits) {
    throw InputError(path + ": " + key, fmt::format("{} is not {}; allowed integers [{}, {}]", v.dump(), what, lo, hi));
  }
  return v.get<int64_t>();
}

AttentionParams parse_params(const std::string& path, const AttentionConfig& c, int64_t lq, int64_t lk) {
  if (!std::filesystem::exists(path)) {
    throw InputError(path, "missing (a workload directory needs params.json)");
  }
  const nlohmann::json j = read_json_file(path, "params.json (JSON)");
  if (!j.is_object()) throw InputError(path, "must be a JSON object");
  static const std::set<std::string> known = {"theta",  "delta",         "threshold_mode", "softmax_scale",
                                              "slot",   "causal",        "causal_offset",  "generator"};
  for (const auto& [key, value] : j.items()) {
    if (!known.contains(key)) {
      throw InputError(path + ": " + key, "unknown key (allowed: theta, delta, threshold_mode, softmax_scale, "
                                          "slot, causal, causal_offset, generator)");
    }
  }
  AttentionParams p;
  if (j.contains("threshold_mode")) {
    const nlohmann::json& m = j["threshold_mode"];
    if (m != "absolute" && m != "relative") {
      throw InputError(path + ": threshold_mode",
                       fmt::format("{} is not a mode; allowed \"absolute\", \"relative\"", m.dump()));
    }
    p.mode = m == "relative" ? ThresholdMode::relative : ThresholdMode::absolute;
  }
  const int tw = widths(c).tw;
  const char* value_key = p.mode == ThresholdMode::relative ? "delta" : "theta";
  const char* other_key = p.mode == ThresholdMode::relative ? "theta" : "delta";
  if (!j.contains(value_key)) {
    throw InputError(path + ": " + value_key,
                     fmt::format("required with threshold_mode \"{}\", an integer in score units", to_string(p.mode)));
  }
  if (j.contains(other_key)) {
    throw InputError(path + ": " + other_key,
                     fmt::format("not used with threshold_mode \"{}\" (give {} only)", to_string(p.mode), value_key));
  }
  if (p.mode == ThresholdMode::relative) {
    p.delta = get_param_int(j, path, "delta", 0, signed_max(tw), "a delta the threshold register holds");
  } else {
    p.theta = get_param_int(j, path, "theta", signed_min(tw), signed_max(tw), "a theta the threshold register holds");
  }
  if (!j.contains("softmax_scale") || !j["softmax_scale"].is_number()) {
    throw InputError(path + ": softmax_scale", "required, a number > 0");
  }
  p.softmax_scale = j["softmax_scale"].get<double>();
  if (j.contains("slot")) {
    p.slot = static_cast<int>(get_param_int(j, path, "slot", 0, c.threshold_slots - 1, "a threshold slot"));
  }
  if (j.contains("causal")) {
    if (!j["causal"].is_boolean()) throw InputError(path + ": causal", "must be true or false");
    p.causal = j["causal"].get<bool>();
  }
  if (j.contains("causal_offset")) {
    if (!p.causal) throw InputError(path + ": causal_offset", "given, but causal is not true");
    p.causal_offset = get_param_int(j, path, "causal_offset", 0, int64_t{1} << 40, "a key offset");
  } else if (p.causal) {
    if (lk < lq) {
      throw InputError(path + ": causal_offset",
                       fmt::format("the default Lk - Lq = {} - {} is negative; give causal_offset >= 0", lk, lq));
    }
    p.causal_offset = lk - lq;
  }
  return p;
}

}  // namespace

void validate_workload(const AttentionWorkload& w, const AttentionConfig& c, const std::string& dir) {
  const fs::path d(dir);
  const std::string qf = (d / "q.npy").string();
  const std::string kf = (d / "k.npy").string();
  const std::string vf = (d / "v.npy").string();
  const std::string pf = (d / "params.json").string();
  check_shape(w.q, qf, 1, Eigen::Index{1} << 40, c.d, fmt::format("[Lq >= 1, d = {}]", c.d));
  check_shape(w.k, kf, 1, c.max_keys, c.d,
              fmt::format("[Lk in [1, max_keys = {}], d = {}]", c.max_keys, c.d));
  check_shape(w.v, vf, w.k.rows(), w.k.rows(), c.dv,
              fmt::format("[Lk = {} (rows of k.npy), dv = {}]", w.k.rows(), c.dv));
  check_range(w.q, qf, c.wq, "wq");
  check_range(w.k, kf, c.wk, "wk");
  check_range(w.v, vf, c.wv, "wv");
  const int tw = widths(c).tw;
  if (w.params.theta < signed_min(tw) || w.params.theta > signed_max(tw)) {
    throw InputError(pf + ": theta",
                     fmt::format("{} does not fit the {}-bit threshold register; allowed [{}, {}]",
                                 w.params.theta, tw, signed_min(tw), signed_max(tw)));
  }
  if (w.params.delta < 0 || w.params.delta > signed_max(tw)) {
    throw InputError(pf + ": delta", fmt::format("{} does not fit the {}-bit threshold register; allowed [0, {}]",
                                                 w.params.delta, tw, signed_max(tw)));
  }
  if (w.params.mode == ThresholdMode::relative && !c.dense_baseline && !c.relative_thresholds) {
    throw InputError(pf + ": threshold_mode",
                     "\"relative\", but the config's threshold_modes is [\"absolute\"] (generate the unit with "
                     "\"threshold_modes\": [\"absolute\", \"relative\"])");
  }
  if (w.params.causal && w.params.causal_offset < 0) {
    throw InputError(pf + ": causal_offset", fmt::format("{} is negative; allowed >= 0", w.params.causal_offset));
  }
  if (w.params.slot < 0 || w.params.slot >= c.threshold_slots) {
    throw InputError(pf + ": slot", fmt::format("{} is out of range; allowed [0, {}]",
                                                w.params.slot, c.threshold_slots - 1));
  }
  try {
    quantize_alpha(w.params.softmax_scale, c);
  } catch (const InputError& e) {
    throw InputError(pf + ": softmax_scale", e.detail());
  }
}

AttentionWorkload load_attention_workload(const std::string& dir, const AttentionConfig& c) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) throw InputError(dir, "workload directory does not exist");
  AttentionWorkload w;
  w.q = read_npy((d / "q.npy").string());
  w.k = read_npy((d / "k.npy").string());
  w.v = read_npy((d / "v.npy").string());
  w.params = parse_params((d / "params.json").string(), c, w.q.rows(), w.k.rows());
  validate_workload(w, c, dir);
  return w;
}

namespace {

IntMatrix gaussian_matrix(std::mt19937_64& rng, Eigen::Index rows, Eigen::Index cols, int bits,
                          double sigma_fraction) {
  const double sigma = std::ldexp(1.0, bits - 1) * sigma_fraction;
  std::normal_distribution<double> normal(0.0, sigma);
  IntMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) {
      const double x = std::round(normal(rng));
      m(i, j) = std::clamp<int64_t>(static_cast<int64_t>(x), signed_min(bits), signed_max(bits));
    }
  }
  return m;
}

int64_t percentile(const IntMatrix& scores, double p) {
  std::vector<int64_t> all(scores.data(), scores.data() + scores.size());
  const size_t k = std::min(all.size() - 1, static_cast<size_t>(p * static_cast<double>(all.size())));
  std::nth_element(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end());
  return all[k];
}

}  // namespace

AttentionWorkload make_workload(const AttentionConfig& c, const std::string& kind, int lq, int lk,
                                uint64_t seed) {
  if (kind != "gaussian" && kind != "peaky") {
    throw InputError("--kind", fmt::format("'{}' is not a workload kind (allowed: gaussian, peaky)", kind));
  }
  if (lq < 1) throw InputError("--lq", fmt::format("{} queries; allowed >= 1", lq));
  if (lk < 1 || lk > c.max_keys) {
    throw InputError("--lk", fmt::format("{} keys; allowed [1, max_keys = {}]", lk, c.max_keys));
  }
  std::mt19937_64 rng(seed);
  AttentionWorkload w;
  w.k = gaussian_matrix(rng, lk, c.d, c.wk, 0.3);
  w.v = gaussian_matrix(rng, lk, c.dv, c.wv, 0.3);
  double keep_quantile = 0.75;
  if (kind == "gaussian") {
    w.q = gaussian_matrix(rng, lq, c.d, c.wq, 0.3);
  } else {
    // Each query points at one random key (rescaled to Q's range) plus noise: few large scores.
    keep_quantile = 0.9;
    const IntMatrix noise = gaussian_matrix(rng, lq, c.d, c.wq, 0.1);
    std::uniform_int_distribution<int> pick(0, lk - 1);
    const double rescale = std::ldexp(1.0, c.wq - c.wk) * 0.6;
    w.q.resize(lq, c.d);
    for (int i = 0; i < lq; ++i) {
      const int j = pick(rng);
      for (int t = 0; t < c.d; ++t) {
        const double x = std::round(static_cast<double>(w.k(j, t)) * rescale) +
                         static_cast<double>(noise(i, t));
        w.q(i, t) = std::clamp<int64_t>(static_cast<int64_t>(x), signed_min(c.wq), signed_max(c.wq));
      }
    }
  }
  const IntMatrix scores = w.q * w.k.transpose();
  w.params.theta = percentile(scores, keep_quantile);
  // Spread of the scores sets the softmax temperature: exp(sigma * s) spans a few e-folds.
  const double spread = std::max<double>(1.0, static_cast<double>(percentile(scores, 0.99) -
                                                                  percentile(scores, 0.01)));
  w.params.softmax_scale = 8.0 / spread;
  // Inside the supported range (only the widest configs' score spreads come near its bottom).
  w.params.softmax_scale = std::clamp(w.params.softmax_scale, kMinSoftmaxScale, kMaxSoftmaxScale);
  w.params.slot = 0;
  return w;
}

void write_workload(const AttentionWorkload& w, const std::string& dir) {
  write_dir_atomically(dir, "params.json", [&](const fs::path& tmp) {
    write_npy((tmp / "q.npy").string(), w.q);
    write_npy((tmp / "k.npy").string(), w.k);
    write_npy((tmp / "v.npy").string(), w.v);
    nlohmann::json j = {{"softmax_scale", w.params.softmax_scale}, {"slot", w.params.slot}};
    if (w.params.mode == ThresholdMode::relative) {
      j["threshold_mode"] = "relative";
      j["delta"] = w.params.delta;
    } else {
      j["theta"] = w.params.theta;
    }
    if (w.params.causal) {
      j["causal"] = true;
      j["causal_offset"] = w.params.causal_offset;
    }
    write_file_checked(tmp / "params.json", j.dump(2) + "\n", (fs::path(dir) / "params.json").string());
  });
}

}  // namespace accelgen::core
