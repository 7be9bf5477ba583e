#include "flows/synth_jobs.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <numeric>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <sys/resource.h>

#include "flows/text_io.h"

namespace accelgen::flows {

std::vector<ModuleCost> parse_module_costs(const std::string& stat_text) {
  static const std::regex header(R"(^=== (.+) ===$)");
  static const std::regex count(R"(^\s+Number of (wire bits|memory bits):\s+(\S+)$)");
  static const std::regex memrd(R"(^\s+\$memrd(_v2)?\s+(\S+)$)");
  struct Acc {
    std::string name;
    double wire_bits = 0, memory_bits = 0, read_ports = 0;
  };
  std::vector<Acc> acc;
  bool in_summary = false;
  std::istringstream in(stat_text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      in_summary = m[1] == "design hierarchy";
      if (!in_summary) acc.push_back({m[1].str()});
      continue;
    }
    if (in_summary || acc.empty()) continue;
    if (std::regex_match(line, m, count)) {
      const double v = parse_double(m[2].str(), "Yosys stat: " + m[1].str());
      (m[1] == "wire bits" ? acc.back().wire_bits : acc.back().memory_bits) = v;
    } else if (std::regex_match(line, m, memrd)) {
      acc.back().read_ports += parse_double(m[2].str(), "Yosys stat: $memrd count");
    }
  }
  if (acc.empty()) throw std::runtime_error("Yosys stat of the elaborated design: no module (=== name ===) found");
  std::vector<ModuleCost> out;
  for (const Acc& a : acc) out.push_back({a.name, a.wire_bits + a.memory_bits * (1 + a.read_ports)});
  return out;
}

namespace {

double children_cpu() {
  rusage u{};
  if (::getrusage(RUSAGE_CHILDREN, &u) != 0) return 0;
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

int default_synth_jobs() {
  if (const char* env = std::getenv("ACCELGEN_SYNTH_JOBS")) {
    try {
      const double n = parse_double(env, "ACCELGEN_SYNTH_JOBS");
      if (n >= 1) return static_cast<int>(n);
    } catch (const std::exception&) {
      // not a number: fall through to the core count
    }
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::vector<PoolOutcome> run_job_pool(const std::vector<PoolJob>& jobs, const std::filesystem::path& cwd,
                                      int workers, int timeout_s) {
  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return jobs[a].cost > jobs[b].cost; });
  std::vector<PoolOutcome> out(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    out[i].name = jobs[i].name;
    out[i].log = jobs[i].log;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  // Each worker thread takes the next job and blocks in run_process (fork + exec + waitpid on its own
  // child), so the threads share nothing but the two atomics; each writes only its job's outcome.
  const int n = std::max(1, std::min<int>(workers, static_cast<int>(jobs.size())));
  auto worker = [&] {
    for (;;) {
      if (failed.load()) return;
      const size_t k = next.fetch_add(1);
      if (k >= order.size()) return;
      const PoolJob& j = jobs[order[k]];
      PoolOutcome& o = out[order[k]];
      const auto t0 = std::chrono::steady_clock::now();
      const double cpu0 = n == 1 ? children_cpu() : 0;
      o.result = run_process(j.argv, cwd, j.log, timeout_s);
      o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (n == 1) o.cpu_seconds = children_cpu() - cpu0;  // no other child ends meanwhile
      o.ran = true;
      if (o.result.exit_code != 0 || o.result.timed_out) failed.store(true);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  return out;
}

}  // namespace accelgen::flows
