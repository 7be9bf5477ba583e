// accelgen::cli — `accelgen bench`: figures for the reference configs (cycles, lane utilization,
// bit-step savings, dense-baseline ratio, simulation speed), as a markdown table and JSON.
// Performance is measured here, never asserted in timed tests.
#pragma once

#include <string>
#include <vector>

namespace accelgen::cli {

struct BenchOptions {
  std::vector<std::string> configs;  // config files; empty: configs/bench/*.json
  std::string json_out;              // JSON written here when not empty
  bool verilator = true;             // also time the Verilated simulator
  bool area = false;                 // also synthesize design and dense baseline (slow: minutes)
  int lq = 32;
  std::string traces;       // real-trace directory; empty: <source>/../shared/traces if it exists
  bool use_traces = true;   // the real-trace table (calibration + cycle model per head)
  std::vector<std::string> memory_modes = {"flops", "macro"};  // --area: the "memory" modes synthesized
  std::string trace_cv_rule = "predict";  // --cv-rule of that calibration: predict (level 0.95) or worst
};

void run_bench(const BenchOptions& opts);

}  // namespace accelgen::cli
