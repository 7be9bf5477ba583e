// accelgen::flows — what the area flow needs around running Yosys and OpenSTA (flows/subprocess.h
// runs them): their versions, the error lines of a failed run's log, and the work directory the
// tools run in.
#pragma once

#include <filesystem>
#include <string>

namespace accelgen::flows {

struct ToolVersions {
  std::string yosys;  // first line of `yosys -V`, "" if Yosys cannot be run
  std::string sta;    // "OpenSTA " + `sta -version`, "" if OpenSTA cannot be run
};

// Asked once per process: the tools do not change while it runs.
const ToolVersions& tool_versions();

// The ERROR / Error lines of a tool's log joined by "; ", else its last lines.
std::string tool_error(const std::filesystem::path& log);

// A work directory: the user's (created if needed, kept) or, for an empty path, a fresh temporary
// one named <tmp>/<prefix>XXXXXX, removed with the object. Throws std::runtime_error or
// std::filesystem::filesystem_error if it cannot be created.
class WorkDir {
 public:
  WorkDir(const std::filesystem::path& requested, const std::string& prefix);
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  bool remove_ = false;
};

}  // namespace accelgen::flows
