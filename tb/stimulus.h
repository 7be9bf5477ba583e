// accelgen::tb — pin-level stimulus for the attention unit `<name>_attn_top`.
//
// The driver turns a workload into the inputs of every cycle: reset, configuration writes (alpha and
// the thresholds), the key set with its V rows, the queries, and the output stream's ready, with seeded random valid
// gaps, back-pressure, garbage on data inputs whose valid is low, random config read-backs and an
// optional reset in the middle of the run. The same driver feeds the Verilated RTL and the golden cycle
// model, so both see identical inputs; it is deterministic for a given seed and config.
// May include: core/, golden/ (for the pin types), tb/.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "golden/cycle_model.h"
#include "golden/unit_model.h"
#include "tb/stimulus_options.h"

namespace accelgen::tb {

// What the output stream delivered for one query.
struct QueryResult {
  std::vector<int64_t> out;  // dv elements, units of 2^-out_frac_bits
  uint32_t count = 0;        // kept keys
  bool empty = false;        // every key pruned
  uint64_t steps = 0;        // bit steps (sum of n_ij)
  uint64_t cycles = 0;       // score-phase cycles
  uint64_t bcycles = 0;      // back-end cycles
  int64_t end_cycle = 0;     // cycle of the output handshake
  uint32_t filtered = 0;     // relative thresholds: survivors dropped below M_i - delta
};

class AttnDriver {
 public:
  AttnDriver(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
             const StimulusOptions& opts);
  // Several workloads back to back in one run, one reset and one round of config writes at the
  // start (their params must be equal: the caller checks, see tb::same_params): workload s's keys
  // are sent as a new key set once every query of workload s-1 has been accepted (the unit takes
  // them when no query is in flight any more), and its queries once its last key has been
  // accepted. Results come in query order, workload after workload.
  AttnDriver(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
             const StimulusOptions& opts);

  // Inputs for this cycle. Call once per cycle, then observe() with the outputs of the same cycle.
  golden::AttnInputs inputs(int64_t cycle);
  // Records the handshakes that happen at the end of this cycle.
  void observe(const golden::AttnInputs& in, const golden::UnitOutputs& out, int64_t cycle);

  bool finished() const { return results_.size() == static_cast<size_t>(total_queries_); }
  const std::vector<QueryResult>& results() const { return results_; }
  int64_t run_start_cycle() const { return run_start_; }  // first cycle after the last reset
  uint64_t alpha_bits() const { return alpha_; }
  int64_t cycle_limit() const;

 private:
  enum class Phase { kReset, kConfig, kRun };
  struct CfgWrite {
    uint32_t addr;
    uint64_t data;
  };

  void restart(int64_t cycle);
  bool chance(double p);
  std::vector<int64_t> random_row(int width, int length);
  const std::vector<int64_t>& garbage_row(const std::vector<std::vector<int64_t>>& pool);
  std::vector<int64_t> row(const core::IntMatrix& m, Eigen::Index i) const;
  // Workload of query number i (counted over the whole run) and its first query's number.
  size_t set_of_query(Eigen::Index i) const;
  bool keys_may_go() const;
  bool query_may_go() const;
  uint64_t theta_bits(int64_t theta) const;
  uint64_t slot_bits(const core::AttentionParams& p) const;

  core::AttentionConfig cfg_;
  core::AttentionWidths wd_;
  std::vector<core::AttentionWorkload> sets_;
  std::vector<Eigen::Index> first_query_;  // per workload: number of its first query in the run
  Eigen::Index total_queries_ = 0;
  StimulusOptions opts_;
  std::mt19937_64 rng_;
  uint64_t alpha_ = 0;
  std::vector<CfgWrite> cfg_writes_;
  // Random rows driven on k_data/q_data while their valid is low; a small pool drawn at random each
  // cycle, because drawing d fresh random elements every cycle dominated the model's run time.
  std::vector<std::vector<int64_t>> k_garbage_, q_garbage_, v_garbage_;

  Phase phase_ = Phase::kReset;
  int reset_cycles_left_ = 2;
  bool reset_done_again_ = false;
  int64_t run_start_ = 0;
  size_t next_cfg_ = 0;
  size_t key_set_ = 0;                      // workload whose keys are being sent
  Eigen::Index next_key_ = 0, next_query_ = 0;  // next_key_ within key_set_; next_query_ over the run
  bool k_presenting_ = false, q_presenting_ = false;
  std::vector<QueryResult> results_;
};

}  // namespace accelgen::tb
