// Concurrency and interruption of the tool's external runs:
//   - Subprocess.*: a process killed with SIGKILL while flows::run_process runs a tool takes the
//     tool and the tool's own children down with it (the guard of flows/subprocess.cpp);
//   - Concurrency.*: 8 `accelgen eval` processes on one config and one area cache at once, the one
//     that holds the cache lock killed (SIGKILL) in the middle of its Yosys run. Every other record
//     must equal a reference run's (area, cells, flops, fmax), the cache must hold exactly one
//     complete entry (no scratch directory, nothing half-written), no Yosys may outlive the killed
//     run, and running the killed eval again must give the reference record.
// Expected values come from a separate single run on its own empty cache. configs/regression/r_d1.json
// (d = 1, one lane, 8 keys) synthesizes in a few seconds; the whole suite takes ~10-20 s on 2 cores.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "flows/subprocess.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_support::read_bytes;
using test_support::TempDir;

const std::string kBin = ACCELGEN_BIN;
const fs::path kSource = ACCELGEN_SOURCE_DIR;
const std::string kConfig = (kSource / "configs/regression/r_d1.json").string();

// ------------------------------------------------------------------ processes

struct ProcInfo {
  pid_t ppid = 0;
  char state = '?';
  std::string comm;
};

// Every process of the machine from /proc/<pid>/stat: "pid (comm) state ppid ...".
std::map<pid_t, ProcInfo> processes() {
  std::map<pid_t, ProcInfo> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string stat = read_bytes(e.path() / "stat");
    const size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    ProcInfo p;
    p.comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    rest >> p.state >> p.ppid;
    all[static_cast<pid_t>(std::stol(name))] = p;
  }
  return all;
}

// True while `pid` runs (a zombie no longer runs: in a container nobody may reap it).
bool alive(pid_t pid) {
  const auto all = processes();
  const auto it = all.find(pid);
  return it != all.end() && it->second.state != 'Z';
}

// Descendants of `root` whose command name starts with `comm`.
std::vector<pid_t> descendants_named(pid_t root, const std::string& comm) {
  const auto all = processes();
  std::vector<pid_t> found;
  for (const auto& [pid, p] : all) {
    if (p.comm.rfind(comm, 0) != 0 || p.state == 'Z') continue;
    for (pid_t up = p.ppid; up > 1;) {
      if (up == root) {
        found.push_back(pid);
        break;
      }
      const auto it = all.find(up);
      if (it == all.end()) break;
      up = it->second.ppid;
    }
  }
  return found;
}

bool wait_until(const std::function<bool()>& condition, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// `accelgen args...` started in the background with ACCELGEN_CACHE=cache, output to `log`.
pid_t spawn_accelgen(const std::vector<std::string>& args, const fs::path& cache, const fs::path& log) {
  std::vector<std::string> argv = {kBin};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  const std::string cache_text = cache.string();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("ACCELGEN_CACHE", cache_text.c_str(), 1);
    std::FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f == nullptr || ::dup2(::fileno(stdout), 2) < 0) ::_exit(126);
    ::execv(cargs[0], cargs.data());
    ::_exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int ws = 0;
  ::waitpid(pid, &ws, 0);
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

// ------------------------------------------------------------------ the subprocess guard

TEST(Subprocess, KillingTheCallerKillsTheToolAndItsChildren) {
  TempDir t("accelgen-guard");
  const fs::path pids = t.path() / "pids";
  const pid_t caller = ::fork();
  if (caller == 0) {
    // The tool: a shell with a background child; both would sleep for five minutes.
    flows::run_process({"/bin/sh", "-c", "sleep 300 & echo $! > \"$1\"; echo $$ >> \"$1\"; wait", "sh",
                        pids.string()},
                       "", "", 0);
    ::_exit(0);
  }
  const auto lines = [&] {
    const std::string text = read_bytes(pids);
    return std::count(text.begin(), text.end(), '\n');
  };
  ASSERT_TRUE(wait_until([&] { return lines() >= 2; }, 10))
      << "the tool did not start";
  std::istringstream in(read_bytes(pids));
  pid_t grandchild = 0, tool = 0;
  in >> grandchild >> tool;
  ASSERT_TRUE(alive(grandchild) && alive(tool));
  ::kill(caller, SIGKILL);
  wait_status(caller);
  EXPECT_TRUE(wait_until([&] { return !alive(tool) && !alive(grandchild); }, 5))
      << "the tool (" << tool << ") or its child (" << grandchild << ") outlived the killed caller";
  ::kill(tool, SIGKILL);  // whatever happened, do not leave them behind
  ::kill(grandchild, SIGKILL);
}

TEST(Subprocess, ExitStatusesAndSignalsStillReachTheCaller) {
  TempDir t("accelgen-guard");
  EXPECT_EQ(flows::run_process({"/bin/sh", "-c", "exit 3"}, "", t.path() / "log", 10).exit_code, 3);
  EXPECT_EQ(flows::run_process({"/bin/sh", "-c", "kill -9 $$"}, "", t.path() / "log", 10).exit_code, -1);
  const flows::ProcessResult missing = flows::run_process({"/nonexistent/tool"}, "", t.path() / "log", 10);
  EXPECT_FALSE(missing.started);
  const flows::ProcessResult slow = flows::run_process({"/bin/sleep", "30"}, "", t.path() / "log", 1);
  EXPECT_TRUE(slow.timed_out);
}

// ------------------------------------------------------------------ 8 evals, one killed

// The numbers a record's synthesis gives, without the run-specific fields (times, cache flags, paths).
json synthesis_numbers(const json& rec) {
  const json& a = rec.at("area");
  json n = {{"feasible", rec.at("feasible")},  {"area_um2", a.at("area_um2")}, {"nand2_eq", a.at("nand2_eq")},
            {"flops", a.at("flops")},          {"cells", a.at("cells")},       {"cache_key", a.at("flow").at("cache_key")},
            {"cycles", rec.at("cycles")}};
  if (rec.contains("fmax_mhz")) n["fmax_mhz"] = rec["fmax_mhz"];
  return n;
}

json read_record(const fs::path& p) { return json::parse(read_bytes(p)); }

TEST(Concurrency, EightEvalsOnOneCacheOneKilledDuringSynthesis) {
  TempDir t("accelgen-conc");
  const fs::path wl = t.path() / "wl";
  const flows::ProcessResult made = flows::run_process(
      {kBin, "workload", "--config", kConfig, "--lq", "2", "--lk", "8", "--seed", "3", "--out", wl.string()}, "",
      t.path() / "workload.log", 60);
  ASSERT_EQ(made.exit_code, 0) << read_bytes(t.path() / "workload.log");
  auto eval_args = [&](const fs::path& out) {
    return std::vector<std::string>{"eval", "--config", kConfig, "--workload", wl.string(), "--json", out.string()};
  };

  // Reference: one eval alone on its own empty cache.
  const pid_t ref_pid = spawn_accelgen(eval_args(t.path() / "ref.json"), t.path() / "ref-cache", t.path() / "ref.log");
  ASSERT_EQ(wait_status(ref_pid), 0) << read_bytes(t.path() / "ref.log");
  const json ref = read_record(t.path() / "ref.json");
  ASSERT_TRUE(ref.at("feasible").get<bool>()) << ref.dump(2);
  const json want = synthesis_numbers(ref);

  // Eight at once on one shared cache.
  const fs::path cache = t.path() / "shared-cache";
  std::vector<pid_t> pids;
  for (int i = 0; i < 8; ++i) {
    pids.push_back(spawn_accelgen(eval_args(t.path() / ("e" + std::to_string(i) + ".json")), cache,
                                  t.path() / ("e" + std::to_string(i) + ".log")));
  }
  // The lock holder is the one whose Yosys runs; kill it in the middle of synthesis.
  int victim = -1;
  std::vector<pid_t> victim_yosys;
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 8 && victim < 0; ++i) {
          victim_yosys = descendants_named(pids[static_cast<size_t>(i)], "yosys");
          if (!victim_yosys.empty()) victim = i;
        }
        return victim >= 0;
      },
      120))
      << "no eval started Yosys";
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // well inside synthesis, not at its start
  const pid_t victim_pid = pids[static_cast<size_t>(victim)];
  const std::vector<pid_t> victim_tools = descendants_named(victim_pid, "");  // guard, yosys, yosys-abc
  ASSERT_EQ(::kill(victim_pid, SIGKILL), 0);
  EXPECT_EQ(wait_status(victim_pid), 128 + SIGKILL);
  EXPECT_TRUE(wait_until(
      [&] {
        for (pid_t p : victim_tools)
          if (alive(p)) return false;
        return true;
      },
      5))
      << "the killed eval's Yosys outlived it";

  for (int i = 0; i < 8; ++i) {
    if (i == victim) continue;
    const fs::path log = t.path() / ("e" + std::to_string(i) + ".log");
    ASSERT_EQ(wait_status(pids[static_cast<size_t>(i)]), 0) << read_bytes(log);
    const json rec = read_record(t.path() / ("e" + std::to_string(i) + ".json"));
    EXPECT_EQ(synthesis_numbers(rec), want) << "eval " << i;
  }
  // The killed one wrote nothing, not even a temporary.
  for (const auto& e : fs::directory_iterator(t.path())) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name.find("e" + std::to_string(victim) + ".json") == std::string::npos) << name;
  }

  // The cache: one complete entry (result.json equal to the reference), its lock file, nothing else.
  const fs::path area = cache / "area";
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(area)) names.insert(e.path().filename().string());
  const std::string entry = ref.at("area").at("top").get<std::string>() + "-" + want.at("cache_key").get<std::string>();
  EXPECT_EQ(names, (std::set<std::string>{entry, entry + ".lock"}));
  const json stored = read_record(area / entry / "result.json");
  EXPECT_EQ(stored.at("area_um2"), want.at("area_um2"));
  EXPECT_EQ(stored.at("cells"), want.at("cells"));

  // The killed eval, run again, gives the reference record (from the entry another run finished).
  const fs::path again = t.path() / ("e" + std::to_string(victim) + ".json");
  const pid_t rerun = spawn_accelgen(eval_args(again), cache, t.path() / "rerun.log");
  ASSERT_EQ(wait_status(rerun), 0) << read_bytes(t.path() / "rerun.log");
  const json rec = read_record(again);
  EXPECT_EQ(synthesis_numbers(rec), want);
  EXPECT_TRUE(rec.at("area").at("flow").at("from_cache").get<bool>());
}

}  // namespace
}  // namespace accelgen
