#include "cli/commands.h"

#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include <unistd.h>

#include "calib/calibrate.h"
#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/nm_config.h"
#include "core/nm_workload.h"
#include "core/workload.h"
#include "cli/area_cmd.h"
#include "cli/bench.h"
#include "cli/calibrate_cmd.h"
#include "cli/compress_cmd.h"
#include "cli/eval.h"
#include "cli/space_cmd.h"
#include "flows/simbuild.h"
#include "flows/subprocess.h"
#include "gen/dispatch.h"
#include "gen/generator.h"
#include "gen/nm_generator.h"
#include "tb/nm_report.h"
#include "tb/nm_run.h"
#include "tb/report.h"
#include "golden/fast_model.h"
#include "tb/run.h"
#include "tb/sim_main.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

// A failure that is not the user's input (a mismatch, a failed tool): exit status 1.
struct RunFailure {  // NOLINT: thrown by value, caught in run_main
  int status;
};

void write_text_atomically(const fs::path& path, const std::string& text) {
  core::write_file_atomically(path, text);  // InputError (status 2) when it cannot be written
}

// Both outputs of a run or neither: when the tensor cannot be written, the report just written goes too.
void write_report_and_tensor(const std::string& report, const nlohmann::json& j, const std::string& out_tensor,
                             const std::function<void()>& write_tensor) {
  if (!report.empty()) write_text_atomically(report, j.dump(2) + "\n");
  if (out_tensor.empty()) return;
  try {
    write_tensor();
  } catch (...) {
    std::error_code ec;
    if (!report.empty()) fs::remove(report, ec);
    throw;
  }
}

struct StimulusArgs {
  tb::StimulusOptions opts;
  void add(CLI::App* cmd) {
    tb::add_stimulus_options(*cmd, opts);
  }
};

// The block a config file describes ("kind": "attention" or "nm_array"); InputError for a bad file.
bool is_nm_config(const std::string& config) {
  return core::config_kind(core::read_json_file(config, "config file (JSON)")) == "nm_array";
}

void cmd_generate(const std::string& config, const std::string& out) {
  const gen::GeneratedConfig g = gen::generate_file(config);
  gen::write_outputs(g.outputs, out);
  std::cout << fmt::format("wrote {} files for {} (config hash {}) to {}\n", g.outputs.files.size(),
                           g.outputs.top, g.config_hash, out);
}

// N:M workloads: X [rows, k] and W [k, cols], W N:M sparse (docs/semantics.md).
void cmd_nm_workload(const std::string& config, int64_t rows, int64_t k, int64_t cols, uint64_t seed,
                     const std::string& out) {
  const core::NmConfig c = core::load_nm_config(config);
  const core::NmWorkload w = core::make_nm_workload(c, rows, k, cols, seed);
  core::validate_nm_workload(w, c, out);
  core::write_nm_workload(w, out);
  std::cout << fmt::format("wrote N:M workload X {}x{}, W {}x{} ({}:{} sparse) to {}\n", rows, k, k, cols, c.n,
                           c.m, out);
}

void cmd_workload(const std::string& config, const std::string& kind, int lq, int lk, uint64_t seed,
                  const std::string& out) {
  const core::AttentionConfig c = core::load_attention_config(config);
  const core::AttentionWorkload w = core::make_workload(c, kind, lq, lk, seed);
  core::validate_workload(w, c, out);
  core::write_workload(w, out);
  std::cout << fmt::format("wrote {} workload {}x{} (theta {}, softmax_scale {:.6g}) to {}\n", kind, lq,
                           lk, w.params.theta, w.params.softmax_scale, out);
}

core::AttentionWorkload load_workload(const std::string& dir, const core::AttentionConfig& c,
                                     const std::string& thresholds) {
  core::AttentionWorkload w = core::load_attention_workload(dir, c);
  if (!thresholds.empty()) calib::apply_thresholds(thresholds, c, w);
  return w;
}

void cmd_nm_model(const std::string& config, const std::string& workload, const std::string& report,
                  const tb::StimulusOptions& stim, const std::string& out_tensor) {
  const core::NmConfig c = core::load_nm_config(config);
  const core::NmWorkload w = core::load_nm_workload(workload, c);
  const tb::NmRun r = tb::run_nm(c, w, stim, nullptr);
  if (!r.ok()) {
    std::cerr << fmt::format("model run failed: {}\n", r.timed_out ? "timed out" : r.functional_error);
    throw RunFailure{1};
  }
  const nlohmann::json j =
      tb::make_nm_report(c, w, r, {"golden-cycle-model", gen::tool_version(), workload, stim});
  write_report_and_tensor(report, j, out_tensor, [&] { tb::write_nm_output_tensor(out_tensor, r); });
  std::cout << tb::nm_summary(j);
}

// Several --workload directories run back to back in one run (one key set each; attention unit,
// no --thresholds or --fast).
void check_one_workload(const std::vector<std::string>& workloads, bool nm, bool fast, bool thresholds) {
  if (workloads.size() == 1) return;
  if (nm) throw core::InputError("--workload", "the N:M array runs one workload");
  if (fast) throw core::InputError("--fast", "runs one workload");
  if (thresholds) throw core::InputError("--thresholds", "applies to one workload");
}

// The attention workloads of a run, each checked against the config, their params equal.
std::vector<core::AttentionWorkload> load_workloads(const std::vector<std::string>& dirs,
                                                    const core::AttentionConfig& c, const std::string& thresholds) {
  std::vector<core::AttentionWorkload> sets;
  for (const std::string& dir : dirs) sets.push_back(load_workload(dir, c, thresholds));
  tb::check_same_params(sets, dirs);
  return sets;
}

void cmd_model(const std::string& config, const std::vector<std::string>& workloads, const std::string& report,
               const tb::StimulusOptions& stim, const std::string& thresholds, const std::string& out_tensor,
               bool fast) {
  const std::string& workload = workloads.front();
  check_one_workload(workloads, is_nm_config(config), fast, !thresholds.empty());
  if (is_nm_config(config)) {
    if (fast || !thresholds.empty()) {
      throw core::InputError(fast ? "--fast" : "--thresholds", "applies to attention configs only");
    }
    return cmd_nm_model(config, workload, report, stim, out_tensor);
  }
  const core::AttentionConfig c = core::load_attention_config(config);
  const std::vector<core::AttentionWorkload> sets = load_workloads(workloads, c, thresholds);
  const core::AttentionWorkload& w = sets.front();
  if (fast && (stim.valid_prob < 1.0 || stim.ready_prob < 1.0 || stim.reset_at >= 0)) {
    throw core::InputError("--fast", "models full-rate stimulus only; drop --valid-prob, --ready-prob and --reset-at");
  }
  const tb::RunResult r = fast ? tb::run_attention_fast(c, w) : tb::run_attention(c, sets, stim, nullptr);
  if (r.timed_out || !r.functional_error.empty()) {
    std::cerr << fmt::format("model run failed: {}\n",
                             r.timed_out ? "timed out" : r.functional_error);
    throw RunFailure{1};
  }
  const std::vector<std::string> more(workloads.begin() + 1, workloads.end());
  const nlohmann::json j =
      tb::make_report(c, sets, r, {fast && golden::fast_model_supports(c, w) ? "golden-fast-model" : "golden-cycle-model",
                                   gen::tool_version(), workload, stim, more});
  write_report_and_tensor(report, j, out_tensor, [&] { tb::write_output_tensor(out_tensor, r, c.dv); });
  std::cout << tb::summary(j);
}

// Runs a per-config simulator (attention or N:M: the same command line) and maps its exit status.
void run_simulator(const flows::SimBuild& b, const std::string& name, const std::string& config,
                   const std::vector<std::string>& workloads, const std::string& report,
                   const tb::StimulusOptions& stim, std::string fst, const std::string& out_tensor) {
  if (!b.from_cache) std::cerr << fmt::format("built simulator {} in {:.1f} s\n", b.exe.string(), b.build_seconds);
  if (fst.empty()) {
    const fs::path base = report.empty() ? fs::path(".") : fs::path(report).parent_path();
    fst = (base.empty() ? fs::path(name + "_mismatch.fst") : base / (name + "_mismatch.fst")).string();
  }
  std::vector<std::string> argv = {b.exe.string(), "--config", config};
  for (const std::string& w : workloads) argv.insert(argv.end(), {"--workload", w});
  argv.insert(argv.end(), {"--fst", fst, "--seed", std::to_string(stim.seed),
                                   "--valid-prob", fmt::format("{}", stim.valid_prob),
                                   "--ready-prob", fmt::format("{}", stim.ready_prob),
                                   "--reset-at", std::to_string(stim.reset_at),
                                   "--tool-version", gen::tool_version()});
  if (!report.empty()) {
    if (fs::path(report).has_parent_path()) fs::create_directories(fs::path(report).parent_path());
    argv.insert(argv.end(), {"--report", report});
  }
  if (!out_tensor.empty()) argv.insert(argv.end(), {"--out-tensor", out_tensor});
  if (stim.last_by_count) argv.push_back("--last-by-count");
  const flows::ProcessResult r = flows::run_process(argv, "", "", 0);
  if (r.exit_code != 0) throw RunFailure{r.exit_code == 2 ? 2 : 1};
}

void cmd_sim(const std::string& config, std::vector<std::string> workloads, const std::string& report,
             const tb::StimulusOptions& stim, std::string cache, const std::string& fst,
             const std::string& thresholds, const std::string& out_tensor) {
  if (cache.empty()) cache = flows::default_cache_dir().string();
  check_one_workload(workloads, is_nm_config(config), false, !thresholds.empty());
  if (is_nm_config(config)) {
    if (!thresholds.empty()) throw core::InputError("--thresholds", "applies to attention configs only");
    const core::NmConfig c = core::load_nm_config(config);
    core::load_nm_workload(workloads.front(), c);  // bad input fails here, before any build
    return run_simulator(flows::ensure_simulator(c, cache), c.name, config, workloads, report, stim, fst,
                         out_tensor);
  }
  const core::AttentionConfig c = core::load_attention_config(config);
  const std::vector<core::AttentionWorkload> sets = load_workloads(workloads, c, thresholds);  // bad input fails here
  if (!thresholds.empty()) {
    // The simulator reads a workload directory: give it one with the learned theta.
    const fs::path tuned = fs::temp_directory_path() /
                           fmt::format("accelgen-sim-{}-{}", core::config_hash(c), ::getpid());
    core::write_workload(sets.front(), tuned.string());
    workloads = {tuned.string()};
  }
  run_simulator(flows::ensure_simulator(c, cache), c.name, config, workloads, report, stim, fst, out_tensor);
}

void cmd_lint(const std::string& config, const std::string& work) {
  std::vector<flows::CheckResult> checks;
  if (is_nm_config(config)) {
    const core::NmConfig c = core::load_nm_config(config);
    checks = flows::portability_checks(
        c, work.empty() ? fs::temp_directory_path() / ("accelgen-lint-" + core::config_hash(c)) : fs::path(work));
  } else {
    const core::AttentionConfig c = core::load_attention_config(config);
    checks = flows::portability_checks(
        c, work.empty() ? fs::temp_directory_path() / ("accelgen-lint-" + core::config_hash(c)) : fs::path(work));
  }
  bool ok = true;
  for (const flows::CheckResult& r : checks) {
    std::cout << fmt::format("{:<15} {}\n", r.tool, r.passed ? "clean" : "FAILED");
    if (!r.passed) {
      std::cout << r.log;
      ok = false;
    }
  }
  if (!ok) throw RunFailure{1};
}

}  // namespace

void add_commands(CLI::App& app) {
  app.require_subcommand(1);

  auto* g = app.add_subcommand("generate", "generate the RTL, filelist, manifest and C++ header");
  auto gen_args = std::make_shared<std::pair<std::string, std::string>>();
  g->add_option("--config", gen_args->first, "config JSON")->required();
  g->add_option("--out", gen_args->second, "output directory (replaced atomically)")->required();
  g->callback([gen_args] { cmd_generate(gen_args->first, gen_args->second); });

  struct WorkloadArgs {
    std::string config, kind = "gaussian", out;
    int lq = 16, lk = 64;
    int64_t x_rows = 16, k = 64, w_cols = 16;  // N:M GEMM shape
    uint64_t seed = 1;
  };
  auto wa = std::make_shared<WorkloadArgs>();
  auto* w = app.add_subcommand("workload", "write a synthetic workload directory");
  w->add_option("--config", wa->config, "config JSON")->required();
  w->add_option("--kind", wa->kind, "gaussian or peaky");
  w->add_option("--lq", wa->lq, "number of queries");
  w->add_option("--lk", wa->lk, "number of keys");
  const auto gemm_range = CLI::Range(int64_t{1}, int64_t{1} << 20);
  w->add_option("--x-rows", wa->x_rows, "N:M configs: rows of X (and Y)")->check(gemm_range);
  w->add_option("--k", wa->k, "N:M configs: reduction length K (columns of X, rows of W)")->check(gemm_range);
  w->add_option("--w-cols", wa->w_cols, "N:M configs: columns of W (and Y)")->check(gemm_range);
  w->add_option("--seed", wa->seed, "random seed");
  w->add_option("--out", wa->out, "output directory")->required();
  w->callback([wa, w] {
    // An option of the other block's workload is a mistake, not something to ignore silently.
    const bool nm = is_nm_config(wa->config);
    for (const char* opt : nm ? std::vector<const char*>{"--kind", "--lq", "--lk"}
                              : std::vector<const char*>{"--x-rows", "--k", "--w-cols"}) {
      if (w->count(opt) > 0) {
        throw core::InputError(opt, nm ? "is for attention configs; an N:M workload takes --x-rows, --k, --w-cols"
                                       : "is for N:M configs; an attention workload takes --kind, --lq, --lk");
      }
    }
    if (nm) {
      cmd_nm_workload(wa->config, wa->x_rows, wa->k, wa->w_cols, wa->seed, wa->out);
    } else {
      cmd_workload(wa->config, wa->kind, wa->lq, wa->lk, wa->seed, wa->out);
    }
  });

  struct RunArgs {
    std::string config, report, cache, fst, thresholds, out_tensor;
    std::vector<std::string> workloads;
    StimulusArgs stim;
    bool fast = false;
  };
  auto sa = std::make_shared<RunArgs>();
  auto* s = app.add_subcommand("sim", "run a workload on the Verilated RTL against the golden model");
  s->add_option("--config", sa->config, "config JSON")->required();
  s->add_option("--workload", sa->workloads,
                 "workload directory; again for workloads run after it without a reset, one key set each")
      ->required();
  s->add_option("--report", sa->report, "report JSON to write");
  s->add_option("--cache", sa->cache, "simulator cache directory (default: $ACCELGEN_CACHE or ~/.cache/accelgen)");
  s->add_option("--fst", sa->fst, "waveform written on a mismatch");
  s->add_option("--thresholds", sa->thresholds, "learned thresholds (accelgen calibrate) replacing theta");
  s->add_option("--out-tensor", sa->out_tensor, "write the attention output O (Lq x dv, int64 .npy)");
  sa->stim.add(s);
  s->callback([sa] {
    cmd_sim(sa->config, sa->workloads, sa->report, sa->stim.opts, sa->cache, sa->fst, sa->thresholds,
            sa->out_tensor);
  });

  auto ma = std::make_shared<RunArgs>();
  auto* m = app.add_subcommand("model", "run a workload on the golden cycle model alone");
  m->add_option("--config", ma->config, "config JSON")->required();
  m->add_option("--workload", ma->workloads,
                 "workload directory; again for workloads run after it without a reset, one key set each")
      ->required();
  m->add_option("--report", ma->report, "report JSON to write");
  m->add_option("--thresholds", ma->thresholds, "learned thresholds (accelgen calibrate) replacing theta");
  m->add_option("--out-tensor", ma->out_tensor, "write the attention output O (Lq x dv, int64 .npy)");
  m->add_flag("--fast", ma->fast, "event-driven model: same numbers at full rate, tens of times faster");
  ma->stim.add(m);
  m->callback([ma] {
    cmd_model(ma->config, ma->workloads, ma->report, ma->stim.opts, ma->thresholds, ma->out_tensor, ma->fast);
  });

  auto ba = std::make_shared<BenchOptions>();
  auto* b = app.add_subcommand("bench", "cycles, lane utilization and sim speed of the reference configs");
  b->add_option("--config", ba->configs, "config files (default: configs/bench/*.json)");
  b->add_option("--json", ba->json_out, "write the figures as JSON");
  b->add_option("--lq", ba->lq, "queries per workload")->check(CLI::Range(1, 100000));
  b->add_flag("!--no-verilator", ba->verilator, "skip the Verilator timing");
  b->add_flag("--area", ba->area, "also synthesize each config and its dense baseline (minutes)");
  b->add_option("--traces", ba->traces,
                "real attention traces (L{l}H{h}_b{bits}_w{1..4}); default ../shared/traces when it exists");
  b->add_flag("!--no-traces", ba->use_traces, "skip the real-trace table");
  b->add_option("--memory", ba->memory_modes, "with --area: the \"memory\" modes to synthesize (default: both)")
      ->check(CLI::IsMember({"flops", "macro"}));
  b->add_option("--trace-cv-rule", ba->trace_cv_rule,
                "cross-validation rule of the real-trace calibration (calibrate --cv-rule): predict (default) or "
                "worst")
      ->check(CLI::IsMember({"worst", "predict"}));
  b->callback([ba] { run_bench(*ba); });

  add_calibrate_command(app);
  add_compress_command(app);
  add_area_command(app);
  add_eval_command(app);
  add_space_command(app);

  auto la = std::make_shared<std::pair<std::string, std::string>>();
  auto* l = app.add_subcommand("lint", "Verilator -Wall lint, Icarus -g2005 and Yosys latch check");
  l->add_option("--config", la->first, "config JSON")->required();
  l->add_option("--work", la->second, "directory for the generated RTL and logs");
  l->callback([la] { cmd_lint(la->first, la->second); });
}

int run_main(int argc, char** argv) {
  CLI::App app{"accelgen: sparse transformer accelerator generator"};
  app.set_version_flag("--version", gen::tool_version());
  add_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    // A bad option is bad input like any other: one line (CLI11 would add a "Run with --help" line).
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const core::InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const RunFailure& f) {
    return f.status;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace accelgen::cli
