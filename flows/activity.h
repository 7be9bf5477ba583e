// accelgen::flows — switching activity of the attention unit's input pins, measured on a workload's
// simulation, for the power estimate (flows/power.h).
//
// The golden pin-level model runs the workload with the full-rate stimulus `accelgen eval` uses
// (tb::run_attention, seed 1, no gaps or back-pressure) and every input bit of `<name>_attn_top` is
// counted per cycle: toggles per clock cycle (activity) and the fraction of cycles it is 1 (duty).
// The testbench drives random garbage on data inputs whose valid is low (a verification device);
// a real sender holds its last value, so here a data, key-last, slot, key-count or config
// address/data input keeps its previous value while its valid/write-enable is low. The clock is not
// an input bit here (OpenSTA takes it from the SDC).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "tb/run.h"

namespace accelgen::flows {

struct PinActivity {
  std::string pin;  // port bit as OpenSTA names it in the mapped netlist: "rst_ni", "q_data_i[3]"
  double activity = 0;  // toggles per clock cycle, 0..1
  double duty = 0;      // fraction of cycles at 1
};

struct InputActivity {
  std::vector<PinActivity> pins;
  int64_t cycles = 0;        // simulated cycles counted
  double mean_activity = 0;  // over all pins
};

// Throws std::runtime_error if the model run fails (it then says nothing about the hardware).
InputActivity measure_unit_input_activity(const core::AttentionConfig& cfg, const core::AttentionWorkload& w);

// The same numbers from per-cycle port values: values[c][p] is port p's value on cycle c as an
// MSB-first hex string of ceil(width/4) digits (tb::Bits::hex). Exposed for the tests.
InputActivity activity_from_vectors(const std::vector<std::string>& names, const std::vector<int>& widths,
                                    const std::vector<std::vector<std::string>>& values);

// Word reads and writes of one memory role over a run, all its instances together.
struct RoleTraffic {
  uint64_t reads = 0, writes = 0;
};
using MemoryTraffic = std::map<std::string, RoleTraffic>;  // by role: key, value, collect

// The attention unit's memory accesses on workload `w`, from the run's per-query results
// (docs/energy.md "Memories"; the microarchitecture fixes them):
// - key store: one write per key loaded; one read per visible (query, key) pair: every visible key
//   is issued exactly once per query and its row is read at the issue edge;
// - value store: one write per key; one read per lane survivor (kept + filtered): every collect
//   entry goes through the x V pipeline, filtered ones with e = 0;
// - collect buffers: one write and one read per lane survivor.
// For a run without a reset in the middle. The RTL's re_i/we_i edges, counted in the Icarus replay
// (flows/icarus.h rtl_memory_traffic), equal these (tests/test_memory_traffic.cpp).
MemoryTraffic attention_memory_traffic(const core::AttentionWorkload& w, const tb::RunResult& run);

// "collect R/W key R/W value R/W": every role's reads and writes on one line (logs, test messages).
std::string describe(const MemoryTraffic& t);

}  // namespace accelgen::flows
