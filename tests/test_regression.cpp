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

struct SimCase {
  std::string label;
  core::AttentionWorkload workload;
  tb::StimulusOptions stim;
  // Hand-derived expectation on the output tensor O (Lq x dv, units of 2^-out_frac_bits), if any.
  std::function<void(const core::IntMatrix& o)> check_output = {};
};

// Runs one case on the Verilated simulator; checks pass/fail and that its report equals the model's.
void run_case(const core::AttentionConfig& cfg, const fs::path& cfg_file, const fs::path& simv,
              const fs::path& dir, const SimCase& c) {
  const fs::path wdir = dir / c.label;
  core::write_workload(c.workload, wdir.string());
  const fs::path report = dir / (c.label + ".json");
  const fs::path log = dir / (c.label + ".log");
  const std::vector<std::string> argv = {
      simv.string(), "--config", cfg_file.string(), "--workload", wdir.string(), "--report",
      report.string(), "--fst", (dir / (c.label + ".fst")).string(), "--seed",
      std::to_string(c.stim.seed), "--valid-prob", fmt::format("{}", c.stim.valid_prob),
      "--ready-prob", fmt::format("{}", c.stim.ready_prob), "--reset-at",
      std::to_string(c.stim.reset_at), "--out-tensor", (dir / (c.label + "_o.npy")).string()};
  const std::string repro = fmt::format(
      "reproduce: accelgen sim --config {} --workload {} --seed {} --valid-prob {} --ready-prob {} "
      "--reset-at {}",
      cfg_file.string(), wdir.string(), c.stim.seed, c.stim.valid_prob, c.stim.ready_prob,
      c.stim.reset_at);
  const flows::ProcessResult r = flows::run_process(argv, "", log, 600);
  ASSERT_EQ(r.exit_code, 0) << c.label << " failed:\n" << read_file(log) << repro;

  const tb::RunResult model = tb::run_attention(cfg, c.workload, c.stim, nullptr);
  ASSERT_TRUE(model.ok()) << c.label << ": " << model.functional_error;
  const nlohmann::json expected = tb::report_numbers(
      tb::make_report(cfg, c.workload, model, {"golden-cycle-model", "", wdir.string(), c.stim}));
  const nlohmann::json got = tb::report_numbers(nlohmann::json::parse(read_file(report)));
  EXPECT_EQ(got, expected) << c.label << ": Verilator report differs from the model's\n" << repro;
  const core::IntMatrix o = core::read_npy((dir / (c.label + "_o.npy")).string());
  ASSERT_EQ(o.rows(), c.workload.q.rows()) << c.label;
  ASSERT_EQ(o.cols(), c.workload.v.cols()) << c.label;
  if (c.check_output) {
    SCOPED_TRACE(repro);
    c.check_output(o);
  }
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

// Workload whose queries are all e_0 (element 0 = 1, the rest 0), so that s_ij = K[j][0]: the
// scores are chosen key by key. Key 0 gets the largest value wk allows, every other key at most
// `gap` below it.
core::AttentionWorkload chosen_scores(const core::AttentionWorkload& base, int wk, int gap) {
  core::AttentionWorkload w = base;
  w.q.setZero();
  w.q.col(0).setOnes();
  w.k.setZero();
  const int64_t top = core::signed_max(wk);
  for (Eigen::Index j = 0; j < w.k.rows(); ++j) {
    // Spread the others over [signed_min, top - gap], deterministically.
    const int64_t span = top - gap - core::signed_min(wk) + 1;
    w.k(j, 0) = j == 0 ? top : core::signed_min(wk) + (j * 7) % span;
  }
  return w;
}

class Simulation : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cfg_file_ = config_path(GetParam());
    cfg_ = core::load_attention_config(cfg_file_.string());
    simv_ = flows::ensure_simulator(cfg_, cache_dir()).exe;
  }
  // Directed causal-mask and relative-threshold cases (issue 10).
  void add_decoder_cases(std::vector<SimCase>& cases, const core::AttentionWorkload& base,
                         const tb::StimulusOptions& plain, const tb::StimulusOptions& rough) const;
  // Directed cases of the softmax/xV back-end (issue 3), each with an output derived by hand.
  void add_softmax_cases(std::vector<SimCase>& cases, const core::AttentionWorkload& base,
                         const tb::StimulusOptions& plain, const tb::StimulusOptions& rough) const;

  fs::path cfg_file_;
  core::AttentionConfig cfg_;
  fs::path simv_;
};

void Simulation::add_softmax_cases(std::vector<SimCase>& cases, const core::AttentionWorkload& base,
                                   const tb::StimulusOptions& plain, const tb::StimulusOptions& rough) const {
  const int fo = cfg_.out_frac_bits;
  const int64_t one = int64_t{1} << fo;
  // Row i of O must be V[j] * 2^F_o exactly.
  auto equals_v_row = [one](const core::IntMatrix& v, Eigen::Index j) {
    return [v, j, one](const core::IntMatrix& o) {
      for (Eigen::Index i = 0; i < o.rows(); ++i) {
        EXPECT_EQ(o.row(i), (v.row(j) * one).eval()) << "query " << i;
      }
    };
  };
  const int64_t top = core::signed_max(cfg_.wk);
  if (!cfg_.dense_baseline) {
    // One kept key: only key 0 reaches theta = its score; O = V[0] exactly (p = 1).
    core::AttentionWorkload w = chosen_scores(base, cfg_.wk, 1);
    w.params.theta = top;
    cases.push_back({"one_kept_key", w, rough, equals_v_row(w.v, 0)});
  }
  {
    // Every score 0 and every key kept: p = 1/n, O = round(mean V * 2^F_o), ties away from zero.
    core::AttentionWorkload w = base;
    w.q.setZero();
    w.params.theta = 0;
    cases.push_back({"equal_scores_plain_average", w, plain, [w, fo](const core::IntMatrix& o) {
                       const int64_t n = w.v.rows();
                       for (Eigen::Index c = 0; c < w.v.cols(); ++c) {
                         const int64_t sum = w.v.col(c).sum();
                         const int64_t mag = (2 * std::abs(sum) * (int64_t{1} << fo) + n) / (2 * n);
                         const int64_t expected = sum < 0 ? -mag : mag;
                         for (Eigen::Index i = 0; i < o.rows(); ++i) EXPECT_EQ(o(i, c), expected) << i << "," << c;
                       }
                     }});
  }
  {
    // One dominant key: every other score at least 2 below, the largest supported scale sigma = 1e3
    // (alpha = 1442.7), so alpha * (m - s) > 2885 > E for the others: x saturates, their exponentials
    // are exactly 0 and O = V[0].
    core::AttentionWorkload w = chosen_scores(base, cfg_.wk, 2);
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    w.params.softmax_scale = core::kMaxSoftmaxScale;
    EXPECT_GT(2.0 * 1e3 * std::log2(std::exp(1.0)), core::widths(cfg_).ef);
    cases.push_back({"dominant_key", w, rough, equals_v_row(w.v, 0)});
  }
  // Real models' softmax scales (scores in integer units of quantized Q*K): the register's mantissa
  // and shift over the supported range, every key kept; checked against the cycle model every cycle
  // and against the functional model row by row.
  for (const double sigma : {1e-9, 4.6e-7, 5.9e-4, 0.37, 1e3}) {
    core::AttentionWorkload w = base;
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    w.params.softmax_scale = sigma;
    cases.push_back({fmt::format("scale_{:g}", sigma), w, sigma < 1e-3 ? plain : rough});
  }
  {
    // Largest positive V everywhere, all kept: O = (2^(wv-1) - 1) * 2^F_o exactly.
    core::AttentionWorkload w = base;
    w.v.setConstant(core::signed_max(cfg_.wv));
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    cases.push_back({"max_positive_v", w, plain, [this, one](const core::IntMatrix& o) {
                       EXPECT_TRUE((o.array() == core::signed_max(cfg_.wv) * one).all()) << o;
                     }});
  }
}

void Simulation::add_decoder_cases(std::vector<SimCase>& cases, const core::AttentionWorkload& base,
                                   const tb::StimulusOptions& plain, const tb::StimulusOptions& rough) const {
  using test_support::causal;
  const int64_t lk = base.k.rows();
  // KV-cache decode: one query that sees every key.
  core::AttentionWorkload decode = base;
  decode.q = base.q.topRows(1);
  cases.push_back({"decode_step", causal(decode, lk - 1), plain});
  // Prefill where query 0 sees only key 0; an offset beyond the key set masks nothing.
  core::AttentionWorkload square = core::make_workload(cfg_, "gaussian", static_cast<int>(lk), static_cast<int>(lk), 80);
  cases.push_back({"prefill_one_visible_key", causal(square, 0), rough});
  cases.push_back({"offset_beyond_keys", causal(base, lk + 5), plain});
  if (!cfg_.relative_thresholds || cfg_.dense_baseline) return;

  auto rel = [](core::AttentionWorkload w, int64_t delta) {
    w.params.mode = core::ThresholdMode::relative;
    w.params.delta = delta;
    return w;
  };
  const int64_t top = core::signed_max(cfg_.wk);
  const int64_t one = int64_t{1} << cfg_.out_frac_bits;
  // Only the maximum key survives delta = 0 when every other score is below it: O = V[max key].
  const core::AttentionWorkload first = chosen_scores(base, cfg_.wk, 1);
  cases.push_back({"max_first_delta0", rel(first, 0), rough, [first, one](const core::IntMatrix& o) {
                     for (Eigen::Index i = 0; i < o.rows(); ++i) EXPECT_EQ(o.row(i), (first.v.row(0) * one).eval());
                   }});
  core::AttentionWorkload last = first;  // the maximum at the last key instead
  last.k.row(0).swap(last.k.row(lk - 1));
  cases.push_back({"max_last_delta0", rel(last, 0), plain, [last, one, lk](const core::IntMatrix& o) {
                     for (Eigen::Index i = 0; i < o.rows(); ++i) {
                       EXPECT_EQ(o.row(i), (last.v.row(lk - 1) * one).eval());
                     }
                   }});
  // Every key equal: all kept at delta 0 (ties), O = mean V as in equal_scores_plain_average.
  core::AttentionWorkload equal = base;
  equal.q.setZero();
  cases.push_back({"every_key_equal_delta0", rel(equal, 0), rough});
  // delta at the top of the register: nothing is dropped.
  cases.push_back({"delta_huge", rel(base, core::signed_max(core::widths(cfg_).tw)), plain});
  // All scores negative (Q at its most negative, K positive).
  core::AttentionWorkload neg = base;
  neg.q.setConstant(core::signed_min(cfg_.wq));
  neg.k = neg.k.cwiseAbs().cwiseMax(int64_t{1}).cwiseMin(top);
  cases.push_back({"all_negative_scores", rel(neg, 3), rough});
  // One visible key per first query, relative: that key is the maximum and is kept.
  cases.push_back({"relative_one_visible_key", rel(causal(square, 0), 0), plain});
}

// Several seeds with random valid gaps, back-pressure and both workload kinds.
TEST_P(Simulation, RandomWorkloadsMatchModelEveryCycle) {
  const fs::path dir = scratch("random_" + GetParam());
  struct Run { uint64_t seed; const char* kind; double valid, ready; };
  const Run runs[] = {{1, "gaussian", 1.0, 1.0}, {2, "peaky", 1.0, 1.0}, {3, "gaussian", 0.6, 0.4},
                      {4, "peaky", 0.3, 0.8}, {5, "gaussian", 0.9, 0.15}};
  for (const Run& run : runs) {
    // Odd key counts on purpose: rarely a multiple of the lane count.
    const int lk = std::max(1, cfg_.max_keys - static_cast<int>(run.seed * 3) % cfg_.max_keys);
    SimCase c{fmt::format("seed{}_{}", run.seed, run.kind),
              core::make_workload(cfg_, run.kind, 9, lk, run.seed),
              {run.seed, run.valid, run.ready, -1}};
    SCOPED_TRACE(fmt::format("config {} seed {} kind {} lk {}", GetParam(), run.seed, run.kind, lk));
    run_case(cfg_, cfg_file_, simv_, dir, c);
  }
  // Decoder heads: causal prefill (Lq = Lk, offset 0) and, on relative-threshold hardware, relative
  // thresholds with and without the causal mask, under gaps and back-pressure.
  const int lk = std::min(cfg_.max_keys, 2 * cfg_.lanes + 3);
  const core::AttentionWorkload prefill = test_support::causal(core::make_workload(cfg_, "peaky", lk, lk, 6), 0);
  std::vector<SimCase> decoder = {{"causal_prefill", prefill, {6, 0.8, 0.6, -1}}};
  if (cfg_.relative_thresholds && !cfg_.dense_baseline) {
    decoder.push_back({"causal_relative", test_support::relative(prefill, 0.3), {7, 1.0, 1.0, -1}});
    decoder.push_back({"causal_relative_gaps", test_support::relative(prefill, 0.6), {8, 0.5, 0.3, -1}});
    decoder.push_back({"relative", test_support::relative(core::make_workload(cfg_, "gaussian", 7, lk, 9), 0.2),
                       {9, 0.7, 0.9, -1}});
  }
  for (const SimCase& c : decoder) {
    SCOPED_TRACE(fmt::format("config {} case {}", GetParam(), c.label));
    run_case(cfg_, cfg_file_, simv_, dir, c);
  }
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
  EXPECT_EQ(read_file(dir / "bad.log"),
            "error: +verilator+rand+reset+3: allowed are +verilator+rand+reset+N (N 0, 1 or 2) and "
            "+verilator+seed+N (N 1..2147483647; Verilator reads 0 as 'pick a seed')\n");
}

core::AttentionWorkload with_theta(core::AttentionWorkload w, int64_t theta) {
  w.params.theta = theta;
  return w;
}

TEST_P(Simulation, DirectedCases) {
  const fs::path dir = scratch("directed_" + GetParam());
  const core::AttentionWidths wd = core::widths(cfg_);
  const int lk_odd = std::min(cfg_.max_keys, cfg_.lanes + 1 + cfg_.lanes / 2);
  const core::AttentionWorkload base = core::make_workload(cfg_, "gaussian", 5, lk_odd, 77);
  const core::IntMatrix scores = base.q * base.k.transpose();

  std::vector<SimCase> cases;
  const tb::StimulusOptions plain{11, 1.0, 1.0, -1};
  const tb::StimulusOptions rough{12, 0.5, 0.5, -1};
  cases.push_back({"every_key_pruned", with_theta(base, core::signed_max(wd.tw)), plain});
  cases.push_back({"no_key_pruned", with_theta(base, core::signed_min(wd.tw)), rough});
  cases.push_back({"theta_at_min_score", with_theta(base, scores.minCoeff()), plain});
  cases.push_back({"theta_at_max_score", with_theta(base, scores.maxCoeff()), rough});
  cases.push_back({"theta_above_max_score", with_theta(base, scores.maxCoeff() + 1), plain});

  // Most negative values everywhere: the largest positive score, d * 2^(wq-1) * 2^(wk-1).
  core::AttentionWorkload neg = base;
  neg.q.setConstant(core::signed_min(cfg_.wq));
  neg.k.setConstant(core::signed_min(cfg_.wk));
  neg.v.setConstant(core::signed_min(cfg_.wv));
  const int64_t top = static_cast<int64_t>(cfg_.d) * core::signed_min(cfg_.wq) * core::signed_min(cfg_.wk);
  // Every score equal and kept: O = V * 2^F_o, exactly, at the most negative V (the largest quotient).
  cases.push_back({"most_negative_kept", with_theta(neg, top), rough, [&](const core::IntMatrix& o) {
                     EXPECT_TRUE((o.array() == core::signed_min(cfg_.wv) * (int64_t{1} << cfg_.out_frac_bits)).all())
                         << o;
                   }});
  cases.push_back({"most_negative_pruned", with_theta(neg, top + 1), plain});

  add_softmax_cases(cases, base, plain, rough);

  core::AttentionWorkload one = core::make_workload(cfg_, "peaky", 4, 1, 78);
  cases.push_back({"single_key", one, rough});
  add_decoder_cases(cases, base, plain, rough);
  cases.push_back({"full_key_store", core::make_workload(cfg_, "peaky", 3, cfg_.max_keys, 79), plain});

  // Reset in the middle of a query: half-way through the model's run of the same stimulus.
  const tb::StimulusOptions probe{13, 0.8, 0.7, -1};
  const tb::RunResult full = tb::run_attention(cfg_, base, probe, nullptr);
  ASSERT_TRUE(full.ok());
  cases.push_back({"reset_mid_query", base, {13, 0.8, 0.7, full.cycles_simulated / 2}});

  for (const SimCase& c : cases) {
    SCOPED_TRACE(fmt::format("config {} case {}", GetParam(), c.label));
    run_case(cfg_, cfg_file_, simv_, dir, c);
  }
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
