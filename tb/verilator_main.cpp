// The per-config simulator: runs a workload on the Verilated unit RTL and the golden cycle model in
// lockstep, compares every output on every cycle, and writes the run report.
//
// Built by `accelgen sim` (gen/cli/simbuild.cpp) for one config, with the generated params header
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
#include "tb/verilator_dut.h"

namespace {

using namespace accelgen;

struct Args {
  std::string config, workload, report, fst, out_tensor, tool_version = "unknown";
  tb::StimulusOptions stim;
  bool dut_only = false;
};

int run(const Args& a) {
  const core::AttentionConfig cfg = core::load_attention_config(a.config);
  if (core::config_hash(cfg) != accelgen_params::kConfigHash) {
    throw core::InputError(a.config, fmt::format("config hash {} does not match this simulator's {}",
                                                 core::config_hash(cfg), accelgen_params::kConfigHash));
  }
  const core::AttentionWorkload w = core::load_attention_workload(a.workload, cfg);

  if (a.dut_only) {
    // Speed measurement for the benchmark: the RTL alone, no model, no comparison.
    tb::VerilatorDut<Vdut> dut(a.stim.seed, "");
    const auto t0 = std::chrono::steady_clock::now();
    const tb::RunResult r = tb::run_dut_only(cfg, w, a.stim, dut);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << fmt::format("dut-only cycles {} seconds {:.6f} total {}\n", r.cycles_simulated, s,
                             r.cycles_total);
    return r.timed_out ? 1 : 0;
  }
  tb::RunResult r;
  {
    tb::VerilatorDut<Vdut> dut(a.stim.seed, "");
    r = tb::run_attention(cfg, w, a.stim, &dut);
  }
  const std::string repro = fmt::format(
      "config {} (hash {}), workload {}, seed {}, valid_prob {}, ready_prob {}, reset_at {}", a.config,
      core::config_hash(cfg), a.workload, a.stim.seed, a.stim.valid_prob, a.stim.ready_prob,
      a.stim.reset_at);
  if (r.mismatch) {
    const tb::Mismatch& m = *r.mismatch;
    std::cerr << fmt::format("MISMATCH at cycle {}: {} expected {}, got {}\n  {}\n", m.cycle, m.signal,
                             m.expected, m.got, repro);
    // Re-run the same stimulus with tracing, up to just past the mismatch.
    tb::VerilatorDut<Vdut> traced(a.stim.seed, a.fst);
    tb::run_attention(cfg, w, a.stim, &traced, m.cycle + 2);
    std::cerr << fmt::format("  waveform: {} (time 2*cycle is the cycle's low phase)\n", a.fst);
    return 1;
  }
  if (r.timed_out) {
    std::cerr << fmt::format("TIMEOUT after {} cycles without finishing\n  {}\n", r.cycles_simulated, repro);
    return 1;
  }
  if (!r.functional_error.empty()) {
    std::cerr << fmt::format("FUNCTIONAL MISMATCH: {}\n  {}\n", r.functional_error, repro);
    return 1;
  }
  const nlohmann::json report =
      tb::make_report(cfg, w, r, {"verilator", a.tool_version, a.workload, a.stim});
  if (!a.report.empty()) tb::write_report(a.report, report);
  if (!a.out_tensor.empty()) tb::write_output_tensor(a.out_tensor, r, cfg.dv);
  std::cout << tb::summary(report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"accelgen per-config simulator (Verilator RTL vs golden cycle model)"};
  app.add_option("--config", a.config)->required();
  app.add_option("--workload", a.workload)->required();
  app.add_option("--report", a.report);
  app.add_option("--out-tensor", a.out_tensor);
  app.add_option("--fst", a.fst)->required();
  app.add_option("--seed", a.stim.seed);
  app.add_option("--valid-prob", a.stim.valid_prob)->check(CLI::Range(0.01, 1.0));
  app.add_option("--ready-prob", a.stim.ready_prob)->check(CLI::Range(0.01, 1.0));
  app.add_option("--reset-at", a.stim.reset_at);
  app.add_option("--tool-version", a.tool_version);
  app.add_flag("--dut-only", a.dut_only, "time the RTL alone (no model, no checks)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    return run(a);
  } catch (const accelgen::core::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
}
