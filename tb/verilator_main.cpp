// The per-config simulator: runs a workload on the Verilated unit RTL and the golden cycle model in
// lockstep, compares every output on every cycle, and writes the run report.
//
// Built by `accelgen sim` (flows/simbuild.cpp) for one config, with the generated params header
// force-included and Vdut.h from Verilator. Exit status: 0 pass, 1 mismatch or functional error
// (with a mismatch report and an FST waveform), 2 bad input.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "Vdut.h"
#include "core/error.h"
#include "tb/report.h"
#include "tb/run.h"
#include "tb/sim_main.h"
#include "tb/verilator_dut.h"

namespace {

using namespace accelgen;

struct Args {
  tb::SimArgs sim;
  tb::StimulusOptions stim;
  bool dut_only = false;
};

// Speed measurement for the benchmark: the RTL alone, no model, no comparison.
int run_dut_only(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const Args& a) {
  tb::VerilatorDut<Vdut> dut(a.stim.seed, "");
  const auto t0 = std::chrono::steady_clock::now();
  const tb::RunResult r = tb::run_dut_only(cfg, w, a.stim, dut);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << fmt::format("dut-only cycles {} seconds {:.6f} total {}\n", r.cycles_simulated, s, r.cycles_total);
  return r.timed_out ? 1 : 0;
}

int run(const Args& a) {
  const core::AttentionConfig cfg = core::load_attention_config(a.sim.config);
  tb::check_config_hash(a.sim.config, core::config_hash(cfg), accelgen_params::kConfigHash);
  std::vector<std::string> dirs = {a.sim.workload};
  dirs.insert(dirs.end(), a.sim.more_workloads.begin(), a.sim.more_workloads.end());
  std::vector<core::AttentionWorkload> sets;
  for (const std::string& dir : dirs) sets.push_back(core::load_attention_workload(dir, cfg));
  tb::check_same_params(sets, dirs);
  if (a.dut_only) {
    if (sets.size() > 1) throw core::InputError("--dut-only", "times one workload");
    return run_dut_only(cfg, sets.front(), a);
  }
  tb::RunResult r;
  const int failed = tb::run_and_report<tb::VerilatorDut<Vdut>>(
      a.sim, a.stim, core::config_hash(cfg), r,
      [&](tb::Dut* dut, int64_t stop_after) { return tb::run_attention(cfg, sets, a.stim, dut, stop_after); });
  if (failed != 0) return failed;
  const nlohmann::json report = tb::make_report(
      cfg, sets, r, {"verilator", a.sim.tool_version, a.sim.workload, a.stim, a.sim.more_workloads});
  if (!a.sim.report.empty()) tb::write_report(a.sim.report, report);
  if (!a.sim.out_tensor.empty()) tb::write_output_tensor(a.sim.out_tensor, r, cfg.dv);
  std::cout << tb::summary(report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"accelgen per-config simulator (Verilator RTL vs golden cycle model)"};
  accelgen::tb::add_sim_options(app, a.sim, a.stim);
  app.add_flag("--dut-only", a.dut_only, "time the RTL alone (no model, no checks)");
  return accelgen::tb::sim_main(app, argc, argv, [&] { return run(a); });
}
