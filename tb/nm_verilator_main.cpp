// The per-config simulator of the N:M array: runs a GEMM workload (x.npy, w.npy) on the Verilated
// `<name>_nm_top` and the golden cycle model in lock step, compares every output pin on every
// cycle, checks Y against X * W and writes the run report (and y.npy with --out-tensor).
//
// Built by cli::ensure_simulator for one N:M config (flows/simbuild.cpp), with the generated
// params header force-included and Vdut.h from Verilator. Exit status: 0 pass, 1 mismatch, timeout
// or functional error (with a mismatch report and an FST waveform), 2 bad input.
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "Vdut.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "tb/nm_report.h"
#include "tb/nm_run.h"
#include "tb/nm_verilator_dut.h"
#include "tb/report.h"
#include "tb/sim_main.h"

namespace {

using namespace accelgen;

struct Args {
  tb::SimArgs sim;
  tb::StimulusOptions stim;
};

int run(const Args& a) {
  const core::NmConfig cfg = core::load_nm_config(a.sim.config);
  tb::check_config_hash(a.sim.config, core::config_hash(cfg), accelgen_params::kConfigHash);
  if (!a.sim.more_workloads.empty()) throw core::InputError("--workload", "the N:M array runs one workload");
  const core::NmWorkload w = core::load_nm_workload(a.sim.workload, cfg);
  tb::NmRun r;
  const int failed = tb::run_and_report<tb::VerilatorNmDut<Vdut>>(
      a.sim, a.stim, core::config_hash(cfg), r,
      [&](tb::NmDut* dut, int64_t stop_after) { return tb::run_nm(cfg, w, a.stim, dut, stop_after); });
  if (failed != 0) return failed;
  const nlohmann::json report =
      tb::make_nm_report(cfg, w, r, {"verilator", a.sim.tool_version, a.sim.workload, a.stim});
  if (!a.sim.report.empty()) tb::write_report(a.sim.report, report);
  if (!a.sim.out_tensor.empty()) tb::write_nm_output_tensor(a.sim.out_tensor, r);
  std::cout << tb::nm_summary(report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"accelgen per-config simulator of the N:M array (Verilator RTL vs golden model)"};
  accelgen::tb::add_sim_options(app, a.sim, a.stim);
  return accelgen::tb::sim_main(app, argc, argv, [&] { return run(a); });
}
