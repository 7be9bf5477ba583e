#include "flows/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <fstream>
#include <thread>

namespace accelgen::flows {

namespace {

// The child's side of run_process. It leads a new process group and does not exec the tool itself:
// it forks the tool and stays as a guard whose only job is to kill the whole group (the tool and
// everything it started: make's compilers, Yosys's ABC) when accelgen goes away. Linux delivers
// SIGHUP to the guard when its parent dies, however it dies (SIGKILL included: PR_SET_PDEATHSIG),
// and SIGTERM/SIGINT sent to the guard do the same. Without the guard a killed `accelgen eval` would
// leave Yosys running for minutes. Only async-signal-safe calls from here on (we are after fork).
volatile sig_atomic_t g_guard_active = 0;

void kill_own_group(int) {
  if (g_guard_active) ::kill(0, SIGKILL);  // the group: the tool, its children and this guard
}

[[noreturn]] void run_guard(char* const* argv, const char* cwd, const char* log, pid_t accelgen) {
  ::setpgid(0, 0);  // own process group, so one kill reaches make's or Yosys's children too
  struct sigaction sa {};
  sa.sa_handler = kill_own_group;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) ::sigaction(sig, &sa, nullptr);
  g_guard_active = 1;
  ::prctl(PR_SET_PDEATHSIG, SIGHUP);
  if (::getppid() != accelgen) ::_exit(127);  // accelgen died before the line above took effect
  if (cwd[0] != '\0' && ::chdir(cwd) != 0) ::_exit(127);
  if (log[0] != '\0') {
    const int fd = ::open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) ::_exit(127);
    ::dup2(fd, 1);  // dup2 clears close-on-exec on 1 and 2
    ::dup2(fd, 2);
  }
  const pid_t tool = ::fork();
  if (tool < 0) ::_exit(127);
  if (tool == 0) {
    g_guard_active = 0;
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigemptyset(&dfl.sa_mask);
    for (int sig : {SIGHUP, SIGTERM, SIGINT}) ::sigaction(sig, &dfl, nullptr);
    ::execvp(argv[0], argv);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(tool, &status, 0) < 0) {
    if (errno != EINTR) ::_exit(127);
  }
  if (WIFEXITED(status)) ::_exit(WEXITSTATUS(status));
  // Killed by a signal: end the same way, so the caller sees a signal (exit_code -1) as before.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(WTERMSIG(status), &dfl, nullptr);
  ::kill(::getpid(), WTERMSIG(status));
  ::_exit(128 + WTERMSIG(status));
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                          const std::filesystem::path& log, int timeout_s) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string cwd_text = cwd.string();  // built before fork: no allocation in the child
  const std::string log_text = log.string();
  const pid_t self = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return {-1, false, false};
  if (pid == 0) run_guard(args.data(), cwd_text.c_str(), log_text.c_str(), self);
  ::setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, timeout_s > 0 ? WNOHANG : 0);
    if (done == pid) break;
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return {-1, false, true};
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return {-1, true, true};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    return {code, false, code != 127};
  }
  return {-1, false, true};
}

std::string tail_file(const std::filesystem::path& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "    " + l + "\n";
  return out;
}

}  // namespace accelgen::flows
