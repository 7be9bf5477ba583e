#include "flows/area.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "core/hash.h"
#include "flows/eda_tools.h"
#include "flows/flow_cache.h"
#include "flows/liberty.h"
#include "flows/macro_lib.h"
#include "flows/memory_area.h"
#include "flows/sta_report.h"
#include "flows/subprocess.h"
#include "flows/synth_jobs.h"
#include "flows/text_io.h"
#include "flows/yosys_stat.h"
#include "gen/template.h"

namespace accelgen::flows {

namespace fs = std::filesystem;

namespace {

// Baked in by CMake for accelgen_flows: where the flows, constraints and the extracted liberty are.
const fs::path kSourceDir = ACCELGEN_SOURCE_DIR;
const fs::path kBinaryDir = ACCELGEN_BINARY_DIR;

constexpr const char* kOsuRelPath = "usr/share/qflow/tech/osu018/osu018_stdcells.lib";
// Bump when the way numbers are computed from the tool outputs changes (part of the cache key).
constexpr const char* kAreaFlowVersion = "accelgen-area-2";

// CPU seconds of every child process this process has waited for (and their waited-for children:
// Yosys waits for ABC), user + system. Differences around a tool run give its CPU time.
double children_cpu_seconds() {
  rusage u{};
  if (::getrusage(RUSAGE_CHILDREN, &u) != 0) return 0;
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

AreaResult infeasible(AreaResult r, std::string reason) {
  r.feasible = false;
  r.reason = std::move(reason);
  return r;
}

// The flow scripts of one synthesis mode, rendered for this design (their text is part of the cache key).
struct SynthScripts {
  bool single_process = false;
  std::string single;              // flows/area.ys
  std::string elab, module;         // flows/area_elab.ys, area_module.ys (templates)
};

// Yosys failed: the reason, with the log's error lines.
std::string yosys_failure(const ProcessResult& p, const fs::path& log, const LibertyInfo& lib, bool keep_log) {
  if (p.timed_out) return "Yosys timed out";
  std::string why = fmt::format("Yosys failed (exit {}): {}", p.exit_code, tool_error(log));
  if (lib.buffer_cell.empty()) why += fmt::format(" (liberty {} has no buffer cell; ABC needs one)", lib.name);
  if (keep_log) why += fmt::format(" [log {}]", log.string());
  return why;
}

// The single-process flow: flows/area.ys on the whole design. Leaves stat.txt and netlist.v in w.
// Returns "" or why it failed.
std::string synth_single(const gen::Outputs& outputs, const fs::path& w, const SynthScripts& s,
                         const LibertyInfo& lib, const AreaOptions& o, AreaResult& r) {
  write_text(w / "area.ys", s.single);
  std::vector<std::string> argv = {"yosys", "-s", "area.ys"};
  argv.insert(argv.end(), outputs.rtl_files.begin(), outputs.rtl_files.end());
  const ProcessResult p = run_process(argv, w, w / "yosys.log", o.timeout_s);
  r.synth_flow = "single-process";
  r.synth_workers = 1;
  if (p.timed_out) return fmt::format("Yosys timed out after {} s", o.timeout_s);
  if (p.exit_code != 0) return yosys_failure(p, w / "yosys.log", lib, !o.work_dir.empty());
  return "";
}

// The per-module flow: elaborate once (module list and costs), one Yosys process per module (the
// costliest first, at most o.jobs at a time), then join the modules' stat sections into `stat`
// (and stat.txt) and their mapped netlists into netlist.v in w. Returns "" or why it failed.
// Modules in `macros` (the memories in "macro" mode) are not synthesized: they stay black boxes and
// get an empty stat section (their area is added by the caller).
std::string synth_per_module(const gen::Outputs& outputs, const fs::path& w, const SynthScripts& s,
                             const std::string& abc_timing, const LibertyInfo& lib, const AreaOptions& o,
                             const std::set<std::string>& macros, AreaResult& r, YosysStat& stat) {
  static const std::regex ident("[A-Za-z_][A-Za-z0-9_]*");
  r.synth_flow = "per-module";
  const bool keep = !o.work_dir.empty();
  std::vector<std::string> rtl(outputs.rtl_files.begin(), outputs.rtl_files.end());

  write_text(w / "area_elab.ys", gen::fill(s.elab, {{"TOP", outputs.top}}));
  std::vector<std::string> argv = {"yosys", "-q", "-s", "area_elab.ys"};
  argv.insert(argv.end(), rtl.begin(), rtl.end());
  ProcessResult p = run_process(argv, w, w / "yosys_elab.log", o.timeout_s);
  if (p.timed_out) return fmt::format("Yosys timed out after {} s (elaboration)", o.timeout_s);
  if (p.exit_code != 0) return yosys_failure(p, w / "yosys_elab.log", lib, keep);
  const std::vector<ModuleCost> modules = parse_module_costs(read_text(w / "modules.txt"));
  for (const ModuleCost& m : modules) {
    // Module names become file names and Yosys command arguments: only plain identifiers (the
    // generator emits no parameter overrides, so no $paramod names).
    if (!std::regex_match(m.name, ident))
      return "internal: module name is not a plain identifier, use the single-process flow: " + m.name;
  }

  std::vector<PoolJob> jobs;
  for (const ModuleCost& m : modules) {
    if (macros.count(m.name) != 0) continue;
    std::string others;
    for (const ModuleCost& x : modules)
      if (x.name != m.name) others += " " + x.name;
    const std::string script = fmt::format("area_{}.ys", m.name);
    write_text(w / script, gen::fill(s.module, {{"TOP", outputs.top},
                                                {"MODULE", m.name},
                                                {"BLACKBOX", others.empty() ? "" : "blackbox" + others},
                                                {"ABC_TIMING", abc_timing}}));
    PoolJob j{m.name, {"yosys", "-q", "-s", script}, w / fmt::format("yosys_{}.log", m.name), m.cost};
    j.argv.insert(j.argv.end(), rtl.begin(), rtl.end());
    jobs.push_back(std::move(j));
  }
  r.synth_workers = std::max(1, std::min<int>(o.jobs > 0 ? o.jobs : default_synth_jobs(), static_cast<int>(jobs.size())));
  const std::vector<PoolOutcome> outcomes = run_job_pool(jobs, w, r.synth_workers, o.timeout_s);
  std::vector<const PoolOutcome*> ran;
  for (const PoolOutcome& x : outcomes) {
    if (!x.ran) continue;
    if (x.result.timed_out) return fmt::format("Yosys timed out after {} s (module {})", o.timeout_s, x.name);
    if (x.result.exit_code != 0) return yosys_failure(x.result, x.log, lib, keep) + " (module " + x.name + ")";
    ran.push_back(&x);
  }
  std::sort(ran.begin(), ran.end(), [](const PoolOutcome* a, const PoolOutcome* b) { return a->seconds > b->seconds; });
  for (const PoolOutcome* x : ran) {
    r.module_seconds.push_back({x->name, x->seconds});
    if (x->cpu_seconds >= 0) r.module_cpu_seconds.push_back(x->cpu_seconds);
  }

  // Join: each module's stat section (the format of flows/area.ys's report, one module, no
  // hierarchy section: the instance counts follow from the submodule cells, flows/yosys_stat.h) and
  // each module's netlist, in elaboration order (children before parents).
  std::string stat_text, netlist;
  for (const ModuleCost& m : modules) {
    if (macros.count(m.name) != 0) {
      stat.modules.push_back(YosysStatModule{m.name});
      continue;
    }
    const std::string text = read_text(w / (m.name + ".stat.txt"));
    YosysStat one = parse_yosys_stat(text);
    if (one.modules.size() != 1 || one.modules.front().name != m.name)
      return "internal: the stat report of module " + m.name + " does not have exactly its section";
    stat.modules.push_back(std::move(one.modules.front()));
    stat_text += text;
    netlist += read_text(w / (m.name + ".mapped.v"));
  }
  write_text(w / "stat.txt", stat_text);
  write_text(w / "netlist.v", netlist);
  return "";
}

// The memory split of the area (docs/memory.md): in "flops" mode each memory module's synthesized
// area; in "macro" mode the macro tiling or model area replaces the black box's empty row and is
// added to the total. logic = total - memory.
void split_memory_area(AreaResult& r, const std::vector<MemorySpec>& memories, bool macro,
                       const std::vector<MacroCell>& macros, const LibertyInfo& lib) {
  r.memories.clear();
  r.memory_um2 = 0;
  r.memory_bits = 0;
  for (const MemorySpec& spec : memories) {
    auto row = std::find_if(r.modules.begin(), r.modules.end(), [&](const ModuleArea& m) { return m.name == spec.module; });
    if (row == r.modules.end()) throw std::runtime_error("internal: memory module " + spec.module + " not in the design");
    if (row->instances != spec.instances)
      throw std::runtime_error(fmt::format("internal: memory {} has {} instances, the manifest says {}", spec.module,
                                           row->instances, spec.instances));
    MemoryArea a;
    if (macro) {
      a = macro_memory_area(spec, macros);
      row->area_um2 = a.area_um2 / spec.instances;
      row->nand2_eq = lib.nand2_area > 0 ? row->area_um2 / lib.nand2_area : 0;
      r.area_um2 += a.area_um2;
    } else {
      a = {spec.module, spec.role, spec.instances, spec.depth, spec.width,
           static_cast<long long>(spec.depth) * spec.width * spec.instances, row->area_um2 * row->instances,
           "synthesized"};
    }
    r.memory_um2 += a.area_um2;
    r.memory_bits += a.bits;
    r.memories.push_back(a);
  }
  r.nand2_eq = lib.nand2_area > 0 ? r.area_um2 / lib.nand2_area : 0;
  r.logic_um2 = r.area_um2 - r.memory_um2;
}

void run_timing(AreaResult& r, const fs::path& work, int timeout_s) {
  if (r.sta_version.empty()) {
    r.timing_note = "OpenSTA (sta) not found: run ./setup.sh (Debian package opensta)";
    return;
  }
  const fs::path log = work / "sta.log";
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = children_cpu_seconds();
  const ProcessResult p = run_process({"sta", "-no_splash", "-exit", "sta.tcl"}, work, log, timeout_s);
  r.sta_seconds = seconds_since(t0);
  r.sta_cpu_seconds = children_cpu_seconds() - cpu0;
  if (p.timed_out) {
    r.timing_note = fmt::format("OpenSTA timed out after {} s", timeout_s);
    return;
  }
  if (p.exit_code != 0) {
    r.timing_note = fmt::format("OpenSTA failed (exit {}): {}", p.exit_code, tool_error(log));
    return;
  }
  StaSummary s;
  try {
    s = parse_sta_output(read_text(log));
  } catch (const std::exception& e) {
    r.timing_note = std::string("internal: ") + e.what();
    return;
  }
  if (!s.ok) {
    r.timing_note = "OpenSTA: " + s.error;
    return;
  }
  const double cp = s.period_ns - s.slack_ns;
  if (!(cp > 0)) {
    r.timing_note = fmt::format("OpenSTA: no register or port path constrained by clock {}", s.clock);
    return;
  }
  r.timing_available = true;
  r.clock_period_ns = s.period_ns;
  r.slack_ns = s.slack_ns;
  r.critical_path_ns = cp;
  r.fmax_mhz = 1000.0 / cp;
  r.critical_startpoint = s.startpoint;
  r.critical_endpoint = s.endpoint;
}

}  // namespace

fs::path default_liberty_path() {
  const fs::path local = kBinaryDir / "third_party/osu018" / kOsuRelPath;
  if (fs::exists(local)) return local;
  const fs::path system = fs::path("/") / kOsuRelPath;
  if (fs::exists(system)) return system;
  return local;
}

fs::path default_sdc_path() { return kSourceDir / "constraints/clk_i.sdc"; }

AreaResult synthesize_area(const core::AttentionConfig& c, const AreaOptions& o) {
  return synthesize_area(gen::generate(c), o);
}

AreaResult synthesize_area(const gen::Outputs& outputs, const AreaOptions& o) {
  AreaResult base;
  base.top = outputs.top;
  const bool default_lib = o.liberty.empty();
  const fs::path lib_path = default_lib ? default_liberty_path() : o.liberty;
  const fs::path sdc_path = o.sdc.empty() ? default_sdc_path() : o.sdc;
  base.liberty_path = lib_path.string();
  base.sdc_path = sdc_path.string();
  static const std::regex ident("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(outputs.top, ident))
    return infeasible(base, "top module name is not a plain identifier: " + outputs.top);

  // ---- inputs: liberty, SDC, flow scripts
  if (!fs::is_regular_file(lib_path)) {
    return infeasible(base, default_lib
                                ? fmt::format("default liberty {} not found: run ./setup.sh (it extracts "
                                              "Debian package qflow-tech-osu018 "
                                              "into build/third_party/osu018), or pass --liberty FILE",
                                              lib_path.string())
                                : fmt::format("liberty {} not found", lib_path.string()));
  }
  std::string lib_text, sdc_text, flow_text, sta_text;
  try {
    lib_text = read_text(lib_path);
    sdc_text = read_text(sdc_path);
    flow_text = read_text(kSourceDir / "flows/area.ys");
    sta_text = read_text(kSourceDir / "flows/sta.tcl");
  } catch (const std::exception& e) {
    return infeasible(base, e.what());
  }
  base.liberty_hash = core::hash_hex(lib_text);
  LibertyInfo lib;
  try {
    lib = parse_liberty(lib_text);
  } catch (const std::exception& e) {
    return infeasible(base, fmt::format("cannot read liberty {}: {}", lib_path.string(), e.what()));
  }
  base.liberty_name = lib.name;
  base.nand2_cell = lib.nand2_cell;
  base.nand2_area = lib.nand2_area;
  base.corner = lib.default_operating_conditions;
  if (std::none_of(lib.cells.begin(), lib.cells.end(), [](const LibertyCell& c) { return c.has_area; }))
    return infeasible(base, fmt::format("liberty {} has no cell with an area", lib_path.string()));

  const double period_ns = sdc_period_ns(sdc_text);
  const bool timed = lib.has_timing && period_ns > 0;
  static const std::regex cell_ident("[A-Za-z_][A-Za-z0-9_$]*");
  std::string abc_timing;
  std::string abc_constr;
  if (timed && !lib.buffer_cell.empty() && std::regex_match(lib.buffer_cell, cell_ident)) {
    // ABC maps for the clock period (ps), buffers high-fanout nets and sizes gates; without the
    // constraint file it does neither and a flop driving a 1000-input mux gets a microsecond delay.
    abc_timing =
        fmt::format("-D {} -constr abc.constr", static_cast<long long>(std::llround(period_ns * 1000)));
    abc_constr = fmt::format("set_driving_cell {}\nset_load 10.0\n", lib.buffer_cell);
  }
  SynthScripts scripts;
  scripts.single_process = o.single_process;
  try {
    if (o.single_process) {
      scripts.single = gen::fill(flow_text, {{"TOP", outputs.top}, {"ABC_TIMING", abc_timing}});
    } else {
      scripts.elab = read_text(kSourceDir / "flows/area_elab.ys");
      scripts.module = read_text(kSourceDir / "flows/area_module.ys");
    }
  } catch (const std::exception& e) {
    return infeasible(base, std::string("internal: ") + e.what());
  }

  // ---- memories (docs/memory.md): in "macro" mode black boxes costed by the macro libraries or the model
  std::vector<MemorySpec> memories;
  std::vector<MacroCell> macro_cells_found;
  std::string macro_texts;
  try {
    memories = manifest_memories(outputs);
    base.memory_mode = manifest_memory_mode(outputs);
  } catch (const std::exception& e) {
    return infeasible(base, std::string("internal: cannot read the manifest's memories: ") + e.what());
  }
  const bool macro = base.memory_mode == "macro";
  if (macro && o.single_process)
    return infeasible(base, "\"memory\": \"macro\" needs the per-module flow (drop --single-process)");
  if (macro) {
    for (const fs::path& p : o.macro_libs) {
      try {
        const std::string text = read_text(p);
        const std::vector<MacroCell> cells = macro_cells(parse_liberty(text));
        macro_cells_found.insert(macro_cells_found.end(), cells.begin(), cells.end());
        macro_texts += text + std::string(1, '\0');
      } catch (const std::exception& e) {
        return infeasible(base, fmt::format("cannot read macro library {}: {}", p.string(), e.what()));
      }
    }
    if (!o.macro_libs.empty() && macro_cells_found.empty())
      return infeasible(base, "--macro-lib: no RAM macro (memory() group of type ram with an area) in the files");
  }
  std::set<std::string> macro_modules;
  if (macro) {
    for (const MemorySpec& m : memories) macro_modules.insert(m.module);
  }

  const ToolVersions& tv = tool_versions();
  base.yosys_version = tv.yosys;
  base.sta_version = tv.sta;
  if (tv.yosys.empty()) return infeasible(base, "yosys not found: run ./setup.sh (Debian package yosys)");

  // ---- cache
  core::Fnv1a64 h;
  // Everything that changes a number: the flow mode and its scripts (with the ABC options), the
  // liberty, the SDC, the STA script, the tool versions and the RTL. Not the number of jobs.
  for (const std::string& part :
       {std::string(kAreaFlowVersion), std::string(o.single_process ? "single-process" : "per-module"),
        outputs.top, lib_text, sdc_text, scripts.single, scripts.elab, scripts.module, abc_timing,
        abc_constr, sta_text, tv.yosys, tv.sta, base.memory_mode,
        macro ? fmt::format("{}|{}|{}|{}|{}|{}", kModelUm2PerBit, kModelClkToDoutNs, kModelReadPjPerBit,
                            kModelWritePjPerBit, kModelIdlePjPerBitCycle, macro_texts)
              : std::string()}) {
    h.update(part);
    h.update(std::string(1, '\0'));
  }
  for (const auto& name : outputs.rtl_files) {
    for (const auto& f : outputs.files) {
      if (f.name != name) continue;
      h.update(f.name);
      h.update(std::string(1, '\0'));
      h.update(f.content);
    }
  }
  base.cache_key = h.hex();
  std::optional<CacheEntry> entry;  // held to the end: its lock makes a concurrent run wait
  if (o.use_cache) {
    entry.emplace((o.cache_root.empty() ? default_cache_dir() : o.cache_root) / "area", outputs.top,
                  base.cache_key);
    const fs::path stored = entry->dir() / "result.json";
    auto cached = [&]() -> std::optional<AreaResult> {
      try {
        if (!fs::exists(stored)) return std::nullopt;
        AreaResult r = area_result_from_json(nlohmann::json::parse(read_text(stored)));
        r.from_cache = true;
        r.liberty_path = base.liberty_path;
        r.sdc_path = base.sdc_path;
        return r;
      } catch (const std::exception&) {
        return std::nullopt;  // unreadable entry: synthesize again and replace it
      }
    };
    if (auto r = cached()) return *r;
    try {
      entry->lock();
      if (auto r = cached()) return *r;  // a concurrent run finished it while we waited
    } catch (const fs::filesystem_error&) {
      // no cache directory: synthesize without the lock
    }
  }

  // ---- synthesis
  std::unique_ptr<WorkDir> work;
  try {
    work = std::make_unique<WorkDir>(o.work_dir, "accelgen-area-");
    const fs::path& w = work->path();
    for (const auto& f : outputs.files) {
      if (std::find(outputs.rtl_files.begin(), outputs.rtl_files.end(), f.name) != outputs.rtl_files.end())
        write_text(w / f.name, f.content);
    }
    write_text(w / "cells.lib", lib_text);
    if (!abc_constr.empty()) write_text(w / "abc.constr", abc_constr);
    write_text(w / "clock.sdc", sdc_text);
    write_text(w / "sta.tcl", sta_text);
    write_text(w / "top.txt", outputs.top + "\n");
  } catch (const std::exception& e) {
    return infeasible(base, std::string("cannot prepare the work directory: ") + e.what());
  }
  const fs::path& w = work->path();
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = children_cpu_seconds();
  std::string failure;
  std::optional<YosysStat> joined;  // per-module flow: the modules' stat sections
  try {
    if (o.single_process) {
      failure = synth_single(outputs, w, scripts, lib, o, base);
    } else {
      joined.emplace();
      failure = synth_per_module(outputs, w, scripts, abc_timing, lib, o, macro_modules, base, *joined);
    }
  } catch (const std::exception& e) {
    failure = std::string("internal: ") + e.what();
  }
  base.synth_seconds = seconds_since(t0);
  base.synth_cpu_seconds = children_cpu_seconds() - cpu0;
  if (!failure.empty()) return infeasible(base, failure);

  AreaResult numbers;
  try {
    numbers = summarize_area(joined ? *joined : parse_yosys_stat(read_text(w / "stat.txt")), lib, outputs.top);
  } catch (const std::exception& e) {
    return infeasible(base, std::string("internal: cannot use the Yosys stat report: ") + e.what());
  }
  AreaResult r = base;
  r.area_um2 = numbers.area_um2;
  r.nand2_eq = numbers.nand2_eq;
  r.flops = numbers.flops;
  r.cells = numbers.cells;
  r.modules = numbers.modules;
  if (!numbers.feasible) return infeasible(r, numbers.reason);
  try {
    split_memory_area(r, memories, macro, macro_cells_found, lib);
    if (macro) write_text(w / "macros.lib", memory_liberty(r.memories));
  } catch (const std::exception& e) {
    return infeasible(r, e.what());
  }
  r.feasible = true;

  // ---- timing
  if (!lib.has_timing) {
    r.timing_note = fmt::format("liberty {} has no timing data (area only)", lib.name);
  } else if (period_ns <= 0) {
    r.timing_note = fmt::format("no create_clock -period in {}", sdc_path.string());
  } else {
    run_timing(r, w, o.timeout_s);
  }

  // ---- store: only complete results (a timing failure may be transient or a missing tool)
  const bool complete = r.timing_available || !timed;
  if (entry && complete) {
    const fs::path tmp = entry->scratch(".tmp-");
    try {
      fs::create_directories(tmp);
      write_text(tmp / "result.json", to_json(r).dump(2) + "\n");
      for (const char* f : {"stat.txt", "critical_path.txt", "area.ys", "sta.log", "netlist.v", "macros.lib"}) {
        if (fs::exists(w / f)) fs::copy_file(w / f, tmp / f, fs::copy_options::overwrite_existing);
      }
      entry->publish(tmp);
    } catch (const std::exception&) {
      std::error_code ec;
      fs::remove_all(tmp, ec);  // a cache we cannot write only costs time
    }
  }
  return r;
}

fs::path cached_netlist(const AreaResult& r, const AreaOptions& o) {
  if (!o.use_cache || r.cache_key.empty()) return {};
  const CacheEntry entry((o.cache_root.empty() ? default_cache_dir() : o.cache_root) / "area", r.top, r.cache_key);
  const fs::path p = entry.dir() / "netlist.v";
  return fs::is_regular_file(p) ? p : fs::path();
}

}  // namespace accelgen::flows
