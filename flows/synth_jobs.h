// accelgen::flows — the pieces of the per-module area flow (flows/area.cpp): the modules of an
// elaborated design with an estimate of their synthesis cost, and a bounded pool that runs one tool
// process per job, the costliest first, at most `workers` at a time.
//
// Why per module: with the hierarchy kept, Yosys synthesizes and maps each module on its own, so one
// process per module gives the same netlist module by module while the large ones (the flip-flop
// memories, whose read multiplexers take ABC most of the time) run on different cores.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "flows/subprocess.h"

namespace accelgen::flows {

struct ModuleCost {
  std::string name;
  double cost = 0;  // relative: wire bits + memory bits x (1 + read ports)
};

// The modules of Yosys 0.23 `stat` text of an elaborated design (flows/area_elab.ys), in report
// order, without the "design hierarchy" summary. Throws std::runtime_error naming the line when the
// text does not have the expected shape (no module at all, a count that is not a number).
std::vector<ModuleCost> parse_module_costs(const std::string& stat_text);

// Worker processes for synthesis: $ACCELGEN_SYNTH_JOBS if set to a positive number, else the
// number of cores (at least 1).
int default_synth_jobs();

struct PoolJob {
  std::string name;
  std::vector<std::string> argv;
  std::filesystem::path log;
  double cost = 0;  // larger first
};

struct PoolOutcome {
  std::string name;
  ProcessResult result;
  bool ran = false;  // false: skipped because an earlier job failed
  double seconds = 0;
  double cpu_seconds = -1;  // CPU of the job's process tree; only known with one worker (else -1)
  std::filesystem::path log;
};

// Runs the jobs in `cwd`, costliest first, at most `workers` at once (flows::run_process, argument
// vectors, each with `timeout_s`). After a failure no new job is started. Outcomes in the order of
// `jobs`. With one worker, each job's CPU time is measured (getrusage of the waited-for children).
std::vector<PoolOutcome> run_job_pool(const std::vector<PoolJob>& jobs, const std::filesystem::path& cwd,
                                      int workers, int timeout_s);

}  // namespace accelgen::flows
