// accelgen::flows — the result of the area/timing flow (flows/area.h): the whole design's and each
// module's area, NAND2 equivalents, flops and cells, the critical path and fmax, and where the
// numbers came from (tool versions, liberty, cache). Its JSON form is the `area` object of
// `accelgen area --json` and of `accelgen eval` records, and what the area cache stores.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace accelgen::flows {

// One module of the synthesized hierarchy. Area, cells and flops are those of one instance and
// count only the module's own leaf cells (its submodules are rows of their own).
struct ModuleArea {
  std::string name;
  int instances = 0;    // in the whole design; the top is 1
  double area_um2 = 0;  // liberty area units: um^2 for a real library
  double nand2_eq = 0;  // area / the liberty's NAND2 area
  int flops = 0;
  int cells = 0;
};

// One memory module of the design (docs/memory.md) and its area: synthesized ("flops" mode) or
// an SRAM macro tiling / the SRAM model ("macro" mode).
struct MemoryArea {
  std::string module, role;
  int instances = 0, depth = 0, width = 0;
  long long bits = 0;    // depth x width x instances
  double area_um2 = 0;   // all instances
  std::string source;    // "synthesized", "model", or "<macro cell> x N (D deep, W wide)" per instance
  double clk_to_dout_ns = 0;  // macro mode: the read arc given to OpenSTA (macro's, else the model's)
  // Macro mode, pJ (docs/memory.md "Energy"); -1 when unknown (flops mode: the memory is in the
  // netlist and in report_power; a macro library without clock-pin internal_power).
  double read_pj = -1, write_pj = -1;  // one word read / written (every macro of the word's row)
  double idle_pj_per_cycle = -1;       // one instance (all its macros), every clock cycle
};

struct AreaResult {
  bool feasible = false;
  std::string reason;  // why not feasible
  std::string top;

  // Whole design: sum over modules of (one instance) x instances.
  double area_um2 = 0;
  double nand2_eq = 0;  // 0 when the liberty has no NAND2 cell
  int flops = 0;
  int cells = 0;
  std::vector<ModuleArea> modules;  // in Yosys's order
  // Memories (docs/memory.md): the config's mode, their area and bits, the rest of the design.
  std::string memory_mode = "flops";
  double memory_um2 = 0, logic_um2 = 0;
  long long memory_bits = 0;
  std::vector<MemoryArea> memories;

  // Timing at the liberty's default operating conditions (its typical corner for OSU018).
  bool timing_available = false;
  std::string timing_note;      // why there is no timing (area-only liberty, STA failed, ...)
  double clock_period_ns = 0;   // from the SDC
  double critical_path_ns = 0;  // clock period - worst setup slack
  double fmax_mhz = 0;          // 1000 / critical_path_ns
  double slack_ns = 0;
  std::string critical_startpoint, critical_endpoint;
  std::string corner;  // the liberty's default_operating_conditions

  std::string yosys_version;  // "Yosys 0.23 (git sha1 7ce5011c24b)"
  std::string sta_version;    // "OpenSTA 2.0.17"
  std::string liberty_name;   // library(...) name, e.g. osu018_stdcells
  std::string liberty_path;
  std::string liberty_hash;  // content hash
  std::string nand2_cell;    // the NAND2 cell used as gate equivalent, e.g. NAND2X1
  double nand2_area = 0;
  std::string sdc_path;

  std::string cache_key;
  bool from_cache = false;
  double synth_seconds = 0;  // Yosys wall time of the run that produced the numbers
  double sta_seconds = 0;
  // CPU seconds (user + system) of every Yosys and ABC process of the synthesis, summed: with the
  // per-module wall times, what the synthesis costs on an idle machine whatever the load was.
  double synth_cpu_seconds = 0;
  double sta_cpu_seconds = 0;
  std::string synth_flow;    // "per-module" or "single-process" (flows/area.h)
  int synth_workers = 0;     // Yosys processes at a time in that run
  // Per-module flow: wall time of each module's Yosys process (what bounds the synthesis time).
  std::vector<std::pair<std::string, double>> module_seconds;
  std::vector<double> module_cpu_seconds;  // same order; only with one Yosys process at a time (--jobs 1)
};

// Unavailable figures (no NAND2 cell, no timing) are JSON null.
nlohmann::json to_json(const AreaResult& r);
// Throws nlohmann::json::exception on a missing or mistyped field.
AreaResult area_result_from_json(const nlohmann::json& j);

// Latency of `cycles` clock cycles at fmax: cycles / fmax, in ns.
double latency_ns(double cycles, double fmax_mhz);

}  // namespace accelgen::flows
