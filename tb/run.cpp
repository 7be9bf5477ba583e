#include "tb/run.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.h"
#include "golden/fast_model.h"
#include "golden/functional.h"
#include "golden/softmax.h"

namespace accelgen::tb {

std::optional<Mismatch> compare_outputs(const golden::UnitOutputs& e, const golden::UnitOutputs& g,
                                        int64_t cycle) {
  auto diff = [&](const std::string& name, auto exp, auto got) -> std::optional<Mismatch> {
    if (exp == got) return std::nullopt;
    return Mismatch{cycle, name, fmt::format("{}", exp), fmt::format("{}", got)};
  };
  std::optional<Mismatch> m;
  if ((m = diff("k_ready_o", e.k_ready, g.k_ready))) return m;
  if ((m = diff("q_ready_o", e.q_ready, g.q_ready))) return m;
  if ((m = diff("cfg_rdata_o", e.cfg_rdata, g.cfg_rdata))) return m;
  if ((m = diff("o_valid_o", e.o_valid, g.o_valid))) return m;
  if (!e.o_valid) return std::nullopt;
  for (size_t c = 0; c < std::max(e.o_data.size(), g.o_data.size()); ++c) {
    const int64_t ev = c < e.o_data.size() ? e.o_data[c] : 0, gv = c < g.o_data.size() ? g.o_data[c] : 0;
    if ((m = diff(fmt::format("o_data_o[{}]", c), ev, gv))) return m;
  }
  if ((m = diff("o_empty_o", e.o_empty, g.o_empty))) return m;
  if ((m = diff("o_count_o", e.o_count, g.o_count))) return m;
  if ((m = diff("o_steps_o", e.o_steps, g.o_steps))) return m;
  if ((m = diff("o_cycles_o", e.o_cycles, g.o_cycles))) return m;
  if ((m = diff("o_filtered_o", e.o_filtered, g.o_filtered))) return m;
  return diff("o_bcycles_o", e.o_bcycles, g.o_bcycles);
}

RunResult run_attention(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                        const StimulusOptions& opts, Dut* dut, int64_t stop_after,
                        const CycleObserver& observer) {
  return run_attention(cfg, std::vector<core::AttentionWorkload>{w}, opts, dut, stop_after, observer);
}

void check_same_params(const std::vector<core::AttentionWorkload>& sets, const std::vector<std::string>& dirs) {
  for (size_t s = 1; s < sets.size(); ++s) {
    const core::AttentionParams &a = sets.front().params, &b = sets[s].params;
    if (a.mode != b.mode || a.theta != b.theta || a.delta != b.delta || a.softmax_scale != b.softmax_scale ||
        a.slot != b.slot || a.causal != b.causal || a.causal_offset != b.causal_offset) {
      throw core::InputError((s < dirs.size() ? dirs[s] : std::string("workload")) + "/params.json",
                             "differs from the first workload's params.json; workloads run back to back "
                             "share their threshold, slot, scale and causal mask");
    }
  }
}

RunResult run_attention(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& w,
                        const StimulusOptions& opts, Dut* dut, int64_t stop_after,
                        const CycleObserver& observer) {
  check_same_params(w, {});
  AttnDriver driver(cfg, w, opts);
  golden::UnitCycleModel model(cfg);
  RunResult r;
  r.alpha_bits = driver.alpha_bits();
  const LockstepResult l = run_lockstep(
      driver, model, dut, stop_after, compare_outputs,
      [&](int64_t cycle, const golden::AttnInputs& in, const golden::UnitOutputs& expected) {
        if (observer) observer(cycle, in, expected);
      });
  r.mismatch = l.mismatch;
  r.timed_out = l.timed_out;
  r.cycles_simulated = l.cycles;
  r.queries = driver.results();
  if (!r.queries.empty()) r.cycles_total = r.queries.back().end_cycle - driver.run_start_cycle() + 1;
  if (!r.mismatch && !r.timed_out && stop_after < 0) {
    r.functional_error = check_functional(cfg, w, r.queries, r.alpha_bits);
  }
  return r;
}

RunResult run_attention_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  // The event-driven model does not schedule causal masks or relative thresholds (whose termination steps
  // depend on the running maximum cycle by cycle) yet: those run the pin-level cycle model at full rate,
  // which gives the same results the fast model would, only slower.
  if (!golden::fast_model_supports(cfg, w)) return run_attention(cfg, w, StimulusOptions{}, nullptr);
  const golden::FastRun f = golden::run_fast(cfg, w);
  RunResult r;
  r.alpha_bits = f.alpha_bits;
  r.cycles_total = f.cycles_total;
  r.cycles_simulated = f.cycles_simulated;
  r.queries.reserve(f.queries.size());
  for (const golden::FastQuery& q : f.queries) {
    r.queries.push_back({q.out, q.count, q.empty, q.steps, q.cycles, q.bcycles, q.end_cycle, q.filtered});
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

std::string check_functional(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                             const std::vector<QueryResult>& queries, uint64_t alpha_bits) {
  if (sets.size() == 1) return check_functional(cfg, sets.front(), queries, alpha_bits);
  size_t total = 0;
  for (const core::AttentionWorkload& w : sets) total += static_cast<size_t>(w.q.rows());
  if (queries.size() != total) return fmt::format("{} queries completed, expected {}", queries.size(), total);
  size_t first = 0;
  for (size_t s = 0; s < sets.size(); ++s) {
    const size_t n = static_cast<size_t>(sets[s].q.rows());
    const std::vector<QueryResult> mine(queries.begin() + static_cast<std::ptrdiff_t>(first),
                                        queries.begin() + static_cast<std::ptrdiff_t>(first + n));
    const std::string error = check_functional(cfg, sets[s], mine, alpha_bits);
    if (!error.empty()) return fmt::format("workload {} (queries from {} on): {}", s, first, error);
    first += n;
  }
  return "";
}

std::string check_functional(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                             const std::vector<QueryResult>& queries, uint64_t alpha_bits) {
  const golden::ScoreResults f = golden::score_all(w.q, w.k, cfg.wk, w.params, cfg.dense_baseline);
  const golden::AttentionOutput o =
      golden::attention_output(f, w.v, alpha_bits, golden::default_softmax_format(cfg));
  if (queries.size() != static_cast<size_t>(w.q.rows())) {
    return fmt::format("{} queries completed, expected {}", queries.size(), w.q.rows());
  }
  // Relative thresholds: the realized steps depend on the running maximum the unit has proven, so they
  // lie between the ideal n*_ij (against the final M_i - delta) and wk per visible key.
  const bool relative = !cfg.dense_baseline && w.params.mode == core::ThresholdMode::relative;
  for (Eigen::Index i = 0; i < w.q.rows(); ++i) {
    const QueryResult& q = queries[static_cast<size_t>(i)];
    const uint64_t steps = static_cast<uint64_t>(f.steps.row(i).cast<int64_t>().sum());
    const uint64_t kept = static_cast<uint64_t>(f.kept.row(i).count());
    const uint64_t visible = static_cast<uint64_t>(f.visible.row(i).count());
    const bool steps_ok = relative ? (q.steps >= steps && q.steps <= visible * static_cast<uint64_t>(cfg.wk))
                                   : q.steps == steps;
    if (q.count != kept || q.empty != (kept == 0) || !steps_ok || (!relative && q.filtered != 0) ||
        q.count + q.filtered > visible) {
      return fmt::format("query {}: count/empty/steps/filtered = {}/{}/{}/{}, expected {}/{}/{}{}/{}", i, q.count,
                         q.empty, q.steps, q.filtered, kept, kept == 0, relative ? ">= " : "", steps,
                         relative ? fmt::format("<= {}", visible - kept) : std::string("0"));
    }
    if (q.out.size() != static_cast<size_t>(w.v.cols())) {
      return fmt::format("query {}: {} output elements, expected {}", i, q.out.size(), w.v.cols());
    }
    for (Eigen::Index c = 0; c < w.v.cols(); ++c) {
      if (q.out[static_cast<size_t>(c)] != o.o(i, c)) {
        return fmt::format("query {}: output element {} = {}, expected {} (units of 2^-{})", i, c,
                           q.out[static_cast<size_t>(c)], o.o(i, c), cfg.out_frac_bits);
      }
    }
  }
  return "";
}

}  // namespace accelgen::tb
