// accelgen::golden — fast, transaction-level model of the whole attention unit `<name>_attn_top`.
//
// Gives exactly the results of the pin-level run (golden::UnitCycleModel driven by tb::AttnDriver at full
// rate: StimulusOptions{seed, valid_prob = 1, ready_prob = 1, reset_at = -1}, see tb/run.h): the same
// cycles_total, and per query the same output row, count, empty flag, bit steps, score-phase cycles,
// back-end cycles and output-handshake cycle. It never evaluates pins cycle by cycle: the score engine
// is simulated from event to event (a lane reaching the done step of its key, an output beat, an
// end-of-query beat, a query entering a context, ...) with lanes and result slots held as bit masks,
// and the back-end is closed-form per query (docs/softmax.md: ACC n + 2, DIV QB, DONE 1, IDLE 1).
// The per-score step counts, kept flags and exact scores come from fast exact kernels equivalent to
// golden::score_all (checked against it by tests/test_fast_model.cpp), the output rows from the same
// arithmetic as golden::attention_output (docs/softmax.md steps 1-9).
//
// Full-rate driver behaviour reproduced (tb/stimulus.cpp): 2 reset cycles, one config write per cycle
// (alpha, then one threshold per slot unless dense), one key beat per cycle, a query presented whenever
// one is left, o_ready = 1 in every cycle. Garbage data and config read-backs never affect results.
//
// May include: core/, Eigen and golden/ only (not tb/).
#pragma once

#include <cstdint>
#include <vector>

#include "core/config.h"
#include "core/workload.h"

namespace accelgen::golden {

// One query as the unit's output stream delivers it (the fields of tb::QueryResult).
struct FastQuery {
  std::vector<int64_t> out;  // dv elements, units of 2^-out_frac_bits
  uint32_t count = 0;        // kept keys
  bool empty = false;        // every key pruned
  uint64_t steps = 0;        // bit steps (sum of n_ij)
  uint64_t cycles = 0;       // score-phase cycles (o_cycles_o)
  uint64_t bcycles = 0;      // back-end cycles (o_bcycles_o)
  int64_t end_cycle = 0;     // cycle of the output handshake
  uint32_t filtered = 0;     // relative thresholds: survivors dropped below M_i - delta

  bool operator==(const FastQuery&) const = default;
};

struct FastRun {
  std::vector<FastQuery> queries;
  int64_t cycles_total = 0;      // from the release of reset (cycle 0 of the run) to the last output beat
  int64_t cycles_simulated = 0;  // cycles the pin-level loop runs: last output handshake cycle + 1
  uint64_t alpha_bits = 0;       // the alpha register value written by the driver
  int64_t events = 0;            // cycles the event loop actually evaluated (informational)
};

// Per-score results of one head, compact: element i * lk + j is query i against key j. Equal to
// golden::score_all's steps and kept; score is exact where kept (and unspecified where pruned, whose score
// neither the timing nor the output needs).
struct FastScores {
  int lq = 0, lk = 0;
  std::vector<uint8_t> steps;  // n_ij, 1..wk
  std::vector<uint8_t> kept;   // 0/1
  std::vector<int64_t> score;  // s_ij where kept
};

// Whether the event-driven model covers this run: not yet for causal workloads or relative-threshold hardware (the
// pin-level UnitCycleModel does; tb::run_attention_fast falls back to it). run_fast throws
// std::invalid_argument for a run it does not cover.
bool fast_model_supports(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

// Scores every query of w against every key (threshold w.params.theta; dense: wk steps, all kept).
// Throws core::InputError for a shape mismatch or an element outside its width.
FastScores fast_score(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

// The whole run. Throws core::InputError for an invalid config or workload (as the pin-level models do).
FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

// The same with the scores already computed (fast_score of the same cfg and w): the event simulation and
// the softmax only.
FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& scores);

}  // namespace accelgen::golden
