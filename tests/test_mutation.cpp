// The mutation tool (tests/mutation.h) checked on its own, so that the mutation bench's figures can
// be trusted:
//  - the schema of a hand-written module has exactly the mutants derived by hand from the operator
//    list, leaves functions and `ifndef SYNTHESIS` blocks alone, and compiles (Icarus);
//  - on a small regression config (r_d1) one Verilator build of the whole unit's schema passes every
//    regression case with +mut=0 (the schema is the design), and mutants that must change the
//    unit's behaviour are killed by the regression's checks.
// 1-2 min with a cold simulator cache (one Verilator build; measured 58 s and 119 s on the shared
// 2-core machine under load), well under that warm.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/config.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "tests/mutation.h"
#include "tests/regression_cases.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
using test_support::has;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kBinary = ACCELGEN_BINARY_DIR;

const char* kModule = R"(module m #(
  parameter integer W = 4
) (
  input  wire         clk_i,
  input  wire         rst_ni,
  input  wire [W-1:0] a_i,
  input  wire [W-1:0] b_i,
  output wire         lt_o,
  output wire         out_valid_o,
  output wire [W-1:0] d_o
);
  function [W-1:0] inc;
    input [W-1:0] x;
    inc = x + 1;
  endfunction
  reg v_q;
  wire [W-1:0] diff = a_i - b_i;
  assign lt_o = a_i < b_i;  // a < comment
  assign out_valid_o = v_q & lt_o;
  assign d_o = inc(diff[W-1:0]);
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q <= 1'b0;
    end else if (a_i == 4'd3) begin
      v_q <= 1'b1;
    end
  end
`ifndef SYNTHESIS
  always @(posedge clk_i) if (a_i > b_i) $display("a > b");
`endif
endmodule
)";

TEST(MutationSchema, HandWrittenModuleHasTheHandDerivedMutants) {
  const mutation::FileSchema s = mutation::schema_of_file(kModule, "m.v", 1);
  std::vector<std::tuple<int, std::string, std::string>> got;  // line, op, mutated
  for (const mutation::Mutant& m : s.mutants) got.emplace_back(m.line, m.op, m.mutated);
  const std::vector<std::tuple<int, std::string, std::string>> expected = {
      {17, "swap", "b_i - a_i"},
      {18, "comparison", "a_i <= b_i"},
      {18, "swap", "b_i < a_i"},
      {19, "stuck-at-0", "1'b0"},
      {19, "stuck-at-1", "1'b1"},
      {19, "logic", "v_q | lt_o"},
      {22, "negate", "!(!rst_ni)"},
      {23, "constant", "1'd1"},
      {24, "negate", "!(a_i == 4'd3)"},
      {24, "comparison", "a_i != 4'd3"},
      {24, "constant", "a_i == 4'd4"},
      {24, "constant", "a_i == 4'd2"},
      {25, "constant", "1'd0"},
  };
  EXPECT_EQ(got, expected);
  for (size_t i = 0; i < s.mutants.size(); ++i) EXPECT_EQ(s.mutants[i].id, static_cast<int>(i) + 1);
  EXPECT_EQ(s.mutants[0].original, "a_i - b_i");
  // Functions, selects and simulation-only blocks are untouched; the selector is declared.
  EXPECT_TRUE(has(s.text, "    inc = x + 1;\n"));
  EXPECT_TRUE(has(s.text, "  always @(posedge clk_i) if (a_i > b_i) $display(\"a > b\");\n"));
  EXPECT_TRUE(has(s.text, "  assign d_o = inc(diff[W-1:0]);\n"));
  EXPECT_TRUE(has(s.text, "integer mut_sel;"));
  EXPECT_TRUE(has(s.text, "$value$plusargs(\"mut=%d\", mut_sel)"));
  EXPECT_TRUE(has(s.text, "assign lt_o = (mut_sel == 2) ? (a_i <= b_i) : (mut_sel == 3) ? (b_i < a_i) : (a_i < b_i);"))
      << s.text;

  // The schema is plain Verilog-2005.
  const test_support::TempDir t;
  test_support::write_text(t.path() / "m.v", s.text);
  const flows::ProcessResult r =
      flows::run_process({"iverilog", "-g2005", "-Wall", "-o", "/dev/null", "m.v"}, t.path(), t.path() / "log", 60);
  EXPECT_EQ(r.exit_code, 0) << test_support::read_bytes(t.path() / "log") << s.text;
}

// The first mutant of `op` in `file` whose original expression contains `original`.
int find_mutant(const mutation::Schema& s, const std::string& file, const std::string& op,
                const std::string& original) {
  for (const mutation::Mutant& m : s.mutants) {
    if (m.file == file && m.op == op && has(m.original, original)) return m.id;
  }
  ADD_FAILURE() << "no " << op << " mutant of '" << original << "' in " << file << "; update the test";
  return -1;
}

TEST(MutationSchema, UnmutatedSchemaPassesAndKnownMutantsAreKilled) {
  const fs::path cfg_file = kSource / "configs/regression/r_d1.json";
  const core::AttentionConfig cfg = core::load_attention_config(cfg_file.string());
  const mutation::Schema s = mutation::make_schema(gen::generate(cfg), [](const std::string&) { return true; });
  ASSERT_GT(s.mutants.size(), 100u);
  const fs::path simv = flows::ensure_simulator(s.outputs, cfg.name + "_mutants", flows::default_cache_dir()).exe;
  const fs::path dir = kBinary / "test-scratch" / "mutation";
  fs::remove_all(dir);
  std::vector<regression::Prepared> cases;
  for (const auto& list : {regression::attention_random_cases(cfg), regression::attention_directed_cases(cfg)}) {
    for (const auto& c : list) cases.push_back(regression::prepare(cfg, cfg_file, dir, c));
  }
  for (const regression::Prepared& p : cases) {
    const std::string failure = regression::run_prepared(p, simv, {"+mut=0"});
    EXPECT_TRUE(failure.empty()) << "the unmutated schema must pass:\n" << failure;
  }
  // Each must make some case fail: the result stream never valid, the arbiter's output register
  // loading while it is full, the lane's sign-step detection inverted.
  const std::string out_arb = cfg.name + "_out_arb.v", lane = cfg.name + "_bs_lane.v";
  for (const int id : {find_mutant(s, out_arb, "stuck-at-0", "found"),
                       find_mutant(s, out_arb, "logic", "~s_valid_o | s_ready_i"),
                       find_mutant(s, lane, "comparison", "bit_q == SignBit")}) {
    bool killed = false;
    for (const regression::Prepared& p : cases) {
      if (!regression::run_prepared(p, simv, {fmt::format("+mut={}", id)}, 120).empty()) {
        killed = true;
        break;
      }
    }
    EXPECT_TRUE(killed) << "mutant " << id << " survived every regression case";
  }
}

}  // namespace
}  // namespace accelgen
