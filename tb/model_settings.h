// accelgen::tb — process-wide settings of the Verilated models of a per-config simulator, set once
// by its main (tb/sim_main.h) before any model exists and read by every model it creates
// (tb/verilated_top.h): a run may build two models (the checked run and, after a mismatch, its
// traced re-run), and both must see the same plusargs.
// May include: the standard library only.
#pragma once

#include <string>
#include <vector>

namespace accelgen::tb {

struct ModelSettings {
  // Verilog plusargs ("+name=value") given on the simulator's command line, passed to every model's
  // VerilatedContext so that $value$plusargs sees them (the mutation bench selects a mutant with
  // +mut=N; tests/README.md "Mutants").
  std::vector<std::string> plusargs;
  // Coverage builds only (flows::SimFlavor::coverage): where each model writes Verilator's
  // coverage counters when it is destroyed (--coverage-file).
  std::string coverage_file;
};

inline ModelSettings& model_settings() {
  static ModelSettings settings;
  return settings;
}

}  // namespace accelgen::tb
