// accelgen::tb — the run report of the N:M array as JSON, identical for the Verilator simulator and
// the golden cycle model except for the provenance fields ("simulator", "tool_version",
// workload.dir; compare with tb::report_numbers). Figures: docs/nm_array.md "Run statistics".
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "tb/nm_driver.h"
#include "tb/nm_run.h"
#include "tb/report.h"

namespace accelgen::tb {

nlohmann::json make_nm_report(const core::NmConfig& cfg, const core::NmWorkload& w, const NmRun& r,
                              const ReportContext& ctx);

// Y [R, C] of a run as an int64-compatible .npy (y.npy), written to a temporary file renamed into
// place.
void write_nm_output_tensor(const std::string& path, const NmRun& r);

// A few lines for the terminal.
std::string nm_summary(const nlohmann::json& report);

}  // namespace accelgen::tb
