#include "flows/macro_lib.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.h"

namespace accelgen::flows {

std::vector<MacroCell> macro_cells(const LibertyInfo& lib) {
  std::vector<MacroCell> out;
  for (const LibertyCell& c : lib.cells) {
    if (!c.memory || c.memory_type != "ram" || !c.has_area || c.address_width < 1 || c.word_width < 1) continue;
    MacroCell m{c.name, 1 << c.address_width, c.word_width, c.area, c.clk_to_out_ns};
    if (!c.clock_power.empty()) {
      m.idle_pj_per_cycle = m.access_pj = 0;
      for (const auto& pin : c.clock_power) {
        const auto [lo, hi] = std::minmax_element(pin.state_pj.begin(), pin.state_pj.end());
        m.idle_pj_per_cycle += *lo;
        m.access_pj = std::max(m.access_pj, *hi - *lo);
      }
    }
    out.push_back(m);
  }
  return out;
}

MacroTiling cheapest_tiling(const std::vector<MacroCell>& macros, int depth, int width) {
  if (macros.empty()) {
    throw core::InputError("--macro-lib", "no RAM macro (a cell with memory() { type : ram; address_width; "
                                          "word_width; } and an area) in the given Liberty files");
  }
  MacroTiling best;
  for (const MacroCell& m : macros) {
    MacroTiling t{m.name, (depth + m.words - 1) / m.words, (width + m.width - 1) / m.width, 0, m.clk_to_dout_ns,
                  m.idle_pj_per_cycle, m.access_pj};
    t.area_um2 = t.count() * m.area_um2;
    const bool better = best.cell.empty() || t.area_um2 < best.area_um2 ||
                        (t.area_um2 == best.area_um2 && t.count() < best.count());
    if (better) best = t;
  }
  return best;
}

double model_area_um2(int depth, int width) {
  return kModelUm2PerBit * static_cast<double>(depth) * static_cast<double>(width);
}

}  // namespace accelgen::flows
