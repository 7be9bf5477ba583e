#include "flows/area.h"
#include "gen/dispatch.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "core/hash.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

// Baked in by CMake for accelgen_cli: where the flows, constraints and the extracted liberty are.
const fs::path kSourceDir = ACCELGEN_SOURCE_DIR;
const fs::path kBinaryDir = ACCELGEN_BINARY_DIR;

constexpr const char* kOsuRelPath = "usr/share/qflow/tech/osu018/osu018_stdcells.lib";
// Bump when the way numbers are computed from the tool outputs changes (part of the cache key).
constexpr const char* kAreaFlowVersion = "accelgen-area-1";

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream os(p, std::ios::binary);
  os << text;
  if (!os.good()) throw std::runtime_error("cannot write " + p.string());
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

double parse_double(const std::string& s, const std::string& what) {
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(fmt::format("{}: not a number: '{}'", what, s));
  }
}

bool near(double a, double b) {
  return std::fabs(a - b) <= 1e-6 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

// ================================================================ liberty function evaluator

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

  const std::string& f_;
  const std::map<std::string, bool>& pins_;
  size_t pos_ = 0;
};

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

// ================================================================ liberty reader

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
          throw std::runtime_error(fmt::format("line {}: unterminated comment", line_));
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
      if (pos_ >= s_.size()) throw std::runtime_error(fmt::format("line {}: unterminated string", t.line));
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

class LibParser {
 public:
  explicit LibParser(const std::string& text) : lex_(text) { advance(); }

  LibertyInfo run() {
    // library ( name ) { ... }
    if (tok_.kind != LibToken::kWord || tok_.text != "library")
      fail("expected 'library(...) {' at the start");
    parse_statement({});
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
    throw std::runtime_error(fmt::format("liberty line {}: {}", tok_.line, what));
  }
  void advance() { tok_ = lex_.next(); }
  bool is_punct(char c) const { return tok_.kind == LibToken::kPunct && tok_.text[0] == c; }
  void expect(char c) {
    if (!is_punct(c)) fail(fmt::format("expected '{}', got '{}'", c, tok_.text));
    advance();
  }

  // One statement: a group, a simple attribute or a complex attribute.
  void parse_statement(std::vector<Frame> stack) {
    if (tok_.kind != LibToken::kWord && tok_.kind != LibToken::kString)
      fail("expected a name, got '" + tok_.text + "'");
    const std::string name = tok_.text;
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
      return;
    }
    if (is_punct(';')) advance();  // complex attribute; the ';' is optional
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
      if (st.size() == 3 && f.group == "pin") {
        pin_names_ = f.args;
        pin_direction_.clear();
        pin_function_.clear();
      }
    }
  }

  void on_group_close(const std::vector<Frame>& st) {
    const Frame& f = st.back();
    if (st.size() == 2 && f.group == "cell") {
      info_.cells.push_back(std::move(cell_));
      return;
    }
    if (st.size() == 3 && st[1].group == "cell" && f.group == "pin") {
      for (const auto& p : pin_names_) {
        if (pin_direction_ == "input") cell_.inputs.push_back(p);
        if (pin_direction_ == "output" || pin_direction_ == "inout")
          cell_.outputs.emplace_back(p, pin_function_);
      }
    }
  }

  void on_attribute(const std::vector<Frame>& st, const std::string& name, const std::string& value) {
    if (st.size() == 1 && name == "default_operating_conditions") info_.default_operating_conditions = value;
    if (st.size() == 2 && st[1].group == "cell") {
      if (name == "area") {
        cell_.area =
            parse_double(value, fmt::format("liberty line {}: area of cell {}", tok_.line, cell_.name));
        cell_.has_area = true;
      }
      if (name == "dont_use" && value == "true") cell_.dont_use = true;
    }
    if (st.size() == 3 && st[1].group == "cell" && st[2].group == "pin") {
      if (name == "direction") pin_direction_ = value;
      if (name == "function") pin_function_ = value;
      if (name == "three_state") cell_.three_state = true;
    }
  }

  LibLexer lex_;
  LibToken tok_;
  LibertyInfo info_;
  LibertyCell cell_;
  std::vector<std::string> pin_names_;
  std::string pin_direction_, pin_function_;
};

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

// ================================================================ tools

std::string first_line(const std::string& s) { return trim(s.substr(0, s.find('\n'))); }

struct ToolVersions {
  std::string yosys, sta;
};

// Asked once per process: the tools do not change while it runs.
const ToolVersions& tool_versions() {
  static const ToolVersions v = [] {
    ToolVersions r;
    std::string pattern = (fs::temp_directory_path() / "accelgen-ver-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    const char* dir = ::mkdtemp(buf.data());
    if (dir == nullptr) return r;
    const fs::path d = dir;
    if (run_process({"yosys", "-V"}, d, d / "yosys.txt", 60).exit_code == 0) {
      try {
        r.yosys = first_line(read_text(d / "yosys.txt"));
      } catch (const std::exception&) {
      }
    }
    if (run_process({"sta", "-version"}, d, d / "sta.txt", 60).exit_code == 0) {
      try {
        const std::string s = first_line(read_text(d / "sta.txt"));
        if (!s.empty()) r.sta = "OpenSTA " + s;
      } catch (const std::exception&) {
      }
    }
    std::error_code ec;
    fs::remove_all(d, ec);
    return r;
  }();
  return v;
}

// The ERROR lines of a Yosys log, else its last lines.
std::string tool_error(const fs::path& log) {
  std::string errors;
  try {
    std::istringstream in(read_text(log));
    for (std::string line; std::getline(in, line);) {
      if (starts_with(line, "ERROR") || starts_with(line, "Error"))
        errors += (errors.empty() ? "" : "; ") + trim(line);
    }
  } catch (const std::exception&) {
  }
  if (!errors.empty()) return errors;
  return trim(tail_file(log, 5));
}

// A work directory: the user's (kept) or a fresh temporary one (removed).
class WorkDir {
 public:
  explicit WorkDir(const fs::path& requested) {
    if (!requested.empty()) {
      path_ = requested;
      fs::create_directories(path_);
      return;
    }
    std::string pattern = (fs::temp_directory_path() / "accelgen-area-XXXXXX").string();
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
    path_ = buf.data();
    remove_ = true;
  }
  ~WorkDir() {
    if (remove_) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool remove_ = false;
};

class FileLock {
 public:
  explicit FileLock(const fs::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// `create_clock ... -period P ...` of the SDC: P in ns, or 0 if there is none.
double sdc_period_ns(const std::string& sdc) {
  static const std::regex re(R"(create_clock\b[^\n]*?-period\s+([0-9.eE+-]+))");
  std::smatch m;
  if (!std::regex_search(sdc, m, re)) return 0;
  try {
    return parse_double(m[1].str(), "SDC clock period");
  } catch (const std::exception&) {
    return 0;
  }
}

std::string render_flow(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    const std::string pat = "${" + key + "}";
    for (size_t p = text.find(pat); p != std::string::npos; p = text.find(pat, p + value.size()))
      text.replace(p, pat.size(), value);
  }
  if (const auto p = text.find("${"); p != std::string::npos)
    throw std::runtime_error("flows/area.ys: unknown placeholder near '" + text.substr(p, 20) + "'");
  return text;
}

AreaResult infeasible(AreaResult r, std::string reason) {
  r.feasible = false;
  r.reason = std::move(reason);
  return r;
}

void run_timing(AreaResult& r, const fs::path& work, int timeout_s) {
  if (r.sta_version.empty()) {
    r.timing_note = "OpenSTA (sta) not found: run ./setup.sh (Debian package opensta)";
    return;
  }
  const fs::path log = work / "sta.log";
  const auto t0 = std::chrono::steady_clock::now();
  const ProcessResult p = run_process({"sta", "-no_splash", "-exit", "sta.tcl"}, work, log, timeout_s);
  r.sta_seconds = seconds_since(t0);
  if (p.timed_out) {
    r.timing_note = fmt::format("OpenSTA timed out after {} s", timeout_s);
    return;
  }
  if (p.exit_code != 0) {
    r.timing_note = fmt::format("OpenSTA failed (exit {}): {}", p.exit_code, tool_error(log));
    return;
  }
  StaSummary s;
  try {
    s = parse_sta_output(read_text(log));
  } catch (const std::exception& e) {
    r.timing_note = std::string("internal: ") + e.what();
    return;
  }
  if (!s.ok) {
    r.timing_note = "OpenSTA: " + s.error;
    return;
  }
  const double cp = s.period_ns - s.slack_ns;
  if (!(cp > 0)) {
    r.timing_note = fmt::format("OpenSTA: no register or port path constrained by clock {}", s.clock);
    return;
  }
  r.timing_available = true;
  r.clock_period_ns = s.period_ns;
  r.slack_ns = s.slack_ns;
  r.critical_path_ns = cp;
  r.fmax_mhz = 1000.0 / cp;
  r.critical_startpoint = s.startpoint;
  r.critical_endpoint = s.endpoint;
}

nlohmann::json num_or_null(bool available, double v) {
  return available ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

// ================================================================ public parsers

bool eval_liberty_function(const std::string& function, const std::map<std::string, bool>& pins) {
  return FunctionParser(function, pins).run();
}

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

StaSummary parse_sta_output(const std::string& log) {
  StaSummary s;
  std::istringstream in(log);
  std::map<std::string, double> periods;
  bool have_path = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (starts_with(line, "Error")) {
      s.error += (s.error.empty() ? "" : "; ") + trim(line);
      continue;
    }
    if (!starts_with(line, "ACCELGEN ")) continue;
    std::istringstream f(line.substr(9));
    std::string kind;
    f >> kind;
    if (kind == "clock") {
      std::string name, period;
      if (!(f >> name >> period)) throw std::runtime_error("OpenSTA output: malformed line: " + line);
      periods[name] = parse_double(period, "clock period");
    } else if (kind == "path") {
      std::string clock, slack, start, end;
      if (!(f >> clock >> slack >> start >> end))
        throw std::runtime_error("OpenSTA output: malformed line: " + line);
      if (periods.count(clock) == 0)
        throw std::runtime_error("OpenSTA output: path of an unknown clock: " + line);
      double sl = 0;
      try {
        sl = parse_double(slack, "slack");
      } catch (const std::exception&) {
        continue;  // INF: unconstrained
      }
      const double cp = periods[clock] - sl;
      if (!have_path || cp > s.period_ns - s.slack_ns) {
        s.clock = clock;
        s.period_ns = periods[clock];
        s.slack_ns = sl;
        s.startpoint = start;
        s.endpoint = end;
        have_path = true;
      }
    } else {
      throw std::runtime_error("OpenSTA output: unknown line: " + line);
    }
  }
  if (!s.error.empty()) return s;
  if (periods.empty()) {
    s.error = "no clock defined (check the SDC's create_clock and the clock port name)";
    return s;
  }
  if (!have_path) {
    s.error = "no constrained timing path";
    return s;
  }
  s.ok = true;
  return s;
}

// ================================================================ JSON

nlohmann::json to_json(const AreaResult& r) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& m : r.modules) {
    modules.push_back({{"name", m.name},
                       {"instances", m.instances},
                       {"area_um2", m.area_um2},
                       {"nand2_eq", num_or_null(r.nand2_area > 0, m.nand2_eq)},
                       {"flops", m.flops},
                       {"cells", m.cells}});
  }
  const bool t = r.timing_available;
  return {
      {"feasible", r.feasible},
      {"reason", r.reason},
      {"top", r.top},
      {"area_um2", r.area_um2},
      {"nand2_eq", num_or_null(r.nand2_area > 0, r.nand2_eq)},
      {"flops", r.flops},
      {"cells", r.cells},
      {"critical_path_ns", num_or_null(t, r.critical_path_ns)},
      {"fmax_mhz", num_or_null(t, r.fmax_mhz)},
      {"modules", modules},
      {"timing",
       {{"available", t},
        {"note", r.timing_note},
        {"clock_period_ns", num_or_null(t, r.clock_period_ns)},
        {"slack_ns", num_or_null(t, r.slack_ns)},
        {"startpoint", r.critical_startpoint},
        {"endpoint", r.critical_endpoint},
        {"corner", r.corner},
        {"sdc", r.sdc_path}}},
      {"liberty",
       {{"name", r.liberty_name},
        {"path", r.liberty_path},
        {"hash", r.liberty_hash},
        {"nand2_cell", r.nand2_cell},
        {"nand2_area", r.nand2_area}}},
      {"yosys_version", r.yosys_version},
      {"sta_version", r.sta_version},
      {"flow",
       {{"script", "flows/area.ys"},
        {"sta_script", "flows/sta.tcl"},
        {"cache_key", r.cache_key},
        {"from_cache", r.from_cache},
        {"synth_seconds", r.synth_seconds},
        {"sta_seconds", r.sta_seconds}}},
  };
}

AreaResult area_result_from_json(const nlohmann::json& j) {
  auto num = [](const nlohmann::json& v) { return v.is_null() ? 0.0 : v.get<double>(); };
  AreaResult r;
  r.feasible = j.at("feasible").get<bool>();
  r.reason = j.at("reason").get<std::string>();
  r.top = j.at("top").get<std::string>();
  r.area_um2 = j.at("area_um2").get<double>();
  r.nand2_eq = num(j.at("nand2_eq"));
  r.flops = j.at("flops").get<int>();
  r.cells = j.at("cells").get<int>();
  r.critical_path_ns = num(j.at("critical_path_ns"));
  r.fmax_mhz = num(j.at("fmax_mhz"));
  for (const auto& m : j.at("modules")) {
    r.modules.push_back({m.at("name").get<std::string>(), m.at("instances").get<int>(),
                         m.at("area_um2").get<double>(), num(m.at("nand2_eq")), m.at("flops").get<int>(),
                         m.at("cells").get<int>()});
  }
  const auto& t = j.at("timing");
  r.timing_available = t.at("available").get<bool>();
  r.timing_note = t.at("note").get<std::string>();
  r.clock_period_ns = num(t.at("clock_period_ns"));
  r.slack_ns = num(t.at("slack_ns"));
  r.critical_startpoint = t.at("startpoint").get<std::string>();
  r.critical_endpoint = t.at("endpoint").get<std::string>();
  r.corner = t.at("corner").get<std::string>();
  r.sdc_path = t.at("sdc").get<std::string>();
  const auto& l = j.at("liberty");
  r.liberty_name = l.at("name").get<std::string>();
  r.liberty_path = l.at("path").get<std::string>();
  r.liberty_hash = l.at("hash").get<std::string>();
  r.nand2_cell = l.at("nand2_cell").get<std::string>();
  r.nand2_area = l.at("nand2_area").get<double>();
  r.yosys_version = j.at("yosys_version").get<std::string>();
  r.sta_version = j.at("sta_version").get<std::string>();
  const auto& f = j.at("flow");
  r.cache_key = f.at("cache_key").get<std::string>();
  r.from_cache = f.at("from_cache").get<bool>();
  r.synth_seconds = f.at("synth_seconds").get<double>();
  r.sta_seconds = f.at("sta_seconds").get<double>();
  return r;
}

double latency_ns(double cycles, double fmax_mhz) { return fmax_mhz > 0 ? cycles * 1000.0 / fmax_mhz : 0; }

// ================================================================ the flow

fs::path default_liberty_path() {
  const fs::path local = kBinaryDir / "third_party/osu018" / kOsuRelPath;
  if (fs::exists(local)) return local;
  const fs::path system = fs::path("/") / kOsuRelPath;
  if (fs::exists(system)) return system;
  return local;
}

fs::path default_sdc_path() { return kSourceDir / "constraints/clk_i.sdc"; }

AreaResult synthesize_area(const core::AttentionConfig& c, const AreaOptions& o) {
  return synthesize_area(gen::generate(c), o);
}

AreaResult synthesize_area(const gen::Outputs& outputs, const AreaOptions& o) {
  AreaResult base;
  base.top = outputs.top;
  const bool default_lib = o.liberty.empty();
  const fs::path lib_path = default_lib ? default_liberty_path() : o.liberty;
  const fs::path sdc_path = o.sdc.empty() ? default_sdc_path() : o.sdc;
  base.liberty_path = lib_path.string();
  base.sdc_path = sdc_path.string();
  static const std::regex ident("[A-Za-z_][A-Za-z0-9_]*");
  if (!std::regex_match(outputs.top, ident))
    return infeasible(base, "top module name is not a plain identifier: " + outputs.top);

  // ---- inputs: liberty, SDC, flow scripts
  if (!fs::is_regular_file(lib_path)) {
    return infeasible(base, default_lib
                                ? fmt::format("default liberty {} not found: run ./setup.sh (it extracts "
                                              "Debian package qflow-tech-osu018 "
                                              "into build/third_party/osu018), or pass --liberty FILE",
                                              lib_path.string())
                                : fmt::format("liberty {} not found", lib_path.string()));
  }
  std::string lib_text, sdc_text, flow_text, sta_text;
  try {
    lib_text = read_text(lib_path);
    sdc_text = read_text(sdc_path);
    flow_text = read_text(kSourceDir / "flows/area.ys");
    sta_text = read_text(kSourceDir / "flows/sta.tcl");
  } catch (const std::exception& e) {
    return infeasible(base, e.what());
  }
  base.liberty_hash = core::hash_hex(lib_text);
  LibertyInfo lib;
  try {
    lib = parse_liberty(lib_text);
  } catch (const std::exception& e) {
    return infeasible(base, fmt::format("cannot read liberty {}: {}", lib_path.string(), e.what()));
  }
  base.liberty_name = lib.name;
  base.nand2_cell = lib.nand2_cell;
  base.nand2_area = lib.nand2_area;
  base.corner = lib.default_operating_conditions;
  if (std::none_of(lib.cells.begin(), lib.cells.end(), [](const LibertyCell& c) { return c.has_area; }))
    return infeasible(base, fmt::format("liberty {} has no cell with an area", lib_path.string()));

  const double period_ns = sdc_period_ns(sdc_text);
  const bool timed = lib.has_timing && period_ns > 0;
  static const std::regex cell_ident("[A-Za-z_][A-Za-z0-9_$]*");
  std::string abc_timing;
  std::string abc_constr;
  if (timed && !lib.buffer_cell.empty() && std::regex_match(lib.buffer_cell, cell_ident)) {
    // ABC maps for the clock period (ps), buffers high-fanout nets and sizes gates; without the
    // constraint file it does neither and a flop driving a 1000-input mux gets a microsecond delay.
    abc_timing =
        fmt::format("-D {} -constr abc.constr", static_cast<long long>(std::llround(period_ns * 1000)));
    abc_constr = fmt::format("set_driving_cell {}\nset_load 10.0\n", lib.buffer_cell);
  }
  std::string flow;
  try {
    flow = render_flow(flow_text, {{"TOP", outputs.top}, {"ABC_TIMING", abc_timing}});
  } catch (const std::exception& e) {
    return infeasible(base, std::string("internal: ") + e.what());
  }

  const ToolVersions& tv = tool_versions();
  base.yosys_version = tv.yosys;
  base.sta_version = tv.sta;
  if (tv.yosys.empty()) return infeasible(base, "yosys not found: run ./setup.sh (Debian package yosys)");

  // ---- cache
  core::Fnv1a64 h;
  for (const std::string& part : {std::string(kAreaFlowVersion), outputs.top, lib_text, sdc_text, flow,
                                  abc_constr, sta_text, tv.yosys, tv.sta}) {
    h.update(part);
    h.update(std::string(1, '\0'));
  }
  for (const auto& name : outputs.rtl_files) {
    for (const auto& f : outputs.files) {
      if (f.name != name) continue;
      h.update(f.name);
      h.update(std::string(1, '\0'));
      h.update(f.content);
    }
  }
  base.cache_key = h.hex();
  fs::path entry;
  std::unique_ptr<FileLock> lock;
  if (o.use_cache) {
    const fs::path root = (o.cache_root.empty() ? default_cache_dir() : o.cache_root) / "area";
    entry = root / fmt::format("{}-{}", outputs.top, base.cache_key);
    auto cached = [&]() -> std::optional<AreaResult> {
      try {
        if (!fs::exists(entry / "result.json")) return std::nullopt;
        AreaResult r = area_result_from_json(nlohmann::json::parse(read_text(entry / "result.json")));
        r.from_cache = true;
        r.liberty_path = base.liberty_path;
        r.sdc_path = base.sdc_path;
        return r;
      } catch (const std::exception&) {
        return std::nullopt;  // unreadable entry: synthesize again and replace it
      }
    };
    if (auto r = cached()) return *r;
    std::error_code ec;
    fs::create_directories(root, ec);
    if (!ec) {
      lock = std::make_unique<FileLock>(root / (entry.filename().string() + ".lock"));
      if (auto r = cached()) return *r;  // a concurrent run finished it while we waited
    }
  }

  // ---- synthesis
  std::unique_ptr<WorkDir> work;
  try {
    work = std::make_unique<WorkDir>(o.work_dir);
    const fs::path& w = work->path();
    for (const auto& f : outputs.files) {
      if (std::find(outputs.rtl_files.begin(), outputs.rtl_files.end(), f.name) != outputs.rtl_files.end())
        write_text(w / f.name, f.content);
    }
    write_text(w / "cells.lib", lib_text);
    write_text(w / "area.ys", flow);
    if (!abc_constr.empty()) write_text(w / "abc.constr", abc_constr);
    write_text(w / "clock.sdc", sdc_text);
    write_text(w / "sta.tcl", sta_text);
    write_text(w / "top.txt", outputs.top + "\n");
  } catch (const std::exception& e) {
    return infeasible(base, std::string("cannot prepare the work directory: ") + e.what());
  }
  const fs::path& w = work->path();
  std::vector<std::string> argv = {"yosys", "-s", "area.ys"};
  argv.insert(argv.end(), outputs.rtl_files.begin(), outputs.rtl_files.end());
  const auto t0 = std::chrono::steady_clock::now();
  const ProcessResult p = run_process(argv, w, w / "yosys.log", o.timeout_s);
  base.synth_seconds = seconds_since(t0);
  if (p.timed_out) return infeasible(base, fmt::format("Yosys timed out after {} s", o.timeout_s));
  if (p.exit_code != 0) {
    std::string why = fmt::format("Yosys failed (exit {}): {}", p.exit_code, tool_error(w / "yosys.log"));
    if (lib.buffer_cell.empty())
      why += fmt::format(" (liberty {} has no buffer cell; ABC needs one)", lib.name);
    if (!o.work_dir.empty()) why += fmt::format(" [log {}]", (w / "yosys.log").string());
    return infeasible(base, why);
  }

  AreaResult numbers;
  try {
    numbers = summarize_area(parse_yosys_stat(read_text(w / "stat.txt")), lib, outputs.top);
  } catch (const std::exception& e) {
    return infeasible(base, std::string("internal: cannot use the Yosys stat report: ") + e.what());
  }
  AreaResult r = base;
  r.area_um2 = numbers.area_um2;
  r.nand2_eq = numbers.nand2_eq;
  r.flops = numbers.flops;
  r.cells = numbers.cells;
  r.modules = numbers.modules;
  if (!numbers.feasible) return infeasible(r, numbers.reason);
  r.feasible = true;

  // ---- timing
  if (!lib.has_timing) {
    r.timing_note = fmt::format("liberty {} has no timing data (area only)", lib.name);
  } else if (period_ns <= 0) {
    r.timing_note = fmt::format("no create_clock -period in {}", sdc_path.string());
  } else {
    run_timing(r, w, o.timeout_s);
  }

  // ---- store: only complete results (a timing failure may be transient or a missing tool)
  const bool complete = r.timing_available || !timed;
  if (o.use_cache && complete && !entry.empty()) {
    std::error_code ec;
    const fs::path tmp =
        entry.parent_path() / fmt::format(".tmp-{}-{}", entry.filename().string(), ::getpid());
    fs::remove_all(tmp, ec);
    try {
      fs::create_directories(tmp);
      write_text(tmp / "result.json", to_json(r).dump(2) + "\n");
      for (const char* f : {"stat.txt", "critical_path.txt", "area.ys", "sta.log"}) {
        if (fs::exists(w / f)) fs::copy_file(w / f, tmp / f, fs::copy_options::overwrite_existing);
      }
      fs::rename(tmp, entry, ec);
      if (ec) fs::remove_all(tmp, ec);
    } catch (const std::exception&) {
      fs::remove_all(tmp, ec);  // a cache we cannot write only costs time
    }
  }
  return r;
}

// ================================================================ CLI

namespace {

struct AreaArgs {
  std::string config, liberty, sdc, json_out, work, cache;
  bool no_cache = false;
  int timeout_s = 3600;
};

void print_summary(const AreaResult& r) {
  std::cout << fmt::format("area of {} with liberty {} ({}), {}{}\n", r.top, r.liberty_name, r.liberty_path,
                           r.yosys_version, r.from_cache ? " [cached]" : "");
  const bool ge = r.nand2_area > 0;
  std::cout << fmt::format("  {:<24} {:>5} {:>14} {:>12} {:>9} {:>7}\n", "module", "inst", "area/inst",
                           ge ? "NAND2-eq" : "", "cells", "flops");
  for (const auto& m : r.modules) {
    std::cout << fmt::format("  {:<24} {:>5} {:>14.1f} {:>12} {:>9} {:>7}\n", m.name, m.instances, m.area_um2,
                             ge ? fmt::format("{:.1f}", m.nand2_eq) : "", m.cells, m.flops);
  }
  std::cout << fmt::format("  {:<24} {:>5} {:>14.1f} {:>12} {:>9} {:>7}\n", "total", "", r.area_um2,
                           ge ? fmt::format("{:.1f}", r.nand2_eq) : "", r.cells, r.flops);
  std::cout << fmt::format("  areas in the liberty's unit (um^2 for a real library){}\n",
                           ge ? fmt::format("; NAND2-eq = area / {} ({})", r.nand2_cell, r.nand2_area) : "");
  if (r.timing_available) {
    std::cout << fmt::format(
        "  timing ({} corner, {}): clock {} ns, slack {:.3f} ns, critical path {:.3f} ns "
        "-> fmax {:.1f} MHz\n    from {} to {}\n",
        r.corner.empty() ? "default" : r.corner, r.sta_version, r.clock_period_ns, r.slack_ns,
        r.critical_path_ns, r.fmax_mhz, r.critical_startpoint, r.critical_endpoint);
  } else {
    std::cout << "  timing: " << r.timing_note << "\n";
  }
  std::cout << fmt::format("  {}synthesis {:.1f} s, STA {:.1f} s\n",
                           r.from_cache ? "from the cache (key " + r.cache_key + "); when run: " : "",
                           r.synth_seconds, r.sta_seconds);
}

void cmd_area(const AreaArgs& a) {
  const gen::GeneratedConfig g = gen::generate_file(a.config);  // attention unit or N:M array
  AreaOptions o;
  if (!a.liberty.empty()) {
    if (!fs::is_regular_file(a.liberty)) throw core::InputError("--liberty", "no such file: " + a.liberty);
    o.liberty = fs::absolute(a.liberty);
  } else if (!fs::is_regular_file(default_liberty_path())) {
    throw core::InputError("liberty",
                           fmt::format("the default liberty {} is missing: run ./setup.sh (it extracts "
                                       "Debian package qflow-tech-osu018 there), or pass --liberty FILE",
                                       default_liberty_path().string()));
  }
  if (!a.sdc.empty()) {
    if (!fs::is_regular_file(a.sdc)) throw core::InputError("--sdc", "no such file: " + a.sdc);
    o.sdc = fs::absolute(a.sdc);
  }
  if (a.timeout_s < 1) throw core::InputError("--timeout", "must be at least 1 second");
  o.use_cache = !a.no_cache;
  o.cache_root = a.cache;
  o.work_dir = a.work;
  o.timeout_s = a.timeout_s;
  const AreaResult r = synthesize_area(g.outputs, o);
  if (!a.json_out.empty()) {
    const fs::path out = a.json_out;
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    const fs::path tmp = out.string() + ".tmp";
    write_text(tmp, to_json(r).dump(2) + "\n");
    fs::rename(tmp, out);
  }
  if (!r.feasible) throw std::runtime_error("area: infeasible: " + r.reason);
  print_summary(r);
}

}  // namespace

void add_area_command(CLI::App& app) {
  auto a = std::make_shared<AreaArgs>();
  auto* cmd = app.add_subcommand("area",
                                 "synthesize the RTL with Yosys against a liberty: area, NAND2-eq, flops, "
                                 "cells per module; OpenSTA critical path and fmax");
  cmd->add_option("--config", a->config, "config JSON")->required();
  cmd->add_option("--liberty", a->liberty, "liberty file (default: OSU 0.18 um cells from ./setup.sh)");
  cmd->add_option("--sdc", a->sdc, "clock constraints (default: constraints/clk_i.sdc)");
  cmd->add_option("--json", a->json_out, "write the result as JSON");
  cmd->add_option("--timeout", a->timeout_s, "time limit per tool run, seconds");
  cmd->add_option("--work", a->work, "keep the Yosys/OpenSTA work files in this directory");
  cmd->add_option("--cache", a->cache, "cache directory (default: $ACCELGEN_CACHE or ~/.cache/accelgen)");
  cmd->add_flag("--no-cache", a->no_cache, "always synthesize; do not read or write the cache");
  cmd->callback([a] { cmd_area(*a); });
}

}  // namespace accelgen::cli
