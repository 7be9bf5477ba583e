// accelgen::cli — `accelgen area`: checks the options (bad input is a core::InputError naming the
// option), runs flows::synthesize_area, writes the JSON (also for an infeasible result, which then
// fails the command) and prints the summary.
#include "cli/area_cmd.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "flows/area.h"
#include "flows/liberty.h"
#include "flows/macro_lib.h"
#include "flows/text_io.h"
#include "gen/dispatch.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

using flows::AreaOptions;
using flows::AreaResult;

struct AreaArgs {
  std::string config, liberty, sdc, json_out, work, cache;
  std::vector<std::string> macro_libs;
  bool no_cache = false;
  bool single_process = false;
  int jobs = 0;
  int timeout_s = 3600;
};

void print_summary(const AreaResult& r) {
  std::cout << fmt::format("area of {} with liberty {} ({}), {}{}\n", r.top, r.liberty_name, r.liberty_path,
                           r.yosys_version, r.from_cache ? " [cached]" : "");
  const bool ge = r.nand2_area > 0;
  std::cout << fmt::format("  {:<24} {:>5} {:>14} {:>12} {:>9} {:>7}\n", "module", "inst", "area/inst",
                           ge ? "NAND2-eq" : "", "cells", "flops");
  for (const auto& m : r.modules) {
    std::cout << fmt::format("  {:<24} {:>5} {:>14.1f} {:>12} {:>9} {:>7}\n", m.name, m.instances, m.area_um2,
                             ge ? fmt::format("{:.1f}", m.nand2_eq) : "", m.cells, m.flops);
  }
  std::cout << fmt::format("  {:<24} {:>5} {:>14.1f} {:>12} {:>9} {:>7}\n", "total", "", r.area_um2,
                           ge ? fmt::format("{:.1f}", r.nand2_eq) : "", r.cells, r.flops);
  std::cout << fmt::format("  memory ({} mode): {:.1f} um^2 in {} bits, logic {:.1f} um^2\n", r.memory_mode,
                           r.memory_um2, r.memory_bits, r.logic_um2);
  for (const auto& m : r.memories) {
    std::cout << fmt::format("    {:<22} {:>2} x {:>5} x {:>4} bits {:>14.1f} um^2  {}\n", m.module, m.instances,
                             m.depth, m.width, m.area_um2, m.source);
  }
  std::cout << fmt::format("  areas in the liberty's unit (um^2 for a real library){}\n",
                           ge ? fmt::format("; NAND2-eq = area / {} ({})", r.nand2_cell, r.nand2_area) : "");
  if (r.timing_available) {
    std::cout << fmt::format(
        "  timing ({} corner, {}): clock {} ns, slack {:.3f} ns, critical path {:.3f} ns "
        "-> fmax {:.1f} MHz\n    from {} to {}\n",
        r.corner.empty() ? "default" : r.corner, r.sta_version, r.clock_period_ns, r.slack_ns,
        r.critical_path_ns, r.fmax_mhz, r.critical_startpoint, r.critical_endpoint);
  } else {
    std::cout << "  timing: " << r.timing_note << "\n";
  }
  std::cout << fmt::format(
      "  {}synthesis {:.1f} s ({:.1f} CPU s; {}, {} Yosys process{} at a time), STA {:.1f} s ({:.1f} CPU s)\n",
      r.from_cache ? "from the cache (key " + r.cache_key + "); when run: " : "", r.synth_seconds,
      r.synth_cpu_seconds, r.synth_flow, r.synth_workers, r.synth_workers == 1 ? "" : "es", r.sta_seconds,
      r.sta_cpu_seconds);
  if (!r.module_seconds.empty()) {
    std::string mods;
    for (size_t i = 0; i < r.module_seconds.size(); ++i) {
      mods += fmt::format("{}{} {:.1f} s", mods.empty() ? "" : ", ", r.module_seconds[i].first, r.module_seconds[i].second);
      if (i < r.module_cpu_seconds.size()) mods += fmt::format(" ({:.1f} CPU s)", r.module_cpu_seconds[i]);
    }
    std::cout << "  per-module Yosys wall time: " << mods << "\n";
  }
}

void cmd_area(const AreaArgs& a) {
  const gen::GeneratedConfig g = gen::generate_file(a.config);  // attention unit or N:M array
  AreaOptions o;
  if (!a.liberty.empty()) {
    if (!fs::is_regular_file(a.liberty)) throw core::InputError("--liberty", "no such file: " + a.liberty);
    o.liberty = fs::absolute(a.liberty);
  } else if (!fs::is_regular_file(flows::default_liberty_path())) {
    throw core::InputError("liberty",
                           fmt::format("the default liberty {} is missing: run ./setup.sh (it extracts "
                                       "Debian package qflow-tech-osu018 there), or pass --liberty FILE",
                                       flows::default_liberty_path().string()));
  }
  if (!a.sdc.empty()) {
    if (!fs::is_regular_file(a.sdc)) throw core::InputError("--sdc", "no such file: " + a.sdc);
    o.sdc = fs::absolute(a.sdc);
  }
  for (const std::string& m : a.macro_libs) {
    // Checked here so that a bad file is an input error (exit 2) naming it, not an infeasible result.
    if (!fs::is_regular_file(m)) throw core::InputError("--macro-lib", "no such file: " + m);
    try {
      if (flows::macro_cells(flows::parse_liberty(flows::read_text(m))).empty())
        throw core::InputError("--macro-lib", m + ": no RAM macro (a cell with memory() { type : ram; "
                                              "address_width; word_width; } and an area)");
    } catch (const core::InputError& e) {
      if (e.where() == "--macro-lib") throw;
      throw core::InputError("--macro-lib", m + ": " + e.what());
    }
    o.macro_libs.push_back(fs::absolute(m));
  }
  if (a.timeout_s < 1) throw core::InputError("--timeout", "must be at least 1 second");
  if (a.jobs < 0 || a.jobs > 256) throw core::InputError("--jobs", "must be 0 (one per core) to 256");
  o.single_process = a.single_process;
  o.jobs = a.jobs;
  o.use_cache = !a.no_cache;
  o.cache_root = a.cache;
  o.work_dir = a.work;
  o.timeout_s = a.timeout_s;
  const AreaResult r = flows::synthesize_area(g.outputs, o);
  if (!a.json_out.empty()) {
    const fs::path out = a.json_out;
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    const fs::path tmp = out.string() + ".tmp";
    flows::write_text(tmp, flows::to_json(r).dump(2) + "\n");
    fs::rename(tmp, out);
  }
  if (!r.feasible) throw std::runtime_error("area: infeasible: " + r.reason);
  print_summary(r);
}

}  // namespace

void add_area_command(CLI::App& app) {
  auto a = std::make_shared<AreaArgs>();
  auto* cmd = app.add_subcommand("area",
                                 "synthesize the RTL with Yosys against a liberty: area, NAND2-eq, flops, "
                                 "cells per module; OpenSTA critical path and fmax");
  cmd->add_option("--config", a->config, "config JSON")->required();
  cmd->add_option("--liberty", a->liberty, "liberty file (default: OSU 0.18 um cells from ./setup.sh)");
  cmd->add_option("--sdc", a->sdc, "clock constraints (default: constraints/clk_i.sdc)");
  cmd->add_option("--json", a->json_out, "write the result as JSON");
  cmd->add_option("--timeout", a->timeout_s, "time limit per tool run, seconds");
  cmd->add_option("--work", a->work, "keep the Yosys/OpenSTA work files in this directory");
  cmd->add_option("--cache", a->cache, "cache directory (default: $ACCELGEN_CACHE or ~/.cache/accelgen)");
  cmd->add_option("--macro-lib", a->macro_libs,
                  "\"memory\": \"macro\": Liberty files with SRAM macros (docs/memory.md); without: the SRAM "
                  "area model")
      ->expected(1, -1);
  cmd->add_flag("--no-cache", a->no_cache, "always synthesize; do not read or write the cache");
  cmd->add_option("--jobs", a->jobs,
                  "Yosys processes at a time, one module each (default 0: one per core; "
                  "$ACCELGEN_SYNTH_JOBS); never changes a result");
  cmd->add_flag("--single-process", a->single_process,
                "synthesize the whole design in one Yosys process (flows/area.ys) instead of one per module");
  cmd->callback([a] { cmd_area(*a); });
}

}  // namespace accelgen::cli
