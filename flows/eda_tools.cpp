#include "flows/eda_tools.h"

#include <unistd.h>

#include <sstream>
#include <stdexcept>
#include <vector>

#include "flows/subprocess.h"
#include "flows/text_io.h"

namespace accelgen::flows {

namespace fs = std::filesystem;

namespace {

std::string first_line(const std::string& s) { return trim(s.substr(0, s.find('\n'))); }

}  // namespace

const ToolVersions& tool_versions() {
  static const ToolVersions v = [] {
    ToolVersions r;
    try {
      const WorkDir dir({}, "accelgen-ver-");
      const fs::path& d = dir.path();
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
    } catch (const std::exception&) {
      // no temporary directory: the tools count as missing
    }
    return r;
  }();
  return v;
}

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

WorkDir::WorkDir(const fs::path& requested, const std::string& prefix) {
  if (!requested.empty()) {
    path_ = requested;
    fs::create_directories(path_);
    return;
  }
  std::string pattern = (fs::temp_directory_path() / (prefix + "XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory");
  path_ = buf.data();
  remove_ = true;
}

WorkDir::~WorkDir() {
  if (remove_) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

}  // namespace accelgen::flows
