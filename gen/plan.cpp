#include "gen/plan.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "golden/softmax.h"

namespace accelgen::gen {

int64_t DesignPlan::param(const std::string& n) const {
  for (const Param& p : params) {
    if (p.name == n) return p.value;
  }
  throw std::logic_error("design plan: no parameter " + n);
}

namespace {

// "  // text", wrapped at 100 columns.
std::string comment_lines(const std::string& text) {
  std::string out, line = "  //";
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string word = text.substr(pos, end - pos);
    if (line.size() + 1 + word.size() > 100 && line != "  //") {
      out += line + "\n";
      line = "  //";
    }
    line += " " + word;
    pos = end + 1;
  }
  return out + line + "\n";
}

}  // namespace

std::string port_decls(const std::vector<Port>& ports) {
  std::string out;
  std::string group;
  size_t range_width = 0;
  for (const Port& p : ports) {
    if (!p.width_expr.empty()) range_width = std::max(range_width, p.width_expr.size() + 6);
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    const Port& p = ports[i];
    if (p.group != group) {
      group = p.group;
      out += comment_lines(group);
    }
    const std::string range = p.width_expr.empty() ? "" : fmt::format("[{}-1:0]", p.width_expr);
    const std::string decl = fmt::format("  {} wire {:<{}} {}{}", p.input ? "input " : "output", range,
                                         range_width, p.name, i + 1 < ports.size() ? "," : "");
    out += fmt::format("{:<{}}// {}\n", decl, range_width + 30, p.comment);
  }
  return out;
}

namespace {

int bit_width(uint64_t v) {  // bits needed to hold v (at least 1)
  int b = 1;
  while (b < 64 && (v >> b) != 0) ++b;
  return b;
}

// ---------------------------------------------------------------- attention unit

bool relative_hw(const core::AttentionConfig& c) { return c.relative_thresholds && !c.dense_baseline; }

int key_bank_depth(const core::AttentionConfig& c) {
  const int banks = core::key_banks(c);
  return (c.max_keys + banks - 1) / banks;
}

int key_bank_addr_width(const core::AttentionConfig& c) {
  return std::max(1, core::clog2(static_cast<uint64_t>(key_bank_depth(c))));
}

// Text holes of the key store and the key issue (gen/rtl/key_store.v.in, key_issue.v.in): key j
// lies in bank j mod KeyBanks (its low KeyBankBits bits) at word j / KeyBanks (the bits above,
// KeyBankAddrWidth of them, or none when every bank holds one word), written so that no
// part-select is ever empty.
struct KeyBankTexts {
  Vars store, issue;
};

KeyBankTexts key_bank_texts(const core::AttentionConfig& c, const core::AttentionWidths& w) {
  const int bank_bits = core::clog2(static_cast<uint64_t>(core::key_banks(c)));
  const int word_bits = w.kiw - bank_bits;
  if (word_bits < 0 || (word_bits > 0 && word_bits != key_bank_addr_width(c))) {
    throw std::logic_error("key store: bank word width mismatch");
  }
  KeyBankTexts t;
  // A one-word bank has no address to decode: its address is the constant 0, which also keeps a
  // driven net that only a port without internal loads reads out of the netlist (OpenSTA 2.0.17's
  // report_power crashes on one).
  const bool one_word = key_bank_depth(c) == 1;
  if (bank_bits == 0) {
    t.store["issue_word"] = one_word ? "{KeyBankAddrWidth{1'b0}}" : "issue_key_i[i*KeyIndexWidth +: KeyBankAddrWidth]";
    t.store["widx_word"] = one_word ? "{KeyBankAddrWidth{1'b0}}" : "widx_o";
    t.issue["cand_bank"] = "1'b0";
  } else {
    t.store["issue_word"] = word_bits > 0 ? "issue_key_i[i*KeyIndexWidth + KeyBankBits +: KeyBankAddrWidth]"
                                          : "{KeyBankAddrWidth{1'b0}}";
    t.store["widx_word"] = word_bits > 0 ? "widx_o[KeyIndexWidth-1:KeyBankBits]" : "{KeyBankAddrWidth{1'b0}}";
    t.issue["cand_bank"] = "cand[KeyBankBits-1:0]";
  }
  return t;
}

std::vector<Param> attention_params(const core::AttentionConfig& c, const core::AttentionWidths& w,
                                    int exp_step_width) {
  const int fx = w.xf;
  const int am = c.alpha_mant_bits;
  const bool rel = relative_hw(c);
  return {
      {"HeadDim", c.d, "d: elements of a query or key"},
      {"ValueDim", c.dv, "dv: elements of a V row"},
      {"QWidth", c.wq, "wq: query element, signed"},
      {"KWidth", c.wk, "wk: key element, signed (bit steps per score)"},
      {"VWidth", c.wv, "wv: V element, signed"},
      {"NumLanes", c.lanes, "lanes: bit-serial score lanes"},
      {"MaxKeys", c.max_keys, "max_keys: keys held on chip"},
      {"ThresholdSlots", c.threshold_slots, "threshold_slots: (layer, head) threshold registers"},
      {"AlphaMantBits", am, "alpha_mant_bits: softmax scale mantissa"},
      {"AlphaWidth", w.aw, "AlphaMantBits + 6: scale register {shift, mant}"},
      {"ScoreWidth", w.sw, "QWidth + KWidth + clog2(HeadDim): exact score, signed"},
      {"ThetaWidth", w.tw, "ScoreWidth + 2: threshold register, signed"},
      {"BoundWidth", w.bw, "ScoreWidth + 3: bound table entry, signed"},
      {"SlotRegWidth", w.tw + (rel ? 1 : 0),
       rel ? "ThetaWidth + 1: slot register {relative, theta/delta}" : "ThetaWidth: slot register, theta"},
      {"CfgDataWidth", w.cdw, "max(SlotRegWidth, AlphaWidth): configuration data"},
      {"CfgAddrWidth", w.caw, "clog2(ThresholdSlots + 1) (1 in the dense baseline)"},
      {"KeyIndexWidth", w.kiw, "max(1, clog2(MaxKeys)): key index"},
      {"KeyCountWidth", w.kcw, "clog2(MaxKeys + 1): key count 0..MaxKeys"},
      {"StepsWidth", w.stw, "clog2(MaxKeys * KWidth + 1): bit steps of a query"},
      {"SlotWidth", w.slw, "max(1, clog2(ThresholdSlots)): slot index"},
      {"BitIndexWidth", core::clog2(static_cast<uint64_t>(c.wk)), "clog2(KWidth): bit plane index"},
      {"KeyBanks", core::key_banks(c), "key_banks: key j is in bank j mod KeyBanks"},
      {"KeyBankBits", core::clog2(static_cast<uint64_t>(core::key_banks(c))), "clog2(KeyBanks)"},
      {"KeyBankAddrWidth", key_bank_addr_width(c), "max(1, clog2(ceil(MaxKeys / KeyBanks))): bank word"},
      {"StoreEntries", c.max_keys, "MaxKeys: the key store's fill counter counts to it"},
      {"StoreCountWidth", w.kcw, "KeyCountWidth: the key store's fill counter"},
      {"CyclesWidth", w.cyw, "cycle counters, saturating"},
      {"InflightWidth", 4, "queries accepted and not yet output, at most 7"},
      {"OutFracBits", c.out_frac_bits, "out_frac_bits: fraction bits of an output element"},
      {"OutWidth", w.ow, "VWidth + OutFracBits + 1: output element, signed"},
      {"ExpFracBits", w.ef, "VWidth + OutFracBits + clog2(MaxKeys) + 3: exp fraction"},
      {"ExpLutBits", w.lb, "exp table index bits L: the table has 2^L + 1 entries"},
      {"SumWidth", w.zw, "ExpFracBits + 1 + KeyCountWidth: sum of exponentials Z"},
      {"QuotientBits", w.qb, "VWidth + OutFracBits: quotient bits (divider cycles)"},
      {"DivStepWidth", std::max(1, core::clog2(static_cast<uint64_t>(w.qb))),
       "max(1, clog2(QuotientBits)): divider step counter"},
      {"AccWidth", w.zw + c.wv, "SumWidth + VWidth: per-column sum of e * V, signed"},
      {"NumWidth", w.zw + w.qb + 1, "SumWidth + QuotientBits + 1: dividend and remainder"},
      {"ProductWidth", w.ef + 1 + c.wv, "ExpFracBits + 1 + VWidth: e * V, signed"},
      {"XProdWidth", am + w.sw, "AlphaMantBits + ScoreWidth: mant * (max - s)"},
      {"XShiftWidth", am + w.sw + fx, "XProdWidth + ExpInFracBits: shifter input"},
      {"ExpInFracBits", fx, "VWidth + OutFracBits + 4: exponent fraction"},
      {"ExpInWidth", w.xw, "ExpInFracBits + clog2(ExpFracBits + 2): exponent"},
      {"ExpIntWidth", w.xw - fx, "ExpInWidth - ExpInFracBits: integer part of the exponent"},
      {"ExpRemWidth", std::max(fx - w.lb, 0), "max(ExpInFracBits - ExpLutBits, 0): interp. remainder"},
      {"ExpStepWidth", exp_step_width, "largest step between neighbouring table entries"},
  };
}

// Text holes of the exponential (gen/rtl/exp2.v.in): the table as case items, and the expressions
// that split x into integer part, table index and interpolation remainder (docs/softmax.md steps
// 3-6), written so that no part-select, replication or comparison is ever empty or truncating.
struct Exp2Texts {
  Vars texts;
  int step_width;
};

Exp2Texts exp2_texts(const core::AttentionConfig& c, const core::AttentionWidths& w) {
  const std::vector<int64_t> table = golden::exp_table(golden::default_softmax_format(c));
  const int E = w.ef, L = w.lb, Fa = w.xf, XW = w.xw;
  // The back-end's shifter input {mant * gap, Fa zeros} must be wider than x (softmax_v.v.in).
  if (c.alpha_mant_bits + w.sw <= XW - Fa) throw std::logic_error("exp: scale product narrower than x");
  int64_t max_step = 1;
  std::string cases;
  for (size_t i = 0; i < table.size(); ++i) {
    cases += fmt::format("        {}'d{}: exp_table = {}'d{};\n", L + 1, i, E + 1, table[i]);
    if (i + 1 < table.size()) max_step = std::max(max_step, table[i] - table[i + 1]);
  }
  cases.pop_back();
  const int DW = bit_width(static_cast<uint64_t>(max_step));
  if (DW > E) throw std::logic_error("exp table steps wider than the table");
  const int IW = XW - Fa;                               // integer-part bits (clog2(E + 2) >= 2)
  const int SHW = bit_width(static_cast<uint64_t>(E));  // shift amounts 0..E
  Vars v;
  v["exp_cases"] = cases;
  v["int_expr"] = Fa > 0 ? fmt::format("x_i[{}:{}]", XW - 1, Fa) : "x_i";
  if (Fa == 0) {
    v["idx_expr"] = fmt::format("{}'d0", L + 1);
  } else if (Fa >= L) {
    v["idx_expr"] = fmt::format("{{1'b0, x_i[{}:{}]}}", Fa - 1, Fa - L);
  } else {
    v["idx_expr"] = fmt::format("{{1'b0, x_i[{}:0], {}'d0}}", Fa - 1, L - Fa);
  }
  // I > E: compare at a width that holds both; if I can never exceed E the test is constant 0
  // and the shift reads only the low bits of I.
  if ((IW >= 63 ? ~uint64_t{0} : (uint64_t{1} << IW) - 1) <= static_cast<uint64_t>(E)) {
    v["big_expr"] = "1'b0";
    v["shift_expr"] = "int_part";
  } else {
    v["big_expr"] = fmt::format("int_part > {}'d{}", IW, E);
    v["shift_expr"] = IW > SHW ? fmt::format("int_part[{}:0]", SHW - 1) : "int_part";
  }
  return {v, DW};
}

std::vector<Port> score_ports(const core::AttentionConfig& c, const core::AttentionWidths& w) {
  const std::string cg = "Configuration port: address 0 is alpha, 1 + s the threshold of slot s";
  std::vector<Port> p = {
      {"Clock and reset", "clk_i", true, 1, "", false, "clock"},
      {"Clock and reset", "rst_ni", true, 1, "", false, "asynchronous reset, active low"},
      {cg, "cfg_we_i", true, 1, "", false, "write strobe"},
      {cg, "cfg_addr_i", true, w.caw, "CfgAddrWidth", false, "register address"},
      {cg, "cfg_wdata_i", true, w.cdw, "CfgDataWidth", false, "write data"},
      {cg, "cfg_rdata_o", false, w.cdw, "CfgDataWidth", false, "read data of the register at cfg_addr_i"},
  };
  const std::string kg = "Key load stream: element t of a key at [t*KWidth +: KWidth]";
  p.push_back({kg, "k_valid_i", true, 1, "", false, "key beat valid"});
  p.push_back({kg, "k_ready_o", false, 1, "", false, "no query buffered or in progress"});
  p.push_back({kg, "k_data_i", true, c.d * c.wk, "HeadDim*KWidth", true, "key row"});
  p.push_back({kg, "k_last_i", true, 1, "", false, "last key of the set"});
  const std::string qg = "Query stream: element t of a query at [t*QWidth +: QWidth]";
  p.push_back({qg, "q_valid_i", true, 1, "", false, "query beat valid"});
  p.push_back({qg, "q_ready_o", false, 1, "", false, "key set loaded, buffer free, no key beat"});
  p.push_back({qg, "q_data_i", true, c.d * c.wq, "HeadDim*QWidth", true, "query row"});
  if (!c.dense_baseline) p.push_back({qg, "q_slot_i", true, w.slw, "SlotWidth", false, "threshold slot"});
  p.push_back({qg, "q_keys_i", true, w.kcw, "KeyCountWidth", false,
               "visible keys 0 .. q_keys_i-1 (causal mask)"});
  const std::string sg = "Result stream: kept scores of a query, then its end-of-query beat";
  p.push_back({sg, "s_valid_o", false, 1, "", false, "result beat valid"});
  p.push_back({sg, "s_ready_i", true, 1, "", false, "result beat accepted"});
  p.push_back({sg, "s_eoq_o", false, 1, "", false, "1: end-of-query beat, 0: kept score"});
  p.push_back({sg, "s_key_o", false, w.kiw, "KeyIndexWidth", false, "kept key index"});
  p.push_back({sg, "s_score_o", false, w.sw, "ScoreWidth", true, "exact score, two's complement"});
  p.push_back({sg, "s_count_o", false, w.kcw, "KeyCountWidth", false, "end of query: kept keys"});
  p.push_back({sg, "s_empty_o", false, 1, "", false, "end of query: every key pruned"});
  p.push_back({sg, "s_steps_o", false, w.stw, "StepsWidth", false, "end of query: bit steps (sum of n_ij)"});
  p.push_back({sg, "s_cycles_o", false, w.cyw, "CyclesWidth", false, "end of query: score-phase cycles"});
  if (relative_hw(c)) {
    p.push_back({sg, "s_rel_o", false, 1, "", false, "end of query: the slot is relative"});
    p.push_back({sg, "s_delta_o", false, w.tw, "ThetaWidth", true, "end of query: the slot's theta or delta"});
  }
  const std::string bg = "To the softmax/xV back-end";
  p.push_back({bg, "alpha_o", false, w.aw, "AlphaWidth", false, "softmax scale register"});
  p.push_back({bg, "k_widx_o", false, w.kiw, "KeyIndexWidth", false, "index the next key beat writes"});
  return p;
}

std::vector<Port> unit_ports(const core::AttentionConfig& c, const core::AttentionWidths& w,
                             const std::vector<Port>& score) {
  std::vector<Port> p;
  for (const Port& s : score) {
    if (s.name.starts_with("s_") || s.group.starts_with("To the")) continue;
    p.push_back(s);
    if (s.name == "k_data_i") {
      p.push_back({s.group, "k_vdata_i", true, c.dv * c.wv, "ValueDim*VWidth", true,
                   "V row of the key, element c at [c*VWidth +:]"});
    }
  }
  const std::string og = "Output stream: one row per query, element c at [c*OutWidth +: OutWidth]";
  p.push_back({og, "o_valid_o", false, 1, "", false, "output beat valid"});
  p.push_back({og, "o_ready_i", true, 1, "", false, "output beat accepted"});
  p.push_back({og, "o_data_o", false, c.dv * w.ow, "ValueDim*OutWidth", true,
               "attention output, OutFracBits fraction bits"});
  p.push_back({og, "o_empty_o", false, 1, "", false, "every key pruned: the row is zero"});
  p.push_back({og, "o_count_o", false, w.kcw, "KeyCountWidth", false, "kept keys"});
  p.push_back({og, "o_steps_o", false, w.stw, "StepsWidth", false, "bit steps (sum of n_ij)"});
  p.push_back({og, "o_cycles_o", false, w.cyw, "CyclesWidth", false, "score-phase cycles"});
  p.push_back({og, "o_bcycles_o", false, w.cyw, "CyclesWidth", false, "back-end cycles"});
  if (relative_hw(c)) {
    p.push_back({og, "o_filtered_o", false, w.kcw, "KeyCountWidth", false,
                 "survivors dropped below max - delta"});
  }
  return p;
}

// A params-header constant: the value of plan parameter `param`, or, for a null `param`, 1 for a
// dense baseline and 0 otherwise.
struct HeaderEntry {
  const char* name;
  const char* param;
  const char* comment;
};

std::vector<HeaderConstant> header_of(const DesignPlan& d, bool dense,
                                      std::initializer_list<HeaderEntry> entries) {
  std::vector<HeaderConstant> h;
  for (const HeaderEntry& e : entries) {
    h.push_back({e.name, e.param != nullptr ? d.param(e.param) : (dense ? 1 : 0), e.comment});
  }
  return h;
}

std::vector<HeaderConstant> attention_header(const DesignPlan& d, bool dense) {
  return header_of(d, dense, {
      {"kHeadDim", "HeadDim", "d"},
      {"kQWidth", "QWidth", "wq"},
      {"kKWidth", "KWidth", "wk"},
      {"kLanes", "NumLanes", "lanes"},
      {"kMaxKeys", "MaxKeys", "max_keys"},
      {"kThresholdSlots", "ThresholdSlots", "threshold_slots"},
      {"kDense", nullptr, "dense_baseline"},
      {"kScoreWidth", "ScoreWidth", "s_score_o"},
      {"kThetaWidth", "ThetaWidth", "threshold register"},
      {"kAlphaWidth", "AlphaWidth", "alpha register {shift, mant}"},
      {"kAlphaMantBits", "AlphaMantBits", "alpha register: mantissa bits (the shift is above them)"},
      {"kCfgDataWidth", "CfgDataWidth", "cfg_wdata_i / cfg_rdata_o"},
      {"kCfgAddrWidth", "CfgAddrWidth", "cfg_addr_i"},
      {"kKeyIndexWidth", "KeyIndexWidth", "s_key_o"},
      {"kKeyCountWidth", "KeyCountWidth", "s_count_o"},
      {"kStepsWidth", "StepsWidth", "s_steps_o"},
      {"kSlotWidth", "SlotWidth", "q_slot_i"},
      {"kCyclesWidth", "CyclesWidth", "s_cycles_o"},
      {"kDv", "ValueDim", "dv"},
      {"kVWidth", "VWidth", "wv"},
      {"kOutWidth", "OutWidth", "element of o_data_o"},
      {"kOutFracBits", "OutFracBits", "out_frac_bits"},
  });
}

// ---------------------------------------------------------------- N:M array

std::vector<Param> nm_params(const core::NmConfig& c, const core::NmWidths& w) {
  return {
      {"Rows", c.rows, "rows: PE rows (x rows per tile)"},
      {"Cols", c.cols, "cols: PE columns (weight columns per tile)"},
      {"XWidth", c.wx, "wx: activation element, signed"},
      {"WWidth", c.ww, "ww: weight value, signed"},
      {"Slots", c.n, "n: weight slots per column and group"},
      {"GroupSize", c.m, "m: rows of k per group"},
      {"MaxK", c.max_k, "max_k: largest K"},
      {"KPerBeat", w.kb, "x elements per row and beat (m, or n in the dense baseline)"},
      {"IndexWidth", w.iw, "index bits of a slot (0: no index field)"},
      {"SlotWidth", w.sw, "WWidth + IndexWidth: bits of a weight slot"},
      {"Depth", w.depth, "weight store beats: ceil(MaxK / GroupSize)"},
      {"StoreEntries", w.depth, "Depth: the weight store's fill counter counts to it"},
      {"StoreCountWidth", w.dcw, "CountWidth: the weight store's fill counter"},
      {"GroupWidth", w.diw, "max(1, clog2(Depth)): group number"},
      {"CountWidth", w.dcw, "clog2(Depth + 1): group count 0..Depth"},
      {"AccWidth", w.aw, "accumulator and y element, signed"},
      {"RowWidth", w.riw, "max(1, clog2(Rows)): PE row number"},
      {"WBeatWidth", w.wbw, "Cols * Slots * SlotWidth: weight beat"},
      {"XBeatWidth", w.xbw, "Rows * KPerBeat * XWidth: activation beat"},
      {"YBeatWidth", w.ybw, "Cols * AccWidth: result beat"},
      {"ProductWidth", c.wx + c.ww, "XWidth + WWidth: a full product, signed"},
  };
}

std::vector<Port> nm_ports(const core::NmConfig& c, const core::NmWidths& w) {
  std::vector<Port> p = {
      {"Clock and reset", "clk_i", true, 1, "", false, "clock"},
      {"Clock and reset", "rst_ni", true, 1, "", false, "asynchronous reset, active low"},
  };
  const std::string wg =
      w.iw > 0 ? "Weight stream: slot (c, s) at [(c*Slots + s)*SlotWidth +: SlotWidth], value in its "
                 "low WWidth bits, index above"
               : "Weight stream: slot (c, s) at [(c*Slots + s)*SlotWidth +: SlotWidth], signed value, "
                 "no index";
  p.push_back({wg, "w_valid_i", true, 1, "", false, "weight beat valid"});
  p.push_back({wg, "w_ready_o", false, 1, "", false, "no row tile in progress"});
  p.push_back({wg, "w_data_i", true, w.wbw, "WBeatWidth", false, "one group of one column tile"});
  p.push_back({wg, "w_last_i", true, 1, "", false, "last group of the weight set"});
  const std::string xg =
      "Activation stream: element (r, j) at [(r*KPerBeat + j)*XWidth +: XWidth], signed";
  p.push_back({xg, "x_valid_i", true, 1, "", false, "activation beat valid"});
  p.push_back({xg, "x_ready_o", false, 1, "", false, "weights loaded, x register free, no w beat"});
  p.push_back({xg, "x_data_i", true, w.xbw, "XBeatWidth", true, "one group of every row of the tile"});
  p.push_back({xg, "x_last_i", true, 1, "", false, "last group of the row tile"});
  const std::string yg = "Result stream: one PE row, element c at [c*AccWidth +: AccWidth], signed";
  p.push_back({yg, "y_valid_o", false, 1, "", false, "result beat valid"});
  p.push_back({yg, "y_ready_i", true, 1, "", false, "result beat accepted"});
  p.push_back({yg, "y_data_o", false, w.ybw, "YBeatWidth", true, "Y of one row of the tile"});
  p.push_back({yg, "y_last_o", false, 1, "", false, "last PE row of the tile"});
  (void)c;
  return p;
}

// Expressions whose form depends on widths the generator knows, so that the templates never hold a
// replication or part-select that could be empty.
Vars nm_texts(const core::NmConfig& c, const core::NmWidths& w) {
  const int pw = c.wx + c.ww;  // a full product; AW >= pw because T >= 1
  if (w.aw < pw) throw std::logic_error("nm: accumulator narrower than a product");
  // CountWidth = clog2(D + 1) exceeds GroupWidth = max(1, clog2(D)) by one exactly when D is a
  // power of two > 1: then the count's top bit is never part of a store address.
  const int extra = w.dcw - w.diw;
  if (extra != 0 && extra != 1) throw std::logic_error("nm: unexpected group counter widths");
  return {
      {"prod_ext", w.aw > pw ? "{{(AccWidth-ProductWidth){prod[ProductWidth-1]}}, prod}" : "prod"},
      {"wr_addr", extra ? "wr_index[GroupWidth-1:0]" : "wr_index"},
      {"xg_ext", extra ? "{1'b0, xg_q}" : "xg_q"},
  };
}

std::vector<HeaderConstant> nm_header(const DesignPlan& d, bool dense) {
  return header_of(d, dense, {
      {"kRows", "Rows", "rows"},
      {"kCols", "Cols", "cols"},
      {"kXWidth", "XWidth", "wx: element of x_data_i"},
      {"kWWidth", "WWidth", "ww: weight value of a slot"},
      {"kN", "Slots", "n: slots per column"},
      {"kM", "GroupSize", "m"},
      {"kDense", nullptr, "dense_baseline"},
      {"kKPerBeat", "KPerBeat", "KB: x elements per row and beat"},
      {"kIndexWidth", "IndexWidth", "IW: index bits of a slot (0: no index field)"},
      {"kSlotWidth", "SlotWidth", "SW: bits of a weight slot"},
      {"kDepth", "Depth", "D: weight store beats"},
      {"kAccWidth", "AccWidth", "AW: element of y_data_o"},
      {"kWBeatWidth", "WBeatWidth", "w_data_i"},
      {"kXBeatWidth", "XBeatWidth", "x_data_i"},
      {"kYBeatWidth", "YBeatWidth", "y_data_o"},
  });
}

}  // namespace

void add_memory(DesignPlan& plan, const std::string& role, int depth, int width, int instances) {
  if (depth < 1 || width < 1 || instances < 1) throw std::logic_error("memory " + role + ": empty");
  const std::string suffix = "mem_" + role;
  const int addr_width = std::max(1, core::clog2(static_cast<uint64_t>(depth)));
  ModulePlan m{"mem", {{"module", plan.name + "_" + suffix}}, suffix,
               {{"MemDepth", depth, "words"},
                {"MemWidth", width, "bits per word"},
                {"MemAddrWidth", addr_width, "max(1, clog2(MemDepth)): word address"}}};
  plan.modules.push_back(std::move(m));
  plan.memories.push_back({plan.name + "_" + suffix, role, depth, width, instances});
}

AttentionPlan plan_attention(const core::AttentionConfig& c) {
  AttentionPlan a;
  a.config = c;
  a.widths = core::widths(c);
  const core::AttentionWidths& w = a.widths;
  DesignPlan& d = a.design;
  d.name = c.name;
  d.hash = core::config_hash(c);
  d.config = core::to_json(c);
  d.top = c.name + "_attn_top";
  const Exp2Texts exp2 = exp2_texts(c, w);
  d.params = attention_params(c, w, exp2.step_width);
  d.flags = {{"prune", !c.dense_baseline},
             {"dense", c.dense_baseline},
             {"key_count_wider", w.kcw > w.kiw},
             {"interp", w.xf > w.lb},
             {"overlap", c.overlap_backend},
             {"relative", relative_hw(c)},
             {"key_banked", core::key_banks(c) > 1},
             {"key_queue2", c.key_queue == 2},
             {"absolute_only", !c.dense_baseline && !relative_hw(c)}};
  a.score_ports = score_ports(c, w);
  d.top_ports = unit_ports(c, w, a.score_ports);

  const Vars prefix = {{"prefix", c.name}};
  d.modules.push_back({"cfg_regs", prefix});
  d.modules.push_back({"store_count", prefix});
  add_memory(d, "key", key_bank_depth(c), c.d * c.wk, core::key_banks(c));
  const KeyBankTexts banks = key_bank_texts(c, w);
  Vars store = prefix;
  store.insert(banks.store.begin(), banks.store.end());
  d.modules.push_back({"key_store", store});
  if (!c.dense_baseline) {
    d.modules.push_back({"qpos", prefix});
    d.modules.push_back({"bound_table", prefix});
  }
  if (relative_hw(c)) d.modules.push_back({"rel_threshold", prefix});
  Vars issue = prefix;
  issue.insert(banks.issue.begin(), banks.issue.end());
  d.modules.push_back({"bs_lane", prefix});
  d.modules.push_back({"key_issue", issue});
  d.modules.push_back({"out_arb", prefix});
  Vars score = prefix;
  score["port_decls"] = port_decls(a.score_ports);
  d.modules.push_back({"score_top", score});
  add_memory(d, "value", c.max_keys, c.dv * c.wv, 1);
  d.modules.push_back({"value_store", prefix});
  Vars e = exp2.texts;
  e["prefix"] = c.name;
  d.modules.push_back({"exp2", e});
  add_memory(d, "collect", c.max_keys, w.kiw + w.sw, 2);  // ping-pong collect buffers of {key, score}
  d.modules.push_back({"softmax_v", prefix});
  Vars top = prefix;
  top["port_decls"] = port_decls(d.top_ports);
  d.modules.push_back({"attn_top", top});
  d.header = attention_header(d, c.dense_baseline);
  return a;
}

NmPlan plan_nm(const core::NmConfig& c) {
  NmPlan n;
  n.config = c;
  n.widths = core::nm_widths(c);
  DesignPlan& d = n.design;
  d.name = c.name;
  d.hash = core::config_hash(c);
  d.config = core::to_json(c);
  d.top = c.name + "_nm_top";
  d.params = nm_params(c, n.widths);
  d.flags = {{"index", n.widths.iw > 0}, {"count_wider", n.widths.dcw > n.widths.diw}};
  d.top_ports = nm_ports(c, n.widths);
  const Vars prefix = {{"prefix", c.name}};
  const Vars texts = nm_texts(c, n.widths);
  Vars wstore = prefix;
  wstore["wr_addr"] = texts.at("wr_addr");
  Vars pe = prefix;
  pe["prod_ext"] = texts.at("prod_ext");
  Vars top = prefix;
  top["port_decls"] = port_decls(d.top_ports);
  top["xg_ext"] = texts.at("xg_ext");
  d.modules = {{"store_count", prefix}};
  add_memory(d, "weight", n.widths.depth, n.widths.wbw, 1);
  for (ModulePlan m : std::vector<ModulePlan>{{"nm_wstore", wstore}, {"nm_pe", pe}, {"nm_array", prefix}, {"nm_top", top}})
    d.modules.push_back(std::move(m));
  d.header = nm_header(d, c.dense_baseline);
  return n;
}

}  // namespace accelgen::gen
