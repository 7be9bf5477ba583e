// The regression's case lists and per-run checks (tests/regression_cases.h). The case lists were
// the bodies of the regression suites' tests; they moved here unchanged so that the coverage and
// mutation benches run the same stimulus.
#include "tests/regression_cases.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/npy.h"
#include "flows/subprocess.h"
#include "golden/nm_model.h"
#include "tb/nm_report.h"
#include "tb/nm_run.h"
#include "tb/report.h"
#include "tb/run.h"
#include "tests/test_support.h"

namespace accelgen::regression {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) { return test_support::read_bytes(p); }

// Workload whose queries are all e_0 (element 0 = 1, the rest 0), so that s_ij = K[j][0]: the
// scores are chosen key by key. Key 0 gets the largest value wk allows, every other key at most
// `gap` below it.
core::AttentionWorkload chosen_scores(const core::AttentionWorkload& base, int wk, int gap) {
  core::AttentionWorkload w = base;
  w.q.setZero();
  w.q.col(0).setOnes();
  w.k.setZero();
  const int64_t top = core::signed_max(wk);
  for (Eigen::Index j = 0; j < w.k.rows(); ++j) {
    // Spread the others over [signed_min, top - gap], deterministically.
    const int64_t span = top - gap - core::signed_min(wk) + 1;
    w.k(j, 0) = j == 0 ? top : core::signed_min(wk) + (j * 7) % span;
  }
  return w;
}

core::AttentionWorkload with_theta(core::AttentionWorkload w, int64_t theta) {
  w.params.theta = theta;
  return w;
}

// The smallest exponential the back-end keeps, at an exact rounding boundary. n = 2^(F_o+1) keys at
// the top score with V = +1 (even columns) or -1 (odd columns) in key 0 and 0 elsewhere, plus one
// key whose exponent x = alpha * (m - s) is EF exactly, the largest x whose exponential is not
// flushed to 0 (e = 2^-EF, one LSB), with V = 0: Z = n + 2^-EF and O = +-2^F_o / (n + 2^-EF) LSB,
// just below 1/2, so it rounds to 0. An underflow limit at x >= EF, a Z one LSB short, a numerator
// with its rounding bits set, or an x a fraction of an LSB too large would give exactly 1/2, i.e.
// +-1 (mutants of the exponential and the divider; docs/verification.md "Mutants"). Two ways to
// reach x = EF: alpha = 1 (sigma = ln 2) and a score gap of EF, or alpha = EF (sigma = EF ln 2, a
// large scale, so the scale shift is small) and a gap of 1. Needs n + 1 keys, the gap and an alpha
// the register holds exactly.
void add_underflow_boundary_cases(const core::AttentionConfig& cfg, std::vector<AttnCase>& cases,
                                  const core::AttentionWorkload& base, const tb::StimulusOptions& stim) {
  const int ef = core::widths(cfg).ef;
  const int64_t n = int64_t{1} << (cfg.out_frac_bits + 1);
  const int64_t top = core::signed_max(cfg.wk);
  struct Variant { const char* label; double alpha; int64_t gap; };
  for (const Variant& v : {Variant{"exp_underflow_boundary", 1.0, ef}, Variant{"exp_underflow_boundary_alpha", 1.0 * ef, 1}}) {
    const double sigma = v.alpha * std::log(2.0);
    if (cfg.max_keys < n + 1 || top - v.gap < core::signed_min(cfg.wk) ||
        core::quantize_alpha(sigma, cfg).value != v.alpha) {
      continue;
    }
    core::AttentionWorkload w = base;
    w.q = core::IntMatrix::Zero(2, cfg.d);
    w.q.col(0).setOnes();  // s_j = K[j][0]
    w.k = core::IntMatrix::Zero(n + 1, cfg.d);
    w.k.col(0).setConstant(top);
    w.k(n, 0) = top - v.gap;
    w.v = core::IntMatrix::Zero(n + 1, cfg.dv);
    for (Eigen::Index c = 0; c < w.v.cols(); ++c) w.v(0, c) = c % 2 == 0 ? 1 : -1;
    w.params.theta = core::signed_min(core::widths(cfg).tw);  // every key kept
    w.params.softmax_scale = sigma;
    cases.push_back({v.label, w, stim, [](const core::IntMatrix& o) { EXPECT_TRUE((o.array() == 0).all()) << o; }});
  }
}

// Directed cases of the softmax/xV back-end (issue 3), each with an output derived by hand.
void add_softmax_cases(const core::AttentionConfig& cfg_, std::vector<AttnCase>& cases,
                       const core::AttentionWorkload& base, const tb::StimulusOptions& plain,
                       const tb::StimulusOptions& rough) {
  const int fo = cfg_.out_frac_bits;
  const int64_t one = int64_t{1} << fo;
  // Row i of O must be V[j] * 2^F_o exactly.
  auto equals_v_row = [one](const core::IntMatrix& v, Eigen::Index j) {
    return [v, j, one](const core::IntMatrix& o) {
      for (Eigen::Index i = 0; i < o.rows(); ++i) {
        EXPECT_EQ(o.row(i), (v.row(j) * one).eval()) << "query " << i;
      }
    };
  };
  const int64_t top = core::signed_max(cfg_.wk);
  if (!cfg_.dense_baseline) {
    // One kept key: only key 0 reaches theta = its score; O = V[0] exactly (p = 1).
    core::AttentionWorkload w = chosen_scores(base, cfg_.wk, 1);
    w.params.theta = top;
    cases.push_back({"one_kept_key", w, rough, equals_v_row(w.v, 0)});
  }
  {
    // Every score 0 and every key kept: p = 1/n, O = round(mean V * 2^F_o), ties away from zero.
    core::AttentionWorkload w = base;
    w.q.setZero();
    w.params.theta = 0;
    cases.push_back({"equal_scores_plain_average", w, plain, [w, fo](const core::IntMatrix& o) {
                       const int64_t n = w.v.rows();
                       for (Eigen::Index c = 0; c < w.v.cols(); ++c) {
                         const int64_t sum = w.v.col(c).sum();
                         const int64_t mag = (2 * std::abs(sum) * (int64_t{1} << fo) + n) / (2 * n);
                         const int64_t expected = sum < 0 ? -mag : mag;
                         for (Eigen::Index i = 0; i < o.rows(); ++i) EXPECT_EQ(o(i, c), expected) << i << "," << c;
                       }
                     }});
  }
  {
    // One dominant key: every other score at least 2 below, the largest supported scale sigma = 1e3
    // (alpha = 1442.7), so alpha * (m - s) > 2885 > E for the others: x saturates, their exponentials
    // are exactly 0 and O = V[0].
    core::AttentionWorkload w = chosen_scores(base, cfg_.wk, 2);
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    w.params.softmax_scale = core::kMaxSoftmaxScale;
    EXPECT_GT(2.0 * 1e3 * std::log2(std::exp(1.0)), core::widths(cfg_).ef);
    cases.push_back({"dominant_key", w, rough, equals_v_row(w.v, 0)});
  }
  if (cfg_.max_keys >= 2 * one) {
    // An exact rounding tie: n = 2^(F_o+1) equal scores, all kept, V = +1 (even columns) or -1 (odd
    // columns) in key 0 and 0 elsewhere: O = +-2^F_o / n = +-1/2 LSB exactly, which rounds away from
    // zero to +-1. The divider's remainder then equals its divisor at the last step (a quotient bit
    // decided by `num >= den`; found by the mutation bench, tests/README.md "Mutants").
    core::AttentionWorkload w = core::make_workload(cfg_, "gaussian", 3, static_cast<int>(2 * one), 81);
    w.q.setZero();
    w.params.theta = 0;
    w.v.setZero();
    for (Eigen::Index c = 0; c < w.v.cols(); ++c) w.v(0, c) = c % 2 == 0 ? 1 : -1;
    cases.push_back({"rounding_tie", w, rough, [](const core::IntMatrix& o) {
                       for (Eigen::Index i = 0; i < o.rows(); ++i) {
                         for (Eigen::Index c = 0; c < o.cols(); ++c) {
                           EXPECT_EQ(o(i, c), c % 2 == 0 ? 1 : -1) << "query " << i << " column " << c;
                         }
                       }
                     }});
  }
  add_underflow_boundary_cases(cfg_, cases, base, rough);
  // Real models' softmax scales (scores in integer units of quantized Q*K): the register's mantissa
  // and shift over the supported range, every key kept; checked against the cycle model every cycle
  // and against the functional model row by row.
  for (const double sigma : {1e-9, 4.6e-7, 5.9e-4, 0.37, 1e3}) {
    core::AttentionWorkload w = base;
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    w.params.softmax_scale = sigma;
    cases.push_back({fmt::format("scale_{:g}", sigma), w, sigma < 1e-3 ? plain : rough});
  }
  {
    // Largest positive V everywhere, all kept: O = (2^(wv-1) - 1) * 2^F_o exactly.
    core::AttentionWorkload w = base;
    w.v.setConstant(core::signed_max(cfg_.wv));
    w.params.theta = core::signed_min(core::widths(cfg_).tw);
    const int64_t expected = core::signed_max(cfg_.wv) * one;
    cases.push_back({"max_positive_v", w, plain, [expected](const core::IntMatrix& o) {
                       EXPECT_TRUE((o.array() == expected).all()) << o;
                     }});
  }
}

// Directed causal-mask and relative-threshold cases (issue 10).
void add_decoder_cases(const core::AttentionConfig& cfg_, std::vector<AttnCase>& cases,
                       const core::AttentionWorkload& base, const tb::StimulusOptions& plain,
                       const tb::StimulusOptions& rough) {
  using test_support::causal;
  const int64_t lk = base.k.rows();
  // KV-cache decode: one query that sees every key.
  core::AttentionWorkload decode = base;
  decode.q = base.q.topRows(1);
  cases.push_back({"decode_step", causal(decode, lk - 1), plain});
  // Prefill where query 0 sees only key 0; an offset beyond the key set masks nothing.
  core::AttentionWorkload square = core::make_workload(cfg_, "gaussian", static_cast<int>(lk), static_cast<int>(lk), 80);
  cases.push_back({"prefill_one_visible_key", causal(square, 0), rough});
  cases.push_back({"offset_beyond_keys", causal(base, lk + 5), plain});
  if (!cfg_.relative_thresholds || cfg_.dense_baseline) return;

  auto rel = [](core::AttentionWorkload w, int64_t delta) {
    w.params.mode = core::ThresholdMode::relative;
    w.params.delta = delta;
    return w;
  };
  const int64_t top = core::signed_max(cfg_.wk);
  const int64_t one = int64_t{1} << cfg_.out_frac_bits;
  // Only the maximum key survives delta = 0 when every other score is below it: O = V[max key].
  const core::AttentionWorkload first = chosen_scores(base, cfg_.wk, 1);
  cases.push_back({"max_first_delta0", rel(first, 0), rough, [first, one](const core::IntMatrix& o) {
                     for (Eigen::Index i = 0; i < o.rows(); ++i) EXPECT_EQ(o.row(i), (first.v.row(0) * one).eval());
                   }});
  core::AttentionWorkload last = first;  // the maximum at the last key instead
  last.k.row(0).swap(last.k.row(lk - 1));
  cases.push_back({"max_last_delta0", rel(last, 0), plain, [last, one, lk](const core::IntMatrix& o) {
                     for (Eigen::Index i = 0; i < o.rows(); ++i) {
                       EXPECT_EQ(o.row(i), (last.v.row(lk - 1) * one).eval());
                     }
                   }});
  // Every key equal: all kept at delta 0 (ties), O = mean V as in equal_scores_plain_average.
  core::AttentionWorkload equal = base;
  equal.q.setZero();
  cases.push_back({"every_key_equal_delta0", rel(equal, 0), rough});
  // delta at the top of the register: nothing is dropped.
  cases.push_back({"delta_huge", rel(base, core::signed_max(core::widths(cfg_).tw)), plain});
  // All scores negative (Q at its most negative, K positive).
  core::AttentionWorkload neg = base;
  neg.q.setConstant(core::signed_min(cfg_.wq));
  neg.k = neg.k.cwiseAbs().cwiseMax(int64_t{1}).cwiseMin(top);
  cases.push_back({"all_negative_scores", rel(neg, 3), rough});
  // One visible key per first query, relative: that key is the maximum and is kept.
  cases.push_back({"relative_one_visible_key", rel(causal(square, 0), 0), plain});
}

}  // namespace

std::vector<AttnCase> attention_random_cases(const core::AttentionConfig& cfg) {
  std::vector<AttnCase> cases;
  struct Run { uint64_t seed; const char* kind; double valid, ready; };
  const Run runs[] = {{1, "gaussian", 1.0, 1.0}, {2, "peaky", 1.0, 1.0}, {3, "gaussian", 0.6, 0.4},
                      {4, "peaky", 0.3, 0.8}, {5, "gaussian", 0.9, 0.15}};
  for (const Run& run : runs) {
    // Odd key counts on purpose: rarely a multiple of the lane count.
    const int lk = std::max(1, cfg.max_keys - static_cast<int>(run.seed * 3) % cfg.max_keys);
    cases.push_back({fmt::format("seed{}_{}", run.seed, run.kind),
                     core::make_workload(cfg, run.kind, 9, lk, run.seed),
                     {run.seed, run.valid, run.ready, -1}});
  }
  // Decoder heads: causal prefill (Lq = Lk, offset 0) and, on relative-threshold hardware, relative
  // thresholds with and without the causal mask, under gaps and back-pressure.
  const int lk = std::min(cfg.max_keys, 2 * cfg.lanes + 3);
  const core::AttentionWorkload prefill = test_support::causal(core::make_workload(cfg, "peaky", lk, lk, 6), 0);
  cases.push_back({"causal_prefill", prefill, {6, 0.8, 0.6, -1}});
  if (cfg.relative_thresholds && !cfg.dense_baseline) {
    cases.push_back({"causal_relative", test_support::relative(prefill, 0.3), {7, 1.0, 1.0, -1}});
    cases.push_back({"causal_relative_gaps", test_support::relative(prefill, 0.6), {8, 0.5, 0.3, -1}});
    cases.push_back({"relative", test_support::relative(core::make_workload(cfg, "gaussian", 7, lk, 9), 0.2),
                     {9, 0.7, 0.9, -1}});
  }
  return cases;
}

std::vector<AttnCase> attention_directed_cases(const core::AttentionConfig& cfg) {
  const core::AttentionWidths wd = core::widths(cfg);
  const int lk_odd = std::min(cfg.max_keys, cfg.lanes + 1 + cfg.lanes / 2);
  const core::AttentionWorkload base = core::make_workload(cfg, "gaussian", 5, lk_odd, 77);
  const core::IntMatrix scores = base.q * base.k.transpose();

  std::vector<AttnCase> cases;
  const tb::StimulusOptions plain{11, 1.0, 1.0, -1};
  const tb::StimulusOptions rough{12, 0.5, 0.5, -1};
  cases.push_back({"every_key_pruned", with_theta(base, core::signed_max(wd.tw)), plain});
  cases.push_back({"no_key_pruned", with_theta(base, core::signed_min(wd.tw)), rough});
  cases.push_back({"theta_at_min_score", with_theta(base, scores.minCoeff()), plain});
  cases.push_back({"theta_at_max_score", with_theta(base, scores.maxCoeff()), rough});
  cases.push_back({"theta_above_max_score", with_theta(base, scores.maxCoeff() + 1), plain});

  // Most negative values everywhere: the largest positive score, d * 2^(wq-1) * 2^(wk-1).
  core::AttentionWorkload neg = base;
  neg.q.setConstant(core::signed_min(cfg.wq));
  neg.k.setConstant(core::signed_min(cfg.wk));
  neg.v.setConstant(core::signed_min(cfg.wv));
  const int64_t top = static_cast<int64_t>(cfg.d) * core::signed_min(cfg.wq) * core::signed_min(cfg.wk);
  // Every score equal and kept: O = V * 2^F_o, exactly, at the most negative V (the largest quotient).
  const int64_t most_negative_o = core::signed_min(cfg.wv) * (int64_t{1} << cfg.out_frac_bits);
  cases.push_back({"most_negative_kept", with_theta(neg, top), rough, [most_negative_o](const core::IntMatrix& o) {
                     EXPECT_TRUE((o.array() == most_negative_o).all()) << o;
                   }});
  cases.push_back({"most_negative_pruned", with_theta(neg, top + 1), plain});

  add_softmax_cases(cfg, cases, base, plain, rough);

  core::AttentionWorkload one = core::make_workload(cfg, "peaky", 4, 1, 78);
  cases.push_back({"single_key", one, rough});
  add_decoder_cases(cfg, cases, base, plain, rough);
  cases.push_back({"full_key_store", core::make_workload(cfg, "peaky", 3, cfg.max_keys, 79), plain});
  // The same without k_last_i on key max_keys: the store's count must end the set by itself.
  tb::StimulusOptions by_count = rough;
  by_count.last_by_count = true;
  cases.push_back({"full_key_store_by_count", core::make_workload(cfg, "peaky", 3, cfg.max_keys, 79), by_count});

  // The score engine held up by the back-end: every key kept and the output almost never ready, so
  // both collect buffers close, the result stream's ready drops and lanes keep scores while their
  // result slot is still full: they must stall (on some configs the random cases never do this).
  // One and three keys per lane per query (with one lane, the output register takes its first
  // score and its slot the second: the third must wait), few enough that queries pile up faster
  // than the output drains them.
  for (const int per_lane : {1, 3}) {
    cases.push_back({fmt::format("backend_stall_{}", per_lane),
                     with_theta(core::make_workload(cfg, "gaussian", 6, std::min(cfg.max_keys, per_lane * cfg.lanes), 84),
                                core::signed_min(wd.tw)),
                     {15, 1.0, 0.01, -1}});
  }

  // A second key set in one run, without a reset: a full key store and its queries, then a shorter
  // key set (the store's stale tail must not be read) with its own queries, under valid gaps and
  // back-pressure, so that the new keys wait while queries of the first set are still in flight.
  // Kills the mutants of the unit's in-flight count (which gates k_ready_o) and of the key store's
  // new-set write index (docs/verification.md "Mutants").
  {
    AttnCase c{"second_key_set", core::make_workload(cfg, "gaussian", 4, cfg.max_keys, 82), {14, 0.7, 0.5, -1}};
    core::AttentionWorkload second = core::make_workload(cfg, "peaky", 5, std::max(1, lk_odd - 1), 83);
    second.params = c.workload.params;  // one round of config writes per run
    c.then.push_back(second);
    cases.push_back(c);
  }

  // A query reaching the query buffer in the very cycle in which the head query's end beat leaves
  // while the other context is idle: it must enter the other context (the new head), not the head's
  // place. Needs short queries and sparse arrivals, which no other case has; the timing is random,
  // so many queries: 96 queries of 2 keys at valid probability 0.15 (on r_rel they kill the mutant
  // of the score engine's target choice, docs/verification.md "Mutants"). About 900 cycles.
  cases.push_back({"query_meets_end_beat",
                   core::make_workload(cfg, "gaussian", 96, std::min(cfg.max_keys, 2), 85),
                   {16, 0.15, 1.0, -1}});

  // Reset in the middle of a query: half-way through the model's run of the same stimulus.
  const tb::StimulusOptions probe{13, 0.8, 0.7, -1};
  const tb::RunResult full = tb::run_attention(cfg, base, probe, nullptr);
  EXPECT_TRUE(full.ok()) << full.functional_error;
  cases.push_back({"reset_mid_query", base, {13, 0.8, 0.7, full.cycles_simulated / 2}});
  return cases;
}

// A K that is not a multiple of m (or of n for the baseline) whenever max_k allows one.
int64_t odd_k(const core::NmConfig& cfg, uint64_t seed) {
  const int64_t k = cfg.max_k - static_cast<int64_t>(seed % 3);
  return std::max<int64_t>(1, k % cfg.m == 0 && k > 1 ? k - 1 : k);
}

namespace {

// W with the most negative weight in every slot the pattern allows (every k for the baseline and
// M:M): with the most negative x everywhere, each accumulator reaches its largest value.
core::IntMatrix most_negative_w(const core::NmConfig& cfg, int64_t k, int64_t c) {
  core::IntMatrix w = core::IntMatrix::Zero(k, c);
  for (int64_t i = 0; i < k; ++i) {
    if (cfg.dense_baseline || i % cfg.m < cfg.n) w.row(i).setConstant(core::signed_min(cfg.ww));
  }
  return w;
}

}  // namespace

std::vector<NmCase> nm_random_cases(const core::NmConfig& cfg) {
  std::vector<NmCase> cases;
  struct Run { uint64_t seed; double valid, ready; };
  for (const Run& run : {Run{1, 1.0, 1.0}, Run{2, 0.6, 0.4}, Run{3, 0.3, 0.9}, Run{4, 0.9, 0.2}}) {
    // Partial row and column tiles: R and C one more than a multiple of rows and cols.
    const int64_t r = cfg.rows * static_cast<int64_t>(1 + run.seed % 2) + 1;
    const int64_t c = cfg.cols * static_cast<int64_t>(1 + run.seed % 3) + 1;
    cases.push_back({fmt::format("seed{}", run.seed), core::make_nm_workload(cfg, r, odd_k(cfg, run.seed), c, run.seed),
                     {run.seed, run.valid, run.ready, -1}});
  }
  return cases;
}

std::vector<NmCase> nm_directed_cases(const core::NmConfig& cfg) {
  std::vector<NmCase> cases;
  const tb::StimulusOptions plain{11, 1.0, 1.0, -1}, rough{12, 0.5, 0.5, -1};
  const int64_t r = cfg.rows + 1, c = cfg.cols + 1, k = odd_k(cfg, 0);
  const core::NmWorkload base = core::make_nm_workload(cfg, r, k, c, 77);

  core::NmWorkload extreme{core::IntMatrix::Constant(r, cfg.max_k, core::signed_min(cfg.wx)),
                           most_negative_w(cfg, cfg.max_k, c)};
  cases.push_back({"most_negative_full_k", extreme, rough});

  // One nonzero per group, at the last position of the group: padding slots come first.
  core::NmWorkload sparse = base;
  sparse.w.setZero();
  for (int64_t i = cfg.m - 1; i < k; i += cfg.m) sparse.w.row(i).setConstant(core::signed_max(cfg.ww));
  cases.push_back({"one_nonzero_per_group", sparse, plain});

  core::NmWorkload zeros = base;
  zeros.w.setZero();
  cases.push_back({"all_zero_weights", zeros, rough});

  cases.push_back({"single_k", core::make_nm_workload(cfg, 1, 1, 1, 78), plain});

  // K = max_k, no x_last_i and no w_last_i: every row tile and the weight set of D beats must end
  // by the design's own counts (docs/nm_array.md "One cycle"); two row and two column tiles.
  tb::StimulusOptions by_count = rough;
  by_count.last_by_count = true;
  cases.push_back({"last_by_count", core::make_nm_workload(cfg, 2 * cfg.rows, cfg.max_k, 2 * cfg.cols, 79), by_count});
  // Row tiles of two beats (G = 2 where max_k allows) ending by the count: a count compare that
  // only agrees with the right one for some G (1 - G = G - 1 modulo 2^w when G = 1 mod 2^(w-1)).
  const int64_t kb = core::nm_widths(cfg).kb;
  cases.push_back({"x_last_by_count_g2", core::make_nm_workload(cfg, cfg.rows + 1, std::min<int64_t>(cfg.max_k, 2 * kb), 1, 80),
                   by_count});

  // Reset half-way through the model's run of the same stimulus.
  const tb::StimulusOptions probe{13, 0.8, 0.7, -1};
  const tb::NmRun full = tb::run_nm(cfg, base, probe, nullptr);
  EXPECT_TRUE(full.ok()) << full.functional_error;
  cases.push_back({"reset_mid_run", base, {13, 0.8, 0.7, full.cycles_simulated / 2}});
  return cases;
}

// ------------------------------------------------------------------ running a case

namespace {

std::string reproduce_line(const Prepared& p) {
  std::string workloads = "--workload " + p.workload_dir.string();
  for (const fs::path& more : p.more_workload_dirs) workloads += " --workload " + more.string();
  return fmt::format("reproduce: accelgen sim --config {} {} --seed {} --valid-prob {} --ready-prob {} --reset-at {}{}",
                     p.config_file.string(), workloads, p.stim.seed, p.stim.valid_prob, p.stim.ready_prob,
                     p.stim.reset_at, p.stim.last_by_count ? " --last-by-count" : "");
}

Prepared common(const std::string& label, const fs::path& config_file, const fs::path& dir,
                const tb::StimulusOptions& stim) {
  Prepared p;
  p.label = label;
  p.config_file = config_file;
  p.workload_dir = dir / label;
  p.report = dir / (label + ".json");
  p.out_tensor = dir / (label + "_out.npy");
  p.fst = dir / (label + ".fst");
  p.log = dir / (label + ".log");
  p.stim = stim;
  p.reproduce = reproduce_line(p);
  return p;
}

// Runs `check` with gtest's failures captured, and returns them as text ("" when none).
std::string captured_failures(const std::function<void()>& check) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter capture(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    check();
  }
  std::string text;
  for (int i = 0; i < failures.size(); ++i) {
    if (failures.GetTestPartResult(i).failed()) text += failures.GetTestPartResult(i).message() + std::string("\n");
  }
  return text;
}

}  // namespace

Prepared prepare(const core::AttentionConfig& cfg, const fs::path& config_file, const fs::path& dir,
                 const AttnCase& c) {
  Prepared p = common(c.label, config_file, dir, c.stim);
  core::write_workload(c.workload, p.workload_dir.string());
  std::vector<core::AttentionWorkload> sets = {c.workload};
  std::vector<std::string> more_dirs;
  Eigen::Index rows = c.workload.q.rows();
  for (size_t s = 0; s < c.then.size(); ++s) {
    p.more_workload_dirs.push_back(dir / fmt::format("{}_then{}", c.label, s + 1));
    more_dirs.push_back(p.more_workload_dirs.back().string());
    core::write_workload(c.then[s], more_dirs.back());
    sets.push_back(c.then[s]);
    rows += c.then[s].q.rows();
  }
  p.reproduce = reproduce_line(p);
  const tb::RunResult model = tb::run_attention(cfg, sets, c.stim, nullptr);
  if (!model.ok()) throw std::runtime_error(c.label + ": the golden model fails: " + model.functional_error);
  p.expected_numbers = tb::report_numbers(tb::make_report(
      cfg, sets, model, {"golden-cycle-model", "", p.workload_dir.string(), c.stim, more_dirs}));
  const Eigen::Index first_rows = c.workload.q.rows(), cols = c.workload.v.cols();
  const auto check = c.check_output;
  p.check_output = [rows, first_rows, cols, check](const fs::path& out) -> std::string {
    const core::IntMatrix o = core::read_npy(out.string());
    if (o.rows() != rows || o.cols() != cols) {
      return fmt::format("O is {}x{}, expected {}x{}", o.rows(), o.cols(), rows, cols);
    }
    return check ? captured_failures([&] { check(o.topRows(first_rows)); }) : std::string();
  };
  return p;
}

Prepared prepare(const core::NmConfig& cfg, const fs::path& config_file, const fs::path& dir, const NmCase& c) {
  Prepared p = common(c.label, config_file, dir, c.stim);
  core::write_nm_workload(c.workload, p.workload_dir.string());
  const tb::NmRun model = tb::run_nm(cfg, c.workload, c.stim, nullptr);
  if (!model.ok()) throw std::runtime_error(c.label + ": the golden model fails: " + model.functional_error);
  p.expected_numbers = tb::report_numbers(
      tb::make_nm_report(cfg, c.workload, model, {"golden-cycle-model", "", p.workload_dir.string(), c.stim}));
  const core::IntMatrix y = golden::nm_reference(c.workload.x, c.workload.w);
  p.check_output = [y](const fs::path& out) -> std::string {
    const core::IntMatrix got = core::read_npy(out.string());
    return got == y ? std::string() : "Y differs from X * W";
  };
  return p;
}

Prepared with_outputs_in(Prepared p, const fs::path& dir) {
  fs::create_directories(dir);
  p.report = dir / p.report.filename();
  p.out_tensor = dir / p.out_tensor.filename();
  p.fst = dir / p.fst.filename();
  p.log = dir / p.log.filename();
  return p;
}

std::string run_prepared(const Prepared& p, const fs::path& simv, const std::vector<std::string>& extra_args,
                         int time_limit_s) {
  std::error_code ec;
  fs::remove(p.report, ec);
  fs::remove(p.out_tensor, ec);
  std::vector<std::string> argv = {simv.string(), "--config", p.config_file.string(), "--workload",
                                   p.workload_dir.string()};
  for (const fs::path& more : p.more_workload_dirs) argv.insert(argv.end(), {"--workload", more.string()});
  argv.insert(argv.end(), {
      "--report", p.report.string(), "--fst", p.fst.string(), "--seed", std::to_string(p.stim.seed),
      "--valid-prob", fmt::format("{}", p.stim.valid_prob), "--ready-prob",
      fmt::format("{}", p.stim.ready_prob), "--reset-at", std::to_string(p.stim.reset_at),
      "--out-tensor", p.out_tensor.string()});
  if (p.stim.last_by_count) argv.push_back("--last-by-count");
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  const flows::ProcessResult r = flows::run_process(argv, "", p.log, time_limit_s);
  if (r.exit_code != 0) {
    return fmt::format("{} failed (exit {}{}):\n{}{}", p.label, r.exit_code, r.timed_out ? ", timed out" : "",
                       read_file(p.log), p.reproduce);
  }
  const nlohmann::json got = tb::report_numbers(nlohmann::json::parse(read_file(p.report)));
  if (got != p.expected_numbers) {
    return fmt::format("{}: the simulator's report differs from the model's\n  got      {}\n  expected {}\n{}",
                       p.label, got.dump(), p.expected_numbers.dump(), p.reproduce);
  }
  const std::string output = p.check_output(p.out_tensor);
  if (!output.empty()) return fmt::format("{}: output tensor: {}\n{}", p.label, output, p.reproduce);
  return "";
}

}  // namespace accelgen::regression
