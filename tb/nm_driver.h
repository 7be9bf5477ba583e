// accelgen::tb — the GEMM driver of docs/nm_array.md: tiling, streams and run statistics.
//
// NmDriver turns Y = X * W into the pin inputs of every cycle (reset, the weight beats of each
// column tile, the x beats of each row tile, y_ready) with seeded random valid gaps and
// back-pressure and random bits on data inputs whose valid is low, and rebuilds Y from the result
// beats it observes. It reacts only to handshakes, so the same driver can feed the Verilated RTL and
// golden::NmCycleModel in lock step (tb/nm_run.h, `accelgen sim`); run_nm_gemm() runs it on the
// model alone. Deterministic for a given seed. May include: core/, golden/, tb/.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/nm_compress.h"
#include "core/nm_config.h"
#include "core/tensor.h"
#include "golden/nm_model.h"
#include "tb/stimulus_options.h"

namespace accelgen::tb {

// docs/nm_array.md "Run statistics".
struct NmStats {
  int64_t cycles = 0;          // first cycle after the last reset .. last y handshake, inclusive
  int64_t compute_cycles = 0;  // x beats accepted
  int64_t macs = 0;            // n * R * C * G
  int64_t effective_macs = 0;  // R * K * C
  double pe_utilization = 0;     // macs / (n * rows * cols * compute_cycles)
  double array_utilization = 0;  // macs / (n * rows * cols * cycles)
};

// GEMM shape and tiling.
struct NmTiling {
  int64_t r = 0, k = 0, c = 0;     // X [R, K], W [K, C]
  int64_t groups = 0;              // G: beats per row tile = weight beats per column tile
  int64_t row_tiles = 0, col_tiles = 0;
};
NmTiling nm_tiling(const core::NmConfig& cfg, int64_t r, int64_t k, int64_t c);

class NmDriver {
 public:
  // Checks the operands (core::check_gemm_operands) and, for an N:M config, compresses W without
  // pruning: throws InputError naming x.npy / w.npy.
  NmDriver(const core::NmConfig& cfg, const core::IntMatrix& x, const core::IntMatrix& w,
           const StimulusOptions& opts);

  // Inputs for this cycle. Call once per cycle, then observe() with the outputs of the same cycle.
  golden::NmInputs inputs(int64_t cycle);
  // Records the handshakes that happen at the end of this cycle.
  void observe(const golden::NmInputs& in, const golden::NmOutputs& out, int64_t cycle);

  bool finished() const { return out_tile_ == tiling_.col_tiles; }
  const core::IntMatrix& y() const { return y_; }  // complete when finished()
  NmStats stats() const;                            // meaningful when finished()
  int64_t cycle_limit() const;                      // a run longer than this has hung
  const NmTiling& tiling() const { return tiling_; }

 private:
  void restart(int64_t cycle);
  bool chance(double p);
  void weight_beat(golden::NmInputs& in) const;  // beat beat_ of column tile tile_
  void x_beat(golden::NmInputs& in) const;       // beat beat_ of row tile stage_ of col tile tile_
  void garbage(golden::NmInputs& in);
  void advance();                                // after an accepted beat
  void collect(const std::vector<int64_t>& y_data);

  core::NmConfig cfg_;
  core::NmWidths wd_;
  core::IntMatrix x_, w_;
  core::NmCompressed wc_;  // N:M only
  NmTiling tiling_;
  StimulusOptions opts_;
  std::mt19937_64 rng_;
  std::vector<golden::NmInputs> garbage_;  // a small pool of random data inputs, drawn each cycle

  bool in_reset_ = true;
  int reset_cycles_left_ = 0;
  bool reset_again_done_ = false;
  int64_t run_start_ = 0;
  // Input side: column tile, stage (-1: weights, else the row tile), beat within the stage.
  int64_t tile_ = 0, stage_ = -1, beat_ = 0;
  bool presenting_ = false;  // the current beat is valid and stays so until accepted
  // Output side.
  int64_t out_tile_ = 0, out_beat_ = 0;
  int64_t x_beats_ = 0, last_y_cycle_ = 0;
  core::IntMatrix y_;
};

struct NmRunResult {
  core::IntMatrix y;
  NmStats stats;
  bool timed_out = false;
  int64_t cycles_simulated = 0;  // every cycle the loop ran, reset included
};

// Runs the GEMM on golden::NmCycleModel driven by NmDriver. Throws InputError for bad operands.
NmRunResult run_nm_gemm(const core::NmConfig& cfg, const core::IntMatrix& x,
                        const core::IntMatrix& w, const StimulusOptions& opts = {});

}  // namespace accelgen::tb
