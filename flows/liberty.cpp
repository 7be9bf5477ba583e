#include "flows/liberty.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <stdexcept>
#include <optional>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "flows/liberty_function.h"
#include "flows/text_io.h"

namespace accelgen::flows {

namespace {

constexpr size_t kMaxGroupDepth = 64;

struct LibToken {
  enum Kind { kWord, kString, kPunct, kEnd } kind;
  std::string text;
  bool newline_before = false;
  int line = 0;
};

class LibLexer {
 public:
  explicit LibLexer(const std::string& s) : s_(s) {}
  LibToken next() {
    bool nl = false;
    for (;;) {
      if (pos_ >= s_.size()) return {LibToken::kEnd, "", true, line_};
      const char c = s_[pos_];
      if (c == '\n') {
        nl = true;
        ++line_;
        ++pos_;
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
        ++pos_;
      } else if (c == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '\n' || s_[pos_ + 1] == '\r')) {
        ++pos_;  // line continuation
        if (s_[pos_] == '\r') ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '\n') {
          ++pos_;
          ++line_;
        }
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '*') {
        const size_t e = s_.find("*/", pos_ + 2);
        if (e == std::string::npos)
          throw core::InputError(fmt::format("liberty line {}", line_), "unterminated comment");
        line_ += static_cast<int>(std::count(s_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                             s_.begin() + static_cast<std::ptrdiff_t>(e), '\n'));
        pos_ = e + 2;
      } else if (c == '/' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '/') {
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
    LibToken t{LibToken::kWord, "", nl, line_};
    const char c = s_[pos_];
    if (c == '"') {
      t.kind = LibToken::kString;
      ++pos_;
      while (pos_ < s_.size() && s_[pos_] != '"') {
        if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
          if (s_[pos_ + 1] == '\n') {  // continuation inside a string
            pos_ += 2;
            ++line_;
            continue;
          }
          t.text += s_[pos_ + 1];
          pos_ += 2;
          continue;
        }
        if (s_[pos_] == '\n') ++line_;
        t.text += s_[pos_++];
      }
      if (pos_ >= s_.size()) throw core::InputError(fmt::format("liberty line {}", t.line), "unterminated string");
      ++pos_;
      return t;
    }
    if (std::string_view("(){}:;,").find(c) != std::string_view::npos) {
      t.kind = LibToken::kPunct;
      t.text = std::string(1, c);
      ++pos_;
      return t;
    }
    while (pos_ < s_.size()) {
      const char d = s_[pos_];
      if (d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == '"' ||
          std::string_view("(){}:;,").find(d) != std::string_view::npos)
        break;
      if (d == '\\' && pos_ + 1 < s_.size() && (s_[pos_ + 1] == '\n' || s_[pos_ + 1] == '\r')) break;
      t.text += d;
      ++pos_;
    }
    return t;
  }

 private:
  const std::string& s_;
  size_t pos_ = 0;
  int line_ = 1;
};

double time_unit_in_ns(const std::string& raw);
double voltage_unit_in_v(const std::string& raw);
double capacitance_unit_in_pf(const std::vector<std::string>& args);

class LibParser {
 public:
  explicit LibParser(const std::string& text) : lex_(text) { advance(); }

  LibertyInfo run() {
    // library ( name ) { ... }
    if (tok_.kind != LibToken::kWord || tok_.text != "library")
      fail("expected 'library(...) {' at the start");
    std::vector<Frame> stack;
    parse_statement(stack);
    if (tok_.kind != LibToken::kEnd) fail("text after the library group");
    if (info_.name.empty()) fail("no library name");
    return std::move(info_);
  }

 private:
  struct Frame {
    std::string group;  // group name: library, cell, pin, ff, timing, ...
    std::vector<std::string> args;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw core::InputError(fmt::format("liberty line {}", tok_.line), what);
  }
  void advance() { tok_ = lex_.next(); }
  bool is_punct(char c) const { return tok_.kind == LibToken::kPunct && tok_.text[0] == c; }
  void expect(char c) {
    if (!is_punct(c)) fail(fmt::format("expected '{}', got '{}'", c, tok_.text));
    advance();
  }

  // One statement: a group, a simple attribute or a complex attribute. `stack` holds the enclosing
  // groups; it is restored before returning.
  void parse_statement(std::vector<Frame>& stack) {
    if (tok_.kind != LibToken::kWord && tok_.kind != LibToken::kString)
      fail("expected a name, got '" + tok_.text + "'");
    const std::string name = tok_.text;
    stmt_line_ = tok_.line;
    advance();
    if (is_punct(':')) {  // simple attribute: name : value [;]
      advance();
      std::string value;
      bool first = true;
      while (tok_.kind != LibToken::kEnd && !is_punct(';') && !is_punct('}') &&
             (first || !tok_.newline_before)) {
        if (!first) value += ' ';
        value += tok_.text;
        first = false;
        advance();
      }
      if (is_punct(';')) advance();
      on_attribute(stack, name, value);
      return;
    }
    if (!is_punct('(')) fail("expected ':' or '(' after '" + name + "'");
    advance();
    std::vector<std::string> args;
    while (!is_punct(')')) {
      if (tok_.kind == LibToken::kEnd) fail("unterminated argument list of '" + name + "'");
      if (!is_punct(',')) args.push_back(tok_.text);
      advance();
    }
    advance();
    if (is_punct('{')) {  // group
      advance();
      // Real libraries nest about 6 deep (library, cell, pin, timing, table); the limit keeps the
      // recursion far from the end of the stack on a malicious file.
      if (stack.size() >= kMaxGroupDepth) fail(fmt::format("groups nested deeper than {}", kMaxGroupDepth));
      stack.push_back({name, args});
      on_group_open(stack);
      while (!is_punct('}')) {
        if (tok_.kind == LibToken::kEnd) fail("missing '}' of group '" + name + "'");
        if (is_punct(';')) {
          advance();
          continue;
        }
        parse_statement(stack);
      }
      advance();
      on_group_close(stack);
      stack.pop_back();
      return;
    }
    if (is_punct(';')) advance();  // complex attribute; the ';' is optional
    on_complex_attribute(stack, name, args);
    if (stack.empty()) fail("expected '{' after library(...)");
  }

  void on_group_open(const std::vector<Frame>& st) {
    const Frame& f = st.back();
    if (st.size() == 1) {
      if (f.group != "library") fail("top-level group is not 'library'");
      info_.name = f.args.empty() ? "" : f.args[0];
      return;
    }
    if (f.group == "timing") info_.has_timing = true;
    if (st.size() == 2 && f.group == "cell") {
      cell_ = LibertyCell{};
      cell_.name = f.args.empty() ? "" : f.args[0];
      return;
    }
    if (st.size() >= 3 && st[1].group == "cell") {
      if (f.group == "ff" || f.group == "ff_bank") cell_.flop = cell_.sequential = true;
      if (f.group == "latch" || f.group == "latch_bank") cell_.latch = cell_.sequential = true;
      if (f.group == "statetable") cell_.sequential = true;
      if (st.size() == 3 && (f.group == "bus" || f.group == "bundle")) cell_.bus = true;
      if (st.size() == 3 && f.group == "memory") cell_.memory = true;
      if (st.size() == 3 && (f.group == "pin" || f.group == "bus")) {
        pin_names_ = f.args;
        pin_direction_.clear();
        pin_function_.clear();
        pin_clock_ = false;
        pin_power_pj_.clear();
      }
      if (st.size() == 4 && f.group == "internal_power") power_rise_ = power_fall_ = -1;
    }
  }

  void on_group_close(const std::vector<Frame>& st) {
    const Frame& f = st.back();
    if (st.size() == 2 && f.group == "cell") {
      info_.cells.push_back(std::move(cell_));
      return;
    }
    if (st.size() == 4 && st[1].group == "cell" && f.group == "timing") {
      const bool out = pin_direction_ == "output" || pin_direction_ == "inout";
      if (out && arc_type_ == "rising_edge" && arc_max_ >= 0)
        cell_.clk_to_out_ns = std::max(cell_.clk_to_out_ns, arc_max_ * time_unit_ns_);
      arc_type_.clear();
      arc_related_.clear();
      arc_max_ = -1;
    }
    if (st.size() == 4 && st[1].group == "cell" && f.group == "internal_power" && st[2].group == "pin") {
      const double e = std::max(power_rise_, 0.0) + std::max(power_fall_, 0.0);
      if (power_rise_ >= 0 || power_fall_ >= 0) pin_power_pj_.push_back(e * energy_unit_pj());
    }
    if (st.size() == 3 && st[1].group == "cell" && (f.group == "pin" || f.group == "bus")) {
      if (pin_clock_ && !pin_power_pj_.empty() && !pin_names_.empty())
        cell_.clock_power.push_back({pin_names_[0], pin_power_pj_});
      for (const auto& p : pin_names_) {
        if (pin_direction_ == "input") cell_.inputs.push_back(p);
        if (pin_direction_ == "output" || pin_direction_ == "inout")
          cell_.outputs.emplace_back(p, pin_function_);
      }
    }
  }

  // values ("0.1, 0.2", ...) of a cell_rise / cell_fall table inside a pin's or bus's timing group:
  // the largest entry of the arc (kept until the timing group closes, when its type is known).
  // values (...) of a clock pin's internal_power rise_power / fall_power table: the largest entry.
  void on_complex_attribute(const std::vector<Frame>& st, const std::string& name,
                            const std::vector<std::string>& args) {
    if (st.size() == 1 && name == "capacitive_load_unit") cap_unit_pf_ = capacitance_unit_in_pf(args);
    if (name != "values" || st.size() != 5 || st[1].group != "cell") return;
    if (st[3].group == "timing" && (st[4].group == "cell_rise" || st[4].group == "cell_fall")) {
      arc_max_ = std::max(arc_max_, largest_value(args));
    } else if (st[3].group == "internal_power" && st[4].group == "rise_power") {
      power_rise_ = std::max(power_rise_, largest_value(args));
    } else if (st[3].group == "internal_power" && st[4].group == "fall_power") {
      power_fall_ = std::max(power_fall_, largest_value(args));
    }
  }

  // The largest number of a table's rows ("0.1, 0.2", ...); -1 for none.
  double largest_value(const std::vector<std::string>& rows) const {
    double best = -1;
    for (const std::string& row : rows) {
      std::string num;
      for (char ch : row + ",") {
        if (ch == ',' || ch == ' ' || ch == '\\') {
          if (!num.empty()) {
            try {
              best = std::max(best, parse_double(num, "values"));
            } catch (const std::runtime_error&) {
              fail(fmt::format("values of cell {}: '{}' is not a number", cell_.name, num));
            }
          }
          num.clear();
        } else {
          num += ch;
        }
      }
    }
    return best;
  }

  // Liberty's internal energy unit: capacitive_load_unit x voltage_unit^2, in pJ.
  double energy_unit_pj() const { return cap_unit_pf_ * volt_unit_v_ * volt_unit_v_; }

  void on_attribute(const std::vector<Frame>& st, const std::string& name, const std::string& value) {
    if (st.size() == 1 && name == "default_operating_conditions") info_.default_operating_conditions = value;
    if (st.size() == 1 && name == "time_unit") time_unit_ns_ = time_unit_in_ns(value);
    if (st.size() == 1 && name == "voltage_unit") volt_unit_v_ = voltage_unit_in_v(value);
    if (st.size() == 4 && st[1].group == "cell" && st[3].group == "timing") {
      if (name == "timing_type") arc_type_ = value;
      if (name == "related_pin") arc_related_ = value;
    }
    if (st.size() == 2 && st[1].group == "cell") {
      if (name == "area") {
        try {
          cell_.area = parse_double(value, "area");
        } catch (const std::runtime_error&) {
          fail(fmt::format("area of cell {} is not a number: '{}'", cell_.name, value));
        }
        cell_.has_area = true;
      }
      if (name == "dont_use" && value == "true") cell_.dont_use = true;
    }
    if (st.size() == 3 && st[1].group == "cell" && st[2].group == "memory") {
      if (name == "type") cell_.memory_type = value;
      if (name == "address_width" || name == "word_width") {
        // A macro holds at most 2^24 words of at most 4096 bits (far beyond any compiler's range).
        const bool addr = name == "address_width";
        const int hi = addr ? 24 : 4096;
        double v = -1;
        try {
          v = parse_double(value, name);
        } catch (const std::runtime_error&) {
        }
        if (!(v >= 1 && v <= hi) || v != static_cast<double>(static_cast<int>(v))) {
          // Named by the attribute's own line (the lexer is already past it).
          throw core::InputError(fmt::format("liberty line {}", stmt_line_),
                                 fmt::format("{} of memory cell {} must be an integer in [1, {}], got '{}'", name,
                                             cell_.name, hi, value));
        }
        (addr ? cell_.address_width : cell_.word_width) = static_cast<int>(v);
      }
    }
    if (st.size() == 3 && st[1].group == "cell" && (st[2].group == "pin" || st[2].group == "bus")) {
      if (name == "direction") pin_direction_ = value;
      if (name == "function") pin_function_ = value;
      if (name == "three_state") cell_.three_state = true;
      if (name == "clock" && value == "true") pin_clock_ = true;
    }
  }

  LibLexer lex_;
  LibToken tok_;
  LibertyInfo info_;
  LibertyCell cell_;
  std::vector<std::string> pin_names_;
  std::string pin_direction_, pin_function_;
  int stmt_line_ = 0;  // line of the statement being parsed
  double time_unit_ns_ = 1;  // library time_unit in ns
  std::string arc_type_, arc_related_;  // the timing group being read
  double arc_max_ = -1;                 // its largest cell_rise/cell_fall value, -1: none
  bool pin_clock_ = false;              // the pin being read has `clock : true`
  std::vector<double> pin_power_pj_;    // its internal_power groups, pJ per cycle each
  double power_rise_ = -1, power_fall_ = -1;  // the internal_power group being read, -1: none
  double volt_unit_v_ = 1, cap_unit_pf_ = 1;  // library units (defaults: 1V, 1pF)
};

// A unit attribute "<number><suffix>" (quotes dropped) as its number and suffix; nullopt when it
// has another shape.
std::optional<std::pair<double, std::string>> number_and_suffix(const std::string& raw, const char* what) {
  std::string v;
  for (char ch : raw)
    if (ch != '"') v += ch;
  const size_t unit = v.find_first_not_of("0123456789.");
  if (unit == std::string::npos || unit == 0) return std::nullopt;
  try {
    return std::make_pair(parse_double(v.substr(0, unit), what), v.substr(unit));
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
}

// "1ns", "100ps", "1us" -> ns; anything else: 1 (ns, the common unit).
double time_unit_in_ns(const std::string& raw) {
  const auto nu = number_and_suffix(raw, "time_unit");
  if (!nu) return 1;
  const auto& [n, u] = *nu;
  return u == "ps" ? n / 1000 : u == "us" ? n * 1000 : n;
}

// "1V", "1mV" -> V; anything else: 1 (V).
double voltage_unit_in_v(const std::string& raw) {
  const auto nu = number_and_suffix(raw, "voltage_unit");
  if (!nu) return 1;
  return nu->second == "mV" ? nu->first / 1000 : nu->first;
}

// capacitive_load_unit (1, pf) / (1, ff) -> pF; anything else: 1 (pF).
double capacitance_unit_in_pf(const std::vector<std::string>& args) {
  if (args.size() != 2) return 1;
  double n = 1;
  try {
    n = parse_double(args[0], "capacitive_load_unit");
  } catch (const std::runtime_error&) {
    return 1;
  }
  std::string u;
  for (char ch : args[1]) u += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return u == "ff" ? n / 1000 : n;
}

void choose_reference_cells(LibertyInfo& lib) {
  const LibertyCell* nand2 = nullptr;
  const LibertyCell* buf = nullptr;
  auto better = [](const LibertyCell* best, const LibertyCell& c) {
    return best == nullptr || c.area < best->area || (c.area == best->area && c.name < best->name);
  };
  for (const auto& c : lib.cells) {
    if (c.sequential || c.three_state || c.bus || c.dont_use || !c.has_area || c.outputs.size() != 1)
      continue;
    const std::string& fn = c.outputs[0].second;
    if (fn.empty()) continue;
    if (c.inputs.size() == 2 &&
        function_is(fn, c.inputs, [](const std::vector<bool>& b) { return !(b[0] && b[1]); }) &&
        better(nand2, c))
      nand2 = &c;
    if (c.inputs.size() == 1 && function_is(fn, c.inputs, [](const std::vector<bool>& b) { return b[0]; }) &&
        better(buf, c))
      buf = &c;
  }
  if (nand2 != nullptr) {
    lib.nand2_cell = nand2->name;
    lib.nand2_area = nand2->area;
  }
  if (buf != nullptr) lib.buffer_cell = buf->name;
}

}  // namespace

const LibertyCell* LibertyInfo::find(const std::string& cell) const {
  for (const auto& c : cells)
    if (c.name == cell) return &c;
  return nullptr;
}

LibertyInfo parse_liberty(const std::string& text) {
  LibertyInfo info = LibParser(text).run();
  choose_reference_cells(info);
  return info;
}

}  // namespace accelgen::flows
