// accelgen::tb — what the per-config simulator mains (tb/verilator_main.cpp for the attention unit,
// tb/nm_verilator_main.cpp for the N:M array) share: their command line, the config-hash check
// against the simulator's params header, the reproduce line and the failure report, so both
// simulators behave and print alike; and the command-line options of tb::StimulusOptions, which
// `accelgen sim` and `accelgen model` (cli/commands.cpp) take too. Only those three files include it.
// May include: core/, tb/, CLI11.
#pragma once

#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/error.h"
#include "tb/lockstep.h"
#include "tb/model_settings.h"
#include "tb/stimulus_options.h"
#include "tb/xstate_args.h"

namespace accelgen::tb {

struct SimArgs {
  std::string config, workload, report, fst, out_tensor, tool_version = "unknown";
  // The attention simulator runs further workloads after `workload` without a reset, each its own
  // key set (`--workload` given more than once; tb::AttnDriver); the N:M simulator takes one.
  std::vector<std::string> more_workloads;
};

// --seed, --valid-prob, --ready-prob and --reset-at, filling `stim`.
inline void add_stimulus_options(CLI::App& app, StimulusOptions& stim) {
  app.add_option("--seed", stim.seed, "stimulus seed (valid gaps, back-pressure, garbage data)");
  app.add_option("--valid-prob", stim.valid_prob, "chance an idle input stream sends its next beat")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--ready-prob", stim.ready_prob, "chance the output stream is ready in a cycle")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--reset-at", stim.reset_at, "assert reset again at this cycle and start over");
  app.add_flag("--last-by-count", stim.last_by_count,
               "leave out the last flag where the design ends a burst by its own count");
}

// The options both simulators take.
inline void add_sim_options(CLI::App& app, SimArgs& a, StimulusOptions& stim) {
  app.add_option("--config", a.config)->required();
  // Repeatable: the first goes to a.workload, the others to a.more_workloads (after parsing).
  app.add_option_function<std::vector<std::string>>(
         "--workload",
         [&a](const std::vector<std::string>& dirs) {
           a.workload = dirs.front();
           a.more_workloads.assign(dirs.begin() + 1, dirs.end());
         },
         "workload directory; again for workloads run after it without a reset (attention unit)")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--report", a.report);
  app.add_option("--out-tensor", a.out_tensor, "write the output tensor as .npy");
  app.add_option("--fst", a.fst, "waveform written on a mismatch")->required();
  add_stimulus_options(app, stim);
  app.add_option("--tool-version", a.tool_version);
  // Coverage simulators (flows::SimFlavor::coverage) write Verilator's line and toggle counters of
  // the run to this file; the others refuse the option.
  app.add_option("--coverage-file", model_settings().coverage_file, "write the run's coverage (.dat)")
      ->check([](const std::string&) {
#if defined(VM_COVERAGE) && VM_COVERAGE
        return std::string();
#else
        return std::string("this simulator was built without coverage");
#endif
      });
}

// A config must be the one this simulator was built for (its generated params header).
inline void check_config_hash(const std::string& path, const std::string& hash, const char* built_for) {
  if (hash != built_for) {
    throw core::InputError(path,
                           fmt::format("config hash {} does not match this simulator's {}", hash, built_for));
  }
}

// The workload directories of a run, "A then B then C" for several.
inline std::string workloads_text(const SimArgs& a) {
  std::string text = a.workload;
  for (const std::string& w : a.more_workloads) text += " then " + w;
  return text;
}

inline std::string reproduce_line(const SimArgs& a, const std::string& hash, const StimulusOptions& stim) {
  return fmt::format(
      "reproduce: config {} (hash {}), workload {}, --seed {} --valid-prob {} --ready-prob {} --reset-at {}{}{}",
      a.config, hash, workloads_text(a), stim.seed, stim.valid_prob, stim.ready_prob, stim.reset_at,
      stim.last_by_count ? " --last-by-count" : "",
      xstate_args_text());
}

// Prints the first failure of a run (mismatch, timeout or functional error) with the reproduce line;
// for a mismatch, `retrace(last_cycle)` re-runs the same stimulus with FST tracing into a.fst.
// Returns the exit status: 0 if nothing failed, else 1.
inline int report_failure(const SimArgs& a, const std::string& repro,
                          const std::optional<Mismatch>& mismatch, bool timed_out, int64_t cycles,
                          const std::string& functional_error,
                          const std::function<void(int64_t last_cycle)>& retrace) {
  if (mismatch) {
    std::fflush(stdout);  // the RTL's ASSERTION FAILED line (stdout) before the report
    std::cerr << fmt::format("MISMATCH at cycle {}: {} expected {}, got {}\n  {}\n", mismatch->cycle,
                             mismatch->signal, mismatch->expected, mismatch->got, repro);
    retrace(mismatch->cycle + 2);
    std::cerr << fmt::format("  waveform: {} (time 2*cycle is the cycle's low phase)\n", a.fst);
    return 1;
  }
  if (timed_out) {
    std::cerr << fmt::format("TIMEOUT after {} cycles without finishing\n  {}\n", cycles, repro);
    return 1;
  }
  if (!functional_error.empty()) {
    std::cerr << fmt::format("FUNCTIONAL MISMATCH: {}\n  {}\n", functional_error, repro);
    return 1;
  }
  return 0;
}

// One lock-step run of either block on a fresh `DutImpl`: `run(dut, stop_after)` returns the run's
// result; a failure is reported as report_failure() does, re-running the same stimulus with an FST
// trace on a second `DutImpl`. Returns the exit status (0: passed).
template <class DutImpl, class Result, class Run>
int run_and_report(const SimArgs& a, const StimulusOptions& stim, const std::string& hash, Result& r,
                   Run run) {
  {
    DutImpl dut(stim.seed, "");
    r = run(&dut, -1);
  }
  return report_failure(a, reproduce_line(a, hash, stim), r.mismatch, r.timed_out, r.cycles_simulated,
                        r.functional_error, [&](int64_t last_cycle) {
                          DutImpl traced(stim.seed, a.fst);
                          run(&traced, last_cycle);
                        });
}

// Parses the command line and runs `run`; bad input (options, config, workload) is status 2 with
// one line. Verilator's X-state arguments (+verilator+...: tb/xstate_args.h) are taken first; the
// other arguments starting with '+' are Verilog plusargs for the models (tb::ModelSettings), the
// rest is the command line (`app`).
template <class Run>
int sim_main(CLI::App& app, int argc, char** argv, Run run) {
  if (const std::string bad = take_xstate_args(argc, argv); !bad.empty()) {
    std::cerr << "error: " << bad << "\n";
    return 2;
  }
  std::vector<char*> options;
  for (int i = 0; i < argc; ++i) {
    if (i > 0 && argv[i][0] == '+') {
      model_settings().plusargs.emplace_back(argv[i]);
    } else {
      options.push_back(argv[i]);
    }
  }
  try {
    app.parse(static_cast<int>(options.size()), options.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run();
  } catch (const core::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace accelgen::tb
