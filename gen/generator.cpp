// Emitters for the attention score engine: RTL modules, filelist, manifest, C++ params header.
#include "gen/generator.h"

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "gen/emit.h"
#include "gen/template.h"
#include "golden/softmax.h"

#ifndef ACCELGEN_VERSION
#error "ACCELGEN_VERSION must be defined by the build"
#endif

namespace accelgen::gen {

const char* tool_version() { return ACCELGEN_VERSION; }

namespace {

std::string str(int64_t v) { return std::to_string(v); }

int bit_width(uint64_t v) {  // bits needed to hold v (at least 1)
  int b = 1;
  while (b < 64 && (v >> b) != 0) ++b;
  return b;
}

// Holes of the exponential (gen/rtl/exp2.v.in): the table as case items, and the expressions that
// split x into integer part, table index and interpolation remainder (docs/softmax.md steps 3-6),
// written so that no part-select, replication or comparison is ever empty or truncating.
void add_exp2_vars(const core::AttentionConfig& c, const core::AttentionWidths& w, Vars& v) {
  const golden::SoftmaxFormat f = golden::default_softmax_format(c);
  const std::vector<int64_t> table = golden::exp_table(f);
  const int E = w.ef, L = w.lb, Fa = c.alpha_frac_bits, XW = w.aw + w.sw;
  const int RW = std::max(Fa - L, 0);  // fraction bits below the index: interpolation remainder
  int64_t max_step = 1;
  std::string cases;
  for (size_t i = 0; i < table.size(); ++i) {
    cases += fmt::format("        {}'d{}: exp_table = {}'d{};\n", L + 1, i, E + 1, table[i]);
    if (i + 1 < table.size()) max_step = std::max(max_step, table[i] - table[i + 1]);
  }
  cases.pop_back();
  const int DW = bit_width(static_cast<uint64_t>(max_step));
  if (DW > E) throw std::logic_error("exp table steps wider than the table");
  const int IW = XW - Fa;        // integer-part bits (>= SW >= 1)
  const int SHW = bit_width(static_cast<uint64_t>(E));  // shift amounts 0..E
  v["XW"] = str(XW);
  v["E"] = str(E);
  v["E1"] = str(E + 1);
  v["LB"] = str(L);
  v["LB1"] = str(L + 1);
  v["RW"] = str(RW);
  v["DW"] = str(DW);
  v["EPAD"] = str(E + 1 - DW);
  v["IW"] = str(IW);
  v["LUT_CASES"] = cases;
  v["INT_EXPR"] = Fa > 0 ? fmt::format("x_i[{}:{}]", XW - 1, Fa) : "x_i";
  if (Fa == 0) {
    v["IDX_EXPR"] = fmt::format("{}'d0", L + 1);
  } else if (Fa >= L) {
    v["IDX_EXPR"] = fmt::format("{{1'b0, x_i[{}:{}]}}", Fa - 1, Fa - L);
  } else {
    v["IDX_EXPR"] = fmt::format("{{1'b0, x_i[{}:0], {}'d0}}", Fa - 1, L - Fa);
  }
  // I > E: compare at a width that holds both; if I can never exceed E the test is constant 0
  // and the shift reads only the low bits of I.
  if ((IW >= 63 ? ~uint64_t{0} : (uint64_t{1} << IW) - 1) <= static_cast<uint64_t>(E)) {
    v["BIG_EXPR"] = "1'b0";
    v["SHIFT_EXPR"] = "int_part";
  } else {
    v["BIG_EXPR"] = fmt::format("int_part > {}'d{}", IW, E);
    v["SHIFT_EXPR"] = IW > SHW ? fmt::format("int_part[{}:0]", SHW - 1) : "int_part";
  }
}

Vars template_vars(const core::AttentionConfig& c) {
  const core::AttentionWidths w = core::widths(c);
  Vars v{
      {"n", c.name},
      {"D", str(c.d)},
      {"WQ", str(c.wq)},
      {"WK", str(c.wk)},
      {"WK1", str(c.wk - 1)},
      {"L", str(c.lanes)},
      {"MAXK", str(c.max_keys)},
      {"S", str(c.threshold_slots)},
      {"AW", str(w.aw)},
      {"AFRAC", str(c.alpha_frac_bits)},
      {"DENSE", c.dense_baseline ? "1" : "0"},
      {"CAW", str(w.caw)},
      {"CAW1", str(w.caw + 1)},
      {"CDW", str(w.cdw)},
      {"TW", str(w.tw)},
      {"SW", str(w.sw)},
      {"BW", str(w.bw)},
      {"KIW", str(w.kiw)},
      {"KCW", str(w.kcw)},
      {"STW", str(w.stw)},
      {"SLW", str(w.slw)},
      {"BIW", str(core::clog2(static_cast<uint64_t>(c.wk)))},
      {"DV", str(c.dv)},
      {"WV", str(c.wv)},
      {"FO", str(c.out_frac_bits)},
      {"FO1", str(c.out_frac_bits + 1)},
      {"OW", str(w.ow)},
      {"QB", str(w.qb)},
      {"QB1", str(w.qb - 1)},
      {"QB1P", str(w.qb + 1)},
      {"KQW", str(std::max(1, core::clog2(static_cast<uint64_t>(w.qb))))},
      {"ZW", str(w.zw)},
      {"ACW", str(w.zw + c.wv)},
      {"NW", str(w.zw + w.qb + 1)},
      {"VPW", str(w.ef + 1 + c.wv)},
      {"OVERLAP", c.overlap_backend ? "1" : "0"},
  };
  add_exp2_vars(c, w, v);
  return v;
}

std::map<std::string, bool> template_flags(const core::AttentionConfig& c) {
  const core::AttentionWidths w = core::widths(c);
  return {{"prune", !c.dense_baseline},
          {"dense", c.dense_baseline},
          {"key_count_wider", w.kcw > w.kiw},
          {"interp", c.alpha_frac_bits > w.lb},
          {"no_interp", c.alpha_frac_bits <= w.lb},
          {"overlap", c.overlap_backend},
          {"no_overlap", !c.overlap_backend}};
}

Provenance provenance(const core::AttentionConfig& c) {
  return {c.name, core::config_hash(c), core::to_json(c)};
}

std::vector<std::string> module_templates(const core::AttentionConfig& c) {
  std::vector<std::string> t = {"cfg_regs", "key_store"};
  if (!c.dense_baseline) t.push_back("bound_table");
  for (const char* name : {"bs_lane", "key_issue", "out_arb", "score_top", "value_store", "exp2",
                           "softmax_v", "attn_top"}) {
    t.emplace_back(name);
  }
  return t;
}

GeneratedFile emit_params_header(const core::AttentionConfig& c, const Outputs& o) {
  const core::AttentionWidths w = core::widths(c);
  ParamsHeader h(provenance(c), o);
  h.constant("kHeadDim", c.d, "d");
  h.constant("kQWidth", c.wq, "wq");
  h.constant("kKWidth", c.wk, "wk");
  h.constant("kLanes", c.lanes, "lanes");
  h.constant("kMaxKeys", c.max_keys, "max_keys");
  h.constant("kThresholdSlots", c.threshold_slots, "threshold_slots");
  h.constant("kDense", c.dense_baseline ? 1 : 0, "dense_baseline");
  h.constant("kScoreWidth", w.sw, "s_score_o");
  h.constant("kThetaWidth", w.tw, "threshold register");
  h.constant("kAlphaWidth", w.aw, "alpha register");
  h.constant("kCfgDataWidth", w.cdw, "cfg_wdata_i / cfg_rdata_o");
  h.constant("kCfgAddrWidth", w.caw, "cfg_addr_i");
  h.constant("kKeyIndexWidth", w.kiw, "s_key_o");
  h.constant("kKeyCountWidth", w.kcw, "s_count_o");
  h.constant("kStepsWidth", w.stw, "s_steps_o");
  h.constant("kSlotWidth", w.slw, "q_slot_i");
  h.constant("kCyclesWidth", w.cyw, "s_cycles_o");
  h.constant("kDv", c.dv, "dv");
  h.constant("kVWidth", c.wv, "wv");
  h.constant("kOutWidth", w.ow, "element of o_data_o");
  h.constant("kOutFracBits", c.out_frac_bits, "out_frac_bits");
  return h.finish();
}

}  // namespace

std::vector<Port> score_top_ports(const core::AttentionConfig& c) {
  const core::AttentionWidths w = core::widths(c);
  std::vector<Port> p = {
      {"Clock and reset", "clk_i", true, 1, false, "clock"},
      {"Clock and reset", "rst_ni", true, 1, false, "asynchronous reset, active low"},
      {"Configuration port: address 0 is alpha, 1 + s the threshold of slot s", "cfg_we_i", true, 1,
       false, "write strobe"},
      {"Configuration port: address 0 is alpha, 1 + s the threshold of slot s", "cfg_addr_i", true,
       w.caw, false, "register address"},
      {"Configuration port: address 0 is alpha, 1 + s the threshold of slot s", "cfg_wdata_i", true,
       w.cdw, false, "write data"},
      {"Configuration port: address 0 is alpha, 1 + s the threshold of slot s", "cfg_rdata_o",
       false, w.cdw, false, "read data of the register at cfg_addr_i"},
  };
  const std::string kg = fmt::format("Key load stream: element t of a key at [t*{0} +: {0}]", c.wk);
  p.push_back({kg, "k_valid_i", true, 1, false, "key beat valid"});
  p.push_back({kg, "k_ready_o", false, 1, false, "no query buffered or in progress"});
  p.push_back({kg, "k_data_i", true, c.d * c.wk, false, "key row"});
  p.push_back({kg, "k_last_i", true, 1, false, "last key of the set"});
  const std::string qg = fmt::format("Query stream: element t of a query at [t*{0} +: {0}]", c.wq);
  p.push_back({qg, "q_valid_i", true, 1, false, "query beat valid"});
  p.push_back({qg, "q_ready_o", false, 1, false, "key set loaded, buffer free, no key beat"});
  p.push_back({qg, "q_data_i", true, c.d * c.wq, false, "query row"});
  if (!c.dense_baseline) p.push_back({qg, "q_slot_i", true, w.slw, false, "threshold slot"});
  const std::string sg = "Result stream: kept scores of a query, then its end-of-query beat";
  p.push_back({sg, "s_valid_o", false, 1, false, "result beat valid"});
  p.push_back({sg, "s_ready_i", true, 1, false, "result beat accepted"});
  p.push_back({sg, "s_eoq_o", false, 1, false, "1: end-of-query beat, 0: kept score"});
  p.push_back({sg, "s_key_o", false, w.kiw, false, "kept key index"});
  p.push_back({sg, "s_score_o", false, w.sw, true, "exact score, two's complement"});
  p.push_back({sg, "s_count_o", false, w.kcw, false, "end of query: kept keys"});
  p.push_back({sg, "s_empty_o", false, 1, false, "end of query: every key pruned"});
  p.push_back({sg, "s_steps_o", false, w.stw, false, "end of query: bit steps (sum of n_ij)"});
  p.push_back({sg, "s_cycles_o", false, w.cyw, false, "end of query: score-phase cycles"});
  const std::string bg = "To the softmax/xV back-end";
  p.push_back({bg, "alpha_o", false, w.aw, false, "softmax scale register"});
  p.push_back({bg, "k_widx_o", false, w.kiw, false, "index the next key beat writes"});
  return p;
}

std::vector<Port> unit_top_ports(const core::AttentionConfig& c) {
  const core::AttentionWidths w = core::widths(c);
  std::vector<Port> p;
  for (const Port& s : score_top_ports(c)) {
    if (s.name.starts_with("s_") || s.group.starts_with("To the")) continue;
    p.push_back(s);
    if (s.name == "k_data_i") {
      p.push_back({s.group, "k_vdata_i", true, c.dv * c.wv, false,
                   fmt::format("V row of the key, element c at [c*{0} +: {0}]", c.wv)});
    }
  }
  const std::string og = fmt::format("Output stream: one row per query, element c at [c*{0} +: {0}]", w.ow);
  p.push_back({og, "o_valid_o", false, 1, false, "output beat valid"});
  p.push_back({og, "o_ready_i", true, 1, false, "output beat accepted"});
  p.push_back({og, "o_data_o", false, c.dv * w.ow, false,
               fmt::format("attention output, signed, {} fraction bits", c.out_frac_bits)});
  p.push_back({og, "o_empty_o", false, 1, false, "every key pruned: the row is zero"});
  p.push_back({og, "o_count_o", false, w.kcw, false, "kept keys"});
  p.push_back({og, "o_steps_o", false, w.stw, false, "bit steps (sum of n_ij)"});
  p.push_back({og, "o_cycles_o", false, w.cyw, false, "score-phase cycles"});
  p.push_back({og, "o_bcycles_o", false, w.cyw, false, "back-end cycles"});
  return p;
}

Outputs generate(const core::AttentionConfig& c) {
  Outputs o;
  o.top = c.name + "_attn_top";
  o.params_header = c.name + "_params.h";
  Vars vars = template_vars(c);
  for (const std::string& tpl : module_templates(c)) {
    vars["PORT_DECLS"] = port_decls(tpl == "attn_top" ? unit_top_ports(c) : score_top_ports(c));
    GeneratedFile f = emit_module(provenance(c), tpl, template_flags(c), vars);
    o.rtl_files.push_back(f.name);
    o.files.push_back(std::move(f));
  }
  o.files.push_back(emit_filelist(o));
  o.files.push_back(emit_params_header(c, o));
  o.files.push_back(emit_manifest(provenance(c), o, unit_top_ports(c)));
  return o;
}

void write_outputs(const Outputs& outputs, const std::filesystem::path& out) {
  core::write_dir_atomically(out, "manifest.json", [&](const std::filesystem::path& tmp) {
    for (const GeneratedFile& f : outputs.files) {
      std::ofstream os(tmp / f.name, std::ios::binary);
      os << f.content;
      if (!os.good()) throw core::InputError((out / f.name).string(), "cannot write file");
    }
  });
}

}  // namespace accelgen::gen
