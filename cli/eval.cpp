#include "cli/eval.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "calib/calibrate.h"
#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/workload.h"
#include "flows/activity.h"
#include "flows/area.h"
#include "flows/power.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"
#include "tb/nm_report.h"
#include "tb/nm_run.h"
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

// Runs a per-config simulator on `workload_dir` and compares its report's numbers with the model's.
// Returns "" when they agree, else what went wrong.
std::string verify_with_verilator(const flows::SimBuild& b, const EvalOptions& o, const std::string& hash,
                                  const std::function<std::string(const fs::path& dir)>& workload_dir,
                                  const nlohmann::json& model_report) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("accelgen-eval-{}-{}", hash, ::getpid());
  fs::create_directories(dir);
  const std::string wdir = workload_dir(dir);
  const fs::path report = dir / "sim.json";
  const flows::ProcessResult r =
      flows::run_process({b.exe.string(), "--config", o.config, "--workload", wdir, "--report",
                          report.string(), "--fst", (dir / "mismatch.fst").string()},
                         "", dir / "sim.log", 3600);
  if (r.exit_code != 0) {
    return fmt::format("Verilator run failed (log {}):\n{}", (dir / "sim.log").string(),
                       flows::tail_file(dir / "sim.log", 10));
  }
  std::ifstream in(report);
  const nlohmann::json sim = nlohmann::json::parse(in);
  if (tb::report_numbers(sim) != tb::report_numbers(model_report)) {
    return "Verilator and the golden model disagree: " + report.string();
  }
  fs::remove_all(dir);
  return "";
}

// Area, timing and latency of the generated RTL into the record (feasible false on a failed flow).
void add_area(nlohmann::json& rec, const gen::Outputs& rtl, const EvalOptions& o, int64_t cycles_total) {
  flows::AreaOptions ao;
  ao.liberty = o.liberty;
  for (const std::string& m : o.macro_libs) ao.macro_libs.push_back(fs::absolute(m));
  if (!o.area_cache.empty()) ao.cache_root = o.area_cache;
  const flows::AreaResult a = flows::synthesize_area(rtl, ao);
  rec["area"] = flows::to_json(a);
  rec["tool_versions"] = {{"yosys", a.yosys_version}, {"opensta", a.sta_version}};
  if (!a.feasible) {
    rec["feasible"] = false;
    rec["reason"] = "synthesis: " + a.reason;
  } else if (a.timing_available) {
    rec["fmax_mhz"] = a.fmax_mhz;
    rec["latency_ns"] = flows::latency_ns(static_cast<double>(cycles_total), a.fmax_mhz);
  }
}

// The macros' energy of one run into `j["memory"]` (null in flops mode: inside report_power).
double add_memory_energy(nlohmann::json& j, const flows::AreaResult& a, const core::AttentionWorkload& w,
                         const tb::RunResult& run) {
  const flows::MemoryEnergy m = flows::macro_memory_energy(a, flows::attention_memory_traffic(w, run), run.cycles_total);
  if (a.memory_mode != "macro") {
    j["memory"] = nullptr;
    return 0;
  }
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : m.rows) {
    rows.push_back({{"module", r.module}, {"role", r.role}, {"instances", r.instances}, {"reads", r.reads},
                    {"writes", r.writes}, {"read_pj", r.read_pj}, {"write_pj", r.write_pj},
                    {"idle_pj_per_cycle", r.idle_pj_per_cycle}, {"access_pj", r.access_pj}, {"idle_pj", r.idle_pj}});
  }
  const double queries = static_cast<double>(w.q.rows());
  j["memory"] = {{"available", m.available}, {"note", m.note}, {"memories", rows},
                 {"pj_per_query", m.available ? nlohmann::json(m.total_pj / queries) : nlohmann::json()}};
  return m.total_pj / queries;
}

// One design's energy per query on `w`: its area result (synthesized or cached, with the netlist in
// the cache), cycles from the fast model, input activity from the pin-level model, report_power,
// plus the memory macros' energy in "macro" mode.
nlohmann::json design_energy(const core::AttentionConfig& c, const core::AttentionWorkload& w,
                             const std::string& liberty, const std::string& area_cache,
                             const std::vector<std::string>& macro_libs) {
  flows::AreaOptions ao;
  ao.liberty = liberty;
  for (const std::string& m : macro_libs) ao.macro_libs.push_back(fs::absolute(m));
  if (!area_cache.empty()) ao.cache_root = area_cache;
  const flows::AreaResult a = flows::synthesize_area(gen::generate(c), ao);
  nlohmann::json j = {{"available", false}, {"note", ""}};
  if (!a.feasible) {
    j["note"] = "synthesis: " + a.reason;
    return j;
  }
  if (!a.timing_available) {
    j["note"] = "no timing (needed for the run clock): " + a.timing_note;
    return j;
  }
  const tb::RunResult run = tb::run_attention_fast(c, w);
  const flows::InputActivity act = flows::measure_unit_input_activity(c, w);
  const flows::PowerResult p = flows::estimate_power(flows::cached_netlist(a, ao), a, act, flows::PowerOptions{});
  if (!p.available) {
    j["note"] = "power: " + p.note;
    return j;
  }
  const double memory_pj_per_query = add_memory_energy(j, a, w, run);
  if (!j["memory"].is_null() && !j["memory"]["available"].get<bool>()) {
    j["note"] = "memory macros: " + j["memory"]["note"].get<std::string>();
    return j;
  }
  const double run_period_ns = 1000.0 / a.fmax_mhz;
  const double queries = static_cast<double>(w.q.rows());
  const double cycles = static_cast<double>(run.cycles_total);
  const double logic_pj_per_query = cycles * flows::energy_per_cycle_pj(p.report, p.clock_period_ns, run_period_ns) / queries;
  auto watts = [](const flows::PowerReport& r) {
    return nlohmann::json{{"internal", r.internal_w},     {"switching", r.switching_w},
                          {"leakage", r.leakage_w},       {"total", r.total_w},
                          {"sequential", r.sequential_w}, {"combinational", r.combinational_w}};
  };
  j["available"] = true;
  j["pj_per_query"] = logic_pj_per_query + memory_pj_per_query;
  j["netlist_pj_per_query"] = logic_pj_per_query;
  j["cycles"] = run.cycles_total;
  j["queries"] = w.q.rows();
  j["fmax_mhz"] = a.fmax_mhz;
  j["run_period_ns"] = run_period_ns;
  j["sdc_period_ns"] = p.clock_period_ns;
  j["power_w_at_sdc_clock"] = watts(p.report);
  j["input_activity"] = {{"pins", act.pins.size()}, {"mean", act.mean_activity}, {"cycles", act.cycles}};
  j["sta_seconds"] = p.sta_seconds;
  return j;
}

void infeasible_config(nlohmann::json& rec, const EvalOptions& o, const core::InputError& e) {
  rec["feasible"] = false;
  rec["reason"] = std::string("invalid config: ") + e.what();
  rec["config"] = raw_config(o.config);
}

}  // namespace

nlohmann::json attention_energy(const core::AttentionConfig& c, const core::AttentionWorkload& w,
                                const std::string& liberty, const std::string& area_cache,
                                const std::vector<std::string>& macro_libs) {
  nlohmann::json e = {{"method",
                       "OpenSTA report_power on the mapped netlist, input pins toggled as measured on the "
                       "workload, propagated by OpenSTA; in macro memory mode plus each memory's reads, writes "
                       "and clocked cycles times the macro's (or the SRAM model's) energies; docs/energy.md"},
                      {"unit", design_energy(c, w, liberty, area_cache, macro_libs)}};
  e["memory_access"] =
      c.memory == "macro"
          ? "included: \"memory\": \"macro\", energies per access and per cycle from the macro library's "
            "clock-pin internal_power or the SRAM model (docs/memory.md \"Energy\"), access counts from the run"
          : "inside report_power: the memories are flip-flops in the netlist";
  if (c.dense_baseline) {
    e["dense"] = nullptr;
    e["ratio"] = nullptr;
    return e;
  }
  core::AttentionConfig dense = c;
  dense.dense_baseline = true;
  e["dense"] = design_energy(dense, w, liberty, area_cache, macro_libs);
  const auto& u = e["unit"];
  const auto& d = e["dense"];
  if (u["available"].get<bool>() && d["available"].get<bool>()) {
    e["ratio"] = u["pj_per_query"].get<double>() / d["pj_per_query"].get<double>();
  } else {
    e["ratio"] = nullptr;
  }
  return e;
}

namespace {

void evaluate_attention(const EvalOptions& o, nlohmann::json& rec) {
  core::AttentionConfig c;
  try {
    c = core::load_attention_config(o.config);
  } catch (const core::InputError& e) {
    return infeasible_config(rec, o, e);
  }
  rec["config"] = core::to_json(c);
  rec["config_hash"] = core::config_hash(c);

  core::AttentionWorkload w = core::load_attention_workload(o.workload, c);
  if (!o.thresholds.empty()) calib::apply_thresholds(o.thresholds, c, w);
  const tb::StimulusOptions stim;  // full rate: the numbers a design search compares
  // The fast model gives exactly the pin-level model's numbers at full rate (tests/test_fast_model.cpp);
  // --verify checks them against the Verilated RTL.
  const tb::RunResult run = tb::run_attention_fast(c, w);
  const nlohmann::json report = tb::make_report(c, w, run, {"golden-cycle-model", gen::tool_version(), o.workload, stim});
  rec["workload"] = report["workload"];
  rec.update(run_numbers(report));
  rec["feasible"] = true;
  rec["reason"] = "";
  if (o.area) add_area(rec, gen::generate(c), o, run.cycles_total);
  if (o.energy && rec["feasible"].get<bool>())
    rec["energy"] = attention_energy(c, w, o.liberty, o.area_cache, o.macro_libs);
  if (o.verify) {
    const std::string problem = verify_with_verilator(
        flows::ensure_simulator(c, flows::default_cache_dir()), o, core::config_hash(c),
        [&](const fs::path& dir) {  // the workload as evaluated (learned thresholds applied)
          core::write_workload(w, (dir / "workload").string());
          return (dir / "workload").string();
        },
        report);
    rec["verified"] = problem.empty();
    if (!problem.empty()) throw std::runtime_error(problem);
  }
}

void evaluate_nm(const EvalOptions& o, nlohmann::json& rec) {
  core::NmConfig c;
  try {
    c = core::load_nm_config(o.config);
  } catch (const core::InputError& e) {
    return infeasible_config(rec, o, e);
  }
  rec["config"] = core::to_json(c);
  rec["config_hash"] = core::config_hash(c);
  if (!o.thresholds.empty()) throw core::InputError("--thresholds", "applies to attention configs only");
  if (o.energy) throw core::InputError("--energy", "applies to attention configs only (N:M arrays: not implemented)");

  const core::NmWorkload w = core::load_nm_workload(o.workload, c);
  const tb::StimulusOptions stim;  // full rate
  const tb::NmRun run = tb::run_nm(c, w, stim, nullptr);
  if (!run.ok()) {
    rec["feasible"] = false;
    rec["reason"] = "golden model run failed: " + (run.timed_out ? std::string("timed out") : run.functional_error);
    return;
  }
  const nlohmann::json report =
      tb::make_nm_report(c, w, run, {"golden-cycle-model", gen::tool_version(), o.workload, stim});
  rec["workload"] = report["workload"];
  rec["cycles"] = report["cycles"];
  rec["array"] = {{"macs", report["macs"]},
                  {"effective_macs", report["effective_macs"]},
                  {"pe_utilization", report["pe_utilization"]},
                  {"array_utilization", report["array_utilization"]},
                  {"tiling", report["tiling"]}};
  rec["feasible"] = true;
  rec["reason"] = "";
  if (o.area) add_area(rec, gen::generate_nm(c), o, run.stats.cycles);
  if (o.verify) {
    const std::string problem =
        verify_with_verilator(flows::ensure_simulator(c, flows::default_cache_dir()), o, core::config_hash(c),
                              [&](const fs::path&) { return o.workload; }, report);
    rec["verified"] = problem.empty();
    if (!problem.empty()) throw std::runtime_error(problem);
  }
}

}  // namespace

nlohmann::json evaluate(const EvalOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::json rec = {{"tool", "accelgen"}, {"tool_version", gen::tool_version()}};
  std::string kind;
  try {
    kind = core::config_kind(core::read_json_file(o.config, "config file (JSON)"));
  } catch (const core::InputError& e) {
    infeasible_config(rec, o, e);
    return rec;
  }
  if (kind == "nm_array") {
    evaluate_nm(o, rec);
  } else {
    evaluate_attention(o, rec);
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
  e->add_option("--macro-lib", o->macro_libs,
                 "\"memory\": \"macro\": Liberty files with SRAM macros (default: the SRAM model, docs/memory.md)")
      ->check(CLI::ExistingFile)
      ->expected(1, -1);
  e->add_flag("--verify", o->verify, "also run the Verilated RTL; fail if any number differs");
  e->add_flag("!--no-area", o->area, "skip synthesis and timing");
  e->add_flag("--energy", o->energy,
              "energy per query of the unit and its dense baseline (OpenSTA report_power, docs/energy.md)");

  e->callback([o] {
    if (o->energy && !o->area) throw core::InputError("--energy", "needs synthesis: drop --no-area");
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
    // Through a per-process temporary: concurrent evals never share one, and a record that cannot be
    // written is bad input (status 2) with nothing left behind.
    core::write_file_atomically(o->json_out, text);
    std::cout << fmt::format("{}: feasible {}{}\n", o->json_out, rec["feasible"].get<bool>(),
                             rec["feasible"].get<bool>() ? "" : " (" + rec["reason"].get<std::string>() + ")");
  });
}

}  // namespace accelgen::cli
