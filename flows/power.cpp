#include "flows/power.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "flows/eda_tools.h"
#include "flows/sta_report.h"  // sdc_period_ns
#include "flows/subprocess.h"
#include "flows/text_io.h"

namespace accelgen::flows {

namespace fs = std::filesystem;

namespace {

const fs::path kSourceDir = ACCELGEN_SOURCE_DIR;

PowerResult unavailable(PowerResult r, std::string note) {
  r.available = false;
  r.note = std::move(note);
  return r;
}

}  // namespace

PowerReport parse_power_report(const std::string& text) {
  PowerReport p;
  bool seq = false, comb = false, macro = false, total = false;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string group;
    f >> group;
    if (group != "Sequential" && group != "Combinational" && group != "Macro" && group != "Total") continue;
    std::string a, b, c, d;
    if (!(f >> a >> b >> c >> d)) {
      if (group == "Total") continue;  // the percentage line under the table starts differently
      throw std::runtime_error("OpenSTA report_power: malformed row: " + line);
    }
    double v[4];
    try {
      v[0] = parse_double(a, "internal power");
      v[1] = parse_double(b, "switching power");
      v[2] = parse_double(c, "leakage power");
      v[3] = parse_double(d, "total power");
    } catch (const std::exception&) {
      continue;  // the header row "Group Internal Switching ..." is not numbers
    }
    if (group == "Sequential") {
      p.sequential_w = v[3];
      seq = true;
    } else if (group == "Combinational") {
      p.combinational_w = v[3];
      comb = true;
    } else if (group == "Macro") {
      p.macro_w = v[3];
      macro = true;
    } else {
      p.internal_w = v[0];
      p.switching_w = v[1];
      p.leakage_w = v[2];
      p.total_w = v[3];
      total = true;
    }
  }
  if (!seq || !comb || !macro || !total)
    throw std::runtime_error("OpenSTA report_power: missing the Sequential, Combinational, Macro or Total row");
  return p;
}

double energy_per_cycle_pj(const PowerReport& p, double sdc_period_ns, double run_period_ns) {
  // W x ns = nJ; x 1000 = pJ.
  return ((p.internal_w + p.switching_w) * sdc_period_ns + p.leakage_w * run_period_ns) * 1000.0;
}

MemoryEnergy macro_memory_energy(const AreaResult& area, const MemoryTraffic& traffic, int64_t cycles) {
  MemoryEnergy e;
  if (area.memory_mode != "macro") {
    e.note = "\"memory\": \"flops\": the memories are flip-flops in the netlist, inside report_power";
    return e;
  }
  for (const MemoryArea& m : area.memories) {
    if (m.read_pj < 0 || m.write_pj < 0 || m.idle_pj_per_cycle < 0) {
      e.note = fmt::format("no energy data for memory {} ({}): its macro has no clock-pin internal_power", m.module,
                           m.source);
      return e;
    }
    const auto t = traffic.find(m.role);
    if (t == traffic.end()) {
      e.note = fmt::format("no access count for memory role {}", m.role);
      return e;
    }
    MemoryEnergyRow r{m.module, m.role, m.instances, t->second.reads, t->second.writes, m.read_pj, m.write_pj,
                      m.idle_pj_per_cycle};
    r.access_pj = static_cast<double>(r.reads) * r.read_pj + static_cast<double>(r.writes) * r.write_pj;
    r.idle_pj = static_cast<double>(cycles) * r.instances * r.idle_pj_per_cycle;
    e.total_pj += r.access_pj + r.idle_pj;
    e.rows.push_back(r);
  }
  e.available = true;
  return e;
}

PowerResult estimate_power(const fs::path& netlist, const AreaResult& area, const InputActivity& activity,
                           const PowerOptions& o) {
  PowerResult r;
  if (tool_versions().sta.empty()) return unavailable(r, "OpenSTA (sta) not found: run ./setup.sh");
  if (netlist.empty() || !fs::is_regular_file(netlist))
    return unavailable(r, "no mapped netlist (the area result must come from the area cache)");
  std::unique_ptr<WorkDir> work;
  try {
    work = std::make_unique<WorkDir>(o.work_dir, "accelgen-power-");
    const fs::path& w = work->path();
    const std::string sdc = read_text(area.sdc_path);
    r.clock_period_ns = sdc_period_ns(sdc);
    if (!(r.clock_period_ns > 0)) return unavailable(r, "no create_clock -period in " + area.sdc_path);
    fs::copy_file(area.liberty_path, w / "cells.lib");
    fs::copy_file(netlist, w / "netlist.v");
    // "memory": "macro": the black-box cells the area flow kept next to the netlist.
    if (fs::is_regular_file(netlist.parent_path() / "macros.lib"))
      fs::copy_file(netlist.parent_path() / "macros.lib", w / "macros.lib");
    write_text(w / "clock.sdc", sdc);
    write_text(w / "top.txt", area.top + "\n");
    write_text(w / "power.tcl", read_text(kSourceDir / "flows/power.tcl"));
    std::string act;
    for (const PinActivity& p : activity.pins) act += fmt::format("{} {} {}\n", p.pin, p.activity, p.duty);
    write_text(w / "activity.txt", act);
  } catch (const std::exception& e) {
    return unavailable(r, std::string("cannot prepare the power work directory: ") + e.what());
  }
  const fs::path& w = work->path();
  const auto t0 = std::chrono::steady_clock::now();
  const ProcessResult p = run_process({"sta", "-no_splash", "-exit", "power.tcl"}, w, w / "power.log", o.timeout_s);
  r.sta_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (p.timed_out) return unavailable(r, fmt::format("OpenSTA timed out after {} s", o.timeout_s));
  if (p.exit_code != 0) return unavailable(r, fmt::format("OpenSTA failed (exit {}): {}", p.exit_code, tool_error(w / "power.log")));
  try {
    std::istringstream log(read_text(w / "power.log"));
    for (std::string line; std::getline(log, line);) {
      if (starts_with(line, "Error")) return unavailable(r, "OpenSTA: " + trim(line));
    }
    r.report = parse_power_report(read_text(w / "power.txt"));
  } catch (const std::exception& e) {
    return unavailable(r, std::string("internal: ") + e.what());
  }
  r.available = true;
  return r;
}

}  // namespace accelgen::flows
