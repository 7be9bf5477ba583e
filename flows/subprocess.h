// accelgen::flows — run an external tool (Verilator, the compiler, Yosys, Icarus, a built simulator)
// as a child process from an argument vector: no shell, so no quoting of user paths. Output goes to a
// log file (or is inherited), and a time limit kills the whole process group. The tool runs in its
// own process group under a small guard process that kills the group when accelgen dies, however
// it dies (SIGKILL included), so no Yosys or compiler outlives an interrupted run.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace accelgen::flows {

struct ProcessResult {
  int exit_code = -1;      // exit status, or -1 if killed by a signal
  bool timed_out = false;
  bool started = true;     // false if the program could not be executed
};

// log empty: the child inherits stdout/stderr. timeout_s <= 0: no limit.
ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          const std::filesystem::path& log, int timeout_s);

// Last `max_lines` lines of a text file (for error messages pointing at a tool's log).
std::string tail_file(const std::filesystem::path& path, int max_lines);

}  // namespace accelgen::flows
