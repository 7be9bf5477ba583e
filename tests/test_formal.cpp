// Formal proof (Yosys SAT) that a generated score lane with the generated bound table terminates
// each score at the step the specification's bound gives and keeps exactly the scores s >= theta,
// for every query, key and theta of a small config (tests/data/formal/f_small.json: d = 2, wq = 3,
// wk = 4, 2 lanes). The reference is tests/formal/lane_ref.v, a combinational evaluation of U_m
// straight from docs/semantics.md (no bound table, no recurrence); the harness and what it asserts
// are described in tests/formal/lane_bound_check.v. The proof is a bounded check over every input
// sequence, `sat -seq WK+3`, which covers the lane's whole life for a key (issue + at most WK
// steps + the cycle after), so it is complete for this config. Sensitivity: the same proof on a
// bound table whose entries are off by one, or floor instead of ceil, must fail with a
// counterexample.
#include <gtest/gtest.h>

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/config.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
using test_support::DeclaredPort;
using test_support::TempDir;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kConfig = kSource / "tests/data/formal/f_small.json";

const gen::GeneratedFile& file_of(const gen::Outputs& o, const std::string& name) {
  for (const auto& f : o.files) {
    if (f.name == name) return f;
  }
  throw std::runtime_error("generator output has no " + name);
}

int64_t port_width(const std::string& verilog, const std::string& port) {
  for (const DeclaredPort& p : test_support::declared_ports(verilog)) {
    if (p.name == port) return p.width;
  }
  ADD_FAILURE() << "no port " << port;
  return 0;
}

struct ProofRun {
  int exit_code = -1;
  std::string log;
};

// Writes the lane and bound table of `o` into `dir`, runs the proof, returns Yosys's status and log.
ProofRun run_proof(const core::AttentionConfig& cfg, const gen::Outputs& o, const fs::path& dir) {
  const std::string lane_name = cfg.name + "_bs_lane";
  const std::string table_name = cfg.name + "_bound_table";
  const std::string qpos_name = cfg.name + "_qpos";
  const std::string& lane = file_of(o, lane_name + ".v").content;
  const std::string& table = file_of(o, table_name + ".v").content;
  test_support::write_text(dir / (lane_name + ".v"), lane);
  test_support::write_text(dir / (table_name + ".v"), table);
  test_support::write_text(dir / (qpos_name + ".v"), file_of(o, qpos_name + ".v").content);

  // Interface widths come from the generated ports; the score and theta widths are also checked
  // against the spec (docs/config.md), since the reference's theta range depends on them.
  const int64_t sw = port_width(lane, "sscore_o");
  const int64_t tw = port_width(table, "theta_i");
  const int64_t bw = port_width(lane, "tc0_i") / cfg.wk;
  EXPECT_EQ(sw, cfg.wq + cfg.wk + core::clog2(static_cast<uint64_t>(cfg.d)));
  EXPECT_EQ(tw, sw + 2);
  EXPECT_EQ(port_width(lane, "row_i"), cfg.d * cfg.wk);
  // Reference arithmetic: |theta| <= 2^(TW-1), |U_m| < 2^(SW+1) = 2^(TW-1); TW + 2 bits hold both.
  const int64_t rw = tw + 2;
  const int depth = cfg.wk + 4;  // cycle 0 sample, 1 issue, 2 row, 3..wk+2 steps, wk+3 the slot after

  // -DSYNTHESIS: -formal replaces Yosys's implicit SYNTHESIS define with FORMAL, and the RTL's
  // simulation-only checks ($display, $stop; docs/verification.md) are not for the SAT proof.
  const std::string script = fmt::format(
      "read_verilog -formal -DSYNTHESIS -DLANE_MODULE={lane} -DTABLE_MODULE={table} -DQPOS_MODULE={qpos} "
      "{lane}.v {table}.v {qpos}.v "
      "{src}/tests/formal/lane_ref.v {src}/tests/formal/lane_bound_check.v\n"
      "hierarchy -check -top lane_bound_check -chparam D {d} -chparam WQ {wq} -chparam WK {wk} "
      "-chparam TW {tw} -chparam BW {bw} -chparam SW {sw} -chparam KIW {kiw} "
      "-chparam RW {rw}\n"
      "proc\nflatten\nasync2sync\nopt\nwreduce\nopt_clean\n"
      "sat -seq {depth} -prove-asserts -set-init-zero -verify -show-inputs\n",
      fmt::arg("lane", lane_name), fmt::arg("table", table_name), fmt::arg("qpos", qpos_name), fmt::arg("src", kSource.string()),
      fmt::arg("d", cfg.d), fmt::arg("wq", cfg.wq), fmt::arg("wk", cfg.wk), fmt::arg("tw", tw),
      fmt::arg("bw", bw), fmt::arg("sw", sw), fmt::arg("kiw", port_width(lane, "skey_o")),
      fmt::arg("rw", rw), fmt::arg("depth", depth));
  test_support::write_text(dir / "proof.ys", script);
  const fs::path log = dir / "yosys.log";
  const flows::ProcessResult r =
      flows::run_process({"yosys", "-s", (dir / "proof.ys").string()}, dir, log, 600);
  EXPECT_TRUE(r.started) << "could not run yosys";
  EXPECT_FALSE(r.timed_out) << "yosys timed out\n" << flows::tail_file(log, 60);
  return {r.exit_code, test_support::read_bytes(log)};
}

const char* kProved = "SAT proof finished - no model found: SUCCESS!";
const char* kRefuted = "SAT proof finished - model found: FAIL!";

TEST(Formal, LaneTerminationAndKeptEqualTheSpecBound) {
  const core::AttentionConfig cfg = core::load_attention_config(kConfig.string());
  ASSERT_FALSE(cfg.dense_baseline);
  TempDir dir("accelgen-formal");
  const ProofRun run = run_proof(cfg, gen::generate(cfg), dir.path());
  const std::string tail = flows::tail_file(dir.path() / "yosys.log", 60);
  EXPECT_EQ(run.exit_code, 0) << tail;
  EXPECT_TRUE(test_support::has(run.log, kProved)) << tail;
  // The assertions were imported (a proof without them would be vacuous).
  EXPECT_TRUE(test_support::has(run.log, "Import proof for assert")) << tail;
}

// The proof must be able to fail: bound tables with a wrong entry give a counterexample.
struct Mutation {
  const char* label;
  const char* good;
  const char* bad;
};

void PrintTo(const Mutation& m, std::ostream* os) { *os << m.label; }

class FormalSensitivity : public ::testing::TestWithParam<Mutation> {};

TEST_P(FormalSensitivity, BrokenBoundTableIsRefuted) {
  const Mutation& m = GetParam();
  const core::AttentionConfig cfg = core::load_attention_config(kConfig.string());
  gen::Outputs o = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(o, cfg.name + "_bound_table.v", m.good, m.bad))
      << "the bound table no longer has the line this test mutates; update the test";
  TempDir dir("accelgen-formal");
  const ProofRun run = run_proof(cfg, o, dir.path());
  const std::string tail = flows::tail_file(dir.path() / "yosys.log", 60);
  EXPECT_NE(run.exit_code, 0) << tail;
  EXPECT_TRUE(test_support::has(run.log, kRefuted)) << tail;
}

INSTANTIATE_TEST_SUITE_P(
    Mutants, FormalSensitivity,
    ::testing::Values(
        // tc_b one too large: the lane terminates (prunes) a score one step too early somewhere
        Mutation{"TableOffByOne", "tc_o[b*BoundWidth +: BoundWidth] = -neg_div;",
                 "tc_o[b*BoundWidth +: BoundWidth] = -neg_div + 1;"},
        // floor(T_b / 2^b) instead of the ceiling: a termination is missed
        Mutation{"TableFloor", "tc_o[b*BoundWidth +: BoundWidth] = -neg_div;",
                 "tc_o[b*BoundWidth +: BoundWidth] = $signed(bound) >>> b;"}),
    [](const ::testing::TestParamInfo<Mutation>& i) { return std::string(i.param.label); });

}  // namespace
}  // namespace accelgen
