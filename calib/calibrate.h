// accelgen::calib — learned runtime-pruning thresholds (issues 6 and 10, docs/calibration.md).
//
// Owns: the attention-output error metric (over the visible keys of causal workloads), the soft
// (sigmoid-masked) relaxation of absolute threshold pruning and its analytic gradient, the per-slot threshold
// search (absolute theta: annealed gradient descent over a fixed lambda path, then rounding to the hard
// integer threshold; relative delta: bisection over the score gaps), the choice between the modes, the
// percentile baseline, the fitting / held-out split (queries and whole workloads), the calibration report and
// the thresholds file (writing it, and apply_thresholds() reading it back into a workload).
//
// The error metric (docs/calibration.md "Error metric"): float64 softmax attention over the kept set,
// O_i = sum_{j kept} p_ij V_j with p_ij = exp(sigma * s_ij) / sum_{k kept} exp(sigma * s_ik), sigma the
// workload's softmax_scale, s_ij the exact integer scores; a row with every key pruned outputs zeros. Keys a
// causal mask hides from query i take no part anywhere (neither kept nor pruned, not in O_full, not counted).
// The error of a set of queries is ||O_pruned - O_full||_F / ||O_full||_F, O_full = every visible key kept. If
// ||O_full||_F = 0 the error is 0 when the pruned output is all zeros too, otherwise +infinity.
//
// May include: core/, golden/ (functional model for bit steps), Eigen, nlohmann-json. Cycle counts come
// from the caller (CalibOptions::cycles) because the cycle loop lives in tb/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/workload.h"

namespace accelgen::calib {

// ------------------------------------------------------------------------------------ query sets

// A set of queries of one slot (possibly from several workloads) with everything the error metric needs.
class QuerySet {
 public:
  // Adds the queries `rows` of w.q (none when empty), scored against w's keys visible to them (every key,
  // or keys 0 .. visible_keys - 1 under w.params' causal mask); add_all: every row.
  void add(const core::AttentionWorkload& w, const std::vector<Eigen::Index>& rows);
  void add_all(const core::AttentionWorkload& w);

  Eigen::Index queries() const { return queries_; }
  Eigen::Index scores() const { return scores_; }  // visible (query, key) pairs
  double full_norm2() const { return full_norm2_; }  // ||O_full||_F^2
  std::vector<int64_t> all_scores() const;          // every visible s_ij, unsorted
  std::vector<int64_t> all_gaps() const;            // every visible M_i - s_ij (>= 0), unsorted

  // One workload's share: its rows of Q, already scored.
  struct Block {
    Eigen::MatrixXd s;       // [n, Lk] exact integer scores (exactly representable: |s| < 2^53); only the
                             // first visible(r) entries of row r take part
    Eigen::VectorXi visible; // [n] keys visible to each row (a causal mask hides a suffix of the keys)
    Eigen::VectorXd row_max; // [n] M_i: the largest visible score of each row
    Eigen::MatrixXd v;       // [Lk, dv]
    Eigen::MatrixXd o_full;  // [n, dv] unpruned attention output over the visible keys
    double sigma = 1.0;
  };
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
  Eigen::Index queries_ = 0, scores_ = 0;
  double full_norm2_ = 0.0;
};

// One slot's threshold register: absolute (kept iff s_ij >= theta) or relative (kept iff s_ij >= M_i - delta,
// M_i the largest visible score of query i).
struct Threshold {
  core::ThresholdMode mode = core::ThresholdMode::absolute;
  int64_t value = 0;  // theta (absolute) or delta >= 0 (relative)
  static Threshold absolute(int64_t theta) { return {core::ThresholdMode::absolute, theta}; }
  static Threshold relative(int64_t delta) { return {core::ThresholdMode::relative, delta}; }
  bool operator==(const Threshold&) const = default;
};

// Hard-threshold evaluation over the visible keys.
struct HardEval {
  double error = 0.0;       // relative L2 error (see the header comment), may be +infinity
  double diff_norm2 = 0.0;  // ||O_pruned - O_full||_F^2
  // Spread of the per-query terms of error^2: Var_i(d_i - error^2 * f_i) / mean_i(f_i)^2, with d_i, f_i the
  // query's squared difference and squared reference norm; error^2 measured on n fresh queries has a
  // standard deviation of about sqrt(query_var / n) (linearized ratio estimator).
  double query_var = 0.0;
  Eigen::Index queries = 0;
  int64_t kept = 0;
  int64_t scores = 0;  // visible (query, key) pairs
  int empty_rows = 0;
  double kept_fraction() const { return scores ? static_cast<double>(kept) / static_cast<double>(scores) : 0.0; }
};
HardEval hard_eval(const QuerySet& set, const Threshold& t);
inline HardEval hard_eval(const QuerySet& set, int64_t theta) { return hard_eval(set, Threshold::absolute(theta)); }

// When a threshold counts as within the error bound on the fitting queries:
//   error^2 + z * sqrt(query_var * (1/n_fit + 1/n_new)) <= target^2,
// i.e. a fresh sample of n_new queries (the held-out part) is expected to stay within target with a
// one-sided normal margin of z standard errors of the difference. z = 0: plain error <= target.
struct Acceptance {
  double target = 0.0;
  double z = 0.0;
  Eigen::Index n_new = 0;  // 0: no margin for a fresh sample
  bool accepts(const HardEval& h) const;
};

// Relative error from the two squared norms, with the degenerate rule of the header comment.
double relative_error(double diff_norm2, double full_norm2);

// Soft evaluation (absolute mode): mask m_ij = sigmoid((s_ij - theta) / temperature) multiplies
// exp(sigma * s_ij) for every visible key (masked keys have m = 0 and are not counted in `kept`).
// objective = error2 + lambda * kept, with error2 = ||O_soft - O_full||_F^2 / ||O_full||_F^2 (denominator
// 1 when ||O_full||_F = 0) and kept = mean m_ij; gradient = d objective / d theta (analytic).
struct SoftEval {
  double error2 = 0.0;
  double kept = 0.0;
  double objective = 0.0;
  double gradient = 0.0;
};
SoftEval soft_eval(const QuerySet& set, double theta, double temperature, double lambda);

// ------------------------------------------------------------------------------ threshold search

struct LearnOptions {
  int lambda_points = 96;         // lambda path: log-spaced in [lambda_min, lambda_max]
  double lambda_min = 1e-4;
  double lambda_max = 3.0;
  int steps = 100;                // gradient steps per lambda (Adam), temperature annealed geometrically
  double t_start = 0.5;           // temperature at the first step, in units of the score std
  double t_end = 0.002;           // ... at the last step
  double learning_rate = 0.2;     // Adam step, in units of the score std (decays to 1/100 of it)
  int max_bracket_levels = 512;   // score levels tried when rounding to the hard threshold
};

struct LearnResult {
  int64_t theta = 0;              // final hard threshold
  int64_t theta_relaxed = 0;      // the selected candidate of the lambda path (annealed, rounded up)
  double lambda = 0.0;            // its lambda (0: no candidate accepted, theta_relaxed = theta_floor)
  int refine_steps = 0;           // distinct fitting score levels in (theta_relaxed, theta]
  HardEval fit;                   // hard evaluation of `theta` on the fitting set
};

// One point of the lambda path: the annealed threshold (continuous, in score units) for `lambda`: Adam on
// (theta - mean) / sd of the fitting scores from 0, temperature and step annealed geometrically.
// An empty set gives 0.
double anneal_threshold(const QuerySet& fit, double lambda, const LearnOptions& o);

// Learns the threshold of one slot. The lambda path gives candidate thresholds that do not depend on `acc`;
// theta_relaxed is the largest candidate `acc` accepts on `fit`, and the next candidate above it (or the
// largest score + 1) bounds a bracket. The result is the largest fitting score level inside the bracket
// that `acc` accepts (or theta_relaxed). So a larger target never gives a smaller theta.
// `theta_floor`: a threshold that prunes nothing (the fallback when no candidate is within target).
LearnResult learn_threshold(const QuerySet& fit, const Acceptance& acc, int64_t theta_floor,
                            const LearnOptions& o = {});

// The same in two parts, so that several acceptance rules can share one (costly) lambda path: the path's
// candidate thresholds (descending, with their lambdas) and the score above every fitting score, then the
// selection and rounding for one rule. learn_threshold(f, acc, fl, o) = select_threshold(f, lambda_path(f, fl, o),
// acc, fl, o).
struct LambdaPath {
  std::vector<std::pair<int64_t, double>> candidates;
  int64_t ceiling = 0;
};
LambdaPath lambda_path(const QuerySet& fit, int64_t theta_floor, const LearnOptions& o = {});
LearnResult select_threshold(const QuerySet& fit, const LambdaPath& path, const Acceptance& acc, int64_t theta_floor,
                             const LearnOptions& o = {});

// Relative mode: the smallest delta in [0, delta_max] that `acc` accepts on `fit`, by bisection over the
// distinct gaps M_i - s_ij of the fitting scores (between two gaps the kept set does not change), assuming
// acceptance is monotone in delta (more keys kept: smaller error). The top of the search is the largest gap
// (every visible key kept: error 0) or delta_max if smaller; when that is rejected too, delta = the top and
// `met` is false. An empty set gives delta 0.
struct DeltaResult {
  int64_t delta = 0;
  bool met = true;       // the result is accepted on `fit`
  int levels = 0;        // distinct gap levels searched over
  int evaluations = 0;   // hard evaluations the bisection made
  HardEval fit;          // hard evaluation of `delta` on the fitting set
};
DeltaResult learn_delta(const QuerySet& fit, const Acceptance& acc, int64_t delta_max);

struct PercentileResult {
  int64_t theta = 0;
  int percentile = 0;  // theta = this percentile of the fitting scores (0: the minimum score)
  HardEval fit;
};
// Training-free baseline: theta = the p-th percentile of the fitting set's scores (the element of rank
// floor(p/100 * n) in ascending order, as `accelgen workload` does), p = 0, 1, ..., 99, the largest p that
// `acc` accepts (p = 0: no pruning, theta left to the caller).
PercentileResult percentile_threshold(const QuerySet& fit, const Acceptance& acc);

// ------------------------------------------------------------------------ cross-validation rule

// How --cv-margin judges the left-out errors e_1..e_n of a margin (docs/calibration.md "Cross-validated margin"):
//   worst:   max_k e_k <= E (a new workload still exceeds the worst of n with probability about 1/(n + 1));
//   predict: the one-sided upper prediction bound for the error of one NEW workload,
//            mean(e) + t_{n-1, level} * s * sqrt(1 + 1/n) <= E, s the sample standard deviation (n - 1 in the
//            denominator), t_{n-1, level} the level quantile of Student's t with n - 1 degrees of freedom;
//            it holds with probability `level` if the fold errors and the new one are i.i.d. normal.
enum class CvRule { worst, predict };
const char* to_string(CvRule r);
// Parses --cv-rule: "worst" or "predict". Throws InputError("--cv-rule").
CvRule parse_cv_rule(const std::string& text);

// The q quantile of Student's t with df >= 1 (integer) degrees of freedom, q in (0, 1): exact closed-form CDF for
// integer df (Abramowitz & Stegun 26.7.3-4) inverted by bisection, to about 1e-12 relative.
double student_t_quantile(int df, double q);

// The rule's statistic over the fold errors (n >= 1; +infinity when an error is): worst: the largest error;
// predict: the prediction bound above (n >= 2; with n = 1 it is +infinity: one fold gives no spread).
double cv_bound(const std::vector<double>& fold_errors, CvRule rule, double level);
// Whether the fold errors accept a margin: cv_bound(...) <= max_error.
bool cv_accepts(const std::vector<double>& fold_errors, double max_error, CvRule rule, double level);

// ---------------------------------------------------------------------------------- calibration

struct NamedWorkload {
  std::string dir;  // as given by the user (report provenance)
  core::AttentionWorkload w;
  bool held_out = false;  // held out from fitting as a whole (`--holdout-dir`)
};

struct CycleCount {
  int64_t total = 0;
  int64_t score_phase = 0;
  int64_t bit_steps = 0;  // realized bit steps of the run (relative mode: >= the ideal n*)
};

// Which threshold mode(s) calibration fits (`--mode`).
enum class ModeChoice { absolute, relative, automatic };
const char* to_string(ModeChoice m);
// Parses --mode: "absolute", "relative" or "auto". Throws InputError("--mode").
ModeChoice parse_mode(const std::string& text);

struct CalibOptions {
  double max_error = 0.0;  // E: relative L2 error allowed on each slot's attention output
  // Fraction of each slot's queries (of the workloads not held out whole) held out from fitting, [0, 0.9].
  // Unset: 0.25, or 0 when whole workloads are held out (holdout_workloads > 0 or a held_out workload).
  std::optional<double> holdout;
  int holdout_workloads = 0;  // whole workloads held out per slot, chosen by the seeded shuffle; [0, n - 1]
  double margin = 1.0;     // thresholds are fitted to margin * E on the fitting part, (0, 1]
  double z = 2.0;          // standard errors of margin for the held-out sample (Acceptance), [0, 10]
  uint64_t seed = 1;       // fitting / held-out split
  // Absolute (theta), relative (delta; needs config.relative_thresholds) or auto: per slot the mode that
  // keeps fewer fitting scores at the bound, among the modes the config's hardware has.
  ModeChoice mode = ModeChoice::absolute;
  // Causal masking for every workload whose params.json does not already say causal (those keep their own
  // offset): key j visible to query i iff j <= i + offset; offset unset: Lk - Lq of each workload.
  bool causal = false;
  std::optional<int64_t> causal_offset;
  // --cv-margin: choose the margin per slot and mode by leave-one-workload-out over the slot's fitting workloads
  // (at least 2): the largest of margin_grid(margin) at which cv_rule accepts the left-out workloads' errors.
  bool cv_margin = false;
  // --cv-rule / --cv-level: how the left-out errors accept a margin (CvRule above); level in [0.5, 0.999].
  CvRule cv_rule = CvRule::worst;
  double cv_level = 0.95;
  LearnOptions learn;
  // Cycles (and realized bit steps) of one workload on the golden cycle model under its params (mode,
  // theta or delta, causal mask); std::nullopt when the cycle model cannot run that rule. Empty: no cycle
  // figures at all.
  std::function<std::optional<CycleCount>(const core::AttentionWorkload&)> cycles;
};

// The fitting options after defaults: the query holdout actually used.
double effective_holdout(const CalibOptions& opts, bool workloads_held_out);

struct MethodReport {
  Threshold threshold;          // mode and theta or delta
  double margin = 1.0;          // learned thresholds: fitted to margin * E (--margin, or the --cv-margin choice)
  HardEval fit, held_out, all;  // error and kept over each part; held_out = every query not fitted (held-out
                                // queries and held-out workloads pooled); all = every query of the slot
  struct HeldOutWorkload {
    HardEval eval;
    int64_t bit_steps = 0;        // as bit_steps below, over this workload
    int64_t dense_bit_steps = 0;
  };
  std::vector<HeldOutWorkload> held_out_workloads;  // one per SlotReport::held_out_workloads, same order
  int64_t bit_steps = 0;        // sum n_ij over every query of the slot's workloads (golden::score_all):
                                // exact in absolute mode, the ideal n* (against the final M_i - delta) in
                                // relative mode
  bool bit_steps_ideal = false; // bit_steps are the ideal n* (relative mode), not what the unit realizes
  int64_t dense_bit_steps = 0;  // visible (query, key) pairs * wk
  int64_t masked = 0;           // (query, key) pairs hidden by the causal mask
  std::optional<CycleCount> cycles;  // summed over the slot's workloads; unset when unavailable
  bool cycles_unavailable = false;   // the callback could not run this rule (cycles unset)
};

// --cv-margin for one mode of one slot.
struct CvMargin {
  core::ThresholdMode mode = core::ThresholdMode::absolute;
  double margin = 1.0;                 // the chosen margin
  CvRule rule = CvRule::worst;
  double level = 0.95;                 // predict: the prediction level
  bool met = true;                     // the rule accepts `margin` (false: no grid margin was accepted)
  double bound = 0.0;                  // cv_bound of the fold errors at `margin` (worst: the largest error)
  int margins_tried = 0;
  std::vector<std::string> folds;      // the left-out workload of each fold
  std::vector<double> fold_errors;     // its error at `margin`
};

// The margins --cv-margin tries, largest first: top, top - 0.05, ... down to 0.30 (just `top` if below 0.30).
std::vector<double> margin_grid(double top);

struct SlotReport {
  int slot = 0;
  std::vector<std::string> workloads;           // every workload of the slot, as given
  std::vector<std::string> held_out_workloads;  // those held out whole, in the given order
  std::vector<Eigen::Index> held_out_workload_queries;
  Eigen::Index fit_queries = 0, held_out_queries = 0;  // held_out: every query not fitted
  std::vector<core::ThresholdMode> modes_considered;
  MethodReport none, percentile, learned;
  std::optional<MethodReport> other;  // auto with both modes: the learned threshold of the mode not chosen
  int percentile_p = 0;
  std::optional<LearnResult> learn;        // absolute search, when absolute was considered
  std::optional<DeltaResult> delta_search; // relative search, when relative was considered
  std::vector<CvMargin> cv;                // --cv-margin: one per mode considered
};

struct CalibrationResult {
  std::vector<SlotReport> slots;  // ascending slot
  double holdout = 0.0;           // the per-query holdout used
};

// Throws core::InputError when the config cannot be calibrated (the dense baseline never prunes; a relative
// --mode without relative thresholds in the hardware) or an option is out of range (max_error, holdout,
// holdout_workloads, margin, z, causal_offset, cv_level). calibrate() calls it first.
void check_options(const core::AttentionConfig& cfg, const CalibOptions& opts);

// The modes calibration considers for cfg: absolute, relative, or (auto) both when the hardware has relative
// thresholds and absolute only otherwise.
std::vector<core::ThresholdMode> modes_considered(const core::AttentionConfig& cfg, ModeChoice m);

// Validates the options and the workloads (slot range, at least one query, causal offsets, at least 2 queries
// per slot when holding queries out, at most n - 1 of a slot's n workloads held out) and learns one threshold
// per slot used by a workload. Throws core::InputError.
CalibrationResult calibrate(const core::AttentionConfig& cfg, const std::vector<NamedWorkload>& workloads,
                            const CalibOptions& opts);

// Which of n workloads (indices into the slot's workloads in the given order) `--holdout-workloads k` holds
// out for `slot` with `seed`: a Fisher-Yates shuffle of 0..n-1 (std::mt19937_64 seeded with
// seed * 0xD1B54A32D192ED03 + slot, swap i - 1 with rng() % i for i = n .. 2), the first k, sorted.
std::vector<size_t> held_out_workload_indices(size_t n, int k, uint64_t seed, int slot);

// Parses --max-error: a finite number > 0, nothing else on the line. Throws InputError("--max-error").
double parse_max_error(const std::string& text);

// The thresholds file: {"tool", "tool_version", "config_hash", "max_error", "thresholds": [{"slot", "mode",
// "theta" | "delta"}...], "report": {...}} (docs/calibration.md).
nlohmann::json thresholds_json(const core::AttentionConfig& cfg, const CalibrationResult& r,
                               const CalibOptions& opts, const std::string& tool_version);

// A few lines for the terminal.
std::string summary(const CalibrationResult& r, const CalibOptions& opts);

struct SlotThreshold {
  int slot = 0;
  Threshold threshold;
};

// Reads a thresholds file. InputError (naming the file and field) when it is not valid JSON, malformed, made
// for another config (config_hash), names a mode the config's hardware lacks (relative without
// threshold_modes [absolute, relative]), or a theta / delta does not fit the TW-bit register (theta in
// [-2^(TW-1), 2^(TW-1) - 1], delta in [0, 2^(TW-1) - 1]). An entry without "mode" is absolute (older files).
std::vector<SlotThreshold> read_thresholds(const std::string& path, const core::AttentionConfig& cfg);
// The same checks on a parsed file; `path` names it in the messages.
std::vector<SlotThreshold> parse_thresholds(const nlohmann::json& j, const std::string& path,
                                            const core::AttentionConfig& cfg);

// Sets w.params' mode and theta or delta to the file's entry for w.params.slot (the causal mask stays the
// workload's own); InputError when the file is rejected by read_thresholds or has no entry for the slot.
void apply_thresholds(const std::string& thresholds_json_path, const core::AttentionConfig& cfg,
                      core::AttentionWorkload& w);

}  // namespace accelgen::calib
