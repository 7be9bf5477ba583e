// The generated RTL of the N:M array (issue 4) over configs/nm/*.json:
//  - Portability: `verilator --lint-only -Wall`, `iverilog -g2005`, the Yosys elaboration and latch
//    gate (flows/portability.ys), and no zero-width construct in any generated text.
//  - Ports: nm_top_ports against widths computed by hand, and the top's declaration against it.
//  - Simulation: random GEMMs (several seeds, R, K, C not multiples of rows, m, cols; random valid
//    gaps and back-pressure) and directed cases (most-negative operands everywhere, groups with
//    fewer than n nonzeros, all-zero weights, K = 1, reset mid-run) on the Verilated RTL in lock step
//    with the golden cycle model; Y against X * W; the simulator's report equals the model's.
//  - Sensitivity: a broken multiplexer is caught with a mismatch report and a waveform.
// Every failure prints the config, seed and the command line that reproduces it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_compress.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/npy.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/nm_generator.h"
#include "golden/nm_model.h"
#include "tb/nm_report.h"
#include "tb/nm_run.h"
#include "tb/report.h"
#include "tests/regression_cases.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
using core::IntMatrix;
using core::NmConfig;
using core::NmWorkload;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kBinary = ACCELGEN_BINARY_DIR;

fs::path config_path(const std::string& name) { return kSource / "configs/nm" / (name + ".json"); }

std::vector<std::string> nm_configs() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kSource / "configs/nm")) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// A fresh scratch directory per test, kept when the test fails so its inputs can be rerun.
fs::path scratch(const std::string& test) {
  const fs::path d = kBinary / "test-scratch" / "nm" / test;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// ------------------------------------------------------------------------------- portability

class NmPortability : public ::testing::TestWithParam<std::string> {};

TEST_P(NmPortability, LintIcarusAndYosysClean) {
  const NmConfig cfg = core::load_nm_config(config_path(GetParam()).string());
  for (const flows::CheckResult& r : flows::portability_checks(cfg, scratch("portability_" + GetParam()))) {
    EXPECT_TRUE(r.passed) << r.tool << " on " << GetParam() << ":\n" << r.log;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, NmPortability, ::testing::ValuesIn(nm_configs()), param_name);

// The emitter decides every width; an empty replication or part-select must never be printed.
// Covers the matrix and the extremes of the config ranges.
TEST(NmGenerator, EmitsNoZeroWidthConstruct) {
  std::vector<NmConfig> cfgs;
  for (const std::string& name : nm_configs()) cfgs.push_back(core::load_nm_config(config_path(name).string()));
  cfgs.push_back({"k1", 1, 1, 2, 2, 1, 1, 1, true});         // D = 1, T = 1, one multiplier
  cfgs.push_back({"big", 64, 64, 16, 16, 16, 16, 65536, false});  // AW = 48
  cfgs.push_back({"m16", 3, 2, 2, 16, 1, 16, 17, false});
  for (const NmConfig& c : cfgs) {
    for (const gen::GeneratedFile& f : gen::generate_nm(c).files) {
      for (const char* bad : {"{0{", "[-1:0]", "[0-1:0]", "+: 0]", "'d-", "${"}) {
        EXPECT_FALSE(test_support::has(f.content, bad)) << c.name << " " << f.name << " has " << bad;
      }
    }
  }
}

// --------------------------------------------------------------------------------------- ports

std::vector<std::pair<std::string, int>> names_widths(const std::vector<gen::Port>& ports) {
  std::vector<std::pair<std::string, int>> v;
  for (const gen::Port& p : ports) v.emplace_back(p.name, p.width);
  return v;
}

// The ports as the generated top declares them, widths resolved from its parameters.
std::vector<std::pair<std::string, int>> declared_ports(const std::string& text) {
  std::vector<std::pair<std::string, int>> v;
  for (const auto& p : test_support::declared_ports(text)) v.emplace_back(p.name, static_cast<int>(p.width));
  return v;
}

TEST(NmPorts, TopPortsHaveTheDocumentedWidths) {
  // n2m4: rows 2, cols 3, wx = ww = 8, 2:4, max_k 20. IW = 2, SW = 10, D = 5, T = 10,
  // AW = 8 + 8 - 1 + clog2(11) = 19. w: 3 * 2 * 10 = 60; x: 2 * 4 * 8 = 64; y: 3 * 19 = 57.
  const NmConfig sparse = core::load_nm_config(config_path("n2m4").string());
  const std::vector<std::pair<std::string, int>> expected = {
      {"clk_i", 1},     {"rst_ni", 1},    {"w_valid_i", 1}, {"w_ready_o", 1}, {"w_data_i", 60},
      {"w_last_i", 1},  {"x_valid_i", 1}, {"x_ready_o", 1}, {"x_data_i", 64}, {"x_last_i", 1},
      {"y_valid_o", 1}, {"y_ready_i", 1}, {"y_data_o", 57}, {"y_last_o", 1}};
  EXPECT_EQ(names_widths(gen::nm_top_ports(sparse)), expected);
  const gen::Outputs o = gen::generate_nm(sparse);
  for (const gen::GeneratedFile& f : o.files) {
    if (f.name == "n2m4_nm_top.v") {
      EXPECT_EQ(declared_ports(f.content), expected) << f.content;
    }
    if (f.name == "manifest.json") {
      const nlohmann::json m = nlohmann::json::parse(f.content);
      EXPECT_EQ(m["top"], "n2m4_nm_top");
      EXPECT_EQ(m["ports"][4]["name"], "w_data_i");
      EXPECT_EQ(m["ports"][4]["width"], 60);
      EXPECT_EQ(m["config_hash"], core::config_hash(sparse));
    }
  }
  // Its dense baseline: no index, KB = n = 2, D = 10, T = 20, AW = 15 + clog2(21) = 20.
  // w: 3 * 2 * 8 = 48; x: 2 * 2 * 8 = 32; y: 3 * 20 = 60.
  const NmConfig dense = core::load_nm_config(config_path("n2m4_dense").string());
  const auto d = names_widths(gen::nm_top_ports(dense));
  EXPECT_EQ(d[4], std::make_pair(std::string("w_data_i"), 48));
  EXPECT_EQ(d[8], std::make_pair(std::string("x_data_i"), 32));
  EXPECT_EQ(d[12], std::make_pair(std::string("y_data_o"), 60));
}

TEST(NmGenerator, SameConfigSameBytesAndFileSet) {
  const NmConfig c = core::load_nm_config(config_path("n1m2").string());
  const gen::Outputs a = gen::generate_nm(c), b = gen::generate_nm(c);
  ASSERT_EQ(a.files.size(), b.files.size());
  for (size_t i = 0; i < a.files.size(); ++i) EXPECT_EQ(a.files[i].content, b.files[i].content);
  EXPECT_EQ(a.rtl_files, (std::vector<std::string>{"n1m2_store_count.v", "n1m2_mem_weight.v", "n1m2_nm_wstore.v",
                                                    "n1m2_nm_pe.v", "n1m2_nm_array.v", "n1m2_nm_top.v"}));
  EXPECT_EQ(a.params_header, "n1m2_params.h");
  // The weight store: D = ceil(max_k / m) = ceil(7 / 2) = 4 beats of cols * n * (ww + clog2(m)) =
  // 2 * 1 * (4 + 1) = 10 bits (docs/nm_array.md), one memory.
  for (const auto& f : a.files) {
    if (f.name != "manifest.json") continue;
    EXPECT_EQ(nlohmann::json::parse(f.content).at("memories"),
              nlohmann::json::parse(R"([{"module": "n1m2_mem_weight", "role": "weight", "depth": 4, "width": 10,
                                        "bits": 40, "instances": 1}])"));
  }
}

// ----------------------------------------------------------------------------------- workloads

TEST(NmWorkload, WriteThenLoadRoundTrips) {
  const NmConfig cfg = core::load_nm_config(config_path("n2m4").string());
  const test_support::TempDir dir;
  const NmWorkload w = core::make_nm_workload(cfg, 3, 17, 5, 9);
  core::write_nm_workload(w, (dir.path() / "w").string());
  const NmWorkload back = core::load_nm_workload((dir.path() / "w").string(), cfg);
  EXPECT_EQ(back.x, w.x);
  EXPECT_EQ(back.w, w.w);
  EXPECT_NO_THROW(core::compress(w.w, cfg.n, cfg.m, core::Prune::kNone)) << "seed 9 is not 2:4 sparse";
}

TEST(NmWorkload, ValidationNamesTheFileAndTheRange) {
  const NmConfig cfg = core::load_nm_config(config_path("n2m4").string());  // 2:4, 8 bits, max_k 20
  const NmWorkload ok = core::make_nm_workload(cfg, 2, 8, 3, 1);
  auto error = [&](NmWorkload w) {
    return test_support::error_of([&] { core::validate_nm_workload(w, cfg, "d"); });
  };
  NmWorkload dense_w = ok;
  dense_w.w.setZero();
  dense_w.w.block(4, 1, 3, 1).setOnes();  // group 1, column 1: 3 nonzeros
  EXPECT_TRUE(test_support::has(error(dense_w), "d/w.npy: group 1, column 1 has 3 nonzeros"))
      << error(dense_w);
  NmWorkload wide = ok;
  wide.x(1, 2) = 128;
  EXPECT_TRUE(test_support::has(error(wide), "d/x.npy")) << error(wide);
  const NmWorkload long_k = core::make_nm_workload({"nm", 2, 3, 8, 8, 2, 4, 64, false}, 1, 21, 1, 2);
  EXPECT_TRUE(test_support::has(error(long_k), "max_k")) << error(long_k);
  NmWorkload bad_shape = ok;
  bad_shape.w = IntMatrix::Zero(7, 3);
  EXPECT_TRUE(test_support::has(error(bad_shape), "d/w.npy")) << error(bad_shape);
  // The dense baseline takes any W.
  NmConfig dense = cfg;
  dense.dense_baseline = true;
  EXPECT_NO_THROW(core::validate_nm_workload(dense_w, dense, "d"));
  EXPECT_TRUE(test_support::has(
      test_support::error_of([&] { core::make_nm_workload(cfg, 1, 21, 1, 1); }), "max_k"));
}

// ---------------------------------------------------------------------------------- simulation

class NmSimulation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cfg_file_ = config_path(GetParam());
    cfg_ = core::load_nm_config(cfg_file_.string());
    simv_ = flows::ensure_simulator(cfg_, flows::default_cache_dir()).exe;
  }
  // Each case on the Verilated RTL: no mismatch on any cycle, the report equal to the model's, Y
  // equal to X * W (tests/regression_cases.h).
  void run_cases(const std::vector<regression::NmCase>& cases, const fs::path& dir) const {
    for (const regression::NmCase& c : cases) {
      SCOPED_TRACE(fmt::format("config {} case {} seed {}", GetParam(), c.label, c.stim.seed));
      const std::string failure = regression::run_prepared(regression::prepare(cfg_, cfg_file_, dir, c), simv_);
      EXPECT_TRUE(failure.empty()) << failure;
    }
  }

  fs::path cfg_file_;
  NmConfig cfg_;
  fs::path simv_;
};

// Random GEMMs with partial row and column tiles, K not a multiple of m, gaps and back-pressure.
TEST_P(NmSimulation, RandomGemmsMatchModelEveryCycle) {
  run_cases(regression::nm_random_cases(cfg_), scratch("random_" + GetParam()));
}

// Most negative operands over the full K, one nonzero per group, all-zero weights, K = 1, reset
// mid-run.
TEST_P(NmSimulation, DirectedCases) {
  run_cases(regression::nm_directed_cases(cfg_), scratch("directed_" + GetParam()));
}

// X-state (issue 14): the regression's simulator from all-zero power-up state and from three
// random ones, same GEMM and stimulus (partial tiles, gaps, back-pressure, a reset in the middle):
// byte-identical reports, so no result or cycle depends on a register's power-up value.
TEST_P(NmSimulation, XStateSweepGivesTheZeroStateReport) {
  const fs::path dir = scratch("xstate_" + GetParam());
  const NmWorkload w = core::make_nm_workload(cfg_, cfg_.rows + 1, regression::odd_k(cfg_, 1), cfg_.cols + 1, 31);
  core::write_nm_workload(w, (dir / "w").string());
  tb::StimulusOptions stim{31, 0.7, 0.5, -1};
  const tb::NmRun probe = tb::run_nm(cfg_, w, stim, nullptr);
  ASSERT_TRUE(probe.ok()) << probe.functional_error;
  stim.reset_at = probe.cycles_simulated / 2;
  const std::vector<std::string> argv = {
      simv_.string(), "--config", cfg_file_.string(), "--workload", (dir / "w").string(), "--fst",
      (dir / "fail.fst").string(), "--seed", std::to_string(stim.seed), "--valid-prob",
      fmt::format("{}", stim.valid_prob), "--ready-prob", fmt::format("{}", stim.ready_prob),
      "--reset-at", std::to_string(stim.reset_at)};
  EXPECT_EQ(test_support::xstate_sweep(argv, dir, GetParam()), "");
}

INSTANTIATE_TEST_SUITE_P(Configs, NmSimulation, ::testing::ValuesIn(nm_configs()), param_name);

// --------------------------------------------------------------------------------- sensitivity

// The testbench must be able to fail: a multiplexer that reads element 2 for index 3 is caught at
// the first differing pin, with cycle, signal, expected and actual values, seed and a waveform.
TEST(NmSensitivity, BrokenMultiplexerIsCaughtWithMismatchReportAndWaveform) {
  const fs::path cfg_file = config_path("n2m4");
  const NmConfig cfg = core::load_nm_config(cfg_file.string());
  gen::Outputs o = gen::generate_nm(cfg);
  const std::string good = "x_row_i[index*XWidth +: XWidth]";
  const std::string bad = "x_row_i[(index == 2'd3 ? 2'd2 : index)*XWidth +: XWidth]";
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_nm_pe.v", good, bad))
      << "the PE no longer has the line this test mutates; update the test";
  const fs::path simv =
      flows::ensure_simulator(o, cfg.name + "_mutant", flows::default_cache_dir(), flows::SimKind::kNm).exe;
  const fs::path dir = scratch("sensitivity");
  core::write_nm_workload(core::make_nm_workload(cfg, 5, 19, 4, 5), (dir / "w").string());
  const fs::path fst = dir / "fail.fst";
  const std::vector<std::string> argv = {simv.string(), "--config", cfg_file.string(), "--workload",
                                         (dir / "w").string(), "--fst", fst.string(), "--seed", "3"};
  const flows::ProcessResult r = flows::run_process(argv, "", dir / "log", 600);
  const std::string log = test_support::read_bytes(dir / "log");
  EXPECT_EQ(r.exit_code, 1) << log;
  EXPECT_TRUE(test_support::has(log, "MISMATCH at cycle")) << log;
  EXPECT_TRUE(test_support::has(log, "y_data_o[")) << log;
  EXPECT_TRUE(test_support::has(log, "--seed 3")) << log;
  EXPECT_TRUE(fs::exists(fst) && fs::file_size(fst) > 0) << "no waveform at " << fst;
}

}  // namespace
}  // namespace accelgen
