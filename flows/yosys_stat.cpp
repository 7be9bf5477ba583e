#include "flows/yosys_stat.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "flows/text_io.h"

namespace accelgen::flows {

namespace {

bool near(double a, double b) {
  return std::fabs(a - b) <= 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

}  // namespace

YosysStat parse_yosys_stat(const std::string& text) {
  static const std::regex header(R"(^=== (.+) ===\s*$)");
  static const std::regex num_cells(R"(^\s+Number of cells:\s+(\d+)\s*$)");
  static const std::regex cell_line(R"(^\s+(\S+)\s+(\d+)\s*$)");
  static const std::regex unknown(R"(^\s+Area for cell type (\S+) is unknown!\s*$)");
  static const std::regex module_area(R"(^\s+Chip area for module '(.+)': ([0-9.eE+-]+)\s*$)");
  static const std::regex top_area(R"(^\s+Chip area for top module '(.+)': ([0-9.eE+-]+)\s*$)");
  auto unescape = [](std::string n) { return (!n.empty() && n[0] == '\\') ? n.substr(1) : n; };

  YosysStat st;
  enum { kNone, kModule, kHierarchy } section = kNone;
  bool in_cells = false;
  bool saw_hierarchy = false;
  std::istringstream in(text);
  int lineno = 0;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(fmt::format("Yosys stat report line {}: {}", lineno, what));
  };
  for (std::string line; std::getline(in, line);) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      in_cells = false;
      if (m[1] == "design hierarchy") {
        if (saw_hierarchy) fail("two design hierarchy sections");
        section = kHierarchy;
        saw_hierarchy = true;
      } else {
        if (saw_hierarchy) fail("module section after the design hierarchy");
        section = kModule;
        st.modules.push_back({});
        st.modules.back().name = m[1];
      }
      continue;
    }
    if (section == kNone) continue;
    if (std::regex_match(line, m, num_cells)) {
      const int n = std::stoi(m[1]);
      if (section == kModule) {
        st.modules.back().num_cells = n;
        in_cells = true;
      } else {
        st.top_cells = n;
        in_cells = false;  // the design-wide cell list is not needed
      }
      continue;
    }
    if (in_cells && std::regex_match(line, m, cell_line)) {
      auto& types = st.modules.back().cell_types;
      if (types.count(m[1]) != 0) fail("cell type listed twice: " + m[1].str());
      types[m[1]] = std::stoi(m[2]);
      continue;
    }
    in_cells = false;
    if (section == kModule && std::regex_match(line, m, unknown)) {
      st.modules.back().unknown_area.push_back(unescape(m[1]));
      continue;
    }
    if (section == kModule && std::regex_match(line, m, module_area)) {
      auto& mod = st.modules.back();
      if (unescape(m[1]) != mod.name)
        fail(fmt::format("area line for '{}' in the section of '{}'", m[1].str(), mod.name));
      mod.area = parse_double(m[2], "module area");
      mod.has_area = true;
      continue;
    }
    if (std::regex_match(line, m, top_area)) {
      if (section != kHierarchy) fail("top-module area outside the design hierarchy section");
      st.top = unescape(m[1]);
      st.top_area = parse_double(m[2], "top area");
      continue;
    }
    if (line.find("Chip area") != std::string::npos) fail("unrecognized area line: " + trim(line));
  }
  if (st.modules.empty()) throw std::runtime_error("Yosys stat report: no module sections (=== name ===)");
  for (const auto& mod : st.modules) {
    int sum = 0;
    for (const auto& [type, n] : mod.cell_types) sum += n;
    if (sum != mod.num_cells)
      throw std::runtime_error(fmt::format(
          "Yosys stat report: module {}: {} cells listed by type, {} counted", mod.name, sum, mod.num_cells));
  }
  if (saw_hierarchy && st.top.empty() && st.top_cells < 0)
    throw std::runtime_error("Yosys stat report: design hierarchy section without cell count or top area");
  return st;
}

AreaResult summarize_area(const YosysStat& stat, const LibertyInfo& lib, const std::string& top) {
  AreaResult r;
  r.top = top;
  r.liberty_name = lib.name;
  r.nand2_cell = lib.nand2_cell;
  r.nand2_area = lib.nand2_area;
  r.corner = lib.default_operating_conditions;

  std::map<std::string, const YosysStatModule*> by_name;
  for (const auto& m : stat.modules) by_name[m.name] = &m;
  if (by_name.count(top) == 0)
    throw std::runtime_error("Yosys stat report: no section for top module " + top);
  if (!stat.top.empty() && stat.top != top)
    throw std::runtime_error(fmt::format("Yosys stat report: top module is {}, expected {}", stat.top, top));

  // Instances of each module in the whole design: count(child) = sum over parents of count(parent) * n.
  std::map<std::string, long long> instances;
  std::function<long long(const std::string&, int)> count = [&](const std::string& name,
                                                                int depth) -> long long {
    if (depth > 64) throw std::runtime_error("Yosys stat report: module hierarchy loop at " + name);
    if (name == top) return 1;
    if (const auto it = instances.find(name); it != instances.end()) return it->second;
    long long n = 0;
    for (const auto& m : stat.modules) {
      const auto it = m.cell_types.find(name);
      if (it != m.cell_types.end()) n += count(m.name, depth + 1) * it->second;
    }
    instances[name] = n;
    return n;
  };

  std::map<std::string, long long> unmapped;  // cell type -> instances in the design
  long long total_cells = 0, total_flops = 0;
  double total_area = 0;
  for (const auto& m : stat.modules) {
    const long long inst = count(m.name, 0);
    if (inst == 0) continue;  // not under the top
    ModuleArea row;
    row.name = m.name;
    row.instances = static_cast<int>(inst);
    double lib_area = 0;
    for (const auto& [type, n] : m.cell_types) {
      if (by_name.count(type) != 0) continue;  // a submodule instance
      row.cells += n;
      const LibertyCell* c = lib.find(type);
      if (c == nullptr || !c->has_area) {
        unmapped[type] += inst * n;
        continue;
      }
      lib_area += c->area * n;
      if (c->flop) row.flops += n;
    }
    if (m.has_area && !near(m.area, lib_area))
      throw std::runtime_error(fmt::format(
          "module {}: Yosys reports area {}, the liberty's cell areas sum to {}", m.name, m.area, lib_area));
    if (!m.has_area && lib_area != 0)
      throw std::runtime_error(
          fmt::format("Yosys stat report: no area line for module {} (liberty sum {})", m.name, lib_area));
    row.area_um2 = m.area;
    row.nand2_eq = lib.nand2_area > 0 ? row.area_um2 / lib.nand2_area : 0;
    total_area += row.area_um2 * static_cast<double>(inst);
    total_cells += static_cast<long long>(row.cells) * inst;
    total_flops += static_cast<long long>(row.flops) * inst;
    r.modules.push_back(row);
  }
  if (stat.top_area >= 0 && !near(stat.top_area, total_area))
    throw std::runtime_error(
        fmt::format("Yosys reports a total area of {}, the modules times their instances sum to {}",
                    stat.top_area, total_area));
  if (stat.top_cells >= 0 && stat.top_cells != total_cells)
    throw std::runtime_error(
        fmt::format("Yosys reports {} cells in the design, the modules times their instances sum to {}",
                    stat.top_cells, total_cells));
  r.area_um2 = total_area;
  r.nand2_eq = lib.nand2_area > 0 ? total_area / lib.nand2_area : 0;
  r.cells = static_cast<int>(total_cells);
  r.flops = static_cast<int>(total_flops);
  if (!unmapped.empty()) {
    std::string list;
    for (const auto& [type, n] : unmapped)
      list += fmt::format("{}{} x {}", list.empty() ? "" : ", ", type, n);
    r.feasible = false;
    r.reason = fmt::format(
        "liberty {} has no cell for: {} (an asynchronous set/reset flop or latch missing "
        "from the library?)",
        lib.name, list);
    return r;
  }
  r.feasible = true;
  return r;
}

}  // namespace accelgen::flows
