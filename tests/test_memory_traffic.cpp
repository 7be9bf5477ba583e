// The memories' reads and writes counted in the simulated RTL against the access counts the energy
// model charges (docs/energy.md "Memories in macro mode", flows::attention_memory_traffic).
//
// The Icarus replay of a run (flows/icarus.h) counts, for every memory instance of the unit (the
// key store's banks, the value store, both collect buffers), the rising edges at which its re_i and
// we_i are 1, by hierarchical reference from the testbench: the generated RTL is not changed. The
// expected counts are computed here from the workload and the golden functional model:
//   key store      reads: visible (query, key) pairs     writes: keys loaded
//   value store    reads: lane survivors                 writes: keys loaded
//   collect (both) reads: lane survivors                 writes: lane survivors
// where the lane survivors are the functional kept set with absolute thresholds, and with relative
// thresholds the kept set plus the survivors the back-end filters (the lanes prune against a
// running maximum; the functional model knows only the final one), taken from the cycle model's
// per-query results, which the replay checks against the RTL's o_count_o and o_filtered_o on every
// output beat. The RTL's counts must equal them, and so must attention_memory_traffic's.
//  - IcarusMemoryTraffic.RtlCountsMatchTheEnergyModel: eight workloads: absolute and relative
//    thresholds, no mask, a causal prefill and a KV-cache decode step, 1, 2, 4 and 16 key banks
//    (r_dense, r_rel, r_d7, r_rel16), a dense baseline, every key pruned, and one workload again
//    under random gaps and back-pressure (the counts do not depend on timing). About 2-3 s;
//  - IcarusMemoryTraffic.ExtraReadIsCaught: a back-end that reads the value store once more per query
//    (its outputs unchanged, so the replay passes) gives more value reads than expected; an
//    enable that is X is reported, not counted.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "core/config.h"
#include "core/workload.h"
#include "flows/activity.h"
#include "flows/icarus.h"
#include "gen/generator.h"
#include "golden/functional.h"
#include "tb/run.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;

const fs::path kSource = ACCELGEN_SOURCE_DIR;
const fs::path kBinary = ACCELGEN_BINARY_DIR;

core::AttentionConfig load(const std::string& name) { return test_support::regression_config(kSource, name); }

fs::path scratch(const std::string& test) { return test_support::fresh_scratch(kBinary, "memory_traffic", test); }

// What the expected counts are made of, computed independently of flows/activity.cpp.
struct Figures {
  uint64_t keys = 0;       // keys loaded
  uint64_t visible = 0;    // visible (query, key) pairs
  uint64_t kept = 0;       // the functional kept set
  uint64_t survivors = 0;  // lane survivors: kept + filtered
  uint64_t filtered = 0;
};

Figures figures(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                const tb::RunResult& run) {
  const golden::ScoreResults g = golden::score_all(w.q, w.k, cfg.wk, w.params, cfg.dense_baseline);
  Figures f;
  f.keys = static_cast<uint64_t>(w.k.rows());
  f.visible = static_cast<uint64_t>(g.visible.count());
  f.kept = static_cast<uint64_t>(g.kept_count());
  uint64_t run_kept = 0;
  for (const tb::QueryResult& q : run.queries) {
    run_kept += q.count;
    f.filtered += q.filtered;
  }
  // The unit's kept set is the functional one (the run checks it query by query; again here, since
  // the survivors below rest on it).
  EXPECT_EQ(run_kept, f.kept);
  if (w.params.mode == core::ThresholdMode::absolute) {
    EXPECT_EQ(f.filtered, 0u);
  }
  f.survivors = f.kept + f.filtered;
  return f;
}

flows::MemoryTraffic expected_traffic(const Figures& f) {
  return {{"key", {f.visible, f.keys}},
          {"value", {f.survivors, f.keys}},
          {"collect", {f.survivors, f.survivors}}};
}

struct Case {
  const char* label;
  const char* config;
  const char* kind;
  int lq, lk;
  tb::StimulusOptions stim;
  int causal;        // < 0: no mask; else the causal offset (0: prefill, > 0: KV-cache decode)
  double relative;   // < 0: the workload's absolute theta; else the quantile of the relative delta
  bool prune_all;    // theta at the top of the register: every key pruned
};

TEST(IcarusMemoryTraffic, RtlCountsMatchTheEnergyModel) {
  const Case cases[] = {
      {"banks4_absolute", "r_d7", "gaussian", 6, 33, {41, 1.0, 1.0, -1}, -1, -1, false},
      {"banks4_absolute_gaps", "r_d7", "gaussian", 6, 33, {42, 0.6, 0.4, -1}, -1, -1, false},
      {"banks4_causal", "r_d7", "peaky", 12, 12, {43, 0.8, 0.7, -1}, 0, -1, false},
      {"banks4_decode", "r_d7", "gaussian", 3, 14, {49, 1.0, 1.0, -1}, 10, -1, false},
      {"banks4_pruned", "r_d7", "gaussian", 3, 9, {44, 1.0, 1.0, -1}, -1, -1, true},
      {"relative", "r_rel", "gaussian", 6, 21, {45, 1.0, 0.8, -1}, -1, 0.4, false},
      {"banks16_relative_causal", "r_rel16", "peaky", 14, 14, {46, 0.9, 0.9, -1}, 0, 0.3, false},
      {"dense", "r_dense", "gaussian", 4, 11, {47, 1.0, 1.0, -1}, -1, -1, false},
  };
  Figures seen;  // summed over the cases: the workloads must tell the formula's terms apart
  uint64_t dense_pairs = 0;
  for (const Case& c : cases) {
    const core::AttentionConfig cfg = load(c.config);
    SCOPED_TRACE(fmt::format("case {}: config {} kind {} lq {} lk {} seed {} valid {} ready {} causal {} "
                             "relative {}; reproduce: build/tests/icarus_tests "
                             "--gtest_filter=IcarusMemoryTraffic.RtlCountsMatchTheEnergyModel",
                             c.label, c.config, c.kind, c.lq, c.lk, c.stim.seed, c.stim.valid_prob,
                             c.stim.ready_prob, c.causal, c.relative));
    core::AttentionWorkload w = core::make_workload(cfg, c.kind, c.lq, c.lk, c.stim.seed);
    if (c.causal >= 0) w = test_support::causal(w, c.causal);
    if (c.relative >= 0) w = test_support::relative(w, c.relative);
    if (c.prune_all) w.params.theta = core::signed_max(core::widths(cfg).tw);

    const auto t0 = std::chrono::steady_clock::now();
    const tb::IcarusResult r = tb::icarus_crosscheck(cfg, w, c.stim, scratch(c.label));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(r.passed) << r.log;
    const tb::RunResult run = tb::run_attention(cfg, w, c.stim, nullptr);
    ASSERT_TRUE(run.ok()) << run.functional_error;

    const Figures f = figures(cfg, w, run);
    const std::string expected = flows::describe(expected_traffic(f));
    EXPECT_EQ(flows::describe(tb::rtl_memory_traffic(cfg, r)), expected) << "counted in the RTL (Icarus):\n"
                                                                         << r.log;
    EXPECT_EQ(flows::describe(flows::attention_memory_traffic(w, run)), expected)
        << "flows::attention_memory_traffic";
    std::printf("[ traffic  ] %s (%s): %s in %.2f s\n", c.label, c.config, expected.c_str(), s);

    seen.keys += f.keys;
    seen.visible += f.visible;
    seen.kept += f.kept;
    seen.survivors += f.survivors;
    seen.filtered += f.filtered;
    dense_pairs += static_cast<uint64_t>(c.lq) * static_cast<uint64_t>(c.lk);
  }
  // A formula that read every key for every query, counted kept instead of survivors, or pruned
  // scores as survivors would fail some case above.
  EXPECT_LT(seen.visible, dense_pairs);
  EXPECT_GT(seen.filtered, 0u);
  EXPECT_LT(seen.kept, seen.visible);
}

// The counts see what the output comparison cannot: reading the value store at the edge after the
// last entry of each query too (v_re_o = p1_valid_q | p2_valid_q) changes v_rdata_i only after the
// accumulator has taken it, so every output stays right and the replay passes, but the value store
// is read once more per query with a survivor.
TEST(IcarusMemoryTraffic, ExtraReadIsCaught) {
  const core::AttentionConfig cfg = load("r_d7");
  const core::AttentionWorkload w = core::make_workload(cfg, "gaussian", 5, 19, 48);
  const tb::StimulusOptions stim{48, 1.0, 1.0, -1};
  const tb::RunResult run = tb::run_attention(cfg, w, stim, nullptr);
  ASSERT_TRUE(run.ok()) << run.functional_error;
  uint64_t survivors = 0, busy_queries = 0;
  for (const tb::QueryResult& q : run.queries) {
    survivors += q.count + q.filtered;
    busy_queries += q.count + q.filtered > 0 ? 1 : 0;
  }
  ASSERT_GT(busy_queries, 0u);

  gen::Outputs extra = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(extra, cfg.name + "_softmax_v.v", "assign v_re_o    = p1_valid_q;",
                                        "assign v_re_o    = p1_valid_q | p2_valid_q;"))
      << "the back-end no longer has the line this test mutates; update the test";
  const tb::IcarusResult r = tb::icarus_crosscheck(extra, cfg, w, stim, scratch("extra_read"));
  ASSERT_TRUE(r.passed) << "the extra read was meant to leave the outputs unchanged:\n" << r.log;
  const flows::MemoryTraffic t = tb::rtl_memory_traffic(cfg, r);
  EXPECT_EQ(t.at("value").reads, survivors + busy_queries);
  EXPECT_NE(t.at("value").reads, flows::attention_memory_traffic(w, run).at("value").reads);

  // An enable that is X after reset: counted as unknown, and the traffic refuses to add it up.
  gen::Outputs x = gen::generate(cfg);
  ASSERT_TRUE(test_support::mutate_file(x, cfg.name + "_softmax_v.v", "assign v_re_o    = p1_valid_q;",
                                        "assign v_re_o    = 1'bx;"));
  const tb::IcarusResult rx = tb::icarus_crosscheck(x, cfg, w, stim, scratch("x_enable"));
  const std::string signal = "u_value_store.u_mem.re_i";
  ASSERT_EQ(rx.counts.count(signal), 1u) << rx.log;
  EXPECT_GT(rx.counts.at(signal).unknown, 0) << rx.log;
  EXPECT_EQ(rx.counts.at(signal).ones, 0) << rx.log;
  try {
    tb::rtl_memory_traffic(cfg, rx);
    ADD_FAILURE() << "an X enable was added up";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(test_support::has(e.what(), signal + " was X or Z")) << e.what();
  }
}

}  // namespace
}  // namespace accelgen
