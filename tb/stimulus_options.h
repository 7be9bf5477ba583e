// accelgen::tb — the stimulus options of a run, one type for both blocks' drivers (tb/stimulus.h for
// the attention unit, tb/nm_driver.h for the N:M array). The command line fills it once: `accelgen
// sim` and `accelgen model` (cli/commands.cpp) and the per-config simulators (tb/sim_main.h) add its
// options with tb::add_stimulus_options. Every field means the same for both blocks; neither block
// has options of its own.
// May include: the standard library only.
#pragma once

#include <cstdint>

namespace accelgen::tb {

struct StimulusOptions {
  uint64_t seed = 1;        // random valid gaps, back-pressure, garbage on idle data inputs
  double valid_prob = 1.0;  // chance per cycle that an idle input stream starts its next beat
  double ready_prob = 1.0;  // chance per cycle that the output stream is ready (o_ready_i, y_ready_i)
  int64_t reset_at = -1;    // cycle at which reset is asserted again and the run starts over; -1: never
  // A burst whose length the design counts by itself goes without its last flag on its last beat,
  // so the design must end it by its count: a key set of max_keys keys (k_last_i), an N:M weight
  // set of D beats (w_last_i) and every N:M row tile (x_last_i, G beats = the weight set's count).
  bool last_by_count = false;
};

}  // namespace accelgen::tb
