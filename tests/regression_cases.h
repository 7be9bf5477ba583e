// The regression's workloads and its checks of one run, shared by the regression suites
// (tests/test_regression.cpp, tests/test_nm_rtl.cpp), the coverage bench (tests/coverage_bench.cpp)
// and the mutation bench (tests/mutation_bench.cpp): the coverage figures and the mutants' verdicts
// are measured on exactly the stimulus and the checks the regression runs.
//
// A case is prepared once (workload written, the golden model's report computed) and then run on
// any simulator of its config, with extra arguments (plusargs, --coverage-file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/workload.h"
#include "tb/stimulus_options.h"

namespace accelgen::regression {

// ------------------------------------------------------------------ attention unit

struct AttnCase {
  std::string label;
  core::AttentionWorkload workload;
  tb::StimulusOptions stim;
  // Hand-derived expectation on the output tensor O (Lq x dv, units of 2^-out_frac_bits), if any;
  // reports through gtest's EXPECT macros.
  std::function<void(const core::IntMatrix& o)> check_output = {};
  // Workloads run after `workload` in the same run, without a reset: each loads a new key set once
  // the previous queries have all been accepted (tb::AttnDriver). Same params as `workload`; O
  // holds their rows after workload's, and check_output sees only workload's rows.
  std::vector<core::AttentionWorkload> then = {};
};

// Several seeds with random valid gaps and back-pressure, both workload kinds, and decoder heads
// (causal prefill; relative thresholds on relative-threshold hardware).
std::vector<AttnCase> attention_random_cases(const core::AttentionConfig& cfg);
// Directed cases: thresholds at the extremes, most negative values, the softmax/xV back-end's
// hand-derived outputs, one key, decoder heads, a full key store, reset in the middle of a query.
std::vector<AttnCase> attention_directed_cases(const core::AttentionConfig& cfg);

// ------------------------------------------------------------------ N:M array

struct NmCase {
  std::string label;
  core::NmWorkload workload;
  tb::StimulusOptions stim;
};

// Random GEMMs with partial row and column tiles, K not a multiple of m, gaps and back-pressure.
std::vector<NmCase> nm_random_cases(const core::NmConfig& cfg);
// Most negative operands over the full K, one nonzero per group, all-zero weights, K = 1, reset
// in the middle of a run.
std::vector<NmCase> nm_directed_cases(const core::NmConfig& cfg);

// ------------------------------------------------------------------ running a case

// A case ready to run: its workload on disk and what the run must report.
struct Prepared {
  std::string label;
  std::filesystem::path config_file, workload_dir, report, out_tensor, fst, log;
  std::vector<std::filesystem::path> more_workload_dirs;  // AttnCase::then, run after workload_dir
  tb::StimulusOptions stim;
  nlohmann::json expected_numbers;                      // tb::report_numbers of the model's report
  // "" when the output tensor at the given path is right.
  std::function<std::string(const std::filesystem::path&)> check_output;
  std::string reproduce;                                 // the command line that reruns the case
};

Prepared prepare(const core::AttentionConfig& cfg, const std::filesystem::path& config_file,
                 const std::filesystem::path& dir, const AttnCase& c);
Prepared prepare(const core::NmConfig& cfg, const std::filesystem::path& config_file,
                 const std::filesystem::path& dir, const NmCase& c);

// The same case writing its report, output tensor, log and waveform into `dir` (parallel runs of one
// prepared case).
Prepared with_outputs_in(Prepared p, const std::filesystem::path& dir);

// Runs a prepared case on `simv` (with `extra_args` appended to its command line) and checks what
// the regression checks: exit status 0 (no mismatch on any output in any cycle, no functional error,
// no timeout), the report equal to the model's, the output tensor. Returns "" if it passed, else
// the first failure with the simulator's log and the reproduce line. `time_limit_s` bounds the
// simulator process.
std::string run_prepared(const Prepared& p, const std::filesystem::path& simv,
                         const std::vector<std::string>& extra_args = {}, int time_limit_s = 600);

// A K that is not a multiple of m (or of n for the baseline) whenever max_k allows one.
int64_t odd_k(const core::NmConfig& cfg, uint64_t seed);

}  // namespace accelgen::regression
