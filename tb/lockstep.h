// accelgen::tb — the cycle loop every block's testbench shares: a driver makes each cycle's inputs,
// the golden cycle model (and a DUT, if given) evaluates them, every output is compared on every
// cycle, then the clock edge. Used by run_attention (tb/run.cpp) and run_nm (tb/nm_run.cpp).
// May include: the standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace accelgen::tb {

// The first cycle and output where the DUT and the model disagree.
struct Mismatch {
  int64_t cycle = 0;
  std::string signal;
  std::string expected;
  std::string got;
};

struct LockstepResult {
  std::optional<Mismatch> mismatch;
  bool timed_out = false;  // the driver's cycle limit was reached before it finished
  int64_t cycles = 0;      // cycles run (the loop's final cycle index)
};

// Runs until driver.finished(), the driver's cycle_limit() or, with stop_after >= 0, that cycle (a
// waveform re-run of a failure goes a little past its mismatch). Without stop_after the loop stops
// at the first mismatch (or failed RTL assertion). `compare(expected, got, cycle)` returns the first differing output;
// `observe(cycle, inputs, expected)` sees every cycle before the edge.
template <class Driver, class Model, class Dut, class Compare, class Observe>
LockstepResult run_lockstep(Driver& driver, Model& model, Dut* dut, int64_t stop_after, Compare compare,
                            Observe observe) {
  LockstepResult r;
  const int64_t limit = driver.cycle_limit();
  int64_t cycle = 0;
  for (; !driver.finished(); ++cycle) {
    if (cycle >= limit) {
      r.timed_out = true;
      break;
    }
    if (stop_after >= 0 && cycle > stop_after) break;
    const auto in = driver.inputs(cycle);
    const auto expected = model.eval(in);
    if (dut != nullptr) {
      const auto got = dut->eval(in);
      if (!r.mismatch) r.mismatch = compare(expected, got, cycle);
      if (r.mismatch && stop_after < 0) break;
    }
    observe(cycle, in, expected);
    driver.observe(in, expected, cycle);
    model.tick(in);
    if (dut != nullptr) {
      dut->tick();
      // The RTL's simulation-only checks run at the clock edge; a failure counts as this cycle's
      // mismatch (the RTL has printed which check, module and signal; docs/verification.md).
      if (!r.mismatch && dut->assertion_failed()) {
        r.mismatch = Mismatch{cycle, "assertion", "no failed assertion",
                              "$stop (see the ASSERTION FAILED line: module and signal)"};
        if (stop_after < 0) {
          ++cycle;
          break;
        }
      }
    }
  }
  r.cycles = cycle;
  return r;
}

}  // namespace accelgen::tb
