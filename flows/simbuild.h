// accelgen::flows — builds (or finds in the cache) the per-config Verilator simulator, and runs the
// portability checks (lint, Icarus, Yosys) on generated RTL.
//
// The simulator of a config is keyed by a hash of the generated RTL and of the testbench toolkit
// (the project's archives and tb sources), so it is rebuilt exactly when the config or the
// generator/testbench changes. Builds happen in a temporary directory renamed into place, so
// concurrent runs (ctest -j) and interrupted builds never leave a broken cache entry.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/nm_config.h"
#include "flows/flow_cache.h"  // default_cache_dir
#include "gen/generator.h"

namespace accelgen::flows {

struct SimBuild {
  std::filesystem::path exe;
  bool from_cache = false;
  double build_seconds = 0;
};

// Which testbench a simulator is built with: the attention unit's (tb/verilator_main.cpp) or the
// N:M array's (tb/nm_verilator_main.cpp). Each kind's cache key covers its own sources.
enum class SimKind { kAttention, kNm };

// A build variant of the same simulator, cached apart from the plain one.
struct SimFlavor {
  // Verilator line and toggle coverage (--coverage-line --coverage-toggle); the simulator takes
  // --coverage-file F and writes the run's counters there (tests/coverage_bench.cpp merges them).
  // About 2x slower to run than the plain build.
  bool coverage = false;
};

// Throws std::runtime_error with the tail of the failing tool's log if a build step fails.
SimBuild ensure_simulator(const core::AttentionConfig& c, const std::filesystem::path& cache_root);
SimBuild ensure_simulator(const core::NmConfig& c, const std::filesystem::path& cache_root);
// The same for already generated (possibly hand-modified) outputs: tests use it to prove that a
// broken design is caught.
SimBuild ensure_simulator(const gen::Outputs& o, const std::string& name,
                          const std::filesystem::path& cache_root,
                          SimKind kind = SimKind::kAttention, SimFlavor flavor = {});

struct CheckResult {
  std::string tool;  // "verilator-lint", "iverilog", "yosys"
  bool passed = false;
  std::string log;   // tool output (empty when clean)
};

// Generates the config's RTL into `work` and runs the three portability checks.
std::vector<CheckResult> portability_checks(const core::AttentionConfig& c,
                                            const std::filesystem::path& work);
std::vector<CheckResult> portability_checks(const core::NmConfig& c,
                                            const std::filesystem::path& work);
// The same on already generated outputs (written into `work`).
std::vector<CheckResult> portability_checks(const gen::Outputs& o, const std::filesystem::path& work);

}  // namespace accelgen::flows
