#include "tb/nm_report.h"

#include <filesystem>

#include <fmt/format.h>

#include "core/atomic_dir.h"
#include "core/npy.h"

namespace accelgen::tb {

nlohmann::json make_nm_report(const core::NmConfig& cfg, const core::NmWorkload& w, const NmRun& r,
                              const ReportContext& ctx) {
  const NmStats& s = r.stats;
  nlohmann::json report = report_header(ctx, r.ok(), core::to_json(cfg), core::config_hash(cfg));
  report.update(nlohmann::json{
      {"workload", {{"dir", ctx.workload_dir}, {"r", w.x.rows()}, {"k", w.x.cols()}, {"c", w.w.cols()}}},
      {"tiling",
       {{"groups", r.tiling.groups},
        {"row_tiles", r.tiling.row_tiles},
        {"col_tiles", r.tiling.col_tiles}}},
      {"cycles", {{"total", s.cycles}, {"compute", s.compute_cycles}}},
      {"macs", s.macs},
      {"effective_macs", s.effective_macs},
      {"pe_utilization", s.pe_utilization},
      {"array_utilization", s.array_utilization},
  });
  return report;
}

void write_nm_output_tensor(const std::string& path, const NmRun& r) {
  core::write_file_atomically(path, core::serialize_npy(r.y));
}

std::string nm_summary(const nlohmann::json& r) {
  const nlohmann::json& c = r["config"];
  return fmt::format(
      "{} on '{}' (hash {}, {}:{}{}, {}x{} PEs): Y[{}, {}] = X[{}, {}] * W\n"
      "  cycles: {} total, {} compute; macs {} (dense-equivalent {}); PE utilization {:.3f}, "
      "array utilization {:.3f}\n",
      r["simulator"].get<std::string>(), c["name"].get<std::string>(),
      r["config_hash"].get<std::string>(), c["n"].get<int>(), c["m"].get<int>(),
      c["dense_baseline"].get<bool>() ? " dense baseline" : "", c["rows"].get<int>(),
      c["cols"].get<int>(), r["workload"]["r"].get<int64_t>(), r["workload"]["c"].get<int64_t>(),
      r["workload"]["r"].get<int64_t>(), r["workload"]["k"].get<int64_t>(),
      r["cycles"]["total"].get<int64_t>(), r["cycles"]["compute"].get<int64_t>(),
      r["macs"].get<int64_t>(), r["effective_macs"].get<int64_t>(),
      r["pe_utilization"].get<double>(), r["array_utilization"].get<double>());
}

}  // namespace accelgen::tb
