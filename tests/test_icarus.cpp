// Second simulator (flows/icarus.*): the stimulus of a run of the attention unit `<name>_attn_top`,
// recorded with the golden cycle model's outputs (which the Verilator runs prove equal to the RTL on
// every cycle), is replayed by the testbench of flows/icarus_tb.v.in on Icarus Verilog against the
// same generated RTL and must give the same outputs on every cycle:
//  - IcarusCrossCheck: every regression config, four runs each: full rate; random valid gaps and
//    back-pressure with a reset in the middle of a query; every key kept under heavy back-pressure;
//    a causal prefill. Without the reset, the memories' reads and writes counted in the replay
//    must equal flows::attention_memory_traffic's (the energy model's);
//  - IcarusAndVerilator: one stimulus passes on both simulators (Verilator against the model, Icarus
//    against the recorded model outputs), so the two agree on every cycle of it;
//  - IcarusVectorFile: one field per port at its width, key rows where the ports put them; a short
//    or cut vector file fails;
//  - IcarusSensitivity: a wrong expected value and an RTL whose divider rounds down instead of to
//    nearest are both caught, with a MISMATCH line naming the cycle and the signal; registers
//    without reset are caught, an output valid without reset as an XSTATE line (X after reset);
//  - AssertionSensitivity: a score engine that drops a result beat under back-pressure fires its
//    handshake assertion on both simulators at the same cycle (docs/verification.md).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "core/config.h"
#include "core/workload.h"
#include "flows/activity.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "flows/icarus.h"
#include "tb/run.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kBinary = ACCELGEN_BINARY_DIR;

core::AttentionConfig load(const std::string& name) { return test_support::regression_config(kSource, name); }

fs::path scratch(const std::string& test) { return test_support::fresh_scratch(kBinary, "icarus", test); }

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> f;
  for (std::string x; in >> x;) f.push_back(x);
  return f;
}

size_t column(const tb::ReplayTop& top, const std::string& name) {
  for (size_t i = 0; i < top.ports.size(); ++i) {
    if (top.ports[i].name == name) return i;
  }
  ADD_FAILURE() << "no column " << name;
  return 0;
}

class IcarusCrossCheck : public ::testing::TestWithParam<std::string> {};

TEST_P(IcarusCrossCheck, IcarusMatchesEveryCycle) {
  const core::AttentionConfig cfg = load(GetParam());
  const fs::path dir = scratch(GetParam());
  // Odd key counts, rarely a multiple of the lanes; both workload kinds. At most 61 keys: Icarus
  // needs about 4 ms per cycle for r_d64, whose full key store the Verilator regression covers.
  const int lk = std::max(1, std::min(cfg.max_keys - 3, 61));
  struct Run {
    const char* label;
    const char* kind;
    int lq;
    tb::StimulusOptions stim;
    bool reset_mid;  // reset half-way through the run
    bool keep_all;   // theta at the minimum: every key kept, the output stream is the bottleneck
  };
  const Run runs[] = {
      {"full_rate", "peaky", 6, {21, 1.0, 1.0, -1}, false, false},
      {"gaps_backpressure_reset", "gaussian", 9, {22, 0.6, 0.5, -1}, true, false},
      {"keep_all_backpressure", "gaussian", 4, {23, 0.9, 0.3, -1}, false, true},
      {"causal_prefill", "peaky", 0, {24, 0.8, 0.7, -1}, false, false},
  };
  for (const Run& run : runs) {
    SCOPED_TRACE(fmt::format("config {} run {} kind {} seed {} lq {} lk {} valid {} ready {}", GetParam(),
                             run.label, run.kind, run.stim.seed, run.lq, lk, run.stim.valid_prob,
                             run.stim.ready_prob));
    // lq 0: a causal decoder prefill (Lq = Lk), relative thresholds where the hardware has them.
    // At most 16 x 16: Icarus is slow, the Verilator regression runs the larger prefills.
    const bool prefill = run.lq == 0;
    const int plk = std::min(lk, 16);
    core::AttentionWorkload w =
        core::make_workload(cfg, run.kind, prefill ? plk : run.lq, prefill ? plk : lk, run.stim.seed);
    if (run.keep_all) w.params.theta = core::signed_min(core::widths(cfg).tw);
    if (prefill) w = test_support::causal(w, 0);
    if (prefill && cfg.relative_thresholds && !cfg.dense_baseline) w = test_support::relative(w, 0.4);
    tb::StimulusOptions stim = run.stim;
    if (run.reset_mid) {
      // Reset half-way through the model's run of the same stimulus: in the middle of a query.
      const tb::RunResult probe = tb::run_attention(cfg, w, stim, nullptr);
      ASSERT_TRUE(probe.ok()) << probe.functional_error;
      stim.reset_at = probe.cycles_simulated / 2;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const tb::IcarusResult r = tb::icarus_crosscheck(cfg, w, stim, dir / run.label);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_TRUE(r.passed) << GetParam() << " " << run.label << ":\n" << r.log;
    EXPECT_GT(r.cycles_checked, 0);
    if (r.passed && !run.reset_mid) {
      // The memories' reads and writes counted in the RTL are the energy model's (docs/energy.md;
      // tests/test_memory_traffic.cpp derives them from the golden model on chosen workloads).
      // After a reset in the middle the formula does not apply: it counts complete queries.
      const tb::RunResult model = tb::run_attention(cfg, w, stim, nullptr);
      EXPECT_EQ(flows::describe(tb::rtl_memory_traffic(cfg, r)),
                flows::describe(flows::attention_memory_traffic(w, model)));
    }
    std::printf("[ icarus   ] %s %s: %lld cycles checked (lq %d, lk %d, reset-at %lld) in %.2f s\n",
                GetParam().c_str(), run.label, static_cast<long long>(r.cycles_checked), run.lq, lk,
                static_cast<long long>(stim.reset_at), s);
  }
}

std::string param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }


INSTANTIATE_TEST_SUITE_P(Configs, IcarusCrossCheck,
                         ::testing::ValuesIn(test_support::regression_configs(kSource)),
                         param_name);

// The same stimulus on both simulators: the Verilated RTL matches the golden model on every cycle of
// the run (exit 0 of the per-config simulator, which compares every output on every cycle) and so
// does Icarus on the recorded vectors of that run, so Icarus and Verilator agree cycle by cycle.
// Uses the Verilator simulator cache of the regression tests (built there if missing).
TEST(IcarusAndVerilator, SameStimulusPassesOnBothSimulators) {
  const char* env = std::getenv("ACCELGEN_CACHE");
  const fs::path cache = env != nullptr && *env != '\0' ? flows::default_cache_dir() : kBinary / "sim-cache";
  const std::string name = "r_d7";
  const fs::path cfg_file = kSource / "configs/regression" / (name + ".json");
  const core::AttentionConfig cfg = core::load_attention_config(cfg_file.string());
  const fs::path dir = scratch("verilator_agreement");
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 7, 33, 31);
  tb::StimulusOptions stim{31, 0.7, 0.6, -1};
  const tb::RunResult probe = tb::run_attention(cfg, w, stim, nullptr);
  ASSERT_TRUE(probe.ok()) << probe.functional_error;
  stim.reset_at = probe.cycles_simulated / 2;

  const fs::path simv = flows::ensure_simulator(cfg, cache).exe;
  core::write_workload(w, (dir / "w").string());
  const std::vector<std::string> argv = {
      simv.string(), "--config", cfg_file.string(), "--workload", (dir / "w").string(),
      "--report", (dir / "verilator.json").string(), "--fst", (dir / "verilator.fst").string(),
      "--seed", std::to_string(stim.seed), "--valid-prob", fmt::format("{}", stim.valid_prob),
      "--ready-prob", fmt::format("{}", stim.ready_prob), "--reset-at", std::to_string(stim.reset_at)};
  const flows::ProcessResult v = flows::run_process(argv, "", dir / "verilator.log", 600);
  std::ifstream vlog(dir / "verilator.log");
  std::ostringstream vtext;
  vtext << vlog.rdbuf();
  EXPECT_EQ(v.exit_code, 0) << vtext.str();

  const tb::IcarusResult r = tb::icarus_crosscheck(cfg, w, stim, dir / "icarus");
  EXPECT_TRUE(r.passed) << r.log;
  EXPECT_EQ(r.cycles_checked, tb::run_attention(cfg, w, stim, nullptr).cycles_simulated);
}

// The vector file and the testbench agree on columns: one field per port, every field as wide as
// its port (in hex digits), reset in the first cycles.
TEST(IcarusVectorFile, OneFieldPerPortAtPortWidth) {
  const core::AttentionConfig cfg = load("r_d7");
  const fs::path dir = scratch("vector_file");
  const tb::ReplayTop top = tb::unit_top_replay(cfg);
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 2, 9, 3);
  const tb::RecordedVectors rec = tb::record_unit_vectors(cfg, w, {3, 1.0, 1.0, -1}, dir / "v.txt");
  ASSERT_TRUE(rec.model.ok());
  const std::vector<std::string> lines = read_lines(dir / "v.txt");
  ASSERT_EQ(static_cast<int64_t>(lines.size()), rec.cycles);
  ASSERT_EQ(rec.cycles, rec.model.cycles_simulated);
  for (const std::string& l : lines) {
    const std::vector<std::string> f = split(l);
    ASSERT_EQ(f.size(), top.ports.size()) << l;
    for (size_t i = 0; i < f.size(); ++i) {
      EXPECT_EQ(static_cast<int>(f[i].size()), (top.ports[i].width + 3) / 4) << top.ports[i].name;
    }
  }
  EXPECT_EQ(split(lines[0])[column(top, "rst_ni")], "0");
  // Element t of a row at [t*wk +: wk]: the key data field of a key beat holds the workload's row.
  for (const std::string& l : lines) {
    const std::vector<std::string> f = split(l);
    if (f[column(top, "k_valid_i")] == "1" && f[column(top, "k_ready_o")] == "1") {
      tb::Bits b(cfg.d * cfg.wk);
      for (int t = 0; t < cfg.d; ++t) b.put(t * cfg.wk, cfg.wk, static_cast<uint64_t>(w.k(0, t)));
      EXPECT_EQ(f[column(top, "k_data_i")], b.hex());
      break;
    }
  }
}

// A vector file that ends early or has a cut line never passes: the testbench reports the bad line,
// and a file with fewer lines than recorded is caught by the cycle count.
TEST(IcarusVectorFile, ShortOrCutFileFails) {
  const core::AttentionConfig cfg = load("r_d1");
  const fs::path dir = scratch("short_file");
  const tb::ReplayTop top = tb::unit_top_replay(cfg);
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 2, 5, 6);
  const tb::RecordedVectors rec = tb::record_unit_vectors(cfg, w, {6, 1.0, 1.0, -1}, dir / "v.txt");
  ASSERT_TRUE(rec.model.ok());
  const std::vector<std::string> lines = read_lines(dir / "v.txt");
  ASSERT_GT(lines.size(), 2u);
  const std::vector<gen::GeneratedFile> rtl = tb::rtl_sources(gen::generate(cfg));
  {
    std::ofstream out(dir / "short.txt");
    for (size_t i = 0; i + 1 < lines.size(); ++i) out << lines[i] << '\n';
  }
  const tb::IcarusResult shorter =
      tb::run_icarus_replay(tb::replay_testbench(top), rtl, dir / "short.txt", rec.cycles, dir / "short");
  EXPECT_FALSE(shorter.passed) << shorter.log;
  EXPECT_EQ(shorter.cycles_checked, rec.cycles - 1);
  EXPECT_NE(shorter.log.find(fmt::format("{} cycles checked, {} recorded", rec.cycles - 1, rec.cycles)),
            std::string::npos)
      << shorter.log;

  {
    std::ofstream out(dir / "cut.txt");
    out << lines[0] << '\n' << lines[1].substr(0, lines[1].rfind(' ')) << '\n';
  }
  const tb::IcarusResult cut =
      tb::run_icarus_replay(tb::replay_testbench(top), rtl, dir / "cut.txt", 2, dir / "cut");
  EXPECT_FALSE(cut.passed) << cut.log;
  EXPECT_NE(cut.log.find(fmt::format("ERROR vector line 2: {} of {} fields read", top.ports.size() - 1,
                                     top.ports.size())),
            std::string::npos)
      << cut.log;
}

// A wrong expected value: the first output row's expected value has its low bit flipped.
TEST(IcarusSensitivity, WrongExpectedValueIsCaught) {
  const core::AttentionConfig cfg = load("r_d7");
  const fs::path dir = scratch("wrong_expected");
  const tb::ReplayTop top = tb::unit_top_replay(cfg);
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 3, 17, 9);
  const tb::RecordedVectors rec = tb::record_unit_vectors(cfg, w, {9, 0.8, 0.7, -1}, dir / "v.txt");
  ASSERT_TRUE(rec.model.ok());
  std::vector<std::string> lines = read_lines(dir / "v.txt");
  const size_t valid = column(top, "o_valid_o");
  const size_t score = column(top, "o_data_o");
  int64_t target = -1;
  for (size_t c = 0; c < lines.size() && target < 0; ++c) {
    std::vector<std::string> f = split(lines[c]);
    if (f[valid] == "1") {
      std::string& s = f[score];
      const int digit = std::stoi(s.substr(s.size() - 1), nullptr, 16) ^ 1;
      s.back() = "0123456789abcdef"[digit];
      std::string joined;
      for (const auto& x : f) joined += (joined.empty() ? "" : " ") + x;
      lines[c] = joined;
      target = static_cast<int64_t>(c);
    }
  }
  ASSERT_GE(target, 0) << "no output row in the run";
  {
    std::ofstream out(dir / "v.txt");
    for (const auto& l : lines) out << l << '\n';
  }
  const std::vector<gen::GeneratedFile> rtl = tb::rtl_sources(gen::generate(cfg));
  const tb::IcarusResult r =
      tb::run_icarus_replay(tb::replay_testbench(top), rtl, dir / "v.txt", rec.cycles, dir / "work");
  EXPECT_FALSE(r.passed) << r.log;
  ASSERT_TRUE(r.mismatch.has_value()) << r.log;
  EXPECT_EQ(r.mismatch->cycle, target);
  EXPECT_EQ(r.mismatch->signal, "o_data_o");
  EXPECT_NE(r.log.find(fmt::format("MISMATCH cycle {} signal o_data_o expected", target)), std::string::npos)
      << r.log;
  EXPECT_EQ(r.cycles_checked, target) << r.log;
  EXPECT_NE(r.log.find("icarus: " + std::to_string(target) + " cycles checked, 1 mismatches"),
            std::string::npos)
      << r.log;
}

// An RTL bug: the back-end's divider rounds down instead of to nearest (the + Z of the numerator
// 2|A| 2^F_o + Z is dropped). The first row whose rounding differs is an o_data_o mismatch.
TEST(IcarusSensitivity, DividerRoundingDownIsCaught) {
  const core::AttentionConfig cfg = load("r_d7");
  gen::Outputs o = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_softmax_v.v", "{1'b0}}, z_q};", "{1'b0}}, z_q} * 0;"))
      << "the divider no longer has the line this test mutates; update the test";
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 6, 20, 4);
  const tb::IcarusResult r = tb::icarus_crosscheck(o, cfg, w, {4, 1.0, 1.0, -1}, scratch("round_down"));
  EXPECT_FALSE(r.passed) << r.log;
  ASSERT_TRUE(r.mismatch.has_value()) << r.log;
  EXPECT_EQ(r.mismatch->signal, "o_data_o") << r.log;
  EXPECT_GT(r.mismatch->cycle, 0);
  EXPECT_NE(r.log.find(fmt::format("MISMATCH cycle {} signal o_data_o expected", r.mismatch->cycle)),
            std::string::npos)
      << r.log;
  EXPECT_NE(r.log.find("reproduce: cd "), std::string::npos) << r.log;

  // The same design unmutated passes on the same stimulus.
  const tb::IcarusResult ok = tb::icarus_crosscheck(cfg, w, {4, 1.0, 1.0, -1}, scratch("round_ok"));
  EXPECT_TRUE(ok.passed) << ok.log;
}

// X-state on the 4-state simulator: a register without reset stays X after reset on Icarus, so its
// X must reach an output the replay compares (a missing reset can never pass as a lucky zero).
TEST(IcarusSensitivity, RegisterWithoutResetIsCaught) {
  const core::AttentionConfig cfg = load("r_d7");
  gen::Outputs o = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_store_count.v",
                                        "    if (!rst_ni) begin\n      count_o <= ",
                                        "    if (!rst_ni) begin\n      // reset removed: count_o <= "))
      << "the store counter no longer has the line this test mutates; update the test";
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 6, 20, 4);
  const tb::IcarusResult r = tb::icarus_crosscheck(o, cfg, w, {4, 1.0, 1.0, -1}, scratch("noreset"));
  EXPECT_FALSE(r.passed) << r.log;
  ASSERT_TRUE(r.mismatch.has_value()) << "expected an output mismatch, not a tool failure:\n" << r.log;
}

// The explicit X check (docs/verification.md "X-state"): an output valid register without reset is
// X from the reset cycle on, and the replay names it as X (not just as a wrong value) at cycle 0.
TEST(IcarusSensitivity, OutputValidWithoutResetIsReportedAsX) {
  const core::AttentionConfig cfg = load("r_d7");
  gen::Outputs o = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_softmax_v.v", "      ov_q       <= 1'b0;\n",
                                        "      // reset removed: ov_q <= 1'b0;\n"))
      << "the back-end no longer has the line this test mutates; update the test";
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 2, 5, 4);
  const tb::IcarusResult r = tb::icarus_crosscheck(o, cfg, w, {4, 1.0, 1.0, -1}, scratch("noreset_valid"));
  EXPECT_FALSE(r.passed) << r.log;
  ASSERT_TRUE(r.mismatch.has_value()) << r.log;
  EXPECT_EQ(r.mismatch->cycle, 0) << r.log;
  EXPECT_EQ(r.mismatch->signal, "o_valid_o") << r.log;
  EXPECT_EQ(r.mismatch->expected, "no X or Z bit") << r.log;
  EXPECT_NE(r.log.find("XSTATE cycle 0 signal o_valid_o got 'hx"), std::string::npos) << r.log;
}

// The same mutation as AssertionSensitivity below, on the score engine's output register: a
// result beat held off by the back-end (s_ready_i low) is dropped instead of held.
gen::Outputs dropped_valid_rtl(const core::AttentionConfig& cfg) {
  gen::Outputs o = gen::generate(cfg);
  const bool mutated = test_support::mutate_file(
      o, cfg.name + "_out_arb.v", "    end else if (out_load) begin\n      s_valid_o <= found | eoq_fire_o;",
      "    end else begin\n      s_valid_o <= (found | eoq_fire_o) & out_load;");
  EXPECT_TRUE(mutated) << "the output arbiter no longer has the lines this test mutates; update the test";
  return o;
}

// Assertions (docs/verification.md): the dropped beat never reaches an output before the end of
// its query, but the score engine's handshake check fires at the edge after the drop, on Verilator
// (reported as the failure of that cycle, with the RTL's line naming instance and signal, a
// waveform and the reproduce line) and on Icarus (the replay stops; the line is parsed), at the
// same cycle, since both run the same stimulus.
TEST(AssertionSensitivity, DroppedValidFiresOnBothSimulatorsAtTheSameCycle) {
  const std::string name = "r_d7";
  const fs::path cfg_file = kSource / "configs/regression" / (name + ".json");
  const core::AttentionConfig cfg = core::load_attention_config(cfg_file.string());
  const gen::Outputs o = dropped_valid_rtl(cfg);
  // Every key kept and the output mostly not ready: both collect buffers fill and hold the score
  // engine's result stream off.
  core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 6, 20, 8);
  w.params.theta = core::signed_min(core::widths(cfg).tw);
  const tb::StimulusOptions stim{8, 1.0, 0.2, -1};
  const fs::path dir = scratch("assertion");
  core::write_workload(w, (dir / "w").string());

  const fs::path simv = flows::ensure_simulator(o, cfg.name + "_dropvalid", flows::default_cache_dir()).exe;
  const fs::path fst = dir / "fail.fst";
  const std::vector<std::string> argv = {simv.string(), "--config", cfg_file.string(), "--workload",
                                         (dir / "w").string(), "--fst", fst.string(), "--seed", "8",
                                         "--valid-prob", "1", "--ready-prob", "0.2"};
  const flows::ProcessResult v = flows::run_process(argv, "", dir / "verilator.log", 600);
  const std::string vlog = test_support::read_bytes(dir / "verilator.log");
  EXPECT_EQ(v.exit_code, 1) << vlog;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(vlog, m, std::regex(R"(MISMATCH at cycle (\d+): assertion)"))) << vlog;
  const int64_t cycle = std::stoll(m[1]);
  ASSERT_TRUE(std::regex_search(vlog, m, std::regex(R"(ASSERTION FAILED at time (\d+) in (\S+): s_valid_o: )")))
      << vlog;
  EXPECT_EQ(std::stoll(m[1]), 2 * cycle + 1) << "Verilator time of the edge of cycle " << cycle << "\n" << vlog;
  EXPECT_NE(m[2].str().find("u_out_arb"), std::string::npos) << vlog;
  EXPECT_TRUE(test_support::has(vlog, "--seed 8")) << vlog;
  EXPECT_TRUE(fs::exists(fst) && fs::file_size(fst) > 0) << "no waveform at " << fst;

  const tb::IcarusResult r = tb::icarus_crosscheck(o, cfg, w, stim, dir / "icarus");
  EXPECT_FALSE(r.passed) << r.log;
  ASSERT_TRUE(r.mismatch.has_value()) << r.log;
  EXPECT_EQ(r.mismatch->cycle, cycle) << r.log;
  EXPECT_NE(r.mismatch->signal.find("u_out_arb"), std::string::npos) << r.mismatch->signal;
  EXPECT_NE(r.mismatch->got.find("s_valid_o"), std::string::npos) << r.mismatch->got;
}

}  // namespace
}  // namespace accelgen
