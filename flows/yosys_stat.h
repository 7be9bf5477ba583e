// accelgen::flows — the Yosys statistics report of the area flow (`stat -liberty`, written to
// stat.txt by flows/area.ys): per-module cell counts by type and areas, the design hierarchy
// section; and its combination with the liberty into per-module rows and design totals.
//
// Why the text report and not `stat -json`: Yosys 0.23's JSON has cell counts by type but no area,
// so areas would have to be the liberty's cell areas times the counts, summed here. Checked on the
// recorded reports (tests/data/yosys/): with OSU018 every module's sum equals Yosys's printed area
// bit for bit, but with constraints/ge_area.lib three of seven modules differ in the last bits
// (sm_key_store: Yosys 1660.9907, sum 1660.9906999999998; sm_out_arb 579.6673 vs
// 579.6673000000001; sm_score_top 2825.9976 vs 2825.9975999999997), which would change the
// recorded area figures. The text also carries Yosys's own module and top areas, which
// summarize_area cross-checks against the liberty so that a format change fails loudly.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "flows/area_result.h"
#include "flows/liberty.h"

namespace accelgen::flows {

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

}  // namespace accelgen::flows
