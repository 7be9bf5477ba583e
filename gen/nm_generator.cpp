// Emitters for the N:M array: RTL modules, filelist, manifest, C++ params header.
#include "gen/nm_generator.h"

#include <stdexcept>

#include <fmt/format.h>

#include "gen/emit.h"
#include "gen/template.h"

namespace accelgen::gen {

namespace {

std::string str(int64_t v) { return std::to_string(v); }

Provenance provenance(const core::NmConfig& c) {
  return {c.name, core::config_hash(c), core::to_json(c)};
}

// Expressions whose form depends on widths the generator knows, so that the templates never hold a
// replication or part-select that could be empty.
void add_width_exprs(const core::NmConfig& c, const core::NmWidths& w, Vars& v) {
  const int pw = c.wx + c.ww;  // a full product; AW >= pw because T >= 1
  if (w.aw < pw) throw std::logic_error("nm: accumulator narrower than a product");
  v["PW"] = str(pw);
  v["PROD_EXT"] = w.aw > pw ? fmt::format("{{{{{}{{prod[{}]}}}}, prod}}", w.aw - pw, pw - 1) : "prod";
  // DCW = clog2(D + 1) exceeds DIW = max(1, clog2(D)) by one exactly when D is a power of two > 1:
  // then the count's top bit is never part of a store address.
  const int extra = w.dcw - w.diw;
  if (extra != 0 && extra != 1) throw std::logic_error("nm: unexpected group counter widths");
  v["WR_ADDR"] = extra ? fmt::format("wr_index[{}:0]", w.diw - 1) : "wr_index";
  v["XG_EXT"] = extra ? "{1'b0, xg_q}" : "xg_q";
}

Vars template_vars(const core::NmConfig& c) {
  const core::NmWidths w = core::nm_widths(c);
  Vars v{
      {"n", c.name},         {"ROWS", str(c.rows)},   {"ROWS1", str(c.rows - 1)},
      {"COLS", str(c.cols)}, {"WX", str(c.wx)},       {"WW", str(c.ww)},
      {"N", str(c.n)},       {"M", str(c.m)},         {"MAXK", str(c.max_k)},
      {"DENSE", c.dense_baseline ? "1" : "0"},        {"KB", str(w.kb)},
      {"IW", str(w.iw)},     {"SW", str(w.sw)},       {"D", str(w.depth)},
      {"DIW", str(w.diw)},   {"DCW", str(w.dcw)},     {"AW", str(w.aw)},
      {"RIW", str(w.riw)},   {"WBW", str(w.wbw)},     {"XBW", str(w.xbw)},
      {"YBW", str(w.ybw)},
  };
  add_width_exprs(c, w, v);
  return v;
}

std::map<std::string, bool> template_flags(const core::NmConfig& c) {
  const bool index = core::nm_widths(c).iw > 0;
  return {{"index", index}, {"no_index", !index}};
}

GeneratedFile emit_params_header(const core::NmConfig& c, const Outputs& o) {
  const core::NmWidths w = core::nm_widths(c);
  ParamsHeader h(provenance(c), o);
  h.constant("kRows", c.rows, "rows");
  h.constant("kCols", c.cols, "cols");
  h.constant("kXWidth", c.wx, "wx: element of x_data_i");
  h.constant("kWWidth", c.ww, "ww: weight value of a slot");
  h.constant("kN", c.n, "n: slots per column");
  h.constant("kM", c.m, "m");
  h.constant("kDense", c.dense_baseline ? 1 : 0, "dense_baseline");
  h.constant("kKPerBeat", w.kb, "KB: x elements per row and beat");
  h.constant("kIndexWidth", w.iw, "IW: index bits of a slot (0: no index field)");
  h.constant("kSlotWidth", w.sw, "SW: bits of a weight slot");
  h.constant("kDepth", w.depth, "D: weight store beats");
  h.constant("kAccWidth", w.aw, "AW: element of y_data_o");
  h.constant("kWBeatWidth", w.wbw, "w_data_i");
  h.constant("kXBeatWidth", w.xbw, "x_data_i");
  h.constant("kYBeatWidth", w.ybw, "y_data_o");
  return h.finish();
}

}  // namespace

std::vector<Port> nm_top_ports(const core::NmConfig& c) {
  const core::NmWidths w = core::nm_widths(c);
  std::vector<Port> p = {
      {"Clock and reset", "clk_i", true, 1, false, "clock"},
      {"Clock and reset", "rst_ni", true, 1, false, "asynchronous reset, active low"},
  };
  const std::string wg =
      w.iw > 0 ? fmt::format("Weight stream: slot (c, s) at [(c*{0} + s)*{1} +: {1}], signed value "
                             "in its low {2} bits, index above",
                             c.n, w.sw, c.ww)
               : fmt::format("Weight stream: slot (c, s) at [(c*{0} + s)*{1} +: {1}], signed value, "
                             "no index",
                             c.n, w.sw);
  p.push_back({wg, "w_valid_i", true, 1, false, "weight beat valid"});
  p.push_back({wg, "w_ready_o", false, 1, false, "no row tile in progress"});
  p.push_back({wg, "w_data_i", true, w.wbw, false, "one group of one column tile"});
  p.push_back({wg, "w_last_i", true, 1, false, "last group of the weight set"});
  const std::string xg = fmt::format(
      "Activation stream: element (r, j) at [(r*{0} + j)*{1} +: {1}], signed", w.kb, c.wx);
  p.push_back({xg, "x_valid_i", true, 1, false, "activation beat valid"});
  p.push_back({xg, "x_ready_o", false, 1, false, "weights loaded, x register free, no w beat"});
  p.push_back({xg, "x_data_i", true, w.xbw, false, "one group of every row of the tile"});
  p.push_back({xg, "x_last_i", true, 1, false, "last group of the row tile"});
  const std::string yg =
      fmt::format("Result stream: one PE row, element c at [c*{0} +: {0}], signed", w.aw);
  p.push_back({yg, "y_valid_o", false, 1, false, "result beat valid"});
  p.push_back({yg, "y_ready_i", true, 1, false, "result beat accepted"});
  p.push_back({yg, "y_data_o", false, w.ybw, false, "Y of one row of the tile"});
  p.push_back({yg, "y_last_o", false, 1, false, "last PE row of the tile"});
  return p;
}

Outputs generate_nm(const core::NmConfig& c) {
  Outputs o;
  o.top = c.name + "_nm_top";
  o.params_header = c.name + "_params.h";
  Vars vars = template_vars(c);
  vars["PORT_DECLS"] = port_decls(nm_top_ports(c));
  const Provenance prov = provenance(c);
  for (const char* tpl : {"nm_wstore", "nm_pe", "nm_array", "nm_top"}) {
    GeneratedFile f = emit_module(prov, tpl, template_flags(c), vars);
    o.rtl_files.push_back(f.name);
    o.files.push_back(std::move(f));
  }
  o.files.push_back(emit_filelist(o));
  o.files.push_back(emit_params_header(c, o));
  o.files.push_back(emit_manifest(prov, o, nm_top_ports(c)));
  return o;
}

}  // namespace accelgen::gen
