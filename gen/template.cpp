#include "gen/template.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace accelgen::gen {

std::string fill(const std::string& text, const Vars& vars, std::set<std::string>* used) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("${", pos);
    if (open == std::string::npos) {
      out.append(text, pos, std::string::npos);
      break;
    }
    const size_t close = text.find('}', open);
    if (close == std::string::npos) throw std::logic_error("template: unterminated ${");
    out.append(text, pos, open - pos);
    const std::string key = text.substr(open + 2, close - open - 2);
    const auto it = vars.find(key);
    if (it == vars.end()) throw std::logic_error("template: no value for ${" + key + "}");
    if (used != nullptr) used->insert(key);
    out += it->second;
    pos = close + 1;
  }
  return out;
}

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string trimmed(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string select_blocks(const std::string& text, const std::map<std::string, bool>& flags) {
  std::string out;
  bool in_block = false, in_else = false, flag = false;
  for (const std::string& line : split_lines(text)) {
    if (line.rfind("//@if ", 0) == 0) {
      if (in_block) throw std::logic_error("template: nested //@if");
      const std::string name = trimmed(line.substr(6));
      const auto it = flags.find(name);
      if (it == flags.end()) throw std::logic_error("template: unknown flag " + name);
      in_block = true;
      in_else = false;
      flag = it->second;
    } else if (line.rfind("//@else", 0) == 0) {
      if (!in_block || in_else) throw std::logic_error("template: //@else without //@if");
      in_else = true;
    } else if (line.rfind("//@endif", 0) == 0) {
      if (!in_block) throw std::logic_error("template: //@endif without //@if");
      in_block = false;
    } else if (!in_block || flag != in_else) {
      out += line;
      out += '\n';
    }
  }
  if (in_block) throw std::logic_error("template: unterminated //@if");
  return out;
}

namespace {

// Identifiers in the code of `text` (comments after // dropped).
std::set<std::string> code_identifiers(const std::string& text) {
  std::set<std::string> ids;
  for (const std::string& line : split_lines(text)) {
    const std::string code = line.substr(0, line.find("//"));
    for (size_t i = 0; i < code.size();) {
      const unsigned char ch = static_cast<unsigned char>(code[i]);
      if (std::isalpha(ch) || ch == '_') {
        size_t j = i + 1;
        while (j < code.size() &&
               (std::isalnum(static_cast<unsigned char>(code[j])) || code[j] == '_' || code[j] == '$')) {
          ++j;
        }
        // A sized literal's base and digits (7'd12, 4'hf) are not identifiers.
        if (i == 0 || code[i - 1] != '\'') ids.insert(code.substr(i, j - i));
        i = j;
      } else {
        ++i;
      }
    }
  }
  return ids;
}

// Splits the `//@uses` declaration lines off the top of a template.
std::vector<std::string> take_uses(std::string& text) {  // anywhere in the text
  std::vector<std::string> names;
  std::string rest;
  for (const std::string& line : split_lines(text)) {
    if (line.rfind("//@uses", 0) == 0) {
      std::istringstream words(line.substr(7));
      for (std::string w; words >> w;) names.push_back(w);
    } else {
      rest += line;
      rest += '\n';
    }
  }
  text = rest;
  return names;
}

std::string param_lines(const std::vector<const Param*>& ps, const char* keyword, bool header) {
  size_t name_width = 0, value_width = 0;
  for (const Param* p : ps) {
    name_width = std::max(name_width, p->name.size());
    value_width = std::max(value_width, std::to_string(p->value).size());
  }
  std::string out;
  for (size_t i = 0; i < ps.size(); ++i) {
    const Param& p = *ps[i];
    const char* end = header ? (i + 1 < ps.size() ? "," : "") : ";";
    const std::string value = fmt::format("{}{}", p.value, end);
    out += fmt::format("  {} integer {:<{}} = {:<{}}  // {}\n", keyword, p.name, name_width, value,
                       value_width + 1, p.comment);
  }
  return out;
}

// Puts the declared parameters into the rendered module: those its port list reads into the
// header `#(...)`, the rest as localparams right after the port list.
std::string declare_params(std::string_view name, const std::string& text,
                           const std::vector<const Param*>& declared) {
  std::vector<std::string> lines = split_lines(text);
  size_t mod = 0;
  while (mod < lines.size() && lines[mod].rfind("module ", 0) != 0) ++mod;
  size_t end = mod;
  while (end < lines.size() && trimmed(lines[end]) != ");") ++end;
  if (end >= lines.size() || lines[mod].size() < 2 ||
      lines[mod].compare(lines[mod].size() - 2, 2, " (") != 0) {
    throw std::logic_error(fmt::format("template {}: expected 'module NAME (' ... ');'", name));
  }
  std::string ports;
  for (size_t i = mod; i <= end; ++i) ports += lines[i] + "\n";
  const std::set<std::string> port_ids = code_identifiers(ports);
  std::vector<const Param*> header, body;
  for (const Param* p : declared) (port_ids.count(p->name) ? header : body).push_back(p);

  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == mod && !header.empty()) {
      out += lines[i].substr(0, lines[i].size() - 2) + " #(\n" + param_lines(header, "parameter", true) +
             ") (\n";
      continue;
    }
    out += lines[i] + "\n";
    if (i == end && !body.empty()) out += param_lines(body, "localparam", false);
  }
  return out;
}

}  // namespace

std::string render_module(std::string_view name, std::string_view tpl, const ModuleInputs& in) {
  // Blocks first, so that a `//@uses` inside an //@if block declares only when the block is kept.
  std::string text;
  try {
    text = select_blocks(std::string(tpl), *in.flags);
  } catch (const std::logic_error& e) {
    throw std::logic_error(fmt::format("template {}: {}", name, e.what()));
  }
  const std::vector<std::string> uses = take_uses(text);
  std::map<std::string, const Param*> by_name;
  for (const Param& p : *in.params) by_name[p.name] = &p;

  Vars holes = in.texts;
  std::vector<const Param*> declared;
  for (const std::string& u : uses) {
    const auto it = by_name.find(u);
    if (it == by_name.end()) {
      throw std::logic_error(fmt::format("template {}: //@uses unknown parameter {}", name, u));
    }
    if (holes.count(u)) throw std::logic_error(fmt::format("template {}: {} declared twice", name, u));
    holes[u] = std::to_string(it->second->value);
  }
  // Declared parameters in plan order, so every module lists them alike.
  for (const Param& p : *in.params) {
    if (std::find(uses.begin(), uses.end(), p.name) != uses.end()) declared.push_back(&p);
  }

  std::set<std::string> filled;
  std::string body;
  try {
    body = fill(text, holes, &filled);
  } catch (const std::logic_error& e) {
    throw std::logic_error(fmt::format("template {}: {}", name, e.what()));
  }
  for (const auto& [key, value] : in.texts) {
    if (!filled.count(key)) throw std::logic_error(fmt::format("template {}: ${{{}}} unused", name, key));
  }
  const std::set<std::string> ids = code_identifiers(body);
  for (const auto& [pname, p] : by_name) {
    const bool is_declared = std::find(uses.begin(), uses.end(), pname) != uses.end();
    if (ids.count(pname) && !is_declared) {
      throw std::logic_error(fmt::format("template {}: uses {} without //@uses", name, pname));
    }
    if (is_declared && !ids.count(pname)) {
      throw std::logic_error(fmt::format("template {}: declares {} but its code never uses it", name, pname));
    }
  }
  return declare_params(name, body, declared);
}

}  // namespace accelgen::gen
