// Regression over configs/regression/*.json:
//  - Portability: the generated RTL is clean under `verilator --lint-only -Wall`, compiles with
//    `iverilog -g2005` and passes the Yosys elaboration and latch gate (flows/portability.ys).
//  - Simulation: random workloads (several seeds, random valid gaps and back-pressure) and directed
//    cases run on the Verilated RTL against the golden cycle model, compared on every cycle, and
//    the results against the functional model; the Verilator report must equal the model's.
//  - Sensitivity: a deliberately broken RTL must be caught, with a mismatch report and a waveform.
// Every failure prints the command that reproduces it (config, workload, seed).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <functional>

#include "core/config.h"
#include "core/npy.h"
#include "core/workload.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "tb/report.h"
#include "tb/run.h"
#include "tests/regression_cases.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kBinary = ACCELGEN_BINARY_DIR;

fs::path cache_dir() { return flows::default_cache_dir(); }


fs::path config_path(const std::string& name) {
  return kSource / "configs/regression" / (name + ".json");
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A fresh scratch directory per test, kept when the test fails so its inputs can be rerun.
fs::path scratch(const std::string& test) {
  const fs::path d = kBinary / "test-scratch" / test;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

class Portability : public ::testing::TestWithParam<std::string> {};

TEST_P(Portability, LintIcarusAndYosysClean) {
  const core::AttentionConfig cfg = core::load_attention_config(config_path(GetParam()).string());
  for (const flows::CheckResult& r : flows::portability_checks(cfg, scratch("portability_" + GetParam()))) {
    EXPECT_TRUE(r.passed) << r.tool << " on " << GetParam() << ":\n" << r.log;
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

INSTANTIATE_TEST_SUITE_P(Configs, Portability,
                         ::testing::ValuesIn(test_support::regression_configs(kSource)),
                         param_name);

class Simulation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cfg_file_ = config_path(GetParam());
    cfg_ = core::load_attention_config(cfg_file_.string());
    simv_ = flows::ensure_simulator(cfg_, cache_dir()).exe;
  }
  // Each case on the Verilated RTL: no mismatch on any cycle, the report equal to the model's, the
  // output tensor's shape and hand-derived values (tests/regression_cases.h).
  void run_cases(const std::vector<regression::AttnCase>& cases, const fs::path& dir) const {
    for (const regression::AttnCase& c : cases) {
      SCOPED_TRACE(fmt::format("config {} case {}", GetParam(), c.label));
      const std::string failure = regression::run_prepared(regression::prepare(cfg_, cfg_file_, dir, c), simv_);
      EXPECT_TRUE(failure.empty()) << failure;
    }
  }

  fs::path cfg_file_;
  core::AttentionConfig cfg_;
  fs::path simv_;
};

// Several seeds with random valid gaps, back-pressure and both workload kinds; decoder heads:
// causal prefill and, on relative-threshold hardware, relative thresholds with and without the
// causal mask, under gaps and back-pressure.
TEST_P(Simulation, RandomWorkloadsMatchModelEveryCycle) {
  run_cases(regression::attention_random_cases(cfg_), scratch("random_" + GetParam()));
}

// X-state (issue 14): the same simulator, workload and stimulus (gaps, back-pressure, a reset in
// the middle of a query) from all-zero power-up state and from three random ones must give
// byte-identical reports: no result and no cycle depends on a register's power-up value. The
// simulator is the regression's own (the X-state options are run-time arguments): 4 runs of a
// few hundred cycles per config.
TEST_P(Simulation, XStateSweepGivesTheZeroStateReport) {
  const fs::path dir = scratch("xstate_" + GetParam());
  const int lk = std::min(cfg_.max_keys, 2 * cfg_.lanes + 1);
  const core::AttentionWorkload w = core::make_workload(cfg_, "gaussian", 4, lk, 31);
  const fs::path wdir = dir / "w";
  core::write_workload(w, wdir.string());
  tb::StimulusOptions stim{31, 0.7, 0.5, -1};
  const tb::RunResult probe = tb::run_attention(cfg_, w, stim, nullptr);
  ASSERT_TRUE(probe.ok()) << probe.functional_error;
  stim.reset_at = probe.cycles_simulated / 2;
  const std::vector<std::string> argv = {
      simv_.string(), "--config", cfg_file_.string(), "--workload", wdir.string(), "--fst",
      (dir / "fail.fst").string(), "--seed", std::to_string(stim.seed), "--valid-prob",
      fmt::format("{}", stim.valid_prob), "--ready-prob", fmt::format("{}", stim.ready_prob),
      "--reset-at", std::to_string(stim.reset_at)};
  EXPECT_EQ(test_support::xstate_sweep(argv, dir, GetParam()), "");
  // A bad X-state argument is bad input: status 2 and one line naming it.
  std::vector<std::string> bad = argv;
  bad.push_back("+verilator+rand+reset+3");
  const flows::ProcessResult r = flows::run_process(bad, "", dir / "bad.log", 60);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(test_support::read_bytes(dir / "bad.log"),
            "error: +verilator+rand+reset+3: allowed are +verilator+rand+reset+N (N 0, 1 or 2) and "
            "+verilator+seed+N (N 1..2147483647; Verilator reads 0 as 'pick a seed')\n");
}

// Every key pruned, none pruned, theta at the minimum and maximum score, most negative values
// everywhere, the back-end's hand-derived outputs, Lk = 1, decoder heads, a full key store, reset
// in the middle of a query.
TEST_P(Simulation, DirectedCases) {
  run_cases(regression::attention_directed_cases(cfg_), scratch("directed_" + GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Configs, Simulation,
                         ::testing::ValuesIn(test_support::regression_configs(kSource)),
                         param_name);

// The testbench must be able to fail: a lane that drops key 3 one step early is caught at the
// first output that differs, with the cycle, signal, expected and actual values and a waveform.
TEST(Sensitivity, BrokenLaneIsCaughtWithMismatchReportAndWaveform) {
  const fs::path cfg_file = config_path("r_d7");
  const core::AttentionConfig cfg = core::load_attention_config(cfg_file.string());
  gen::Outputs o = gen::generate(cfg);
  const std::string good = "  wire done = below | last;";
  const std::string bad = "  wire done = below | last | (act_q && key_q == 3 && bit_q == 1);";
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_bs_lane.v", good, bad)) << "the lane no longer has the line this test mutates; update the test";
  const fs::path simv = flows::ensure_simulator(o, cfg.name + "_mutant", cache_dir()).exe;
  const fs::path dir = scratch("sensitivity");
  core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 3, 20, 5);
  w.params.theta = core::signed_min(core::widths(cfg).tw);  // keep everything: key 3 is always reported
  core::write_workload(w, (dir / "w").string());
  const fs::path fst = dir / "fail.fst";
  const std::vector<std::string> argv = {simv.string(), "--config", cfg_file.string(), "--workload",
                                         (dir / "w").string(), "--fst", fst.string()};
  const flows::ProcessResult r = flows::run_process(argv, "", dir / "log", 600);
  const std::string log = read_file(dir / "log");
  EXPECT_EQ(r.exit_code, 1) << log;
  EXPECT_NE(log.find("MISMATCH at cycle"), std::string::npos) << log;
  EXPECT_NE(log.find("expected"), std::string::npos) << log;
  EXPECT_NE(log.find("seed 1"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(fst) && fs::file_size(fst) > 0) << "no waveform at " << fst;
}

// X-state: a control register that lost its reset must be caught. The Verilated models start every
// register from a random value (--x-initial unique, randReset(2), seeded by --seed), so a missing
// reset shows as a mismatch against the model for any seed whose random value is not the reset
// value; three seeds, each must fail.
TEST(Sensitivity, RegisterWithoutResetIsCaughtUnderRandomInitialState) {
  const fs::path cfg_file = config_path("r_d7");
  const core::AttentionConfig cfg = core::load_attention_config(cfg_file.string());
  gen::Outputs o = gen::generate(cfg);
  const std::string good = "    if (!rst_ni) begin\n      count_o <= ";
  const std::string bad = "    if (!rst_ni) begin\n      // reset removed: count_o <= ";
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_store_count.v", good, bad))
      << "the store counter no longer has the line this test mutates; update the test";
  const fs::path simv = flows::ensure_simulator(o, cfg.name + "_noreset", cache_dir()).exe;
  const fs::path dir = scratch("noreset");
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 3, 20, 5);
  core::write_workload(w, (dir / "w").string());
  for (const char* seed : {"1", "2", "3"}) {
    SCOPED_TRACE(std::string("seed ") + seed);
    const std::vector<std::string> argv = {simv.string(), "--config", cfg_file.string(), "--workload",
                                           (dir / "w").string(), "--seed", seed,
                                           "--fst", (dir / "fail.fst").string()};
    const flows::ProcessResult r = flows::run_process(argv, "", dir / "log", 600);
    const std::string log = read_file(dir / "log");
    EXPECT_EQ(r.exit_code, 1) << log;
    EXPECT_TRUE(log.find("MISMATCH") != std::string::npos || log.find("FUNCTIONAL") != std::string::npos)
        << log;
  }
}

}  // namespace
}  // namespace accelgen
