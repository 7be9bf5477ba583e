#include "gen/cli/eval.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "calib/calibrate.h"
#include "core/error.h"
#include "core/workload.h"
#include "gen/cli/area.h"
#include "gen/cli/simbuild.h"
#include "gen/cli/subprocess.h"
#include "gen/generator.h"
#include "tb/report.h"
#include "tb/run.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

// The statistics a search uses, from a run report (same fields for the model and Verilator).
nlohmann::json run_numbers(const nlohmann::json& report) {
  return {{"cycles", report["cycles"]},
          {"attention",
           {{"kept", report["kept"]},
            {"pruned", report["pruned"]},
            {"empty_rows", report["empty_rows"]},
            {"bit_steps", report["bit_steps"]},
            {"dense_bit_steps", report["dense_bit_steps"]},
            {"bit_step_fraction", report["bit_step_fraction"]},
            {"lane_utilization", report["lane_utilization"]}}},
          {"alpha", report["alpha"]},
          {"output_format", report["output_format"]}};
}

// Raw config JSON as given (for an infeasible record), or {} if it cannot even be read.
nlohmann::json raw_config(const std::string& path) {
  try {
    return core::read_json_file(path, "config file (JSON)");
  } catch (const core::InputError&) {
    return nlohmann::json::object();
  }
}

std::string verify_with_verilator(const core::AttentionConfig& c, const EvalOptions& o,
                                  const core::AttentionWorkload& w, const nlohmann::json& model_report) {
  const SimBuild b = ensure_simulator(c, default_cache_dir());
  const fs::path dir = fs::temp_directory_path() / fmt::format("accelgen-eval-{}-{}", core::config_hash(c), ::getpid());
  core::write_workload(w, (dir / "workload").string());
  const fs::path report = dir / "sim.json";
  const ProcessResult r = run_process({b.exe.string(), "--config", o.config, "--workload",
                                       (dir / "workload").string(), "--report", report.string(),
                                       "--fst", (dir / "mismatch.fst").string()},
                                      "", dir / "sim.log", 3600);
  if (r.exit_code != 0) {
    return fmt::format("Verilator run failed (log {}):\n{}", (dir / "sim.log").string(),
                       tail_file(dir / "sim.log", 10));
  }
  std::ifstream in(report);
  const nlohmann::json sim = nlohmann::json::parse(in);
  if (tb::report_numbers(sim) != tb::report_numbers(model_report)) {
    return "Verilator and the golden model disagree: " + report.string();
  }
  fs::remove_all(dir);
  return "";
}

}  // namespace

nlohmann::json evaluate(const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json rec = {{"tool", "accelgen"}, {"tool_version", gen::tool_version()}};
  core::AttentionConfig c;
  try {
    c = core::load_attention_config(o.config);
  } catch (const core::InputError& e) {
    rec["feasible"] = false;
    rec["reason"] = std::string("invalid config: ") + e.what();
    rec["config"] = raw_config(o.config);
    return rec;
  }
  rec["config"] = core::to_json(c);
  rec["config_hash"] = core::config_hash(c);

  core::AttentionWorkload w = core::load_attention_workload(o.workload, c);
  if (!o.thresholds.empty()) calib::apply_thresholds(o.thresholds, c, w);
  const tb::StimulusOptions stim;  // full rate: the numbers a design search compares
  // The fast model gives exactly the pin-level model's numbers at full rate (tests/test_fast_model.cpp);
  // --verify checks them against the Verilated RTL.
  const tb::RunResult run = tb::run_attention_fast(c, w);
  if (!run.ok()) {
    rec["feasible"] = false;
    rec["reason"] = "golden model run failed: " + (run.timed_out ? std::string("timed out") : run.functional_error);
    return rec;
  }
  const nlohmann::json report = tb::make_report(c, w, run, {"golden-cycle-model", gen::tool_version(), o.workload, stim});
  rec["workload"] = report["workload"];
  rec.update(run_numbers(report));
  rec["feasible"] = true;
  rec["reason"] = "";

  if (o.area) {
    AreaOptions ao;
    ao.liberty = o.liberty;
    if (!o.area_cache.empty()) ao.cache_root = o.area_cache;
    const AreaResult a = synthesize_area(c, ao);
    rec["area"] = to_json(a);
    rec["tool_versions"] = {{"yosys", a.yosys_version}, {"opensta", a.sta_version}};
    if (!a.feasible) {
      rec["feasible"] = false;
      rec["reason"] = "synthesis: " + a.reason;
    } else if (a.timing_available) {
      rec["fmax_mhz"] = a.fmax_mhz;
      rec["latency_ns"] = latency_ns(static_cast<double>(run.cycles_total), a.fmax_mhz);
    }
  }
  if (o.verify) {
    const std::string problem = verify_with_verilator(c, o, w, report);
    rec["verified"] = problem.empty();
    if (!problem.empty()) throw std::runtime_error(problem);
  }
  rec["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rec;
}

void add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* e = app.add_subcommand("eval", "one design point -> one JSON record (area, timing, cycles, statistics)");
  e->add_option("--config", o->config, "config JSON")->required();
  e->add_option("--workload", o->workload, "workload directory")->required();
  e->add_option("--thresholds", o->thresholds, "learned thresholds (accelgen calibrate)");
  e->add_option("--liberty", o->liberty, "liberty file for area and timing (default: OSU 0.18 um)");
  e->add_option("--json", o->json_out, "write the record here (exit status 0 even if infeasible)");
  e->add_flag("--verify", o->verify, "also run the Verilated RTL; fail if any number differs");
  e->add_flag("!--no-area", o->area, "skip synthesis and timing");
  e->callback([o] {
    const nlohmann::json rec = evaluate(*o);
    const std::string text = rec.dump(2) + "\n";
    if (o->json_out.empty()) {
      // Without --json the shell sees the outcome: a bad config is bad input (status 2, one line),
      // another infeasible point is a failure (status 1) after its record.
      const std::string reason = rec.value("reason", "");
      if (reason.rfind("invalid config: ", 0) == 0) {
        throw core::InputError(o->config, reason.substr(std::string("invalid config: ").size()));
      }
      std::cout << text;
      if (!rec["feasible"].get<bool>()) throw std::runtime_error(reason);
      return;
    }
    const fs::path out(o->json_out);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    const fs::path tmp = out.string() + ".tmp";
    std::ofstream(tmp) << text;
    fs::rename(tmp, out);
    std::cout << fmt::format("{}: feasible {}{}\n", o->json_out, rec["feasible"].get<bool>(),
                             rec["feasible"].get<bool>() ? "" : " (" + rec["reason"].get<std::string>() + ")");
  });
}

}  // namespace accelgen::cli
