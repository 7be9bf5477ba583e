#include "flows/liberty_function.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdint>
#include <stdexcept>

namespace accelgen::flows {

namespace {

class FunctionParser {
 public:
  FunctionParser(const std::string& f, const std::map<std::string, bool>& pins) : f_(f), pins_(pins) {}
  bool run() {
    const bool v = parse_or();
    skip_ws();
    if (pos_ != f_.size()) fail("unexpected character");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(fmt::format("liberty function \"{}\": {} at position {}", f_, what, pos_));
  }
  void skip_ws() {
    while (pos_ < f_.size() && (f_[pos_] == ' ' || f_[pos_] == '\t')) ++pos_;
  }
  static bool ident_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '[' || c == ']' || c == '.';
  }
  bool starts_primary() {
    skip_ws();
    if (pos_ >= f_.size()) return false;
    const char c = f_[pos_];
    return c == '(' || c == '!' || ident_char(c);
  }
  bool parse_or() {
    bool v = parse_and();
    for (;;) {
      skip_ws();
      if (pos_ < f_.size() && (f_[pos_] == '|' || f_[pos_] == '+')) {
        ++pos_;
        const bool r = parse_and();
        v = v || r;
      } else {
        return v;
      }
    }
  }
  bool parse_and() {
    bool v = parse_xor();
    for (;;) {
      skip_ws();
      if (pos_ < f_.size() && (f_[pos_] == '&' || f_[pos_] == '*')) {
        ++pos_;
        const bool r = parse_xor();
        v = v && r;
      } else if (starts_primary()) {  // juxtaposition: "A B" is A AND B
        const bool r = parse_xor();
        v = v && r;
      } else {
        return v;
      }
    }
  }
  bool parse_xor() {
    bool v = parse_unary();
    for (;;) {
      skip_ws();
      if (pos_ < f_.size() && f_[pos_] == '^') {
        ++pos_;
        const bool r = parse_unary();
        v = v != r;
      } else {
        return v;
      }
    }
  }
  bool parse_unary() {
    skip_ws();
    if (pos_ < f_.size() && f_[pos_] == '!') {
      ++pos_;
      const Nesting n(*this);
      return !parse_unary();
    }
    bool v = parse_primary();
    for (;;) {
      skip_ws();
      if (pos_ < f_.size() && f_[pos_] == '\'') {
        ++pos_;
        v = !v;
      } else {
        return v;
      }
    }
  }
  bool parse_primary() {
    skip_ws();
    if (pos_ >= f_.size()) fail("unexpected end");
    if (f_[pos_] == '(') {
      ++pos_;
      const Nesting n(*this);
      const bool v = parse_or();
      skip_ws();
      if (pos_ >= f_.size() || f_[pos_] != ')') fail("missing ')'");
      ++pos_;
      return v;
    }
    const size_t b = pos_;
    while (pos_ < f_.size() && ident_char(f_[pos_])) ++pos_;
    if (b == pos_) fail("expected a pin name");
    const std::string id = f_.substr(b, pos_ - b);
    if (id == "0") return false;
    if (id == "1") return true;
    const auto it = pins_.find(id);
    if (it == pins_.end()) fail("unknown pin '" + id + "'");
    return it->second;
  }

  // Counts the '(' and '!' the recursion is inside; a cell function needs a handful, the limit keeps
  // a malicious one from overflowing the stack.
  struct Nesting {
    explicit Nesting(FunctionParser& p) : p_(p) {
      if (++p_.depth_ > 256) p_.fail("nested deeper than 256");
    }
    ~Nesting() { --p_.depth_; }
    FunctionParser& p_;
  };

  const std::string& f_;
  const std::map<std::string, bool>& pins_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

bool eval_liberty_function(const std::string& function, const std::map<std::string, bool>& pins) {
  return FunctionParser(function, pins).run();
}

// True if `function` over `inputs` equals `expected` on every input combination.
bool function_is(const std::string& function, const std::vector<std::string>& inputs,
                 const std::function<bool(const std::vector<bool>&)>& expected) {
  const size_t n = inputs.size();
  for (uint32_t m = 0; m < (1u << n); ++m) {
    std::map<std::string, bool> pins;
    std::vector<bool> bits(n);
    for (size_t i = 0; i < n; ++i) pins[inputs[i]] = bits[i] = ((m >> i) & 1u) != 0;
    try {
      if (eval_liberty_function(function, pins) != expected(bits)) return false;
    } catch (const std::runtime_error&) {
      return false;  // a function this evaluator does not understand is not a NAND2 or buffer
    }
  }
  return true;
}

}  // namespace accelgen::flows
