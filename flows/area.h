// accelgen::cli — `accelgen area`: Yosys area and OpenSTA timing of a config's RTL (issue 5).
//
// The generated RTL is synthesized with Yosys (flows/area.ys: hierarchy kept, mapped to a liberty)
// and timed with OpenSTA (flows/sta.tcl, clock from constraints/clk_i.sdc). Both run as child
// processes with argument vectors, in a work directory, with a time limit; a failed or timed-out
// synthesis comes back as `feasible == false` with the reason, never as an exception.
//
// Yosys 0.23's `stat -json` has no area, so the text report is parsed (parse_yosys_stat) and
// cross-checked against the liberty's own cell areas (parse_liberty): a change in either format
// makes the result infeasible with an "internal:" reason instead of a wrong number. The parsers are
// tested against recorded Yosys output (tests/data/yosys/).
//
// Results are cached under <cache root>/area/, keyed by the generated RTL, the liberty, the SDC,
// the flow scripts and the tool versions, so evaluating the same config again costs no synthesis.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/config.h"
#include "gen/generator.h"

namespace accelgen::cli {

// ---------------------------------------------------------------- results

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
};

struct AreaOptions {
  std::filesystem::path liberty;  // empty: default_liberty_path()
  std::filesystem::path sdc;      // empty: default_sdc_path()
  bool use_cache = true;
  std::filesystem::path cache_root;  // empty: default_cache_dir() (flows/simbuild.h)
  std::filesystem::path work_dir;    // empty: a temporary directory, removed afterwards
  int timeout_s = 3600;              // per tool run (Yosys, OpenSTA)
};

// The OSU 0.18 um liberty that setup.sh extracts from Debian's qflow-tech-osu018 into
// build/third_party/osu018/ (or the system copy if the package is installed). The returned path
// may not exist; synthesize_area then reports it with the fix.
std::filesystem::path default_liberty_path();
std::filesystem::path default_sdc_path();  // constraints/clk_i.sdc

// Never throws for a tool or liberty problem: see `feasible` / `reason`.
AreaResult synthesize_area(const core::AttentionConfig& c, const AreaOptions& o);
AreaResult synthesize_area(const gen::Outputs& outputs, const AreaOptions& o);

nlohmann::json to_json(const AreaResult& r);
AreaResult area_result_from_json(const nlohmann::json& j);

// Latency of `cycles` clock cycles at fmax: cycles / fmax, in ns.
double latency_ns(double cycles, double fmax_mhz);

void add_area_command(CLI::App& app);

// ---------------------------------------------------------------- parsers (exposed for tests)

struct LibertyCell {
  std::string name;
  double area = 0;
  bool has_area = false;
  bool flop = false;        // has an ff / ff_bank group
  bool latch = false;       // has a latch / latch_bank group
  bool sequential = false;  // flop, latch or statetable
  bool dont_use = false;
  bool three_state = false;
  bool bus = false;  // has bus or bundle pins
  std::vector<std::string> inputs;
  std::vector<std::pair<std::string, std::string>> outputs;  // pin, function ("" if none)
};

struct LibertyInfo {
  std::string name;
  std::vector<LibertyCell> cells;
  bool has_timing = false;  // any timing() group: OpenSTA can time it
  std::string default_operating_conditions;
  std::string nand2_cell;  // smallest 2-input NAND ("" if none)
  double nand2_area = 0;
  std::string buffer_cell;  // smallest non-inverting buffer ("" if none)

  const LibertyCell* find(const std::string& cell) const;
};

// Throws std::runtime_error on a syntax error.
LibertyInfo parse_liberty(const std::string& text);

// Evaluates a liberty `function` string (operators ! ' & * | + ^, juxtaposition = AND, 0, 1).
// Throws std::runtime_error on a syntax error or an unknown pin.
bool eval_liberty_function(const std::string& function, const std::map<std::string, bool>& pins);

struct YosysStatModule {
  std::string name;
  int num_cells = 0;                      // "Number of cells", submodule instances included
  std::map<std::string, int> cell_types;  // type -> count
  bool has_area = false;
  double area = 0;                        // "Chip area for module" (own leaf cells)
  std::vector<std::string> unknown_area;  // "Area for cell type X is unknown!"
};

struct YosysStat {
  std::vector<YosysStatModule> modules;
  std::string top;       // from the "design hierarchy" section ("" if there is none)
  double top_area = -1;  // "Chip area for top module" (-1: not printed)
  int top_cells = -1;    // leaf cells of the whole design, from the same section
};

// Parses the text of Yosys 0.23 `stat -liberty`. Throws std::runtime_error naming the line when
// the text does not have the expected shape.
YosysStat parse_yosys_stat(const std::string& text);

// Combines a parsed report with the liberty: per-module rows and instance counts, totals, flops.
// Cross-checks module areas against the liberty and the total against Yosys's top-module area;
// throws std::runtime_error on a mismatch. Cells the liberty cannot map (e.g. an asynchronous-reset
// flop missing from the library) make the result infeasible with a reason naming them.
AreaResult summarize_area(const YosysStat& stat, const LibertyInfo& lib, const std::string& top);

struct StaSummary {
  bool ok = false;
  std::string error;
  std::string clock;
  double period_ns = 0;
  double slack_ns = 0;
  std::string startpoint, endpoint;
};

// Parses the ACCELGEN lines that flows/sta.tcl prints (and any "Error" line of OpenSTA).
StaSummary parse_sta_output(const std::string& log);

}  // namespace accelgen::cli
