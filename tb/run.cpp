#include "tb/run.h"

#include <algorithm>

#include <fmt/format.h>

#include "golden/functional.h"

namespace accelgen::tb {

std::optional<Mismatch> compare_outputs(const golden::AttnOutputs& e, const golden::AttnOutputs& g,
                                        int64_t cycle) {
  auto diff = [&](const char* name, auto exp, auto got) -> std::optional<Mismatch> {
    if (exp == got) return std::nullopt;
    return Mismatch{cycle, name, fmt::format("{}", exp), fmt::format("{}", got)};
  };
  std::optional<Mismatch> m;
  if ((m = diff("k_ready_o", e.k_ready, g.k_ready))) return m;
  if ((m = diff("q_ready_o", e.q_ready, g.q_ready))) return m;
  if ((m = diff("cfg_rdata_o", e.cfg_rdata, g.cfg_rdata))) return m;
  if ((m = diff("s_valid_o", e.s_valid, g.s_valid))) return m;
  if (!e.s_valid) return std::nullopt;
  if ((m = diff("s_eoq_o", e.s_eoq, g.s_eoq))) return m;
  if ((m = diff("s_key_o", e.s_key, g.s_key))) return m;
  if ((m = diff("s_score_o", e.s_score, g.s_score))) return m;
  if ((m = diff("s_count_o", e.s_count, g.s_count))) return m;
  if ((m = diff("s_empty_o", e.s_empty, g.s_empty))) return m;
  if ((m = diff("s_steps_o", e.s_steps, g.s_steps))) return m;
  return diff("s_cycles_o", e.s_cycles, g.s_cycles);
}

RunResult run_attention(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                        const StimulusOptions& opts, Dut* dut, int64_t stop_after,
                        const CycleObserver& observer) {
  AttnDriver driver(cfg, w, opts);
  golden::AttnCycleModel model(cfg);
  RunResult r;
  r.alpha_bits = driver.alpha_bits();
  const int64_t limit = driver.cycle_limit();
  int64_t cycle = 0;
  for (; !driver.finished(); ++cycle) {
    if (cycle >= limit) {
      r.timed_out = true;
      break;
    }
    if (stop_after >= 0 && cycle > stop_after) break;
    const golden::AttnInputs in = driver.inputs(cycle);
    const golden::AttnOutputs expected = model.eval(in);
    if (dut != nullptr) {
      const golden::AttnOutputs got = dut->eval(in);
      if (!r.mismatch) r.mismatch = compare_outputs(expected, got, cycle);
      // Keep running a few cycles past a mismatch only when asked to (waveform re-run).
      if (r.mismatch && stop_after < 0) break;
    }
    if (observer) observer(cycle, in, expected);
    driver.observe(in, expected, cycle);
    model.tick(in);
    if (dut != nullptr) dut->tick();
  }
  r.cycles_simulated = cycle;
  r.queries = driver.results();
  if (!r.queries.empty()) r.cycles_total = r.queries.back().end_cycle - driver.run_start_cycle() + 1;
  if (!r.mismatch && !r.timed_out && stop_after < 0) {
    r.functional_error = check_functional(cfg, w, r.queries);
  }
  return r;
}

RunResult run_dut_only(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                       const StimulusOptions& opts, Dut& dut) {
  AttnDriver driver(cfg, w, opts);
  RunResult r;
  r.alpha_bits = driver.alpha_bits();
  const int64_t limit = driver.cycle_limit();
  int64_t cycle = 0;
  for (; !driver.finished() && cycle < limit; ++cycle) {
    const golden::AttnInputs in = driver.inputs(cycle);
    driver.observe(in, dut.eval(in), cycle);
    dut.tick();
  }
  r.timed_out = !driver.finished();
  r.cycles_simulated = cycle;
  r.queries = driver.results();
  if (!r.queries.empty()) r.cycles_total = r.queries.back().end_cycle - driver.run_start_cycle() + 1;
  return r;
}

std::string check_functional(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                             const std::vector<QueryResult>& queries) {
  const golden::ScoreResults f =
      golden::score_all(w.q, w.k, cfg.wk, w.params.theta, cfg.dense_baseline);
  if (queries.size() != static_cast<size_t>(w.q.rows())) {
    return fmt::format("{} queries completed, expected {}", queries.size(), w.q.rows());
  }
  for (Eigen::Index i = 0; i < w.q.rows(); ++i) {
    const QueryResult& q = queries[static_cast<size_t>(i)];
    std::vector<std::pair<uint32_t, int64_t>> expected;
    uint64_t steps = 0;
    for (Eigen::Index j = 0; j < w.k.rows(); ++j) {
      steps += static_cast<uint64_t>(f.steps(i, j));
      if (f.kept(i, j)) expected.emplace_back(static_cast<uint32_t>(j), f.score(i, j));
    }
    auto got = q.kept;
    std::sort(got.begin(), got.end());
    if (got != expected) {
      for (size_t n = 0; n < std::max(got.size(), expected.size()); ++n) {
        const auto e = n < expected.size() ? fmt::format("key {} score {}", expected[n].first, expected[n].second) : "nothing";
        const auto g = n < got.size() ? fmt::format("key {} score {}", got[n].first, got[n].second) : "nothing";
        if (e != g) return fmt::format("query {}: kept entry {} (sorted by key): expected {}, got {}", i, n, e, g);
      }
    }
    if (q.count != expected.size() || q.empty != expected.empty() || q.steps != steps) {
      return fmt::format("query {}: end-of-query count/empty/steps = {}/{}/{}, expected {}/{}/{}", i,
                         q.count, q.empty, q.steps, expected.size(), expected.empty(), steps);
    }
  }
  return "";
}

}  // namespace accelgen::tb
