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
//   alpha 4 + 20 bits -> register [1, 2^24 - 1 = 16777215].
AttentionConfig small_config() {
  return parse_attention_config(json{{"name", "wl"},
                                     {"d", 4},
                                     {"dv", 3},
                                     {"wq", 4},
                                     {"wk", 5},
                                     {"wv", 3},
                                     {"lanes", 2},
                                     {"max_keys", 6},
                                     {"threshold_slots", 3},
                                     {"alpha_int_bits", 4},
                                     {"alpha_frac_bits", 20}});
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

TEST(WorkloadParams, QuantizesSoftmaxScaleByHand) {
  const AttentionConfig c = small_config();  // 20 fraction bits
  // sigma = ln 2: sigma * log2(e) = 1, so alpha = 2^20.
  EXPECT_EQ(quantize_alpha(std::log(2.0), c), uint64_t{1} << 20);
  // sigma = 3 ln 2 -> 3 * 2^20.
  EXPECT_EQ(quantize_alpha(3 * std::log(2.0), c), uint64_t{3} << 20);
  EXPECT_DOUBLE_EQ(alpha_value(uint64_t{1} << 20, c), 1.0);
  EXPECT_DOUBLE_EQ(alpha_value(uint64_t{3} << 19, c), 1.5);
  // 4 integer bits, no fraction: sigma = 5 ln 2 -> alpha = 5.
  const AttentionConfig i4 =
      parse_attention_config(json{{"alpha_int_bits", 4}, {"alpha_frac_bits", 0}});
  EXPECT_EQ(quantize_alpha(5 * std::log(2.0), i4), 5u);
  EXPECT_EQ(quantize_alpha(15 * std::log(2.0), i4), 15u);  // 2^4 - 1: the largest register value
}

TEST(WorkloadParams, AcceptsSoftmaxScaleInsideTheAlphaRegister) {
  // Register [1, 2^24 - 1] with 20 fraction bits: sigma in about [0.5 / (2^20 log2 e),
  // (2^24 - 1) / (2^20 log2 e)] = [3.3e-7, 11.09].
  for (double s : {1e-6, 0.5, 11.0}) {
    TempDir t;
    Parts p;
    p.params = json{{"theta", 0}, {"softmax_scale", s}}.dump();
    const fs::path dir = make_dir(t.path() / "w", p);
    EXPECT_NO_THROW(load_attention_workload(dir.string(), small_config())) << s;
  }
}

TEST(WorkloadParams, RejectsNonPositiveSoftmaxScale) {
  for (const char* s : {"0", "0.0", "-0.5", "-1"}) {
    const std::string msg =
        params_error(std::string(R"({"theta": 0, "softmax_scale": )") + s + "}");
    EXPECT_TRUE(has(msg, "params.json")) << s << ": " << msg;
    EXPECT_TRUE(has(msg, "softmax_scale")) << s << ": " << msg;
    EXPECT_TRUE(has(msg, "> 0")) << s << ": " << msg;
  }
}

TEST(WorkloadParams, RejectsSoftmaxScaleTooLargeForTheAlphaRegister) {
  // 12 * log2(e) * 2^20 = 18.15e6 > 2^24 - 1.
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 12})");
  EXPECT_TRUE(has(msg, "params.json")) << msg;
  EXPECT_TRUE(has(msg, "softmax_scale")) << msg;
  EXPECT_TRUE(has(msg, "[1, 16777215]")) << msg;
}

TEST(WorkloadParams, RejectsSoftmaxScaleThatQuantizesToZero) {
  // 1e-7 * log2(e) * 2^20 = 0.151, rounds to 0.
  const std::string msg = params_error(R"({"theta": 0, "softmax_scale": 1e-7})");
  EXPECT_TRUE(has(msg, "softmax_scale")) << msg;
  EXPECT_TRUE(has(msg, "[1, 16777215]")) << msg;
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
  EXPECT_TRUE(has(msg, "theta, softmax_scale, slot")) << msg;
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

TEST(WorkloadMake, GeneratedWorkloadFitsNarrowAlphaRegisters) {
  // The synthetic softmax scale must be representable in any legal alpha format. With
  // alpha_int_bits = 0, alpha_frac_bits = 4 the register holds 1/16 .. 15/16, i.e. sigma in
  // about [0.043, 0.65]; with 2 + 2 bits it holds 1/4 .. 15/4, sigma in about [0.17, 2.6].
  for (auto [ib, fb] : {std::pair{0, 4}, {2, 2}, {0, 1}, {1, 0}}) {
    for (const json& j : {json{{"alpha_int_bits", ib}, {"alpha_frac_bits", fb}},
                          json{{"alpha_int_bits", ib}, {"alpha_frac_bits", fb}, {"d", 1},
                               {"wq", 2}, {"wk", 2}}}) {
      const AttentionConfig c = parse_attention_config(j);
      SCOPED_TRACE(j.dump());
      const AttentionWorkload w = make_workload(c, "gaussian", 8, 16, 1);
      EXPECT_NO_THROW(validate_workload(w, c, "generated")) << "softmax_scale "
                                                            << w.params.softmax_scale;
    }
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
