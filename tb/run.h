// accelgen::tb — the cycle loop: drive the golden cycle model of the unit (and optionally a DUT) with
// the same inputs, compare every output on every cycle, then check the results against the functional
// models (scores: golden/functional.h, output rows: golden/softmax.h).
// May include: core/, golden/, tb/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "golden/cycle_model.h"
#include "golden/unit_model.h"
#include "tb/lockstep.h"
#include "tb/stimulus.h"

namespace accelgen::tb {

// A device under test seen through the pins of `<name>_attn_top`: the Verilated RTL, behind
// tb/verilator_dut.h.
class Dut {
 public:
  virtual ~Dut() = default;
  // Applies this cycle's inputs with the clock low, settles, and returns the outputs.
  virtual golden::UnitOutputs eval(const golden::AttnInputs& in) = 0;
  // The rising edge at the end of the cycle (inputs as given to the last eval), then clock low.
  virtual void tick() = 0;
  // A simulation-only check inside the RTL has failed (docs/verification.md "Assertions").
  virtual bool assertion_failed() const { return false; }
};

struct RunResult {
  std::optional<Mismatch> mismatch;  // first cycle where DUT and model disagree
  std::string functional_error;      // results differ from the functional model (empty: agree)
  bool timed_out = false;
  int64_t cycles_total = 0;          // from the last reset's release to the last end-of-query beat
  int64_t cycles_simulated = 0;      // every cycle the loop ran
  std::vector<QueryResult> queries;
  uint64_t alpha_bits = 0;
  bool ok() const { return !mismatch && functional_error.empty() && !timed_out; }
};

// Called once per simulated cycle with that cycle's inputs and the model's outputs (e.g. to record
// stimulus and expected outputs for a replay on another simulator).
using CycleObserver = std::function<void(int64_t cycle, const golden::AttnInputs& in,
                                         const golden::UnitOutputs& expected)>;

// Runs the workload. With dut == nullptr only the model runs (`accelgen model`). stop_after >= 0 ends
// the loop after that cycle (used to re-run a failure with waveform tracing up to the mismatch).
RunResult run_attention(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                        const StimulusOptions& opts, Dut* dut, int64_t stop_after = -1,
                        const CycleObserver& observer = {});
// Several workloads in one run without a reset in between, each its own key set (tb::AttnDriver);
// their params must be equal (same_params). The results are checked workload by workload.
RunResult run_attention(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                        const StimulusOptions& opts, Dut* dut, int64_t stop_after = -1,
                        const CycleObserver& observer = {});

// Throws InputError(`dirs[s]` + "/params.json") for the first workload whose params differ from the
// first one's: a run writes the config registers (threshold, slot, scale) once.
void check_same_params(const std::vector<core::AttentionWorkload>& sets, const std::vector<std::string>& dirs);

// The same results as run_attention(cfg, w, {seed, 1.0, 1.0, -1}, nullptr) (full-rate stimulus, any
// seed: garbage data never changes results) from the fast event-driven model golden/fast_model.h,
// tens of times faster; for design search (`accelgen eval`, `accelgen model --fast`).
RunResult run_attention_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

// Runs the workload on the DUT alone, the driver reacting to the DUT's own outputs: no model, no
// comparison. Only for measuring simulator speed (the benchmark); returns the cycles run and the
// delivered results (cycles_total as in run_attention).
RunResult run_dut_only(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                       const StimulusOptions& opts, Dut& dut);

// First difference between two output sets, comparing the o_* data fields only while o_valid.
std::optional<Mismatch> compare_outputs(const golden::UnitOutputs& expected,
                                        const golden::UnitOutputs& got, int64_t cycle);

// Checks the delivered results against the functional models (docs/semantics.md): every query's kept
// count, empty flag and bit steps (golden::score_all) and its output row, element by element
// (golden::attention_output with the run's alpha). Returns "" when they agree.
std::string check_functional(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                             const std::vector<QueryResult>& queries, uint64_t alpha_bits);
// The same for a run of several workloads: each against its own slice of the results.
std::string check_functional(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                             const std::vector<QueryResult>& queries, uint64_t alpha_bits);

}  // namespace accelgen::tb
