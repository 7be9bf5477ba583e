// accelgen::cli — `accelgen calibrate`: learns one pruning threshold (absolute theta or relative delta) per
// (layer, head) slot from recorded Q/K/V traces (calib/calibrate.h) and writes the thresholds file with its
// report (docs/calibration.md). Cycle figures come from the golden cycle model (tb::run_attention) when it
// runs the workload's rule (causal mask, threshold mode); otherwise the report has the functional model's
// bit steps only.
#include "cli/calibrate_cmd.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <charconv>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calib/calibrate.h"
#include "core/atomic_dir.h"
#include "core/error.h"
#include "core/workload.h"
#include "gen/generator.h"
#include "golden/functional.h"
#include "tb/run.h"

namespace accelgen::cli {

namespace fs = std::filesystem;

namespace {

struct CalibrateArgs {
  std::string config, max_error, out, mode = "absolute", causal_offset;
  std::vector<std::string> workloads, holdout_dirs;
  std::optional<double> holdout;
  int holdout_workloads = 0;
  double margin = 1.0;
  double z = 2.0;
  uint64_t seed = 1;
  bool cycles = true;
  bool causal = false;
  bool cv_margin = false;
  std::string cv_rule;               // empty: not given (worst)
  std::optional<double> cv_level;
};

// --causal-offset: an integer (range checked by calib::check_options, naming the option).
int64_t parse_causal_offset(const std::string& text) {
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    throw core::InputError("--causal-offset", fmt::format("'{}' is not an integer; allowed an integer >= 0", text));
  }
  return v;
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  if (fs::is_directory(path)) throw core::InputError(path.string(), "is a directory; --out names a JSON file");
  core::write_file_atomically(path, text);
}

// Whether the cycle model's run implements the workload's rule: per query the kept count of the functional
// model (golden::score_all under w.params) and its bit steps (absolute: equal; relative: at least the ideal
// n*, at most wk per visible key). A cycle model that ignores a causal mask or a relative threshold fails
// this, and calibrate then reports no cycles for that rule instead of wrong ones.
bool run_implements_rule(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const tb::RunResult& r) {
  const golden::ScoreResults f = golden::score_all(w.q, w.k, cfg.wk, w.params, false);
  if (r.queries.size() != static_cast<size_t>(w.q.rows())) return false;
  const bool relative = w.params.mode == core::ThresholdMode::relative;
  for (Eigen::Index i = 0; i < w.q.rows(); ++i) {
    const tb::QueryResult& q = r.queries[static_cast<size_t>(i)];
    const auto kept = static_cast<uint64_t>(f.kept.row(i).count());
    const auto ideal = static_cast<uint64_t>(f.steps.row(i).cast<int64_t>().sum());
    const auto most = static_cast<uint64_t>(f.visible.row(i).count()) * static_cast<uint64_t>(cfg.wk);
    if (q.count != kept) return false;
    if (relative ? (q.steps < ideal || q.steps > most) : q.steps != ideal) return false;
  }
  return true;
}

// Cycles of one workload on the golden cycle model. A rule (threshold mode, causal or not) the model turns
// out not to implement is remembered and not run again.
class ModelCycles {
 public:
  explicit ModelCycles(const core::AttentionConfig& cfg) : cfg_(cfg) {}
  std::optional<calib::CycleCount> operator()(const core::AttentionWorkload& w) {
    const std::pair<bool, bool> rule{w.params.mode == core::ThresholdMode::relative, w.params.causal};
    if (unsupported_.contains(rule)) return std::nullopt;
    const tb::RunResult r = tb::run_attention(cfg_, w, tb::StimulusOptions{}, nullptr);
    if (!r.ok()) {
      throw std::runtime_error(fmt::format("golden cycle model run failed ({} {}{}): {}",
                                           core::to_string(w.params.mode),
                                           w.params.mode == core::ThresholdMode::relative ? w.params.delta
                                                                                          : w.params.theta,
                                           w.params.causal ? ", causal" : "",
                                           r.timed_out ? "timed out" : r.functional_error));
    }
    if (!run_implements_rule(cfg_, w, r)) {
      unsupported_.insert(rule);
      return std::nullopt;
    }
    calib::CycleCount c;
    c.total = r.cycles_total;
    for (const tb::QueryResult& q : r.queries) {
      c.score_phase += static_cast<int64_t>(q.cycles);
      c.bit_steps += static_cast<int64_t>(q.steps);
    }
    return c;
  }

 private:
  core::AttentionConfig cfg_;
  std::set<std::pair<bool, bool>> unsupported_;
};

void cmd_calibrate(const CalibrateArgs& a) {
  calib::CalibOptions opts;
  opts.max_error = calib::parse_max_error(a.max_error);
  opts.mode = calib::parse_mode(a.mode);
  opts.holdout = a.holdout;  // unset: 0.25, or 0 when whole workloads are held out
  opts.holdout_workloads = a.holdout_workloads;
  opts.margin = a.margin;
  opts.z = a.z;
  opts.seed = a.seed;
  // --cv-rule and --cv-level only mean something with --cv-margin, so they imply it (as --causal-offset implies
  // --causal).
  opts.cv_margin = a.cv_margin || !a.cv_rule.empty() || a.cv_level.has_value();
  if (!a.cv_rule.empty()) opts.cv_rule = calib::parse_cv_rule(a.cv_rule);
  if (a.cv_level) opts.cv_level = *a.cv_level;
  opts.causal = a.causal || !a.causal_offset.empty();  // --causal-offset implies --causal
  if (!a.causal_offset.empty()) opts.causal_offset = parse_causal_offset(a.causal_offset);
  const core::AttentionConfig cfg = core::load_attention_config(a.config);
  calib::check_options(cfg, opts);  // before loading (possibly large) workloads
  if (opts.holdout_workloads > 0 && !a.holdout_dirs.empty()) {
    throw core::InputError("--holdout-workloads", "given together with --holdout-dir; hold workloads out either by "
                                                  "count or by name");
  }
  std::vector<calib::NamedWorkload> ws;
  std::set<fs::path> seen;
  auto load = [&](const std::string& dir, bool held_out) {
    std::error_code ec;
    const fs::path canon = fs::weakly_canonical(dir, ec);
    if (!ec && !seen.insert(canon).second) {
      throw core::InputError(dir, "workload directory given twice (its queries would count double; a --holdout-dir "
                                  "is not also given as --workload)");
    }
    ws.push_back({dir, core::load_attention_workload(dir, cfg), held_out});
  };
  for (const std::string& dir : a.workloads) load(dir, false);
  for (const std::string& dir : a.holdout_dirs) load(dir, true);
  if (a.cycles) opts.cycles = ModelCycles(cfg);
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
  c->add_option("--mode", a->mode,
                "threshold mode to learn: absolute (theta), relative (delta below each query's maximum score; needs "
                "threshold_modes [absolute, relative]) or auto (per slot the mode keeping fewer scores, among the "
                "modes the hardware has); default absolute");
  c->add_flag("--causal", a->causal,
              "causal masking for workloads whose params.json does not say causal: key j visible to query i iff "
              "j <= i + offset");
  c->add_option("--causal-offset", a->causal_offset, "causal offset >= 0 (default Lk - Lq of each workload); "
                                                     "implies --causal");
  c->add_option("--holdout", a->holdout,
                "fraction of each slot's queries held out from fitting (default 0.25, or 0 when whole workloads "
                "are held out)")
      ->check(CLI::Range(0.0, 0.9));
  c->add_option("--holdout-workloads", a->holdout_workloads,
                "hold out this many whole workload directories per slot, chosen by --seed");
  c->add_option("--holdout-dir", a->holdout_dirs,
                "a workload directory held out from fitting as a whole (repeat for more; not also --workload)");
  c->add_option("--margin", a->margin, "fit to margin * max-error on the fitting queries")
      ->check(CLI::Range(0.01, 1.0));
  c->add_option("--z", a->z,
                "standard errors of safety margin so the held-out part stays within max-error")
      ->check(CLI::Range(0.0, 10.0));
  c->add_flag("--cv-margin", a->cv_margin,
              "choose the margin per slot by leave-one-workload-out over the fitting workloads (the largest of "
              "margin, margin - 0.05, ..., 0.30 that --cv-rule accepts: by default every left-out workload within "
              "max-error)");
  c->add_option("--cv-rule", a->cv_rule,
                "how --cv-margin judges the left-out errors: worst (every one within max-error; default) or predict "
                "(one-sided Student-t prediction bound for a new workload, mean + t * sd * sqrt(1 + 1/n), within "
                "max-error); implies --cv-margin");
  c->add_option("--cv-level", a->cv_level,
                "level of the --cv-rule predict bound, [0.5, 0.999] (default 0.95); implies --cv-margin");
  c->add_option("--seed", a->seed, "seed of the fitting / held-out split");
  c->add_flag("!--no-cycles", a->cycles, "skip the golden cycle model runs (no cycle figures)");
  c->callback([a] { cmd_calibrate(*a); });
}

}  // namespace accelgen::cli
