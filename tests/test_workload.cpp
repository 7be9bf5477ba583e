// Tests for core/workload.{h,cpp}: loading and validating workload directories, synthetic workload
// generation and atomic writing.
//
// Expected values never come from the code under test: allowed ranges are worked out by hand from
// the config (signed ranges of wq/wk/wv, TW = wq + wk + clog2(d) + 2 from
// docs/microarchitecture.md), and the kept fraction of a synthetic workload is recomputed here from
// q * k^T with plain loops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iostream>
#include <iterator>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/workload.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

using accelgen::test_support::has;
using accelgen::test_support::read_bytes;
using accelgen::test_support::write_text;

using accelgen::test_support::error_of;
using TempDir = accelgen::test_support::TempDir;

namespace fs = std::filesystem;
using nlohmann::json;




std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}



IntMatrix mat(int rows, int cols, std::initializer_list<int64_t> values) {
  IntMatrix m(rows, cols);
  EXPECT_EQ(static_cast<int64_t>(values.size()), int64_t{rows} * cols);
  auto it = values.begin();
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) m(i, j) = *it++;
  return m;
}

// The small config every load test uses.
//   d = 4, dv = 3, wq = 4 -> [-8, 7], wk = 5 -> [-16, 15], wv = 3 -> [-4, 3],
//   max_keys = 6, threshold_slots = 3 -> slot in [0, 2],
//   SW = 4 + 5 + clog2(4) = 11, TW = 13 -> theta in [-4096, 4095],
//   alpha_mant_bits 16 (default): softmax_scale in [1e-9, 1e3].
AttentionConfig small_config() {
  return parse_attention_config(json{{"name", "wl"},
                                     {"d", 4},
                                     {"dv", 3},
                                     {"wq", 4},
                                     {"wk", 5},
                                     {"wv", 3},
                                     {"lanes", 2},
                                     {"max_keys", 6},
                                     {"threshold_slots", 3}});
}

IntMatrix good_q() { return mat(2, 4, {1, -2, 3, -8, 7, 0, -1, 2}); }
IntMatrix good_k() { return mat(3, 4, {-16, 15, 0, 1, 2, -3, 4, -5, 6, 7, -8, 9}); }
IntMatrix good_v() { return mat(3, 3, {-4, 3, 0, 1, -1, 2, 3, -4, -2}); }
const char* kGoodParams = R"({"theta": 10, "softmax_scale": 0.5, "slot": 1})";

// A workload directory with the given contents; any of them may be left out (nullptr / empty).
fs::path make_dir(const fs::path& dir, const IntMatrix* q, const IntMatrix* k, const IntMatrix* v,
                  const std::string* params) {
  fs::create_directories(dir);
  if (q) write_npy((dir / "q.npy").string(), *q);
  if (k) write_npy((dir / "k.npy").string(), *k);
  if (v) write_npy((dir / "v.npy").string(), *v);
  if (params) write_text(dir / "params.json", *params);
  return dir;
}

struct Parts {
  IntMatrix q = good_q();
  IntMatrix k = good_k();
  IntMatrix v = good_v();
  std::string params = kGoodParams;
};

fs::path make_dir(const fs::path& dir, const Parts& p) {
  return make_dir(dir, &p.q, &p.k, &p.v, &p.params);
}

std::string load_error(const fs::path& dir, const AttentionConfig& c = small_config()) {
  return error_of([&] { load_attention_workload(dir.string(), c); });
}

std::string params_error(const std::string& params_text) {
  TempDir t;
  Parts p;
  p.params = params_text;
  const fs::path dir = make_dir(t.path() / "w", p);
  return load_error(dir);
}

// ------------------------------------------------------------------------------ a good workload

TEST(WorkloadLoad, LoadsAValidWorkloadExactly) {
  TempDir t;
  const fs::path dir = make_dir(t.path() / "w", Parts{});
  const AttentionWorkload w = load_attention_workload(dir.string(), small_config());
  EXPECT_EQ(w.q, good_q());
  EXPECT_EQ(w.k, good_k());
  EXPECT_EQ(w.v, good_v());
  EXPECT_EQ(w.params.theta, 10);
  EXPECT_EQ(w.params.softmax_scale, 0.5);
  EXPECT_EQ(w.params.slot, 1);
}

TEST(WorkloadLoad, SlotDefaultsToZeroAndGeneratorKeyIsAllowed) {
  TempDir t;
  Parts p;
  p.params = R"({"theta": -3, "softmax_scale": 2, "generator": {"kind": "by hand"}})";
  const fs::path dir = make_dir(t.path() / "w", p);
  const AttentionWorkload w = load_attention_workload(dir.string(), small_config());
  EXPECT_EQ(w.params.slot, 0);
  EXPECT_EQ(w.params.theta, -3);
  EXPECT_EQ(w.params.softmax_scale, 2.0);
}

TEST(WorkloadLoad, AcceptsMaxKeysRowsAndBoundaryElementValues) {
  TempDir t;
  Parts p;
  // Every element at a bound of its signed range; k and v with max_keys = 6 rows.
  p.q = mat(1, 4, {-8, 7, -8, 7});
  p.k = mat(6, 4, {-16, 15, -16, 15, 15, -16, 15, -16, 0, 0, 0, 0,
                   1, 1, 1, 1, -1, -1, -1, -1, 15, 15, 15, 15});
  p.v = mat(6, 3, {-4, 3, -4, 3, -4, 3, 0, 0, 0, 1, 1, 1, -1, -1, -1, 3, 3, 3});
  const fs::path dir = make_dir(t.path() / "w", p);
  const AttentionWorkload w = load_attention_workload(dir.string(), small_config());
  EXPECT_EQ(w.k.rows(), 6);
  EXPECT_EQ(w.q, p.q);
}

// ---------------------------------------------------------------------------- missing things

TEST(WorkloadLoad, RejectsMissingDirectoryNamingIt) {
  TempDir t;
  const fs::path dir = t.path() / "does_not_exist";
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, dir.string())) << msg;
}

TEST(WorkloadLoad, RejectsAFileInsteadOfADirectory) {
  TempDir t;
  write_text(t.path() / "plain", "x");
  const std::string msg = load_error(t.path() / "plain");
  EXPECT_TRUE(has(msg, (t.path() / "plain").string())) << msg;
}

TEST(WorkloadLoad, RejectsMissingQNamingTheFile) {
  TempDir t;
  const IntMatrix k = good_k(), v = good_v();
  const std::string params = kGoodParams;
  const fs::path dir = make_dir(t.path() / "w", nullptr, &k, &v, &params);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
}

TEST(WorkloadLoad, RejectsMissingKNamingTheFile) {
  TempDir t;
  const IntMatrix q = good_q(), v = good_v();
  const std::string params = kGoodParams;
  const fs::path dir = make_dir(t.path() / "w", &q, nullptr, &v, &params);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
}

TEST(WorkloadLoad, RejectsMissingVNamingTheFile) {
  TempDir t;
  const IntMatrix q = good_q(), k = good_k();
  const std::string params = kGoodParams;
  const fs::path dir = make_dir(t.path() / "w", &q, &k, nullptr, &params);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "v.npy").string())) << msg;
}

TEST(WorkloadLoad, RejectsMissingParamsNamingTheFile) {
  TempDir t;
  const IntMatrix q = good_q(), k = good_k(), v = good_v();
  const fs::path dir = make_dir(t.path() / "w", &q, &k, &v, nullptr);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "params.json").string())) << msg;
}

// ---------------------------------------------------------------------------------- shapes

TEST(WorkloadLoad, RejectsQWithWrongColumnCount) {
  TempDir t;
  Parts p;
  p.q = mat(2, 5, {1, 2, 3, 4, 5, 1, 2, 3, 4, 5});
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "d = 4")) << msg;
  EXPECT_TRUE(has(msg, "5")) << msg;
}

TEST(WorkloadLoad, RejectsKWithWrongColumnCount) {
  TempDir t;
  Parts p;
  p.k = mat(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "d = 4")) << msg;
}

TEST(WorkloadLoad, RejectsKWithMoreRowsThanMaxKeys) {
  TempDir t;
  Parts p;
  p.k = IntMatrix::Zero(7, 4);
  p.v = IntMatrix::Zero(7, 3);
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "7")) << msg;
  EXPECT_TRUE(has(msg, "max_keys = 6")) << msg;
}

TEST(WorkloadLoad, RejectsEmptyQAndEmptyK) {
  {
    TempDir t;
    Parts p;
    p.q = IntMatrix(0, 4);
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  }
  {
    TempDir t;
    Parts p;
    p.k = IntMatrix(0, 4);
    p.v = IntMatrix(0, 3);
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
  }
}

TEST(WorkloadLoad, RejectsVRowsDifferentFromKRows) {
  for (int rows : {2, 4}) {
    TempDir t;
    Parts p;
    p.v = IntMatrix::Zero(rows, 3);
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "v.npy").string())) << msg;
    EXPECT_TRUE(has(msg, "Lk = 3")) << msg;
  }
}

TEST(WorkloadLoad, RejectsVWithWrongColumnCount) {
  TempDir t;
  Parts p;
  p.v = IntMatrix::Zero(3, 4);
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "v.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "dv = 3")) << msg;
}

// --------------------------------------------------------------------------- element ranges

TEST(WorkloadLoad, RejectsQElementAboveWq) {
  TempDir t;
  Parts p;
  p.q(1, 2) = 8;  // wq = 4 allows [-8, 7]
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "[1][2]")) << msg;
  EXPECT_TRUE(has(msg, "= 8 ")) << msg;
  EXPECT_TRUE(has(msg, "[-8, 7]")) << msg;
}

TEST(WorkloadLoad, RejectsQElementBelowWq) {
  TempDir t;
  Parts p;
  p.q(0, 3) = -9;
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "[0][3]")) << msg;
  EXPECT_TRUE(has(msg, "-9")) << msg;
  EXPECT_TRUE(has(msg, "[-8, 7]")) << msg;
}

TEST(WorkloadLoad, RejectsKElementOutsideWk) {
  for (int64_t bad : {16, -17}) {
    TempDir t;
    Parts p;
    p.k(2, 1) = bad;  // wk = 5 allows [-16, 15]
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
    EXPECT_TRUE(has(msg, "[2][1]")) << msg;
    EXPECT_TRUE(has(msg, std::to_string(bad))) << msg;
    EXPECT_TRUE(has(msg, "[-16, 15]")) << msg;
  }
}

TEST(WorkloadLoad, RejectsVElementOutsideWv) {
  for (int64_t bad : {4, -5, 1000000}) {
    TempDir t;
    Parts p;
    p.v(0, 2) = bad;  // wv = 3 allows [-4, 3]
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "v.npy").string())) << msg;
    EXPECT_TRUE(has(msg, "[0][2]")) << msg;
    EXPECT_TRUE(has(msg, std::to_string(bad))) << msg;
    EXPECT_TRUE(has(msg, "[-4, 3]")) << msg;
  }
}

TEST(WorkloadLoad, RejectsInt64ExtremesInQ) {
  TempDir t;
  Parts p;
  p.q(0, 0) = std::numeric_limits<int64_t>::min();
  const fs::path dir = make_dir(t.path() / "w", p);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "[-8, 7]")) << msg;
}

// ------------------------------------------------------------------------------------ dtype

// A version 1.0 .npy with dtype '<f4', C order, shape (rows, cols), written byte by byte.
std::string float_npy(int rows, int cols, float value) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(rows) + ", " + std::to_string(cols) + "), }";
  const size_t prefix = 10;  // magic (6) + version (2) + uint16 header length (2)
  header.append(64 - (prefix + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  uint32_t bits;
  static_assert(sizeof bits == sizeof value);
  std::memcpy(&bits, &value, sizeof bits);
  for (int n = 0; n < rows * cols; ++n)
    for (int b = 0; b < 4; ++b) out += static_cast<char>((bits >> (8 * b)) & 0xff);
  return out;
}

TEST(WorkloadLoad, RejectsFloatNpyNamingFileAndDtype) {
  TempDir t;
  const fs::path dir = make_dir(t.path() / "w", Parts{});
  const std::string bytes = float_npy(2, 4, 1.0f);
  ASSERT_EQ(bytes.size() % 64, 32u);  // 64-byte prefix+header, then 8 * 4 data bytes
  write_text(dir / "q.npy", bytes);
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "q.npy").string())) << msg;
  EXPECT_TRUE(has(msg, "<f4")) << msg;
  EXPECT_TRUE(has(msg, "int8")) << "message should list the allowed dtypes: " << msg;
}

TEST(WorkloadLoad, RejectsFloatKAndV) {
  for (const char* file : {"k.npy", "v.npy"}) {
    TempDir t;
    const fs::path dir = make_dir(t.path() / "w", Parts{});
    write_text(dir / file, float_npy(3, std::string(file) == "k.npy" ? 4 : 3, 0.5f));
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / file).string())) << msg;
    EXPECT_TRUE(has(msg, "<f4")) << msg;
  }
}

TEST(WorkloadLoad, RejectsGarbageNpy) {
  TempDir t;
  const fs::path dir = make_dir(t.path() / "w", Parts{});
  write_text(dir / "k.npy", "this is not a numpy file");
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "k.npy").string())) << msg;
}

// ------------------------------------------------------------------------------------ theta

TEST(WorkloadParams, AcceptsThetaAtBothEndsOfTheThetaRegister) {
  for (int64_t theta : {-4096, 4095, 0}) {
    TempDir t;
    Parts p;
    p.params = json{{"theta", theta}, {"softmax_scale", 0.5}}.dump();
    const fs::path dir = make_dir(t.path() / "w", p);
    AttentionWorkload w;
    ASSERT_NO_THROW(w = load_attention_workload(dir.string(), small_config())) << theta;
    EXPECT_EQ(w.params.theta, theta);
  }
}

TEST(WorkloadParams, RejectsThetaOutsideTheThetaRegister) {
  for (int64_t theta : {int64_t{-4097}, int64_t{4096}, int64_t{1} << 40,
                        std::numeric_limits<int64_t>::min()}) {
    const std::string msg =
        params_error(json{{"theta", theta}, {"softmax_scale", 0.5}}.dump());
    EXPECT_TRUE(has(msg, "params.json")) << msg;
    EXPECT_TRUE(has(msg, "theta")) << msg;
    EXPECT_TRUE(has(msg, "[-4096, 4095]")) << msg;
    EXPECT_TRUE(has(msg, std::to_string(theta))) << msg;
  }
}

TEST(WorkloadParams, RejectsHugeUnsignedThetaInsteadOfWrappingIt) {
  // 2^64 - 1 and 2^64 - 5 are JSON integers far outside [-4096, 4095]; they must not be read as
  // -1 and -5 (which would be in range) and silently accepted.
  for (const char* theta : {"18446744073709551615", "18446744073709551611"}) {
    const std::string msg =
        params_error(std::string(R"({"softmax_scale": 0.5, "theta": )") + theta + "}");
    EXPECT_TRUE(has(msg, "theta")) << theta << ": " << msg;
  }
}

TEST(WorkloadParams, RejectsMissingOrNonIntegerTheta) {
  for (const char* params : {R"({"softmax_scale": 0.5})", R"({"theta": 1.5, "softmax_scale": 0.5})",
                             R"({"theta": "10", "softmax_scale": 0.5})",
                             R"({"theta": null, "softmax_scale": 0.5})"}) {
    const std::string msg = params_error(params);
    EXPECT_TRUE(has(msg, "params.json")) << params << ": " << msg;
    EXPECT_TRUE(has(msg, "theta")) << params << ": " << msg;
  }
}

// ------------------------------------------------------------------------------------- slot

TEST(WorkloadParams, AcceptsEverySlotBelowThresholdSlots) {
  for (int slot : {0, 1, 2}) {
    TempDir t;
    Parts p;
    p.params = json{{"theta", 0}, {"softmax_scale", 0.5}, {"slot", slot}}.dump();
    const fs::path dir = make_dir(t.path() / "w", p);
    EXPECT_EQ(load_attention_workload(dir.string(), small_config()).params.slot, slot);
  }
}

TEST(WorkloadParams, RejectsSlotEqualToThresholdSlots) {
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 0.5, "slot": 3})");
  EXPECT_TRUE(has(msg, "params.json")) << msg;
  EXPECT_TRUE(has(msg, "slot")) << msg;
  EXPECT_TRUE(has(msg, "[0, 2]")) << msg;
}

TEST(WorkloadParams, RejectsNegativeSlotNamingTheAllowedRange) {
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 0.5, "slot": -1})");
  EXPECT_TRUE(has(msg, "slot")) << msg;
  EXPECT_TRUE(has(msg, "[0, 2]")) << "message should give the allowed range: " << msg;
}

TEST(WorkloadParams, RejectsHugeSlotNamingTheAllowedRange) {
  const std::string msg =
      params_error(R"({"theta": 0, "softmax_scale": 0.5, "slot": 5000000000})");
  EXPECT_TRUE(has(msg, "slot")) << msg;
  EXPECT_TRUE(has(msg, "[0, 2]")) << "message should give the allowed range: " << msg;
}

TEST(WorkloadParams, RejectsNonIntegerSlot) {
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 0.5, "slot": 1.0})");
  EXPECT_TRUE(has(msg, "slot")) << msg;
}

// ---------------------------------------------------------------------------- softmax_scale

// The register value of mant * 2^-shift with a `m`-bit mantissa (docs/semantics.md "Softmax and output").
uint64_t reg(uint64_t mant, int shift, int m = 16) { return (static_cast<uint64_t>(shift) << m) | mant; }

TEST(WorkloadParams, QuantizesSoftmaxScaleByHand) {
  const AttentionConfig c = small_config();  // alpha_mant_bits 16
  // sigma = ln 2: alpha = sigma * log2(e) = 1 = 0.5 * 2^1 -> mant = 2^15, shift = 16 - 1 = 15.
  AlphaRegister a = quantize_alpha(std::log(2.0), c);
  EXPECT_EQ(a.mant, uint64_t{1} << 15);
  EXPECT_EQ(a.shift, 15);
  EXPECT_EQ(a.bits, reg(32768, 15));
  EXPECT_EQ(a.value, 1.0);
  // sigma = 3 ln 2: alpha = 3 = 0.75 * 2^2 -> mant = 0.75 * 2^16 = 49152, shift = 14.
  a = quantize_alpha(3 * std::log(2.0), c);
  EXPECT_EQ(a.mant, 49152u);
  EXPECT_EQ(a.shift, 14);
  EXPECT_EQ(a.value, 3.0);
  // alpha = 1 - 2^-20 rounds up to a mantissa of 2^16, which renormalizes to 2^15 with shift 15.
  a = quantize_alpha((1.0 - std::ldexp(1.0, -20)) * std::log(2.0), c);
  EXPECT_EQ(a.mant, 32768u);
  EXPECT_EQ(a.shift, 15);
  // A 13-bit mantissa: alpha = 3 -> 0.75 * 2^13 = 6144, shift = 11; bits = (11 << 13) | 6144.
  const AttentionConfig m13 = parse_attention_config(json{{"alpha_mant_bits", 13}});
  a = quantize_alpha(3 * std::log(2.0), m13);
  EXPECT_EQ(a.mant, 6144u);
  EXPECT_EQ(a.shift, 11);
  EXPECT_EQ(a.bits, reg(6144, 11, 13));
}

TEST(WorkloadParams, QuantizesRealModelScalesByHand) {
  // Expected (mant, shift) worked out with 50-digit decimal arithmetic: alpha = sigma / ln 2 =
  // y * 2^p with y in [0.5, 1), mant = round(y * 2^16), shift = 16 - p.
  struct Case {
    double sigma;
    uint64_t mant;
    int shift;
  };
  const AttentionConfig c = small_config();
  for (const Case& k : {Case{1e-9, 50760, 45},      // alpha = 1.44269504e-9, y * 2^16 = 50760.319
                        Case{4.6e-7, 45605, 36},    // 6.63639719e-7, 45604.974
                        Case{5.9e-4, 57122, 26},    // 8.51190074e-4, 57122.399
                        Case{1.0, 47274, 15},       // 1.44269504,    47274.231
                        Case{1e3, 46166, 5}}) {     // 1442.69504,    46166.241
    SCOPED_TRACE(k.sigma);
    const AlphaRegister a = quantize_alpha(k.sigma, c);
    EXPECT_EQ(a.mant, k.mant);
    EXPECT_EQ(a.shift, k.shift);
    EXPECT_EQ(a.bits, reg(k.mant, k.shift));
    EXPECT_EQ(a.value, std::ldexp(static_cast<double>(k.mant), -k.shift));
    // Relative error against the exact alpha (long double: ~1e-19 relative) below 2^-12.
    const long double exact = static_cast<long double>(k.sigma) / std::log(2.0L);
    const long double rel = std::fabs(std::ldexp(static_cast<long double>(a.mant), -a.shift) - exact) / exact;
    EXPECT_LT(rel, std::ldexp(1.0L, -12));
    EXPECT_LE(rel, std::ldexp(1.0L, -16));  // round to nearest with the top mantissa bit set
  }
}

TEST(WorkloadParams, RelativeScaleErrorBelowTwoToMinusTwelveOverTheWholeRange) {
  // 10,000 log-spaced sigmas over [1e-9, 1e3] (both ends included) for the smallest, the default and
  // the largest mantissa: |alpha_q - alpha| / alpha <= 2^-M <= 2^-13 < 2^-12 everywhere.
  for (int m : {13, 16, 24}) {
    const AttentionConfig c = parse_attention_config(json{{"alpha_mant_bits", m}});
    long double worst = 0;
    double worst_sigma = 0;
    const int n = 10000;
    for (int i = 0; i < n; ++i) {
      const double sigma = i == n - 1 ? 1e3 : std::pow(10.0, -9.0 + 12.0 * i / (n - 1));
      const AlphaRegister a = quantize_alpha(sigma, c);
      ASSERT_GE(a.mant, uint64_t{1} << (m - 1)) << sigma;  // normalized
      ASSERT_LT(a.mant, uint64_t{1} << m) << sigma;
      ASSERT_GE(a.shift, 0);
      ASSERT_LE(a.shift, 63);
      const long double exact = static_cast<long double>(sigma) / std::log(2.0L);
      const long double rel = std::fabs(std::ldexp(static_cast<long double>(a.mant), -a.shift) - exact) / exact;
      ASSERT_LE(rel, std::ldexp(1.0L, -m)) << "sigma " << sigma;
      if (rel > worst) {
        worst = rel;
        worst_sigma = sigma;
      }
    }
    EXPECT_LT(worst, std::ldexp(1.0L, -12));
    std::cout << "[ alpha     ] alpha_mant_bits " << m << ": max relative scale error over " << n
              << " log-spaced sigmas in [1e-9, 1e3] = " << static_cast<double>(worst) << " = 2^"
              << std::log2(static_cast<double>(worst)) << " (at sigma " << worst_sigma << ")\n";
    RecordProperty("max_rel_error_m" + std::to_string(m), std::to_string(static_cast<double>(worst)));
  }
}

TEST(WorkloadParams, DecodesAnyAlphaRegisterValue) {
  const AttentionConfig c = small_config();
  AlphaRegister a = decode_alpha(reg(3, 1), c);  // 3 * 2^-1: not normalized, still a valid register
  EXPECT_EQ(a.mant, 3u);
  EXPECT_EQ(a.shift, 1);
  EXPECT_EQ(a.value, 1.5);
  a = decode_alpha(reg(65535, 63), c);
  EXPECT_EQ(a.value, std::ldexp(65535.0, -63));
  a = decode_alpha(reg(65535, 0) | (uint64_t{1} << 22), c);  // bits above the register are ignored
  EXPECT_EQ(a.bits, reg(65535, 0));
  EXPECT_EQ(a.value, 65535.0);
}

TEST(WorkloadParams, RejectsSoftmaxScaleOutsideTheSupportedRange) {
  const AttentionConfig c = small_config();
  for (double s : {0.0, -0.0, -0.5, -1e-9, std::nan(""), std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity(), 1e-12, 9.999e-10, 1.0001e3, 1e6}) {
    SCOPED_TRACE(s);
    try {
      quantize_alpha(s, c);
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.where(), "params.json: softmax_scale");
      EXPECT_TRUE(has(e.detail(), "[1e-9, 1e3]")) << e.what();
    }
  }
  // Both ends are inside.
  EXPECT_NO_THROW(quantize_alpha(1e-9, c));
  EXPECT_NO_THROW(quantize_alpha(1e3, c));
  // Through a workload directory: the path of params.json, the field and the range.
  for (const char* s : {"0", "-0.5", "1e-12", "1e6"}) {
    const std::string msg = params_error(std::string(R"({"theta": 0, "softmax_scale": )") + s + "}");
    EXPECT_TRUE(has(msg, "params.json: softmax_scale")) << s << ": " << msg;
    EXPECT_TRUE(has(msg, "[1e-9, 1e3]")) << s << ": " << msg;
  }
}

TEST(WorkloadParams, AcceptsRealModelSoftmaxScales) {
  for (double s : {1e-9, 4.6e-7, 5.9e-4, 0.5, 11.0, 1e3}) {
    TempDir t;
    Parts p;
    p.params = json{{"theta", 0}, {"softmax_scale", s}}.dump();
    const fs::path dir = make_dir(t.path() / "w", p);
    EXPECT_NO_THROW(load_attention_workload(dir.string(), small_config())) << s;
  }
}

TEST(WorkloadParams, SoftmaxScaleMessageNamesTheFieldOnce) {
  // One clear message: "<dir>/params.json: softmax_scale: ...", not the prefix twice.
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 0})");
  const size_t first = msg.find("softmax_scale");
  ASSERT_NE(first, std::string::npos) << msg;
  EXPECT_EQ(msg.find("params.json: softmax_scale", first), std::string::npos) << msg;
}

TEST(WorkloadParams, RejectsMissingOrNonNumericSoftmaxScale) {
  for (const char* params : {R"({"theta": 0})", R"({"theta": 0, "softmax_scale": "0.5"})",
                             R"({"theta": 0, "softmax_scale": null})"}) {
    const std::string msg = params_error(params);
    EXPECT_TRUE(has(msg, "softmax_scale")) << params << ": " << msg;
  }
}

// --------------------------------------------------------------------- params.json as a whole

TEST(WorkloadParams, RejectsUnknownKeyNamingIt) {
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 0.5, "thetta": 3})");
  EXPECT_TRUE(has(msg, "params.json")) << msg;
  EXPECT_TRUE(has(msg, "thetta")) << msg;
  EXPECT_TRUE(has(msg, "theta, delta, threshold_mode, softmax_scale, slot, causal, causal_offset")) << msg;
}

TEST(WorkloadParams, RejectsParamsThatAreNotJson) {
  for (const char* text : {"theta: 1", "", "{\"theta\": 0, \"softmax_scale\": 0.5"}) {
    TempDir t;
    Parts p;
    p.params = text;
    const fs::path dir = make_dir(t.path() / "w", p);
    const std::string msg = load_error(dir);
    EXPECT_TRUE(has(msg, (dir / "params.json").string())) << text << ": " << msg;
    EXPECT_TRUE(has(msg, "JSON")) << msg;
  }
}

TEST(WorkloadParams, RejectsParamsThatIsADirectoryNamingIt) {
  TempDir t;
  const IntMatrix q = good_q(), k = good_k(), v = good_v();
  const fs::path dir = make_dir(t.path() / "w", &q, &k, &v, nullptr);
  fs::create_directory(dir / "params.json");
  const std::string msg = load_error(dir);
  EXPECT_TRUE(has(msg, (dir / "params.json").string())) << msg;
}

TEST(WorkloadParams, RejectsParamsThatAreNotAnObject) {
  for (const char* text : {"[1, 2]", "42", "\"theta\""}) {
    const std::string msg = params_error(text);
    EXPECT_TRUE(has(msg, "params.json")) << text << ": " << msg;
    EXPECT_TRUE(has(msg, "object")) << text << ": " << msg;
  }
}

// ----------------------------------------------------------------------------- make_workload

AttentionConfig default_config() { return parse_attention_config(json::object()); }

void expect_in_range(const IntMatrix& m, int bits, const char* what) {
  const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      ASSERT_TRUE(m(i, j) >= lo && m(i, j) <= hi)
          << what << "[" << i << "][" << j << "] = " << m(i, j) << " outside [" << lo << ", "
          << hi << "]";
}

// Fraction of (query, key) pairs with s_ij >= theta, from plain loops.
double kept_fraction(const AttentionWorkload& w) {
  int64_t kept = 0;
  for (Eigen::Index i = 0; i < w.q.rows(); ++i) {
    for (Eigen::Index j = 0; j < w.k.rows(); ++j) {
      int64_t s = 0;
      for (Eigen::Index t = 0; t < w.q.cols(); ++t) s += w.q(i, t) * w.k(j, t);
      if (s >= w.params.theta) ++kept;
    }
  }
  return static_cast<double>(kept) / static_cast<double>(w.q.rows() * w.k.rows());
}

TEST(WorkloadMake, SameSeedGivesTheSameWorkload) {
  const AttentionConfig c = default_config();
  for (const char* kind : {"gaussian", "peaky"}) {
    const AttentionWorkload a = make_workload(c, kind, 8, 20, 42);
    const AttentionWorkload b = make_workload(c, kind, 8, 20, 42);
    EXPECT_EQ(a.q, b.q) << kind;
    EXPECT_EQ(a.k, b.k) << kind;
    EXPECT_EQ(a.v, b.v) << kind;
    EXPECT_EQ(a.params.theta, b.params.theta) << kind;
    EXPECT_EQ(a.params.softmax_scale, b.params.softmax_scale) << kind;
    EXPECT_EQ(a.params.slot, b.params.slot) << kind;
  }
}

TEST(WorkloadMake, DifferentSeedsGiveDifferentWorkloads) {
  const AttentionConfig c = default_config();
  const AttentionWorkload a = make_workload(c, "gaussian", 8, 20, 1);
  const AttentionWorkload b = make_workload(c, "gaussian", 8, 20, 2);
  EXPECT_NE(a.q, b.q);
  EXPECT_NE(a.k, b.k);
  EXPECT_NE(a.v, b.v);
}

TEST(WorkloadMake, ShapesFollowConfigAndArguments) {
  const AttentionConfig c = parse_attention_config(json{{"d", 7}, {"dv", 3}, {"max_keys", 40}});
  for (const char* kind : {"gaussian", "peaky"}) {
    const AttentionWorkload w = make_workload(c, kind, 5, 40, 3);
    EXPECT_EQ(w.q.rows(), 5);
    EXPECT_EQ(w.q.cols(), 7);
    EXPECT_EQ(w.k.rows(), 40);
    EXPECT_EQ(w.k.cols(), 7);
    EXPECT_EQ(w.v.rows(), 40);
    EXPECT_EQ(w.v.cols(), 3);
    EXPECT_EQ(w.params.slot, 0);
  }
}

TEST(WorkloadMake, ValuesStayWithinTheConfiguredBitWidths) {
  const std::vector<json> configs = {
      json::object(),
      json{{"wq", 2}, {"wk", 2}, {"wv", 2}},
      json{{"wq", 3}, {"wk", 9}, {"wv", 16}},
      json{{"wq", 16}, {"wk", 3}, {"wv", 4}},
  };
  for (const json& j : configs) {
    const AttentionConfig c = parse_attention_config(j);
    for (const char* kind : {"gaussian", "peaky"}) {
      SCOPED_TRACE(j.dump() + " " + kind);
      const AttentionWorkload w = make_workload(c, kind, 32, 64, 7);
      expect_in_range(w.q, c.wq, "q");
      expect_in_range(w.k, c.wk, "k");
      expect_in_range(w.v, c.wv, "v");
    }
  }
}

TEST(WorkloadMake, GaussianThetaKeepsAboutAQuarterOfTheScores) {
  const AttentionConfig c = parse_attention_config(json{{"max_keys", 256}, {"lanes", 4}});
  for (uint64_t seed : {1u, 2u, 3u}) {
    const AttentionWorkload w = make_workload(c, "gaussian", 64, 256, seed);
    const double f = kept_fraction(w);
    EXPECT_GE(f, 0.2) << "seed " << seed;
    EXPECT_LE(f, 0.3) << "seed " << seed;
  }
}

TEST(WorkloadMake, PeakyThetaKeepsAboutATenthOfTheScores) {
  const AttentionConfig c = parse_attention_config(json{{"max_keys", 256}, {"lanes", 4}});
  const AttentionWorkload w = make_workload(c, "peaky", 64, 256, 5);
  const double f = kept_fraction(w);
  EXPECT_GE(f, 0.07);
  EXPECT_LE(f, 0.15);
}

TEST(WorkloadMake, GeneratedWorkloadPassesValidation) {
  const AttentionConfig c = default_config();
  for (const char* kind : {"gaussian", "peaky"}) {
    const AttentionWorkload w = make_workload(c, kind, 16, 64, 9);
    EXPECT_NO_THROW(validate_workload(w, c, "generated")) << kind;
  }
}

TEST(WorkloadMake, GeneratedWorkloadFitsEveryCheckedInConfig) {
  const fs::path dir = fs::path(ACCELGEN_SOURCE_DIR) / "configs";
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    if (config_kind(read_json_file(e.path().string(), "config")) != "attention") continue;  // N:M: tests/test_nm_rtl.cpp
    const AttentionConfig c = load_attention_config(e.path().string());
    for (const char* kind : {"gaussian", "peaky"}) {
      SCOPED_TRACE(e.path().string() + " " + kind);
      const AttentionWorkload w = make_workload(c, kind, 8, c.max_keys, 11);
      EXPECT_NO_THROW(validate_workload(w, c, "generated"));
    }
  }
}

TEST(WorkloadMake, GeneratedSoftmaxScaleStaysInTheSupportedRange) {
  // sigma = 8 / (score spread) for the narrowest and the widest score ranges.
  for (const json& j : {json{{"d", 1}, {"wq", 2}, {"wk", 2}, {"alpha_mant_bits", 13}},
                        json{{"d", 256}, {"wq", 16}, {"wk", 16}, {"lanes", 1}}}) {
    const AttentionConfig c = parse_attention_config(j);
    SCOPED_TRACE(j.dump());
    const AttentionWorkload w = make_workload(c, "gaussian", 8, 16, 1);
    EXPECT_GE(w.params.softmax_scale, kMinSoftmaxScale);
    EXPECT_LE(w.params.softmax_scale, kMaxSoftmaxScale);
    EXPECT_NO_THROW(validate_workload(w, c, "generated")) << "softmax_scale " << w.params.softmax_scale;
  }
}

TEST(WorkloadMake, RejectsUnknownKind) {
  const AttentionConfig c = default_config();
  for (const char* kind : {"uniform", "", "Gaussian"}) {
    const std::string msg = error_of([&] { make_workload(c, kind, 4, 4, 1); });
    EXPECT_TRUE(has(msg, "--kind")) << msg;
    EXPECT_TRUE(has(msg, "gaussian") && has(msg, "peaky")) << msg;
  }
}

TEST(WorkloadMake, RejectsBadQueryCount) {
  const AttentionConfig c = default_config();
  for (int lq : {0, -1}) {
    const std::string msg = error_of([&] { make_workload(c, "gaussian", lq, 4, 1); });
    EXPECT_TRUE(has(msg, "--lq")) << msg;
    EXPECT_TRUE(has(msg, ">= 1")) << msg;
  }
}

TEST(WorkloadMake, RejectsBadKeyCount) {
  const AttentionConfig c = default_config();  // max_keys = 64
  for (int lk : {0, -3, 65, 1000}) {
    const std::string msg = error_of([&] { make_workload(c, "gaussian", 4, lk, 1); });
    EXPECT_TRUE(has(msg, "--lk")) << msg;
    EXPECT_TRUE(has(msg, "64")) << msg;
  }
  EXPECT_NO_THROW(make_workload(c, "gaussian", 1, 64, 1));
  EXPECT_NO_THROW(make_workload(c, "peaky", 1, 1, 1));
}

// ----------------------------------------------------------------------------- write_workload

TEST(WorkloadWrite, RoundTripsThroughLoad) {
  TempDir t;
  const AttentionConfig c = default_config();
  for (const char* kind : {"gaussian", "peaky"}) {
    const AttentionWorkload w = make_workload(c, kind, 6, 33, 4);
    const fs::path dir = t.path() / kind;
    write_workload(w, dir.string());
    EXPECT_EQ(entries(dir), (std::set<std::string>{"params.json", "q.npy", "k.npy", "v.npy"}));
    const AttentionWorkload r = load_attention_workload(dir.string(), c);
    EXPECT_EQ(r.q, w.q);
    EXPECT_EQ(r.k, w.k);
    EXPECT_EQ(r.v, w.v);
    EXPECT_EQ(r.params.theta, w.params.theta);
    EXPECT_EQ(r.params.softmax_scale, w.params.softmax_scale);  // exact, not approximate
    EXPECT_EQ(r.params.slot, w.params.slot);
  }
  // Nothing but the two outputs next to them: no temporary directories left behind.
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"gaussian", "peaky"}));
}

TEST(WorkloadWrite, RoundTripsAHandWrittenWorkload) {
  TempDir t;
  AttentionWorkload w;
  w.q = good_q();
  w.k = good_k();
  w.v = good_v();
  w.params.theta = -4096;
  w.params.softmax_scale = 0.1;
  w.params.slot = 2;
  write_workload(w, (t.path() / "w").string());
  const AttentionWorkload r = load_attention_workload((t.path() / "w").string(), small_config());
  EXPECT_EQ(r.q, w.q);
  EXPECT_EQ(r.k, w.k);
  EXPECT_EQ(r.v, w.v);
  EXPECT_EQ(r.params.theta, -4096);
  EXPECT_EQ(r.params.softmax_scale, 0.1);
  EXPECT_EQ(r.params.slot, 2);
}

TEST(WorkloadWrite, CreatesMissingParentDirectories) {
  TempDir t;
  const fs::path dir = t.path() / "a" / "b" / "w";
  write_workload(make_workload(default_config(), "gaussian", 2, 3, 1), dir.string());
  EXPECT_TRUE(fs::exists(dir / "params.json"));
  EXPECT_EQ(entries(t.path() / "a" / "b"), (std::set<std::string>{"w"}));
}

TEST(WorkloadWrite, AcceptsTrailingSlashInTheDirectory) {
  TempDir t;
  const AttentionWorkload w = make_workload(default_config(), "gaussian", 2, 3, 1);
  const std::string dir = (t.path() / "w").string() + "/";
  ASSERT_NO_THROW(write_workload(w, dir));
  EXPECT_EQ(entries(t.path() / "w"), (std::set<std::string>{"params.json", "q.npy", "k.npy", "v.npy"}));
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"w"}));
}

TEST(WorkloadWrite, ReplacesAPreviousWorkload) {
  TempDir t;
  const fs::path dir = t.path() / "w";
  const AttentionConfig c = default_config();
  write_workload(make_workload(c, "gaussian", 2, 3, 1), dir.string());
  write_text(dir / "extra.txt", "from an older run");
  const AttentionWorkload w2 = make_workload(c, "peaky", 3, 4, 2);
  write_workload(w2, dir.string());
  const AttentionWorkload r = load_attention_workload(dir.string(), c);
  EXPECT_EQ(r.q, w2.q);
  EXPECT_EQ(r.k, w2.k);
  EXPECT_EQ(entries(dir), (std::set<std::string>{"params.json", "q.npy", "k.npy", "v.npy"}));
}

TEST(WorkloadWrite, WritesIntoAnExistingEmptyDirectory) {
  TempDir t;
  const fs::path dir = t.path() / "w";
  fs::create_directories(dir);
  write_workload(make_workload(default_config(), "gaussian", 2, 3, 1), dir.string());
  EXPECT_TRUE(fs::exists(dir / "q.npy"));
}

TEST(WorkloadWrite, RefusesANonWorkloadDirectoryAndLeavesItUntouched) {
  TempDir t;
  const fs::path dir = t.path() / "precious";
  fs::create_directories(dir / "sub");
  write_text(dir / "notes.txt", "do not delete me\n");
  write_text(dir / "sub" / "data.bin", std::string("\x00\x01\x02", 3));
  const AttentionWorkload w = make_workload(default_config(), "gaussian", 2, 3, 1);
  const std::string msg = error_of([&] { write_workload(w, dir.string()); });
  EXPECT_TRUE(has(msg, dir.string())) << msg;
  EXPECT_EQ(entries(dir), (std::set<std::string>{"notes.txt", "sub"}));
  EXPECT_EQ(read_bytes(dir / "notes.txt"), "do not delete me\n");
  EXPECT_EQ(read_bytes(dir / "sub" / "data.bin"), std::string("\x00\x01\x02", 3));
  EXPECT_EQ(entries(dir / "sub"), (std::set<std::string>{"data.bin"}));
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"precious"}));
}

TEST(WorkloadWrite, RefusesToReplaceAFile) {
  TempDir t;
  const fs::path file = t.path() / "w";
  write_text(file, "a file");
  const AttentionWorkload w = make_workload(default_config(), "gaussian", 2, 3, 1);
  const std::string msg = error_of([&] { write_workload(w, file.string()); });
  EXPECT_TRUE(has(msg, file.string())) << msg;
  EXPECT_EQ(read_bytes(file), "a file");
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"w"}));
}

}  // namespace
}  // namespace accelgen::core

// ------------------------------------------------------------------- causal mask and relative mode

namespace accelgen::core {
namespace {

AttentionConfig relative_config() {
  json j = to_json(small_config());
  j["threshold_modes"] = {"absolute", "relative"};
  return parse_attention_config(j);
}

std::string params_error_with(const std::string& params_text, const AttentionConfig& c) {
  TempDir t;
  Parts p;
  p.params = params_text;
  return load_error(make_dir(t.path() / "w", p), c);
}

TEST(WorkloadCausal, DefaultOffsetIsLkMinusLqAndVisibleKeysFollowIt) {
  TempDir t;
  Parts p;  // Lq = 2, Lk = 3: default offset 1, query 0 sees keys 0..1, query 1 sees 0..2
  p.params = R"({"theta": 10, "softmax_scale": 0.5, "causal": true})";
  const AttentionWorkload w = load_attention_workload(make_dir(t.path() / "w", p).string(), small_config());
  EXPECT_TRUE(w.params.causal);
  EXPECT_EQ(w.params.causal_offset, 1);
  EXPECT_EQ(visible_keys(w.params, 0, 3), 2);
  EXPECT_EQ(visible_keys(w.params, 1, 3), 3);
  AttentionParams decode;
  decode.causal = true;
  decode.causal_offset = 99;  // beyond the key set: everything visible
  EXPECT_EQ(visible_keys(decode, 0, 3), 3);
  EXPECT_EQ(visible_keys(AttentionParams{}, 5, 3), 3);  // not causal
}

TEST(WorkloadCausal, RejectsBadOffsetsNamingTheField) {
  for (const char* params : {R"({"theta": 1, "softmax_scale": 0.5, "causal": true, "causal_offset": -1})",
                             R"({"theta": 1, "softmax_scale": 0.5, "causal": true, "causal_offset": 1.5})",
                             R"({"theta": 1, "softmax_scale": 0.5, "causal_offset": 2})",
                             R"({"theta": 1, "softmax_scale": 0.5, "causal": "yes"})"}) {
    const std::string msg = params_error(params);
    EXPECT_TRUE(has(msg, "params.json: causal")) << params << ": " << msg;
  }
  // Lq > Lk with the default offset Lk - Lq < 0.
  TempDir t;
  Parts p;
  p.q = mat(4, 4, {1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4});
  p.params = R"({"theta": 1, "softmax_scale": 0.5, "causal": true})";
  const std::string msg = load_error(make_dir(t.path() / "w", p));
  EXPECT_TRUE(has(msg, "causal_offset")) << msg;
  EXPECT_TRUE(has(msg, "negative")) << msg;
}

TEST(WorkloadRelative, LoadsDeltaOnRelativeHardwareAndRoundTrips) {
  TempDir t;
  Parts p;
  p.params = R"({"threshold_mode": "relative", "delta": 4095, "softmax_scale": 0.5, "causal": true, "causal_offset": 0})";
  const AttentionWorkload w = load_attention_workload(make_dir(t.path() / "w", p).string(), relative_config());
  EXPECT_EQ(w.params.mode, ThresholdMode::relative);
  EXPECT_EQ(w.params.delta, 4095);
  write_workload(w, (t.path() / "again").string());
  const AttentionWorkload r = load_attention_workload((t.path() / "again").string(), relative_config());
  EXPECT_EQ(r.params.mode, ThresholdMode::relative);
  EXPECT_EQ(r.params.delta, 4095);
  EXPECT_TRUE(r.params.causal);
  EXPECT_EQ(r.params.causal_offset, 0);
}

TEST(WorkloadRelative, RejectsBadRelativeParamsNamingTheField) {
  struct Case { const char* params; const char* field; };
  const Case cases[] = {
      {R"({"threshold_mode": "relative", "delta": -1, "softmax_scale": 0.5})", "delta"},
      {R"({"threshold_mode": "relative", "delta": 4096, "softmax_scale": 0.5})", "delta"},  // TW = 13
      {R"({"threshold_mode": "relative", "softmax_scale": 0.5})", "delta"},
      {R"({"threshold_mode": "relative", "delta": 3, "theta": 1, "softmax_scale": 0.5})", "theta"},
      {R"({"threshold_mode": "max", "delta": 3, "softmax_scale": 0.5})", "threshold_mode"},
  };
  for (const Case& c : cases) {
    const std::string msg = params_error_with(c.params, relative_config());
    EXPECT_TRUE(has(msg, std::string("params.json: ") + c.field)) << c.params << ": " << msg;
  }
  // Relative mode on hardware built for absolute thresholds only.
  const std::string msg =
      params_error_with(R"({"threshold_mode": "relative", "delta": 3, "softmax_scale": 0.5})", small_config());
  EXPECT_TRUE(has(msg, "params.json: threshold_mode")) << msg;
  EXPECT_TRUE(has(msg, "threshold_modes")) << msg;
}

TEST(ConfigThresholdModes, AcceptsAbsoluteWithOptionalRelativeOnly) {
  json j = to_json(small_config());
  EXPECT_FALSE(small_config().relative_thresholds);
  EXPECT_TRUE(relative_config().relative_thresholds);
  j["threshold_modes"] = {"relative", "absolute"};
  EXPECT_TRUE(parse_attention_config(j).relative_thresholds);
  for (const json& bad : {json::array({"relative"}), json::array(), json("absolute"),
                          json::array({"absolute", "absolute"}), json::array({"absolute", "soft"})}) {
    j["threshold_modes"] = bad;
    const std::string msg = error_of([&] { parse_attention_config(j); });
    EXPECT_TRUE(has(msg, "config.threshold_modes")) << bad.dump() << ": " << msg;
  }
}

}  // namespace
}  // namespace accelgen::core
