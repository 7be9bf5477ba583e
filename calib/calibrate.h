// accelgen::calib — learned runtime-pruning thresholds (issue 6, docs/calibration.md).
//
// Owns: the attention-output error metric, the soft (sigmoid-masked) relaxation of threshold pruning and
// its analytic gradient, the per-slot threshold search (annealed gradient descent over a fixed lambda
// path, then rounding to the hard integer threshold), the percentile baseline, the calibration report and
// the thresholds file (writing it, and apply_thresholds() reading it back into a workload).
//
// The error metric (docs/calibration.md "Error metric"): float64 softmax attention over the kept set,
// O_i = sum_{j kept} p_ij V_j with p_ij = exp(sigma * s_ij) / sum_{k kept} exp(sigma * s_ik), sigma the
// workload's softmax_scale, s_ij the exact integer scores; a row with every key pruned outputs zeros. The
// error of a set of queries is ||O_pruned - O_full||_F / ||O_full||_F, O_full = every key kept. If
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
  // Adds the queries `rows` of w.q (none when empty), scored against all of w's keys; add_all: every row.
  void add(const core::AttentionWorkload& w, const std::vector<Eigen::Index>& rows);
  void add_all(const core::AttentionWorkload& w);

  Eigen::Index queries() const { return queries_; }
  Eigen::Index scores() const { return scores_; }  // (query, key) pairs
  double full_norm2() const { return full_norm2_; }  // ||O_full||_F^2
  std::vector<int64_t> all_scores() const;          // every s_ij, unsorted

  // One workload's share: its rows of Q, already scored.
  struct Block {
    Eigen::MatrixXd s;       // [n, Lk] exact integer scores (exactly representable: |s| < 2^53)
    Eigen::MatrixXd v;       // [Lk, dv]
    Eigen::MatrixXd o_full;  // [n, dv] unpruned attention output
    double sigma = 1.0;
  };
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  std::vector<Block> blocks_;
  Eigen::Index queries_ = 0, scores_ = 0;
  double full_norm2_ = 0.0;
};

// Hard-threshold evaluation: keys with s_ij >= theta kept.
struct HardEval {
  double error = 0.0;       // relative L2 error (see the header comment), may be +infinity
  double diff_norm2 = 0.0;  // ||O_pruned - O_full||_F^2
  // Spread of the per-query terms of error^2: Var_i(d_i - error^2 * f_i) / mean_i(f_i)^2, with d_i, f_i the
  // query's squared difference and squared reference norm; error^2 measured on n fresh queries has a
  // standard deviation of about sqrt(query_var / n) (linearized ratio estimator).
  double query_var = 0.0;
  Eigen::Index queries = 0;
  int64_t kept = 0;
  int64_t scores = 0;
  int empty_rows = 0;
  double kept_fraction() const { return scores ? static_cast<double>(kept) / static_cast<double>(scores) : 0.0; }
};
HardEval hard_eval(const QuerySet& set, int64_t theta);

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

// Soft evaluation: mask m_ij = sigmoid((s_ij - theta) / temperature) multiplies exp(sigma * s_ij).
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

struct PercentileResult {
  int64_t theta = 0;
  int percentile = 0;  // theta = this percentile of the fitting scores (0: the minimum score)
  HardEval fit;
};
// Training-free baseline: theta = the p-th percentile of the fitting set's scores (the element of rank
// floor(p/100 * n) in ascending order, as `accelgen workload` does), p = 0, 1, ..., 99, the largest p that
// `acc` accepts (p = 0: no pruning, theta left to the caller).
PercentileResult percentile_threshold(const QuerySet& fit, const Acceptance& acc);

// ---------------------------------------------------------------------------------- calibration

struct NamedWorkload {
  std::string dir;  // as given by the user (report provenance)
  core::AttentionWorkload w;
};

struct CycleCount {
  int64_t total = 0;
  int64_t score_phase = 0;
};

struct CalibOptions {
  double max_error = 0.0;  // E: relative L2 error allowed on each slot's attention output
  double holdout = 0.25;   // fraction of each slot's queries held out from fitting, [0, 0.9]
  double margin = 1.0;     // thresholds are fitted to margin * E on the fitting part, (0, 1]
  double z = 2.0;          // standard errors of margin for the held-out sample (Acceptance), [0, 10]
  uint64_t seed = 1;       // fitting / held-out split
  LearnOptions learn;
  // Cycles of one workload on the golden cycle model with its params.theta; empty: no cycle figures.
  std::function<CycleCount(const core::AttentionWorkload&)> cycles;
};

struct MethodReport {
  int64_t theta = 0;
  HardEval fit, held_out, all;  // error and kept over each part; `all` = every query of the slot
  int64_t bit_steps = 0;        // sum n_ij over every query of the slot's workloads (exact rule)
  int64_t dense_bit_steps = 0;  // sum of Lq * Lk * wk
  std::optional<CycleCount> cycles;
};

struct SlotReport {
  int slot = 0;
  std::vector<std::string> workloads;
  Eigen::Index fit_queries = 0, held_out_queries = 0;
  MethodReport none, percentile, learned;
  int percentile_p = 0;
  LearnResult learn;
};

struct CalibrationResult {
  std::vector<SlotReport> slots;  // ascending slot
};

// Throws core::InputError when the config cannot be calibrated (the dense baseline never prunes) or an
// option is out of range (max_error, holdout, margin, z). calibrate() calls it first.
void check_options(const core::AttentionConfig& cfg, const CalibOptions& opts);

// Validates the options and the workloads (slot range, at least one query, at least 2 queries per slot
// when holding out) and learns one threshold per slot used by a workload. Throws core::InputError.
CalibrationResult calibrate(const core::AttentionConfig& cfg, const std::vector<NamedWorkload>& workloads,
                            const CalibOptions& opts);

// Parses --max-error: a finite number > 0, nothing else on the line. Throws InputError("--max-error").
double parse_max_error(const std::string& text);

// The thresholds file: {"tool", "tool_version", "config_hash", "max_error", "thresholds": [{"slot",
// "theta"}...], "report": {...}} (docs/calibration.md).
nlohmann::json thresholds_json(const core::AttentionConfig& cfg, const CalibrationResult& r,
                               const CalibOptions& opts, const std::string& tool_version);

// A few lines for the terminal.
std::string summary(const CalibrationResult& r, const CalibOptions& opts);

// Reads a thresholds file: slot -> theta. InputError (naming the file and field) when it is not valid
// JSON, malformed, made for another config (config_hash), or a theta does not fit the TW-bit register.
std::vector<std::pair<int, int64_t>> read_thresholds(const std::string& path, const core::AttentionConfig& cfg);

// Replaces w.params.theta by the file's theta for w.params.slot; InputError when the file is malformed,
// its config_hash differs from cfg's, or it has no threshold for the workload's slot.
void apply_thresholds(const std::string& thresholds_json_path, const core::AttentionConfig& cfg,
                      core::AttentionWorkload& w);

}  // namespace accelgen::calib
