// Mutant schemata over generated Verilog (tests/mutation.h). A small tokenizer and a statement
// walker that knows just enough Verilog-2005 to find the expressions the mutants may change: it
// reads the generator's output, not arbitrary Verilog.
#include "tests/mutation.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace accelgen::mutation {

namespace {

enum class Kind { kIdent, kNumber, kOp, kDirective };

struct Token {
  size_t begin = 0, end = 0;  // offsets into the file text
  Kind kind = Kind::kOp;
  std::string text;
};

// The text with comments and string literals blanked (newlines kept): same offsets, no false tokens.
std::string code_only(const std::string& s) {
  std::string c = s;
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.compare(i, 2, "//") == 0) {
      for (; i < c.size() && c[i] != '\n'; ++i) c[i] = ' ';
    } else if (c.compare(i, 2, "/*") == 0) {
      const size_t end = std::min(c.size(), c.find("*/", i + 2) + 2);
      for (; i < end; ++i) c[i] = c[i] == '\n' ? '\n' : ' ';
      --i;
    } else if (c[i] == '"') {
      c[i] = ' ';
      for (++i; i < c.size() && s[i] != '"'; ++i) c[i] = ' ';
      if (i < c.size()) c[i] = ' ';
    }
  }
  return c;
}

bool ident_char(char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '$'; }

std::vector<Token> tokenize(const std::string& code) {
  static const std::vector<std::string> kOps = {"<<<", ">>>", "===", "!==", "<<", "<=", ">>", ">=", "==",
                                                "!=", "&&", "||", "**", "+:", "-:", "~&", "~|", "~^", "^~"};
  std::vector<Token> t;
  size_t i = 0;
  while (i < code.size()) {
    const char ch = code[i];
    if (std::isspace(static_cast<unsigned char>(ch))) {
      ++i;
      continue;
    }
    Token tok;
    tok.begin = i;
    if (ch == '`' || std::isalpha(static_cast<unsigned char>(ch)) || ch == '_' || ch == '$') {
      tok.kind = ch == '`' ? Kind::kDirective : Kind::kIdent;
      for (++i; i < code.size() && ident_char(code[i]); ++i) {}
      // `timescale 1ns / 1ps, `default_nettype wire: the directive is the whole line (only the
      // conditionals' arguments are read).
      const std::string name = code.substr(tok.begin, i - tok.begin);
      if (ch == '`' && name != "`ifdef" && name != "`ifndef" && name != "`else" && name != "`endif") {
        for (; i < code.size() && code[i] != '\n'; ++i) {}
      }
    } else if (std::isdigit(static_cast<unsigned char>(ch)) || ch == '\'') {
      // 12, 3'd4, 8'hff, 1'b0, 'b1: digits, then an optional base and its digits.
      tok.kind = Kind::kNumber;
      for (; i < code.size() && (std::isdigit(static_cast<unsigned char>(code[i])) || code[i] == '_'); ++i) {}
      if (i < code.size() && code[i] == '\'') {
        ++i;
        if (i < code.size() && (code[i] == 's' || code[i] == 'S')) ++i;
        if (i < code.size()) ++i;  // the base letter
        for (; i < code.size() && (std::isxdigit(static_cast<unsigned char>(code[i])) || code[i] == '_' ||
                                   std::strchr("xXzZ?", code[i]) != nullptr);
             ++i) {}
      }
    } else {
      tok.kind = Kind::kOp;
      size_t len = 1;
      for (const std::string& op : kOps) {
        if (code.compare(i, op.size(), op) == 0) {
          len = op.size();
          break;
        }
      }
      i += len;
    }
    tok.end = i;
    tok.text = code.substr(tok.begin, tok.end - tok.begin);
    t.push_back(tok);
  }
  return t;
}

// Binding strength of a binary operator (higher binds tighter); 0 for anything else.
int precedence(const std::string& op) {
  static const std::map<std::string, int> kPrec = {
      {"**", 13}, {"*", 12},  {"/", 12},  {"%", 12},   {"+", 11},   {"-", 11},  {"<<", 10}, {">>", 10},
      {"<<<", 10}, {">>>", 10}, {"<", 9},  {"<=", 9},   {">", 9},    {">=", 9},  {"==", 8},  {"!=", 8},
      {"===", 8}, {"!==", 8}, {"&", 7},   {"^", 6},    {"~^", 6},   {"^~", 6},  {"|", 5},   {"&&", 4},
      {"||", 3},  {"?", 2},   {":", 2}};
  const auto it = kPrec.find(op);
  return it == kPrec.end() ? 0 : it->second;
}

// A region: an expression the mutants may replace, tokens [first, last).
struct Region {
  size_t first = 0, last = 0;
  bool condition = false;  // an if condition (else an assignment's right-hand side)
  std::string lhs;         // the assigned name (right-hand sides)
};

class Walker {
 public:
  explicit Walker(const std::vector<Token>& t) : t_(t) {}

  void walk() {
    size_t i = 0;
    while (i < t_.size()) i = module_item(i);
  }
  const std::vector<Region>& regions() const { return regions_; }
  const std::vector<size_t>& header_ends() const { return header_ends_; }  // token index of each module's ';'

 private:
  bool is(size_t i, const char* s) const { return i < t_.size() && t_[i].text == s; }

  // The index of the bracket closing the one at i.
  size_t match(size_t i) const {
    const std::string open = t_[i].text;
    const std::string close = open == "(" ? ")" : open == "[" ? "]" : "}";
    int depth = 0;
    for (size_t k = i; k < t_.size(); ++k) {
      if (t_[k].text == open) ++depth;
      if (t_[k].text == close && --depth == 0) return k;
    }
    throw std::runtime_error("mutation: unbalanced " + open);
  }
  // The next ';' at bracket depth 0 from i.
  size_t statement_end(size_t i) const {
    for (size_t k = i; k < t_.size(); ++k) {
      if (is(k, "(") || is(k, "[") || is(k, "{")) {
        k = match(k);
      } else if (is(k, ";")) {
        return k;
      }
    }
    throw std::runtime_error("mutation: statement without ';'");
  }
  // The first token named `s` at depth 0 in [i, end), or end.
  size_t find_top(size_t i, size_t end, const char* s) const {
    for (size_t k = i; k < end; ++k) {
      if (is(k, "(") || is(k, "[") || is(k, "{")) {
        k = match(k);
      } else if (is(k, s)) {
        return k;
      }
    }
    return end;
  }
  // The last name at depth 0 in [i, end): the assigned signal of `x[3] <=` or `wire [7:0] x =`.
  std::string last_name(size_t i, size_t end) const {
    std::string name;
    for (size_t k = i; k < end; ++k) {
      if (is(k, "(") || is(k, "[") || is(k, "{")) {
        k = match(k);
      } else if (t_[k].kind == Kind::kIdent) {
        name = t_[k].text;
      }
    }
    return name;
  }

  size_t skip_directive_block(size_t i) const {
    int depth = 0;
    for (size_t k = i; k < t_.size(); ++k) {
      if (is(k, "`ifdef") || is(k, "`ifndef")) ++depth;
      if (is(k, "`endif") && --depth == 0) return k + 1;
    }
    return t_.size();
  }

  size_t module_item(size_t i) {
    const std::string& w = t_[i].text;
    if (w == "`ifndef" && is(i + 1, "SYNTHESIS")) return skip_directive_block(i);
    if (w == "module") {
      const size_t end = statement_end(i);
      header_ends_.push_back(end);
      return end + 1;
    }
    if (w == "function") {
      for (size_t k = i; k < t_.size(); ++k) {
        if (is(k, "endfunction")) return k + 1;
      }
      return t_.size();
    }
    if (w == "assign" || w == "wire") {
      const size_t end = statement_end(i);
      const size_t eq = find_top(i, end, "=");
      if (eq < end) regions_.push_back({eq + 1, end, false, last_name(i + 1, eq)});
      return end + 1;
    }
    if (w == "always" || w == "initial") return procedural(i + 1);
    return i + 1;
  }

  // An always/initial block from its event control (or body); returns the index after it.
  size_t procedural(size_t i) {
    if (is(i, "@")) {
      ++i;
      if (is(i, "(")) {
        i = match(i) + 1;
      } else if (is(i, "*")) {
        ++i;
      }
    }
    size_t end = 0;
    if (is(i, "begin")) {
      int depth = 0;
      for (end = i; end < t_.size(); ++end) {
        if (is(end, "begin")) ++depth;
        if (is(end, "end") && --depth == 0) break;
      }
    } else {
      end = statement_end(i);
    }
    statements(i, end);
    return end + 1;
  }

  // The statements of a procedural body [i, end): assignments' right-hand sides and if conditions.
  void statements(size_t i, size_t end) {
    size_t start = i;  // where the current statement began
    for (size_t k = i; k < end; ++k) {
      const std::string& w = t_[k].text;
      if ((w == "if") && is(k + 1, "(")) {
        const size_t close = match(k + 1);
        regions_.push_back({k + 2, close, true, ""});
        k = close;
        start = k + 1;
      } else if ((w == "for" || w == "case" || w == "casez" || w == "casex" || w == "while") && is(k + 1, "(")) {
        k = match(k + 1);
        start = k + 1;
      } else if (w == "(" || w == "[" || w == "{") {
        k = match(k);
      } else if (w == "=" || w == "<=") {
        const size_t stop = statement_end(k);
        regions_.push_back({k + 1, stop, false, last_name(start, k)});
        k = stop;
        start = k + 1;
      } else if (w == ";" || w == "begin" || w == "end" || w == "else" || w == "endcase" || w == ":" ||
                 w == "default") {
        start = k + 1;
      }
    }
  }

  const std::vector<Token>& t_;
  std::vector<Region> regions_;
  std::vector<size_t> header_ends_;
};

// One mutant of a region before numbering: the region's text with tokens [from, to) replaced.
struct Edit {
  std::string op;
  size_t at = 0;  // offset of the mutated operator (for the line number)
  std::string expression;
};

class RegionMutator {
 public:
  RegionMutator(const std::string& text, const std::vector<Token>& t, const Region& r)
      : text_(text), t_(t), r_(r) {}

  std::vector<Edit> edits() {
    const std::string lower = lowercase(r_.lhs);
    const bool constant_rhs = r_.last == r_.first + 1 && t_[r_.first].kind == Kind::kNumber;  // "constant" covers it
    if (!r_.condition && !constant_rhs &&
        (lower.find("valid") != std::string::npos || lower.find("ready") != std::string::npos)) {
      edits_.push_back({"stuck-at-0", t_[r_.first].begin, "1'b0"});
      edits_.push_back({"stuck-at-1", t_[r_.first].begin, "1'b1"});
    }
    if (r_.condition) edits_.push_back({"negate", t_[r_.first].begin, "!(" + expression() + ")"});
    int select_depth = 0;  // inside [...]: indices and part-selects are left alone
    size_t skip_to = 0;    // a replication count {N{...}} or {(A-B){...}} is left alone too
    for (size_t k = r_.first; k < r_.last; ++k) {
      const std::string& w = t_[k].text;
      if (w == "{") skip_to = std::max(skip_to, replication_count_end(k));
      if (k < skip_to) continue;
      if (w == "[") ++select_depth;
      if (w == "]") --select_depth;
      if (select_depth > 0) continue;
      if (t_[k].kind == Kind::kNumber) {
        if (!is(k + 1, "{")) constant(k);
        continue;
      }
      if (t_[k].kind != Kind::kOp || !binary(k)) continue;
      comparison(k);
      logic(k);
      swap(k);
    }
    return edits_;
  }

 private:
  static std::string lowercase(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool is(size_t k, const char* s) const { return k < r_.last && t_[k].text == s; }
  // Ends an operand: a name, a number or a closing bracket.
  bool operand_end(size_t k) const {
    return t_[k].kind == Kind::kIdent || t_[k].kind == Kind::kNumber || t_[k].text == ")" ||
           t_[k].text == "]" || t_[k].text == "}";
  }
  // An operator token used as a binary operator (it follows an operand).
  bool binary(size_t k) const { return k > r_.first && precedence(t_[k].text) > 0 && operand_end(k - 1); }

  std::string expression() const { return slice(r_.first, r_.last); }
  // The original text of tokens [a, b).
  std::string slice(size_t a, size_t b) const {
    if (a >= b) return "";
    return text_.substr(t_[a].begin, t_[b - 1].end - t_[a].begin);
  }
  // The region with tokens [a, b) replaced by `with`.
  std::string replaced(size_t a, size_t b, const std::string& with) const {
    return slice(r_.first, a) + (a > r_.first ? " " : "") + with + (b < r_.last ? " " : "") + slice(b, r_.last);
  }

  void comparison(size_t k) {
    static const std::map<std::string, std::string> kFlip = {
        {"<", "<="}, {"<=", "<"}, {">", ">="}, {">=", ">"}, {"==", "!="}, {"!=", "=="}};
    const auto it = kFlip.find(t_[k].text);
    if (it != kFlip.end()) edits_.push_back({"comparison", t_[k].begin, replaced(k, k + 1, it->second)});
  }
  void logic(size_t k) {
    static const std::map<std::string, std::string> kFlip = {{"&", "|"}, {"|", "&"}, {"&&", "||"}, {"||", "&&"}};
    const auto it = kFlip.find(t_[k].text);
    if (it != kFlip.end()) edits_.push_back({"logic", t_[k].begin, replaced(k, k + 1, it->second)});
  }

  // The operand ending at token k (inclusive): its first token, or nothing if it is not simple.
  std::optional<size_t> operand_before(size_t k) const {
    const std::string& w = t_[k].text;
    if (t_[k].kind == Kind::kIdent || t_[k].kind == Kind::kNumber) return k;
    if (w != "]" && w != ")") return std::nullopt;
    const std::string open = w == "]" ? "[" : "(";
    int depth = 0;
    for (size_t j = k + 1; j-- > r_.first;) {
      if (t_[j].text == w) ++depth;
      if (t_[j].text == open && --depth == 0) {
        if (open == "[") return j > r_.first && t_[j - 1].kind == Kind::kIdent ? std::optional(j - 1) : std::nullopt;
        const bool call = j > r_.first && (t_[j - 1].text == "$signed" || t_[j - 1].text == "$unsigned");
        return call ? j - 1 : j;
      }
    }
    return std::nullopt;
  }
  // For the '{' at k: one past the replication count if it opens {count{...}}, else k.
  size_t replication_count_end(size_t k) const {
    for (size_t j = k + 1; j < r_.last; ++j) {
      const std::string& w = t_[j].text;
      if (w == "{") return j;
      if (w == "," || w == "}") return k;
      if (w == "(" || w == "[") j = close_of(j);
    }
    return k;
  }
  size_t close_of(size_t k) const {
    const std::string open = t_[k].text, close = open == "(" ? ")" : open == "[" ? "]" : "}";
    int depth = 0;
    for (size_t j = k; j < r_.last; ++j) {
      if (t_[j].text == open) ++depth;
      if (t_[j].text == close && --depth == 0) return j;
    }
    return r_.last;
  }
  // The operand starting at token k: one past its last token, or nothing if it is not simple.
  std::optional<size_t> operand_after(size_t k) const {
    if (k >= r_.last) return std::nullopt;
    if (t_[k].kind == Kind::kNumber) return k + 1;
    if (t_[k].text == "(") return close_of(k) < r_.last ? std::optional(close_of(k) + 1) : std::nullopt;
    if (t_[k].kind != Kind::kIdent) return std::nullopt;
    if ((t_[k].text == "$signed" || t_[k].text == "$unsigned") && is(k + 1, "(")) {
      return close_of(k + 1) < r_.last ? std::optional(close_of(k + 1) + 1) : std::nullopt;
    }
    size_t end = k + 1;
    while (is(end, "[") && close_of(end) < r_.last) end = close_of(end) + 1;
    return end;
  }

  // a OP b -> b OP a for a non-commutative OP whose operands are simple and bind to it.
  void swap(size_t k) {
    static const std::set<std::string> kOps = {"-", "<", "<=", ">", ">=", "<<", ">>", "<<<", ">>>"};
    const std::string& op = t_[k].text;
    if (kOps.count(op) == 0) return;
    const std::optional<size_t> left = operand_before(k - 1);
    const std::optional<size_t> right_end = operand_after(k + 1);
    if (!left || !right_end) return;
    const int prec = precedence(op);
    // What precedes the left operand must not take it: a tighter or equal binary operator, or a
    // unary operator.
    if (*left > r_.first) {
      const size_t p = *left - 1;
      const bool p_binary = binary(p);
      if (p_binary && precedence(t_[p].text) >= prec) return;
      if (!p_binary && t_[p].kind == Kind::kOp && t_[p].text != "(" && t_[p].text != "?" &&
          t_[p].text != ":" && t_[p].text != "," && t_[p].text != "{") {
        return;
      }
    }
    if (*right_end < r_.last && precedence(t_[*right_end].text) > prec) return;
    const std::string a = slice(*left, k), b = slice(k + 1, *right_end);
    if (a == b) return;
    edits_.push_back({"swap", t_[k].begin, replaced(*left, *right_end, b + " " + op + " " + a)});
  }

  // +1 and -1 on a number that stays in its width; a sized 1-bit constant just flips.
  void constant(size_t k) {
    const std::string w = t_[k].text;
    const size_t tick = w.find('\'');
    std::string digits = tick == std::string::npos ? w : w.substr(tick + 1);
    int base = 10;
    if (tick != std::string::npos) {
      if (!digits.empty() && (digits[0] == 's' || digits[0] == 'S')) return;  // signed literals: leave
      const char b = static_cast<char>(std::tolower(static_cast<unsigned char>(digits.empty() ? 'd' : digits[0])));
      base = b == 'b' ? 2 : b == 'o' ? 8 : b == 'h' ? 16 : 10;
      digits = digits.substr(1);
    }
    digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
    if (digits.empty() || digits.find_first_of("xXzZ?") != std::string::npos || digits.size() > 15) return;
    const uint64_t value = std::stoull(digits, nullptr, base);
    const int width = tick == std::string::npos || tick == 0 ? 32 : std::stoi(w.substr(0, tick));
    if (width > 62) return;
    const uint64_t max = (uint64_t{1} << width) - 1;
    auto literal = [&](uint64_t v) {
      return tick == std::string::npos ? std::to_string(v) : fmt::format("{}'d{}", w.substr(0, tick), v);
    };
    if (value < max) edits_.push_back({"constant", t_[k].begin, replaced(k, k + 1, literal(value + 1))});
    if (value > 0) edits_.push_back({"constant", t_[k].begin, replaced(k, k + 1, literal(value - 1))});
  }

  const std::string& text_;
  const std::vector<Token>& t_;
  const Region& r_;
  std::vector<Edit> edits_;
};

std::string collapse_spaces(const std::string& s) {
  std::string out;
  for (const char c : s) {
    const bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

int line_of(const std::string& text, size_t offset) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

const char* kSelector =
    "\n  // Mutation schema (tests/mutation.h): mutant N replaces its expression when +mut=N.\n"
    "  integer mut_sel;\n"
    "  initial begin\n"
    "    if (!$value$plusargs(\"mut=%d\", mut_sel)) mut_sel = 0;\n"
    "  end";

}  // namespace

FileSchema schema_of_file(const std::string& text, const std::string& file, int first_id) {
  const std::string code = code_only(text);
  const std::vector<Token> t = tokenize(code);
  Walker walker(t);
  walker.walk();

  // Text insertions by offset: the selector after each module header, the guarded expressions.
  std::map<size_t, std::pair<size_t, std::string>> replace;  // begin -> (end, text)
  for (const size_t h : walker.header_ends()) replace[t[h].end] = {t[h].end, kSelector};
  FileSchema out;
  int id = first_id;
  for (const Region& r : walker.regions()) {
    if (r.first >= r.last) continue;
    const std::vector<Edit> edits = RegionMutator(text, t, r).edits();
    if (edits.empty()) continue;
    const size_t begin = t[r.first].begin, end = t[r.last - 1].end;
    const std::string original = text.substr(begin, end - begin);
    std::string guarded = "";
    for (const Edit& e : edits) {
      out.mutants.push_back({id, file, line_of(text, e.at), e.op, collapse_spaces(original), collapse_spaces(e.expression)});
      guarded += fmt::format("(mut_sel == {}) ? ({}) : ", id, e.expression);
      ++id;
    }
    replace[begin] = {end, guarded + "(" + original + ")"};
  }
  size_t at = 0;
  for (const auto& [begin, edit] : replace) {
    out.text += text.substr(at, begin - at) + edit.second;
    at = edit.first;
  }
  out.text += text.substr(at);
  return out;
}

Schema make_schema(const gen::Outputs& o, const std::function<bool(const std::string& file)>& select) {
  Schema s;
  s.outputs = o;
  int next = 1;
  for (gen::GeneratedFile& f : s.outputs.files) {
    if (f.name.size() < 2 || f.name.substr(f.name.size() - 2) != ".v" || !select(f.name)) continue;
    FileSchema fs = schema_of_file(f.content, f.name, next);
    f.content = fs.text;
    next += static_cast<int>(fs.mutants.size());
    s.mutants.insert(s.mutants.end(), fs.mutants.begin(), fs.mutants.end());
  }
  return s;
}

}  // namespace accelgen::mutation
