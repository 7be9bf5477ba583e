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
  std::string trace_cv_rule = "worst";  // --cv-rule of that calibration: worst or predict (level 0.95)
};

void run_bench(const BenchOptions& opts);

}  // namespace accelgen::cli
