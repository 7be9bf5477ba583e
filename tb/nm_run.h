// accelgen::tb — the lock-step loop of the N:M array: NmDriver (tb/nm_driver.h) feeds
// golden::NmCycleModel and optionally a DUT (the Verilated `<name>_nm_top`) the same inputs every
// cycle, every output pin is compared every cycle (y_data_o only while y_valid_o, as
// docs/nm_array.md says), and the Y the driver rebuilt from the result beats is checked against the
// functional model X * W.
// May include: core/, golden/, tb/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "golden/nm_model.h"
#include "tb/nm_driver.h"
#include "tb/run.h"

namespace accelgen::tb {

// A device under test seen through the pins of `<name>_nm_top` (tb/nm_verilator_dut.h).
class NmDut {
 public:
  virtual ~NmDut() = default;
  // Applies this cycle's inputs with the clock low, settles, and returns the outputs.
  virtual golden::NmOutputs eval(const golden::NmInputs& in) = 0;
  // The rising edge at the end of the cycle (inputs as given to the last eval), then clock low.
  virtual void tick() = 0;
  // A simulation-only check inside the RTL has failed (docs/verification.md "Assertions").
  virtual bool assertion_failed() const { return false; }
};

struct NmRun {
  std::optional<Mismatch> mismatch;  // first cycle and pin where DUT and model disagree
  std::string functional_error;      // Y differs from X * W (empty: agree)
  bool timed_out = false;
  int64_t cycles_simulated = 0;      // every cycle the loop ran, reset included
  NmTiling tiling;
  NmStats stats;                     // docs/nm_array.md "Run statistics", from the handshakes
  core::IntMatrix y;                 // [R, C] as delivered on the result stream
  bool ok() const { return !mismatch && functional_error.empty() && !timed_out; }
};

// Runs the GEMM of `w`. With dut == nullptr only the model runs. stop_after >= 0 ends the loop
// after that cycle (a failure re-run with waveform tracing up to just past the mismatch).
NmRun run_nm(const core::NmConfig& cfg, const core::NmWorkload& w, const StimulusOptions& stim,
             NmDut* dut, int64_t stop_after = -1);

// First differing pin, in port order; y_data_o[c] compared only while y_valid_o.
std::optional<Mismatch> compare_nm_outputs(const golden::NmOutputs& expected,
                                           const golden::NmOutputs& got, int64_t cycle);

}  // namespace accelgen::tb
