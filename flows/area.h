// accelgen::flows — the area/timing flow: Yosys area and OpenSTA timing of a config's RTL (issue 5).
//
// The generated RTL is synthesized with Yosys (flows/area.ys: hierarchy kept, mapped to a liberty)
// and timed with OpenSTA (flows/sta.tcl, clock from constraints/clk_i.sdc). Both run as child
// processes with argument vectors, in a work directory, with a time limit; a failed or timed-out
// synthesis comes back as `feasible == false` with the reason, never as an exception.
//
// The pieces: the liberty (flows/liberty.h), Yosys's statistics report cross-checked against the
// liberty's own cell areas (flows/yosys_stat.h: a change in either format makes the result
// infeasible with an "internal:" reason instead of a wrong number), OpenSTA's report
// (flows/sta_report.h), the result and its JSON (flows/area_result.h).
//
// By default each module is synthesized in its own Yosys process, up to one per core at a time
// (flows/area_elab.ys, area_module.ys; flows/synth_jobs.h; the modules' stat sections and
// netlists are joined by the tool); `single_process` runs the
// original one-process script flows/area.ys.
//
// Results are cached under <cache root>/area/ (flows/flow_cache.h), keyed by the generated RTL, the
// liberty, the SDC, the flow scripts and the tool versions, so evaluating the same config again
// costs no synthesis. The entry keeps the mapped netlist (netlist.v) for the power estimate
// (flows/power.h).
#pragma once

#include <filesystem>
#include <vector>

#include "core/config.h"
#include "flows/area_result.h"
#include "gen/generator.h"

namespace accelgen::flows {

struct AreaOptions {
  std::filesystem::path liberty;  // empty: default_liberty_path()
  std::filesystem::path sdc;      // empty: default_sdc_path()
  bool use_cache = true;
  std::filesystem::path cache_root;  // empty: default_cache_dir() (flows/flow_cache.h)
  std::filesystem::path work_dir;    // empty: a temporary directory, removed afterwards
  int timeout_s = 3600;              // per tool run (Yosys, OpenSTA)
  // Synthesis in one Yosys process per module (flows/area_module.ys), at most `jobs` at a time
  // (0: flows::default_synth_jobs(), the core count), then joined (stat sections, netlists); or, with
  // single_process, the whole design in one Yosys process (flows/area.ys). The two flows give the
  // same per-module flops and cells and areas within ABC's run-to-run noise (tests/test_area.cpp);
  // their results are cached under different keys. The number of jobs never changes a result.
  bool single_process = false;
  int jobs = 0;
  // "memory": "macro" configs: Liberty files with SRAM macros (docs/memory.md); empty: the SRAM
  // area model. Ignored in "flops" mode.
  std::vector<std::filesystem::path> macro_libs;
};

// The OSU 0.18 um liberty that setup.sh extracts from Debian's qflow-tech-osu018 into
// build/third_party/osu018/ (or the system copy if the package is installed). The returned path
// may not exist; synthesize_area then reports it with the fix.
std::filesystem::path default_liberty_path();
std::filesystem::path default_sdc_path();  // constraints/clk_i.sdc

// Never throws for a tool or liberty problem: see `feasible` / `reason`.
AreaResult synthesize_area(const core::AttentionConfig& c, const AreaOptions& o);
AreaResult synthesize_area(const gen::Outputs& outputs, const AreaOptions& o);

// The mapped netlist a result was timed on: <cache entry>/netlist.v, kept by synthesize_area in the
// area cache ("" if the result did not come from or go to the cache, or the file is missing).
std::filesystem::path cached_netlist(const AreaResult& r, const AreaOptions& o);

}  // namespace accelgen::flows
