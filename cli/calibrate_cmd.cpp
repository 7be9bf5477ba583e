// accelgen::cli — `accelgen calibrate`: learns one pruning threshold per (layer, head) slot from
// recorded Q/K/V traces (calib/calibrate.h) and writes the thresholds file with its report
// (docs/calibration.md). Cycle figures come from the golden cycle model (tb::run_attention).
#include "cli/calibrate_cmd.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calib/calibrate.h"
#include "core/error.h"
#include "core/workload.h"
#include "gen/generator.h"
#include "tb/run.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

struct CalibrateArgs {
  std::string config, max_error, out;
  std::vector<std::string> workloads;
  double holdout = 0.25;
  double margin = 1.0;
  double z = 2.0;
  uint64_t seed = 1;
  bool cycles = true;
};

void write_file_atomically(const fs::path& path, const std::string& text) {
  if (fs::is_directory(path)) throw core::InputError(path.string(), "is a directory; --out names a JSON file");
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream os(tmp);
    os << text;
    if (!os.good()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw core::InputError(path.string(), "cannot write");
    }
  }
  fs::rename(tmp, path);
}

calib::CycleCount model_cycles(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  const tb::RunResult r = tb::run_attention(cfg, w, tb::StimulusOptions{}, nullptr);
  if (!r.ok()) {
    throw std::runtime_error(fmt::format("golden cycle model run failed at theta {}: {}", w.params.theta,
                                         r.timed_out ? "timed out" : r.functional_error));
  }
  calib::CycleCount c;
  c.total = r.cycles_total;
  for (const tb::QueryResult& q : r.queries) c.score_phase += static_cast<int64_t>(q.cycles);
  return c;
}

void cmd_calibrate(const CalibrateArgs& a) {
  calib::CalibOptions opts;
  opts.max_error = calib::parse_max_error(a.max_error);
  opts.holdout = a.holdout;
  opts.margin = a.margin;
  opts.z = a.z;
  opts.seed = a.seed;
  const core::AttentionConfig cfg = core::load_attention_config(a.config);
  calib::check_options(cfg, opts);  // before loading (possibly large) workloads
  std::vector<calib::NamedWorkload> ws;
  std::set<fs::path> seen;
  for (const std::string& dir : a.workloads) {
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(dir, ec);
    if (!ec && !seen.insert(canon).second) {
      throw core::InputError(dir, "workload directory given twice (its queries would count double)");
    }
    ws.push_back({dir, core::load_attention_workload(dir, cfg)});
  }
  if (a.cycles) {
    opts.cycles = [&cfg](const core::AttentionWorkload& w) { return model_cycles(cfg, w); };
  }
  const calib::CalibrationResult r = calib::calibrate(cfg, ws, opts);
  const nlohmann::json j = calib::thresholds_json(cfg, r, opts, gen::tool_version());
  write_file_atomically(a.out, j.dump(2) + "\n");
  std::cout << calib::summary(r, opts);
  std::cout << fmt::format("wrote {}\n", a.out);
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto a = std::make_shared<CalibrateArgs>();
  auto* c = app.add_subcommand(
      "calibrate", "learn one pruning threshold per (layer, head) slot from Q/K/V traces (docs/calibration.md)");
  c->add_option("--config", a->config, "config JSON")->required();
  c->add_option("--workload", a->workloads,
                "workload directory (repeat for more traces; params.json's slot names the threshold slot)")
      ->required();
  c->add_option("--max-error", a->max_error,
                "allowed relative L2 error of the attention output per slot, a number > 0 (e.g. 0.05)")
      ->required();
  c->add_option("--out", a->out, "thresholds JSON file to write")->required();
  c->add_option("--holdout", a->holdout, "fraction of each slot's queries held out from fitting")
      ->check(CLI::Range(0.0, 0.9));
  c->add_option("--margin", a->margin, "fit to margin * max-error on the fitting queries")
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--z", a->z,
                "standard errors of safety margin so the held-out part stays within max-error")
      ->check(CLI::Range(0.0, 10.0));
  c->add_option("--seed", a->seed, "seed of the fitting / held-out split");
  c->add_flag("!--no-cycles", a->cycles, "skip the golden cycle model runs (no cycle figures)");
  c->callback([a] { cmd_calibrate(*a); });
}

}  // namespace accelgen::cli
