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
  EXPECT_EQ(a.rtl_files, (std::vector<std::string>{"n1m2_store_count.v", "n1m2_nm_wstore.v",
                                                    "n1m2_nm_pe.v", "n1m2_nm_array.v", "n1m2_nm_top.v"}));
  EXPECT_EQ(a.params_header, "n1m2_params.h");
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

struct SimCase {
  std::string label;
  NmWorkload workload;
  tb::StimulusOptions stim;
};

std::string read_file(const fs::path& p) { return test_support::read_bytes(p); }

// Runs one case on the Verilated simulator; checks it passes, that its report equals the
// model-only report and that y.npy is X * W.
void run_case(const NmConfig& cfg, const fs::path& cfg_file, const fs::path& simv, const fs::path& dir,
              const SimCase& c) {
  const fs::path wdir = dir / c.label;
  core::write_nm_workload(c.workload, wdir.string());
  const fs::path report = dir / (c.label + ".json"), y_file = dir / (c.label + "_y.npy");
  const std::vector<std::string> argv = {
      simv.string(), "--config", cfg_file.string(), "--workload", wdir.string(), "--report",
      report.string(), "--fst", (dir / (c.label + ".fst")).string(), "--seed",
      std::to_string(c.stim.seed), "--valid-prob", fmt::format("{}", c.stim.valid_prob),
      "--ready-prob", fmt::format("{}", c.stim.ready_prob), "--reset-at",
      std::to_string(c.stim.reset_at), "--out-tensor", y_file.string()};
  std::string repro = "reproduce:";
  for (const std::string& a : argv) repro += " " + a;
  const flows::ProcessResult r = flows::run_process(argv, "", dir / (c.label + ".log"), 600);
  ASSERT_EQ(r.exit_code, 0) << c.label << " failed:\n" << read_file(dir / (c.label + ".log")) << repro;

  const tb::NmRun model = tb::run_nm(cfg, c.workload, c.stim, nullptr);
  ASSERT_TRUE(model.ok()) << c.label << ": " << model.functional_error << "\n" << repro;
  const nlohmann::json expected = tb::report_numbers(
      tb::make_nm_report(cfg, c.workload, model, {"golden-cycle-model", "", wdir.string(), c.stim}));
  const nlohmann::json got = tb::report_numbers(nlohmann::json::parse(read_file(report)));
  EXPECT_EQ(got, expected) << c.label << ": Verilator report differs from the model's\n" << repro;
  EXPECT_EQ(core::read_npy(y_file.string()), golden::nm_reference(c.workload.x, c.workload.w))
      << c.label << "\n" << repro;
}

class NmSimulation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cfg_file_ = config_path(GetParam());
    cfg_ = core::load_nm_config(cfg_file_.string());
    simv_ = flows::ensure_simulator(cfg_, flows::default_cache_dir()).exe;
  }
  void run(const fs::path& dir, const SimCase& c) const {
    SCOPED_TRACE(fmt::format("config {} case {} seed {}", GetParam(), c.label, c.stim.seed));
    run_case(cfg_, cfg_file_, simv_, dir, c);
  }
  // A K that is not a multiple of m (or of n for the baseline) whenever max_k allows one.
  int64_t odd_k(uint64_t seed) const {
    const int64_t k = cfg_.max_k - static_cast<int64_t>(seed % 3);
    return std::max<int64_t>(1, k % cfg_.m == 0 && k > 1 ? k - 1 : k);
  }

  fs::path cfg_file_;
  NmConfig cfg_;
  fs::path simv_;
};

TEST_P(NmSimulation, RandomGemmsMatchModelEveryCycle) {
  const fs::path dir = scratch("random_" + GetParam());
  struct Run { uint64_t seed; double valid, ready; };
  for (const Run& run_ : {Run{1, 1.0, 1.0}, Run{2, 0.6, 0.4}, Run{3, 0.3, 0.9}, Run{4, 0.9, 0.2}}) {
    // Partial row and column tiles: R and C one more than a multiple of rows and cols.
    const int64_t r = cfg_.rows * static_cast<int64_t>(1 + run_.seed % 2) + 1;
    const int64_t c = cfg_.cols * static_cast<int64_t>(1 + run_.seed % 3) + 1;
    run(dir, {fmt::format("seed{}", run_.seed), core::make_nm_workload(cfg_, r, odd_k(run_.seed), c, run_.seed),
              {run_.seed, run_.valid, run_.ready, -1}});
  }
}

// W with the most negative weight in every slot the pattern allows (every k for the baseline and
// M:M): with the most negative x everywhere, each accumulator reaches its largest value.
IntMatrix most_negative_w(const NmConfig& cfg, int64_t k, int64_t c) {
  IntMatrix w = IntMatrix::Zero(k, c);
  for (int64_t i = 0; i < k; ++i) {
    if (cfg.dense_baseline || i % cfg.m < cfg.n) w.row(i).setConstant(core::signed_min(cfg.ww));
  }
  return w;
}

TEST_P(NmSimulation, DirectedCases) {
  const fs::path dir = scratch("directed_" + GetParam());
  const tb::StimulusOptions plain{11, 1.0, 1.0, -1}, rough{12, 0.5, 0.5, -1};
  const int64_t r = cfg_.rows + 1, c = cfg_.cols + 1, k = odd_k(0);
  const NmWorkload base = core::make_nm_workload(cfg_, r, k, c, 77);

  NmWorkload extreme{IntMatrix::Constant(r, cfg_.max_k, core::signed_min(cfg_.wx)),
                     most_negative_w(cfg_, cfg_.max_k, c)};
  run(dir, {"most_negative_full_k", extreme, rough});

  // One nonzero per group, at the last position of the group: padding slots come first.
  NmWorkload sparse = base;
  sparse.w.setZero();
  for (int64_t i = cfg_.m - 1; i < k; i += cfg_.m) sparse.w.row(i).setConstant(core::signed_max(cfg_.ww));
  run(dir, {"one_nonzero_per_group", sparse, plain});

  NmWorkload zeros = base;
  zeros.w.setZero();
  run(dir, {"all_zero_weights", zeros, rough});

  run(dir, {"single_k", core::make_nm_workload(cfg_, 1, 1, 1, 78), plain});

  // Reset half-way through the model's run of the same stimulus.
  const tb::StimulusOptions probe{13, 0.8, 0.7, -1};
  const tb::NmRun full = tb::run_nm(cfg_, base, probe, nullptr);
  ASSERT_TRUE(full.ok()) << full.functional_error;
  run(dir, {"reset_mid_run", base, {13, 0.8, 0.7, full.cycles_simulated / 2}});
}

// X-state (issue 14): the regression's simulator from all-zero power-up state and from three
// random ones, same GEMM and stimulus (partial tiles, gaps, back-pressure, a reset in the middle):
// byte-identical reports, so no result or cycle depends on a register's power-up value.
TEST_P(NmSimulation, XStateSweepGivesTheZeroStateReport) {
  const fs::path dir = scratch("xstate_" + GetParam());
  const NmWorkload w = core::make_nm_workload(cfg_, cfg_.rows + 1, odd_k(1), cfg_.cols + 1, 31);
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
  const std::string log = read_file(dir / "log");
  EXPECT_EQ(r.exit_code, 1) << log;
  EXPECT_TRUE(test_support::has(log, "MISMATCH at cycle")) << log;
  EXPECT_TRUE(test_support::has(log, "y_data_o[")) << log;
  EXPECT_TRUE(test_support::has(log, "--seed 3")) << log;
  EXPECT_TRUE(fs::exists(fst) && fs::file_size(fst) > 0) << "no waveform at " << fst;
}

}  // namespace
}  // namespace accelgen
