#include "gen/template.h"

#include <stdexcept>

namespace accelgen::gen {

std::string fill(const std::string& text, const Vars& vars) {
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
    out += it->second;
    pos = close + 1;
  }
  return out;
}

}  // namespace accelgen::gen

namespace accelgen::gen {

std::string select_blocks(const std::string& text, const std::map<std::string, bool>& flags) {
  std::string out;
  size_t pos = 0;
  bool in_block = false;
  bool keep = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size() - 1;
    const std::string line = text.substr(pos, end - pos + 1);
    pos = end + 1;
    if (line.rfind("//@if ", 0) == 0) {
      if (in_block) throw std::logic_error("template: nested //@if");
      std::string flag = line.substr(6);
      while (!flag.empty() && (flag.back() == '\n' || flag.back() == ' ')) flag.pop_back();
      const auto it = flags.find(flag);
      if (it == flags.end()) throw std::logic_error("template: unknown flag " + flag);
      in_block = true;
      keep = it->second;
    } else if (line.rfind("//@endif", 0) == 0) {
      if (!in_block) throw std::logic_error("template: //@endif without //@if");
      in_block = false;
      keep = true;
    } else if (keep) {
      out += line;
    }
  }
  if (in_block) throw std::logic_error("template: unterminated //@if");
  return out;
}

}  // namespace accelgen::gen
