// accelgen::flows — power and energy per query of a synthesized design with OpenSTA 2.0.17
// `report_power` (flows/power.tcl; what the estimate includes and excludes: docs/energy.md).
//
// Inputs: the mapped netlist of the area flow (flows/area.h keeps it in the area cache) and the
// input-pin activity measured on the workload (flows/activity.h); OpenSTA propagates it through the
// logic and the registers by probability. Power is reported at the SDC clock; the dynamic part
// is energy per cycle times the clock rate, so energy per cycle = P_dynamic x T_sdc + P_leakage x
// T_run, with T_run the period the design runs at (1 / fmax), independent of the SDC clock.
#pragma once

#include <filesystem>
#include <string>

#include "flows/activity.h"
#include "flows/area_result.h"

namespace accelgen::flows {

struct PowerReport {  // one `report_power`, W
  double internal_w = 0, switching_w = 0, leakage_w = 0, total_w = 0;
  double sequential_w = 0, combinational_w = 0, macro_w = 0;
};

// Parses OpenSTA 2.0.17 `report_power` text (the Sequential / Combinational / Macro / Pad / Total
// rows). Throws std::runtime_error naming what is missing when the text has another shape.
PowerReport parse_power_report(const std::string& text);

struct PowerOptions {
  int timeout_s = 3600;
  std::filesystem::path work_dir;  // empty: a temporary directory, removed afterwards
};

struct PowerResult {
  bool available = false;
  std::string note;            // why not available
  double clock_period_ns = 0;  // the SDC clock the report is at
  PowerReport report;
  double sta_seconds = 0;
};

// Runs OpenSTA on `netlist` with the liberty and SDC of `area` (area.liberty_path, area.sdc_path).
// Never throws for a tool problem: see available / note.
PowerResult estimate_power(const std::filesystem::path& netlist, const AreaResult& area,
                           const InputActivity& activity, const PowerOptions& o);

// Energy of one clock cycle in pJ: P_dynamic x T_sdc + P_leakage x run_period_ns.
double energy_per_cycle_pj(const PowerReport& p, double sdc_period_ns, double run_period_ns);

// Energy of the memories as SRAM macros ("memory": "macro"; docs/energy.md "Memories"), which
// report_power does not see (they are black boxes without power data): per memory module, every
// instance clocked every cycle (idle_pj_per_cycle) plus reads x read_pj + writes x write_pj.
struct MemoryEnergyRow {
  std::string module, role;
  int instances = 0;
  uint64_t reads = 0, writes = 0;  // all instances
  double read_pj = 0, write_pj = 0, idle_pj_per_cycle = 0;  // per access / per instance and cycle
  double access_pj = 0, idle_pj = 0;                        // over the run
};
struct MemoryEnergy {
  bool available = false;
  std::string note;  // why not: flops mode (inside report_power), no energy data, no access count
  double total_pj = 0;
  std::vector<MemoryEnergyRow> rows;
};
MemoryEnergy macro_memory_energy(const AreaResult& area, const MemoryTraffic& traffic, int64_t cycles);

}  // namespace accelgen::flows
