// accelgen::tb — the run report of docs/semantics.md as JSON, identical for `sim` and `model` except
// for the "simulator" field. docs/formats.md ("Run report") lists every field.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/workload.h"
#include "tb/run.h"

namespace accelgen::tb {

struct ReportContext {
  std::string simulator;     // "verilator" or "golden-cycle-model"
  std::string tool_version;
  std::string workload_dir;
  StimulusOptions stimulus;
  std::vector<std::string> more_workload_dirs = {};  // a run of several workloads: the second one's on
};

// The provenance part every run report of either block starts with: tool, simulator, pass flag,
// config and its hash, stimulus options.
nlohmann::json report_header(const ReportContext& ctx, bool passed, const nlohmann::json& config,
                             const std::string& config_hash);

nlohmann::json make_report(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                           const RunResult& r, const ReportContext& ctx);
// A run of several workloads (tb::run_attention on a vector): `workload.lq` and `workload.lk` are
// the totals and `workload.key_sets` lists each workload's dir, lq and lk.
nlohmann::json make_report(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                           const RunResult& r, const ReportContext& ctx);

// The numbers of a report that must agree between simulators (everything but provenance).
nlohmann::json report_numbers(const nlohmann::json& report);

// The attention output O of a run (Lq x dv, units of 2^-out_frac_bits, row i = query i) as an
// int64 .npy file, written to a temporary file renamed into place.
void write_output_tensor(const std::string& path, const RunResult& r, int dv);

// Writes `report` (indented, newline-terminated) to a temporary file renamed into place.
// Throws InputError(path) if it cannot be written.
void write_report(const std::string& path, const nlohmann::json& report);

// Short human summary (a few lines) for the terminal.
std::string summary(const nlohmann::json& report);

}  // namespace accelgen::tb
