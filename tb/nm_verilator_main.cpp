// The per-config simulator of the N:M array: runs a GEMM workload (x.npy, w.npy) on the Verilated
// `<name>_nm_top` and the golden cycle model in lock step, compares every output pin on every
// cycle, checks Y against X * W and writes the run report (and y.npy with --out-tensor).
//
// Built by cli::ensure_simulator for one N:M config (gen/cli/simbuild.cpp), with the generated
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

namespace {

using namespace accelgen;

struct Args {
  std::string config, workload, report, fst, out_tensor, tool_version = "unknown";
  golden::NmStimulus stim;
};

core::NmConfig load_config(const std::string& path) {
  const core::NmConfig cfg = core::load_nm_config(path);
  if (core::config_hash(cfg) != accelgen_params::kConfigHash) {
    throw core::InputError(path, fmt::format("config hash {} does not match this simulator's {}",
                                             core::config_hash(cfg), accelgen_params::kConfigHash));
  }
  return cfg;
}

// The first failure of a run, with what reproduces it; for a mismatch, the same stimulus again
// with FST tracing up to just past the failing cycle.
int report_failure(const core::NmConfig& cfg, const core::NmWorkload& w, const Args& a,
                   const tb::NmRun& r) {
  const std::string repro = fmt::format(
      "reproduce: config {} (hash {}), workload {}, --seed {} --valid-prob {} --ready-prob {} "
      "--reset-at {}",
      a.config, core::config_hash(cfg), a.workload, a.stim.seed, a.stim.valid_prob,
      a.stim.ready_prob, a.stim.reset_at);
  if (r.mismatch) {
    const tb::Mismatch& m = *r.mismatch;
    std::cerr << fmt::format("MISMATCH at cycle {}: {} expected {}, got {}\n  {}\n", m.cycle,
                             m.signal, m.expected, m.got, repro);
    tb::VerilatorNmDut<Vdut> traced(a.stim.seed, a.fst);
    tb::run_nm(cfg, w, a.stim, &traced, m.cycle + 2);
    std::cerr << fmt::format("  waveform: {} (time 2*cycle is the cycle's low phase)\n", a.fst);
  } else if (r.timed_out) {
    std::cerr << fmt::format("TIMEOUT after {} cycles without finishing\n  {}\n",
                             r.cycles_simulated, repro);
  } else {
    std::cerr << fmt::format("FUNCTIONAL MISMATCH: {}\n  {}\n", r.functional_error, repro);
  }
  return 1;
}

int run(const Args& a) {
  const core::NmConfig cfg = load_config(a.config);
  const core::NmWorkload w = core::load_nm_workload(a.workload, cfg);
  tb::NmRun r;
  {
    tb::VerilatorNmDut<Vdut> dut(a.stim.seed, "");
    r = tb::run_nm(cfg, w, a.stim, &dut);
  }
  if (!r.ok()) return report_failure(cfg, w, a, r);
  const nlohmann::json report =
      tb::make_nm_report(cfg, w, r, {"verilator", a.tool_version, a.workload, a.stim});
  if (!a.report.empty()) tb::write_report(a.report, report);
  if (!a.out_tensor.empty()) tb::write_nm_output_tensor(a.out_tensor, r);
  std::cout << tb::nm_summary(report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app{"accelgen per-config simulator of the N:M array (Verilator RTL vs golden model)"};
  app.add_option("--config", a.config)->required();
  app.add_option("--workload", a.workload, "directory with x.npy [R, K] and w.npy [K, C]")->required();
  app.add_option("--report", a.report);
  app.add_option("--out-tensor", a.out_tensor, "write Y [R, C] as .npy");
  app.add_option("--fst", a.fst, "waveform written on a mismatch")->required();
  app.add_option("--seed", a.stim.seed);
  app.add_option("--valid-prob", a.stim.valid_prob)->check(CLI::Range(0.01, 1.0));
  app.add_option("--ready-prob", a.stim.ready_prob)->check(CLI::Range(0.01, 1.0));
  app.add_option("--reset-at", a.stim.reset_at);
  app.add_option("--tool-version", a.tool_version);
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
