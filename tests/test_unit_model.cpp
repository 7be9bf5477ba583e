// Tests of golden::UnitCycleModel (golden/unit_model.h) against docs/softmax.md, "Microarchitecture and cycle
// contract of the back-end and the unit". Timelines are hand-derived from the contract (derivations in the
// comments; the score engine's part follows tests/test_cycle_model.cpp); cycle c means "eval(in[c]) shows the
// outputs of cycle c, then tick(in[c]) is the edge that ends it". The random tests drive whole workloads through
// the unit and compare every output row with the functional models (score_all + attention_output).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "golden/cycle_model.h"
#include "golden/functional.h"
#include "attn_pins.h"
#include "golden/softmax.h"
#include "golden/unit_model.h"
#include "test_support.h"

namespace accelgen::golden {
namespace {

using namespace test_support::pins;

// d=1, dv=2, wq=4, wk=2, wv=4, 1 lane, alpha_mant_bits 13, F_o=2: QB = wv + F_o = 6.
// E = 4 + 2 + clog2(max_keys) + 3, L = ceil(6/2) = 3, exponent fraction bits F = wv + F_o + 4 = 10,
// G = max(F, L) = 10.
core::AttentionConfig tiny(int max_keys = 4, bool dense = false) {
  core::AttentionConfig c;
  c.d = 1;
  c.dv = 2;
  c.wq = 4;
  c.wk = 2;
  c.wv = 4;
  c.lanes = 1;
  c.max_keys = max_keys;
  c.threshold_slots = 1;
  c.alpha_mant_bits = 13;
  c.dense_baseline = dense;
  return c;
}

// Alpha register values of tiny(): (shift << 13) | mant, alpha = mant * 2^-shift.
constexpr uint64_t kAlphaOne = (uint64_t{12} << 13) | 4096;   // 1.0 = 2^12 * 2^-12
constexpr uint64_t kAlphaHalf = (uint64_t{13} << 13) | 4096;  // 0.5 = 2^12 * 2^-13

// ---- expected-output helpers ----

UnitOutputs ports(const core::AttentionConfig& c, bool k_ready, bool q_ready, uint64_t cfg_rdata) {
  UnitOutputs o;
  o.k_ready = k_ready;
  o.q_ready = q_ready;
  o.cfg_rdata = cfg_rdata;
  o.o_data.assign(static_cast<size_t>(c.dv), 0);
  return o;
}
UnitOutputs beat(UnitOutputs o, std::vector<int64_t> data, bool empty, uint32_t count, uint64_t steps,
                 uint64_t cycles, uint64_t bcycles) {
  o.o_valid = true;
  o.o_data = std::move(data);
  o.o_empty = empty;
  o.o_count = count;
  o.o_steps = steps;
  o.o_cycles = cycles;
  o.o_bcycles = bcycles;
  return o;
}
// Only the o_* fields (the ports that are not the output stream cleared).
UnitOutputs stream_of(UnitOutputs o) {
  o.k_ready = o.q_ready = false;
  o.cfg_rdata = 0;
  return o;
}

struct Trace {
  std::vector<UnitOutputs> out;
  std::vector<bool> busy;  // backend_busy() during each cycle
  std::vector<int> closed;  // closed_buffers() during each cycle
};

Trace run(UnitCycleModel& m, const std::vector<AttnInputs>& ins) {
  Trace t;
  for (const AttnInputs& in : ins) {
    t.out.push_back(m.eval(in));
    t.busy.push_back(m.backend_busy());
    t.closed.push_back(m.closed_buffers());
    m.tick(in);
  }
  return t;
}

// Cycles in which o_valid is 1.
std::vector<int> valid_cycles(const Trace& t) {
  std::vector<int> c;
  for (size_t i = 0; i < t.out.size(); ++i) {
    if (t.out[i].o_valid) c.push_back(static_cast<int>(i));
  }
  return c;
}

// ---- hand-derived timelines ----

// theta = 1, alpha = 1.0, keys {1, -2} with V rows {19, -33} -> {3, -1} (4-bit truncation) and {-8, 7};
// query [3]: key0 kept (s=3, n=2), key1 pruned (n=1). The score engine's timeline is the one of
// CycleModelTimeline.OneLaneTwoKeysOneQuery (the back-end's s_ready is 1 throughout): score beat (0, 3) in
// c11, end beat (count 1, steps 3, cycles 3) in c12; the engine is idle from c12, the unit's k_ready returns after
// the output handshake.
// Back-end: c11 edge: entry 0 = (0, 3).  c12 edge: buffer 0 closed.  c13: IDLE sees it -> ACC, nacc = 1.
//   ACC (n + 2 = 3 cycles): c14 issue entry 0 (buffer released at this edge), c15 stage 2, c16 stage 3 -> DIV.
//   DIV (QB = 6 cycles): c17..c22.  DONE: c23, output register free -> load.  c24: o_valid.
//   One kept key: e = 2^E = Z, so O = V * 2^F_o = {12, -4}. o_bcycles = 3 + 6 + 1 = 10 = n + 2 + QB + 1.
TEST(UnitCycleTimeline, OneKeptKeyReachesTheOutputAfterAccDivDone) {
  const core::AttentionConfig c = tiny();
  UnitCycleModel m(c);
  const std::vector<AttnInputs> ins =
      then_idle({reset_in(),                                                    // c0
                 cfg_write(1, 1),                                               // c1 theta[0] = 1
                 with_cfg_write(key({1}, {19, -33}, false), 0, kAlphaOne),      // c2 key 0, alpha = 1.0
                 key({-2}, {-8, 7}, true),                                      // c3 key 1, last
                 query({3})},                                                   // c4
                22);                                                            // c5..c26
  const Trace t = run(m, ins);
  for (int cyc = 0; cyc < static_cast<int>(ins.size()); ++cyc) {
    // Keys wait while the query is in flight (c5 .. the output handshake in c24).
    const bool k_ready = cyc <= 4 || cyc >= 25;
    const bool q_ready = cyc == 4 || cyc >= 6;
    UnitOutputs e = ports(c, k_ready, q_ready, cyc >= 3 ? kAlphaOne : 0);
    if (cyc == 24) e = beat(e, {12, -4}, false, 1, 3, 3, 10);
    EXPECT_EQ(t.out[cyc], e) << "cycle " << cyc;
    EXPECT_EQ(t.busy[cyc], cyc >= 14 && cyc <= 23) << "cycle " << cyc;
    EXPECT_EQ(t.closed[cyc], (cyc == 13 || cyc == 14) ? 1 : 0) << "cycle " << cyc;
  }
}

// Dense, max_keys 2 (E = 4 + 2 + 1 + 3 = 10), alpha = 1.0, keys {1, -2} with V {5, -3}, {-7, 2}, query [3]:
// both kept, s = 3 and -6, wk = 2 steps each.
// Score engine: c5 edge start, c6 edge key0 issued, c7 edge lane <- key0 (its row has arrived), c8 step 1,
// key1 issued; c9 key0 kept -> slot (lane <- key1), c10 slot -> output, key1 step 1; c11 beat (0, 3), key1 kept
// -> slot; c12 slot -> output; c13 beat (1, -6), end condition -> end beat loaded; c14 end beat (count 2,
// steps 4, cycles c8..c11 = 4). The engine is idle from c14 but the unit takes keys again only after the
// output handshake (c27).
// Back-end: c14 edge closes buffer 0; c15 IDLE -> ACC; ACC c16..c19 (n + 2 = 4: issues in c16, c17);
// DIV c20..c25; DONE c26; o_valid in c27 with o_bcycles = 4 + 6 + 1 = 11.
// Arithmetic (docs/softmax.md): m = 3; entry 0: x = 0, e = 2^10 = 1024; entry 1: x = floor(2^12 * 9 * 2^10 /
// 2^12) = 9216 = 9.0 (units 2^-10), so I = 9, f = 0, e = T[0] >> 9 = 2. Z = 1026, A = {5120 - 14, -3072 + 4} = {5106, -3068};
// O0 = (2*5106*4 + 1026) div 2052 = 41874 div 2052 = 20; |O1| = (2*3068*4 + 1026) div 2052 = 25570 div 2052 = 12.
std::vector<AttnInputs> dense_two_keys(int idle_cycles) {
  return then_idle({reset_in(),                        // c0
                    cfg_write(0, kAlphaOne),           // c1 alpha = 1.0
                    key({1}, {5, -3}, false),          // c2
                    key({-2}, {-7, 2}, true),          // c3
                    query({3})},                       // c4
                   idle_cycles);
}

TEST(UnitCycleTimeline, DenseTwoKeysTakeFourAccCycles) {
  const core::AttentionConfig c = tiny(2, true);
  UnitCycleModel m(c);
  const std::vector<AttnInputs> ins = dense_two_keys(25);  // c5..c29
  const Trace t = run(m, ins);
  EXPECT_EQ(valid_cycles(t), std::vector<int>{27});
  EXPECT_EQ(stream_of(t.out[27]), stream_of(beat(ports(c, false, false, 0), {20, -12}, false, 2, 4, 4, 11)));
  for (int cyc = 0; cyc < static_cast<int>(ins.size()); ++cyc) {
    EXPECT_EQ(t.busy[cyc], cyc >= 16 && cyc <= 26) << "cycle " << cyc;
    EXPECT_EQ(t.out[cyc].k_ready, cyc <= 4 || cyc >= 28) << "cycle " << cyc;  // in flight c5..c27
  }
  // The same numbers from the functional models.
  const ScoreResults s = score_all(test_support::rows({{3}}), test_support::rows({{1}, {-2}}), c.wk, 0, true);
  const AttentionOutput f = attention_output(s, test_support::rows({{5, -3}, {-7, 2}}), kAlphaOne,
                                                 default_softmax_format(c));
  EXPECT_EQ(t.out[27].o_data, (std::vector<int64_t>{f.o(0, 0), f.o(0, 1)}));
}

// As DenseTwoKeys, with alpha rewritten to 0.5 while the query is being accumulated. Entry 1 is issued in
// c17 and takes the alpha register of that cycle: a write in c16 lands before it, a write in c17 after it.
// With alpha 0.5: x = floor(2^12 * 9 * 2^10 / 2^13) = 4608 = 4.5, I = 4, f = 512, i = 512 >> (10 - 3) = 4, r = 0:
// e = T[4] >> 4, T[4] = round(1024 * 2^-0.5)
// = 724, e = 45. Z = 1069, A = {5120 - 315, -3072 + 90} = {4805, -2982};
// O0 = (38440 + 1069) div 2138 = 18, |O1| = (23856 + 1069) div 2138 = 11.
TEST(UnitCycleTimeline, AlphaIsTheRegisterValueInTheIssueCycle) {
  const core::AttentionConfig c = tiny(2, true);
  for (const int write_cycle : {16, 17}) {
    SCOPED_TRACE(testing::Message() << "alpha written in c" << write_cycle);
    UnitCycleModel m(c);
    std::vector<AttnInputs> ins = dense_two_keys(25);
    ins[write_cycle] = cfg_write(0, kAlphaHalf);
    const Trace t = run(m, ins);
    ASSERT_EQ(valid_cycles(t), std::vector<int>{27});
    EXPECT_EQ(t.out[27].o_data, write_cycle == 16 ? (std::vector<int64_t>{18, -11}) : (std::vector<int64_t>{20, -12}));
  }
}

// The score engine is idle from c14 (its k_ready = 1) although the back-end still reads V rows until c17 (stage 2
// of the last entry). docs/softmax.md gates the key stream on an empty unit (inflight_q == 0).
// A new key set would overwrite V rows the back-end still reads (the score engine is idle long before the
// output): while a query is in flight k_ready stays 0, the beat is not taken and the row is unchanged.
TEST(UnitCycleTimeline, KeyBeatWaitsWhileAQueryIsInFlight) {
  const core::AttentionConfig c = tiny(2, true);
  for (const int beat_cycle : {16, 17}) {
    SCOPED_TRACE(testing::Message() << "key beat in c" << beat_cycle);
    UnitCycleModel m(c);
    std::vector<AttnInputs> ins = dense_two_keys(25);
    ins[beat_cycle] = key({1}, {-8, -8}, false);
    const Trace t = run(m, ins);
    EXPECT_FALSE(t.out[beat_cycle].k_ready);
    ASSERT_EQ(valid_cycles(t), std::vector<int>{27});
    EXPECT_EQ(t.out[27].o_data, (std::vector<int64_t>{20, -12}));
    ASSERT_GT(t.out.size(), 28u);
    EXPECT_TRUE(t.out[28].k_ready) << "the output has left: keys are taken again";
  }
}

// theta = 1, key {1} (last), query [-1]: the only key is pruned after 1 step (Qpos 0, U1 = 0 < 1).
// Score engine: c3 query, c4 edge start, c5 edge key0 issued, c6 edge lane <- key0, c7 pruned, c8 end condition
// -> end beat loaded, c9 end beat (count 0, empty, steps 1, cycles 1).  Back-end: c9 edge closes buffer 0 with
// no entry; c10 IDLE: empty query -> release, DONE; c11 DONE loads the output; c12 o_valid: zero row, o_empty,
// o_bcycles = 1.
TEST(UnitCycleTimeline, EmptyQuerySkipsAccAndDivAndTakesOneBackendCycle) {
  const core::AttentionConfig c = tiny(3);
  UnitCycleModel m(c);
  const std::vector<AttnInputs> ins =
      then_idle({reset_in(), cfg_write(1, 1), key({1}, {5, 5}, true), query({-1})}, 10);  // c0..c3, c4..c13
  const Trace t = run(m, ins);
  EXPECT_EQ(valid_cycles(t), std::vector<int>{12});
  EXPECT_EQ(stream_of(t.out[12]), stream_of(beat(ports(c, false, false, 0), {0, 0}, true, 0, 1, 1, 1)));
  for (int cyc = 0; cyc < static_cast<int>(ins.size()); ++cyc) {
    EXPECT_EQ(t.busy[cyc], cyc == 11) << "cycle " << cyc;
    EXPECT_EQ(t.closed[cyc], cyc == 10 ? 1 : 0) << "cycle " << cyc;
  }
}

// For an idle back-end, o_valid rises exactly (n + 2) + QB + 1 + 2 cycles after the cycle showing the score
// engine's end beat (close at that edge, one IDLE cycle, ACC, DIV, DONE), with o_bcycles = n + 2 + QB + 1;
// empty queries: 3 cycles, o_bcycles = 1. Every key set of 1..max_keys keys from {1, 0, -1, -2}, max_keys 2..4,
// pruned (queries [3], [-1], [1], theta 1) and dense; one query at a time.
TEST(UnitCycleTimeline, FirstOutputTimingForEveryTinyKeySet) {
  const std::vector<int64_t> values = {1, 0, -1, -2};
  int queries = 0, empty = 0;
  for (const bool dense : {false, true}) {
    for (int max_keys = 2; max_keys <= 4; ++max_keys) {
      const core::AttentionConfig c = tiny(max_keys, dense);
      const int qb = core::widths(c).qb;
      for (int lk = 1; lk <= max_keys; ++lk) {
        for (int pattern = 0; pattern < (1 << (2 * lk)); ++pattern) {
          core::IntMatrix k(lk, 1), v(lk, 2);
          for (int j = 0; j < lk; ++j) {
            k(j, 0) = values[(pattern >> (2 * j)) & 3];
            v(j, 0) = j - 3;
            v(j, 1) = 7 - 2 * j;
          }
          UnitCycleModel m(c);
          for (const AttnInputs& in : {reset_in(), cfg_write(1, 1), cfg_write(0, 20)}) m.tick(in);
          for (int j = 0; j < lk; ++j) m.tick(key({k(j, 0)}, {v(j, 0), v(j, 1)}, j == lk - 1));
          for (const int64_t qv : {3, -1, 1}) {
            SCOPED_TRACE(testing::Message() << "dense=" << dense << " max_keys=" << max_keys << " lk=" << lk
                                            << " pattern=" << pattern << " q=" << qv);
            const ScoreResults s = score_all(test_support::rows({{qv}}), k, c.wk, 1, dense);
            const AttentionOutput f = attention_output(s, v, 20, default_softmax_format(c));
            const int n = static_cast<int>(s.kept_count());
            const AttnInputs q = query({qv});
            ASSERT_TRUE(m.eval(q).q_ready);
            m.tick(q);
            int eoq_cycle = -1;
            for (int cyc = 0; cyc < 200; ++cyc) {
              const AttnOutputs se = m.score_engine().eval(idle());
              if (se.s_valid && se.s_eoq && eoq_cycle < 0) eoq_cycle = cyc;
              const UnitOutputs o = m.eval(idle());
              m.tick(idle());
              if (!o.o_valid) continue;
              ASSERT_GE(eoq_cycle, 0);
              EXPECT_EQ(cyc - eoq_cycle, n == 0 ? 3 : n + qb + 5);
              EXPECT_EQ(o.o_bcycles, static_cast<uint64_t>(n == 0 ? 1 : n + 2 + qb + 1));
              EXPECT_EQ(o.o_data, (std::vector<int64_t>{f.o(0, 0), f.o(0, 1)}));
              EXPECT_EQ(o.o_empty, n == 0);
              EXPECT_EQ(o.o_count, static_cast<uint32_t>(n));
              EXPECT_EQ(o.o_steps, static_cast<uint64_t>(s.total_steps()));
              break;
            }
            ++queries;
            empty += n == 0 ? 1 : 0;
          }
        }
      }
    }
  }
  EXPECT_GT(empty, 20);  // both branches are exercised
  EXPECT_GT(queries - empty, 200);
}

// ---- whole-workload driver ----

// One workload and what the functional models say about it.
struct Job {
  core::AttentionWorkload w;
  uint64_t alpha = 0;
  ScoreResults scores;
  AttentionOutput expected;
};

Job make_job(const core::AttentionConfig& c, const std::string& kind, int lq, int lk, uint64_t seed) {
  Job j;
  j.w = core::make_workload(c, kind, lq, lk, seed);
  j.alpha = core::quantize_alpha(j.w.params.softmax_scale, c).bits;
  j.scores = score_all(j.w.q, j.w.k, c.wk, j.w.params.theta, c.dense_baseline);
  j.expected = attention_output(j.scores, j.w.v, j.alpha, default_softmax_format(c));
  return j;
}

struct DriveOptions {
  uint64_t seed = 1;
  int reset_cycles = 2;
  double q_valid_p = 1.0;  // chance a query is offered in a cycle (when one is pending)
  std::function<bool(uint64_t, std::mt19937_64&)> o_ready = [](uint64_t, std::mt19937_64&) { return true; };
  uint64_t stop_after = 0;  // stop after this many cycles (0: run every job to its last output)
  uint64_t max_cycles = 200000;
};

inline std::function<bool(uint64_t, std::mt19937_64&)> random_ready(double p) {
  return [p](uint64_t, std::mt19937_64& rng) { return std::bernoulli_distribution(p)(rng); };
}

struct RunRecord {
  std::vector<UnitOutputs> beats;  // output beats (o_valid && o_ready), in order
  std::vector<AttnInputs> inputs;  // every cycle's inputs
  uint64_t cycles = 0;             // cycles driven after the reset cycles
  uint64_t engine_active = 0;      // cycles with an active score lane
  uint64_t both_closed = 0;        // cycles with both collect buffers closed (back-end s_ready = 0)
  uint64_t engine_blocked = 0;     // ... while the score engine holds a beat for the back-end
  bool finished = false;
};

// Drives jobs one after another through a unit: reset, alpha (address 0), theta (address 1 + slot), the key set
// with its V rows, the queries (as q_ready allows), then waits for every output before the next job (a new key
// set must not overwrite V under a query still in the back-end). Checks on every cycle: o_data has dv
// elements, o_* are 0 when !o_valid, a held beat does not change, and without overlap q_ready is 0 while a
// query is in flight.
class Driver {
 public:
  Driver(UnitCycleModel& m, const std::vector<Job>& jobs, DriveOptions opt)
      : m_(m), c_(m.config()), jobs_(jobs), opt_(std::move(opt)), rng_(opt_.seed) {
    step_ = opt_.reset_cycles > 0 ? Step::kReset : Step::kAlpha;
  }

  RunRecord run() {
    UnitOutputs prev;
    bool held = false;
    for (uint64_t cyc = 0; step_ != Step::kFinished && cyc < opt_.max_cycles; ++cyc) {
      if (opt_.stop_after != 0 && cyc >= opt_.stop_after) return rec_;
      AttnInputs in = inputs();
      in.o_ready = opt_.o_ready(cyc, rng_);
      const UnitOutputs o = m_.eval(in);
      check(o, held ? &prev : nullptr);
      if (::testing::Test::HasFatalFailure()) return rec_;
      observe(in);
      m_.tick(in);
      advance(in, o);
      held = in.rst_n && o.o_valid && !in.o_ready;
      prev = o;
    }
    rec_.finished = step_ == Step::kFinished;
    EXPECT_TRUE(rec_.finished) << "not finished within " << opt_.max_cycles << " cycles";
    return rec_;
  }

 private:
  enum class Step { kReset, kAlpha, kTheta, kKeys, kQueries, kDrain, kFinished };

  const Job& job() const { return jobs_[job_]; }

  AttnInputs inputs() {
    AttnInputs in;
    const core::AttentionWorkload& w = job().w;
    switch (step_) {
      case Step::kReset: in.rst_n = false; break;
      case Step::kAlpha: in = with_cfg_write(in, 0, job().alpha); break;
      case Step::kTheta:
        in = with_cfg_write(in, 1 + static_cast<uint32_t>(w.params.slot), static_cast<uint64_t>(w.params.theta));
        break;
      case Step::kKeys:
        in.k_valid = true;
        in.k_data = row(w.k, next_);
        in.k_vdata = row(w.v, next_);
        in.k_last = next_ + 1 == w.k.rows();
        break;
      case Step::kQueries:
        in.q_valid = std::bernoulli_distribution(opt_.q_valid_p)(rng_);
        in.q_data = row(w.q, next_);
        in.q_slot = static_cast<uint32_t>(w.params.slot);
        break;
      default: break;
    }
    return in;
  }

  static std::vector<int64_t> row(const core::IntMatrix& m, Eigen::Index i) {
    std::vector<int64_t> r(static_cast<size_t>(m.cols()));
    for (Eigen::Index t = 0; t < m.cols(); ++t) r[static_cast<size_t>(t)] = m(i, t);
    return r;
  }

  void check(const UnitOutputs& o, const UnitOutputs* held) {
    ASSERT_EQ(o.o_data.size(), static_cast<size_t>(c_.dv));
    if (!o.o_valid) {
      UnitOutputs blank;
      blank.o_data.assign(static_cast<size_t>(c_.dv), 0);
      ASSERT_EQ(stream_of(o), blank) << "o_* fields not 0 while o_valid = 0";
    }
    if (held != nullptr) {
      ASSERT_EQ(stream_of(o), stream_of(*held)) << "held output beat changed";
    }
    if (!c_.overlap_backend && in_flight_ > 0) {
      ASSERT_FALSE(o.q_ready) << "query accepted while one is in flight";
    }
  }

  void observe(const AttnInputs& in) {
    rec_.inputs.push_back(in);
    if (!in.rst_n) return;
    ++rec_.cycles;
    const bool closed = m_.closed_buffers() == 2;
    rec_.engine_active += m_.score_engine().active_lanes() > 0 ? 1 : 0;
    rec_.both_closed += closed ? 1 : 0;
    rec_.engine_blocked += closed && m_.score_engine().eval(in).s_valid ? 1 : 0;
  }

  // What transferred at the edge that just happened moves the script on.
  void advance(const AttnInputs& in, const UnitOutputs& o) {
    if (in.rst_n && o.o_valid && in.o_ready) {
      rec_.beats.push_back(o);
      --in_flight_;
      ++received_;
    }
    switch (step_) {
      case Step::kReset:
        if (++next_ == opt_.reset_cycles) step_ = Step::kAlpha;
        break;
      case Step::kAlpha: step_ = c_.dense_baseline ? Step::kKeys : Step::kTheta; next_ = 0; break;
      case Step::kTheta: step_ = Step::kKeys; next_ = 0; break;
      case Step::kKeys:
        if (o.k_ready && ++next_ == job().w.k.rows()) {
          step_ = Step::kQueries;
          next_ = 0;
        }
        break;
      case Step::kQueries:
        if (in.q_valid && o.q_ready) {
          ++in_flight_;
          if (++next_ == job().w.q.rows()) step_ = Step::kDrain;
        }
        break;
      default: break;
    }
    if (step_ == Step::kDrain && received_ == expected_so_far()) {
      ++job_;
      step_ = job_ == jobs_.size() ? Step::kFinished : Step::kAlpha;
    }
  }

  int64_t expected_so_far() const {
    int64_t n = 0;
    for (size_t j = 0; j <= job_; ++j) n += jobs_[j].w.q.rows();
    return n;
  }

  UnitCycleModel& m_;
  const core::AttentionConfig& c_;
  const std::vector<Job>& jobs_;
  DriveOptions opt_;
  std::mt19937_64 rng_;
  Step step_;
  size_t job_ = 0;
  Eigen::Index next_ = 0;  // reset cycle, key or query of the current step
  int64_t in_flight_ = 0, received_ = 0;
  RunRecord rec_;
};

int64_t row_sum(const IntGrid& g, Eigen::Index i) { return g.row(i).cast<int64_t>().sum(); }

// Every beat against the functional models, in query order; o_bcycles against n + 2 + QB + 1 (exact when the
// output is never held up, a lower bound otherwise); sum of o_cycles against the engine's active cycles.
void expect_matches(const core::AttentionConfig& c, const std::vector<Job>& jobs, const RunRecord& r,
                    bool never_held) {
  size_t b = 0;
  uint64_t sum_cycles = 0;
  const int qb = core::widths(c).qb;
  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    for (Eigen::Index i = 0; i < job.w.q.rows(); ++i, ++b) {
      SCOPED_TRACE(testing::Message() << "job " << j << " query " << i);
      ASSERT_LT(b, r.beats.size());
      const UnitOutputs& o = r.beats[b];
      for (Eigen::Index col = 0; col < c.dv; ++col) {
        EXPECT_EQ(o.o_data[static_cast<size_t>(col)], job.expected.o(i, col)) << "column " << col;
      }
      const int64_t n = job.scores.kept.row(i).count();
      EXPECT_EQ(o.o_empty, job.expected.empty[static_cast<size_t>(i)]);
      EXPECT_EQ(o.o_count, static_cast<uint32_t>(n));
      EXPECT_EQ(o.o_steps, static_cast<uint64_t>(row_sum(job.scores.steps, i)));
      const uint64_t min_b = n == 0 ? 1 : static_cast<uint64_t>(n + 2 + qb + 1);
      if (never_held) {
        EXPECT_EQ(o.o_bcycles, min_b);
      } else {
        EXPECT_GE(o.o_bcycles, min_b);
      }
      sum_cycles += o.o_cycles;
    }
  }
  EXPECT_EQ(b, r.beats.size());
  EXPECT_EQ(sum_cycles, r.engine_active);
}

// The score engine alone (s_ready = 1) under the same per-cycle inputs: sum of its end beats' s_cycles.
uint64_t engine_alone_score_cycles(const core::AttentionConfig& c, const std::vector<AttnInputs>& inputs) {
  AttnCycleModel e(c);
  uint64_t sum = 0;
  for (AttnInputs in : inputs) {
    in.s_ready = true;
    const AttnOutputs o = e.eval(in);
    if (in.rst_n && o.s_valid && o.s_eoq) sum += o.s_cycles;
    e.tick(in);
  }
  return sum;
}

core::AttentionConfig regression_config(const std::string& name) {
  return core::load_attention_config(std::string(ACCELGEN_SOURCE_DIR) + "/configs/regression/" + name + ".json");
}

// Two jobs per run (the second reloads the key set), Lk up to 24, 10 queries each.
std::vector<Job> two_jobs(const core::AttentionConfig& c, uint64_t seed) {
  const int lk1 = std::min(c.max_keys, 24), lk2 = std::max(1, std::min(c.max_keys, 24) / 2 + 1);
  return {make_job(c, "gaussian", 10, lk1, seed), make_job(c, "peaky", 10, lk2, seed + 1)};
}

// A regression config with one of four back-end variants: as is, F_o = 0, F_o = 5 with a 2-bit exp table,
// no overlap.
core::AttentionConfig variant(core::AttentionConfig c, int v) {
  if (v == 1) c.out_frac_bits = 0;
  if (v == 2) {
    c.out_frac_bits = 5;
    c.exp_lut_bits = 2;
  }
  if (v == 3) c.overlap_backend = false;
  return c;
}

// Every regression config and variant, random o_ready and query gaps: rows, flags and statistics as the
// functional models.
TEST(UnitModelRandom, RegressionConfigsMatchTheFunctionalModels) {
  uint64_t runs = 0, beats = 0, closed = 0;
  for (const std::string& name : test_support::regression_configs(ACCELGEN_SOURCE_DIR)) {
    for (int v = 0; v < 4; ++v) {
      const core::AttentionConfig c = variant(regression_config(name), v);
      for (uint64_t seed = 11; seed <= 13; ++seed) {
        SCOPED_TRACE(testing::Message() << "config " << name << " variant " << v << " seed " << seed);
        const std::vector<Job> jobs = two_jobs(c, seed);
        UnitCycleModel m(c);
        DriveOptions opt;
        opt.seed = seed;
        opt.q_valid_p = 0.6;
        opt.o_ready = random_ready(0.6);
        const RunRecord r = Driver(m, jobs, opt).run();
        if (::testing::Test::HasFatalFailure()) return;
        expect_matches(c, jobs, r, false);
        ++runs;
        beats += r.beats.size();
        closed += r.both_closed;
      }
    }
  }
  std::cout << "unit model random: " << runs << " runs, " << beats << " output beats, " << closed
            << " cycles with both collect buffers closed\n";
}

// o_ready = 1 throughout: o_bcycles is exactly n + 2 + QB + 1. The score-phase cycles (sum of o_cycles) equal
// the score engine's alone exactly when the back-end never closed both buffers (then the engine saw s_ready = 1
// throughout); otherwise lanes holding a kept score may stall, and those cycles count.
TEST(UnitModelRandom, ScoreCyclesEqualTheEngineAloneWithoutBackPressure) {
  int compared = 0, pressured = 0;
  for (const std::string& name : test_support::regression_configs(ACCELGEN_SOURCE_DIR)) {
    const core::AttentionConfig c = regression_config(name);
    for (const double q_valid_p : {1.0, 0.03}) {
      SCOPED_TRACE(testing::Message() << "config " << name << " seed 21 q_valid_p " << q_valid_p);
      const std::vector<Job> jobs = two_jobs(c, 21);
      UnitCycleModel m(c);
      DriveOptions opt;
      opt.seed = 21;
      opt.q_valid_p = q_valid_p;
      const RunRecord r = Driver(m, jobs, opt).run();
      if (::testing::Test::HasFatalFailure()) return;
      expect_matches(c, jobs, r, true);
      if (r.both_closed > 0) {
        ++pressured;
        continue;
      }
      ++compared;
      EXPECT_EQ(r.engine_active, engine_alone_score_cycles(c, r.inputs));
    }
  }
  std::cout << "score cycles: " << compared << " runs equal to the engine alone, " << pressured
            << " runs with back-end back-pressure\n";
  EXPECT_GT(compared, 4);
}

// o_ready = 0 for the first 600 cycles: the output register holds query 0, DONE holds query 1, both collect
// buffers close (queries 2, 3), the score engine holds a beat it cannot send (s_ready = 0) and its lanes stall.
// When o_ready returns, every row comes out, in order and exact.
TEST(UnitModelBackPressure, BothBuffersCloseAndNothingIsLost) {
  const core::AttentionConfig c = regression_config("r_d3");
  const std::vector<Job> jobs = {make_job(c, "gaussian", 12, 17, 31)};
  UnitCycleModel m(c);
  DriveOptions opt;
  opt.seed = 31;
  opt.o_ready = [](uint64_t cyc, std::mt19937_64&) { return cyc >= 600; };
  opt.stop_after = 599;
  Driver first(m, jobs, opt);
  const RunRecord held = first.run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  EXPECT_TRUE(held.beats.empty());
  EXPECT_EQ(m.closed_buffers(), 2);
  EXPECT_TRUE(m.backend_busy());  // DONE, waiting for the output register
  EXPECT_TRUE(m.eval(idle(false)).o_valid);
  EXPECT_TRUE(m.score_engine().eval(idle(false)).s_valid);
  EXPECT_GT(held.engine_blocked, 350u);  // most of the 600 held cycles

  // The whole run again, this time to the end.
  UnitCycleModel m2(c);
  opt.stop_after = 0;
  const RunRecord r = Driver(m2, jobs, opt).run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  expect_matches(c, jobs, r, false);
  EXPECT_GT(r.engine_blocked, 350u);
}

// overlap_backend = false: q_ready is 0 from a query beat to its output beat (checked by the driver every
// cycle), at most one collect buffer is ever closed, results are the same and the run is not faster.
TEST(UnitModelOverlap, WithoutOverlapOneQueryIsInFlight) {
  for (const std::string name : {"r_d3", "r_d16", "r_dense"}) {
    core::AttentionConfig c = regression_config(name);
    const std::vector<Job> jobs = two_jobs(c, 41);
    uint64_t cycles[2] = {0, 0};
    for (const bool overlap : {true, false}) {
      SCOPED_TRACE(testing::Message() << "config " << name << " seed 41 overlap " << overlap);
      c.overlap_backend = overlap;
      UnitCycleModel m(c);
      DriveOptions opt;
      opt.seed = 41;
      const RunRecord r = Driver(m, jobs, opt).run();
      ASSERT_FALSE(::testing::Test::HasFatalFailure());
      expect_matches(c, jobs, r, true);
      if (!overlap) {
        EXPECT_EQ(r.both_closed, 0u);
      }
      cycles[overlap ? 0 : 1] = r.cycles;
    }
    EXPECT_GE(cycles[1], cycles[0]);
    std::cout << name << ": " << cycles[0] << " cycles with overlap, " << cycles[1] << " without\n";
  }
}

// A reset while queries sit in both collect buffers, the back-end and the output register: the reset cycle shows
// the reset state and the next cycle starts from it (nothing valid, no key set, back-end idle). A whole run
// after that single reset cycle is exact.
TEST(UnitModelReset, ResetInTheMiddleClearsTheState) {
  const core::AttentionConfig c = regression_config("r_d7");
  UnitCycleModel m(c);
  DriveOptions opt;
  opt.seed = 51;
  opt.o_ready = [](uint64_t cyc, std::mt19937_64&) { return cyc < 200; };
  opt.stop_after = 400;
  const std::vector<Job> before = {make_job(c, "gaussian", 30, 40, 51)};
  Driver(m, before, opt).run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  ASSERT_TRUE(m.eval(idle(false)).o_valid);
  ASSERT_TRUE(m.backend_busy());
  ASSERT_EQ(m.closed_buffers(), 2);

  const UnitOutputs in_reset = m.eval(reset_in());
  EXPECT_EQ(in_reset, ports(c, true, false, 0));
  m.tick(reset_in());
  EXPECT_EQ(m.eval(idle()), ports(c, true, false, 0));
  EXPECT_FALSE(m.backend_busy());
  EXPECT_EQ(m.closed_buffers(), 0);
  EXPECT_EQ(m.score_engine().busy_contexts(), 0);

  const std::vector<Job> after = {make_job(c, "peaky", 12, 20, 52)};
  DriveOptions again;
  again.seed = 52;
  again.reset_cycles = 0;
  again.o_ready = random_ready(0.5);
  const RunRecord r = Driver(m, after, again).run();
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  expect_matches(c, after, r, false);
}

// k_vdata must carry dv elements on a key beat (and is ignored otherwise).
TEST(UnitModelPorts, KeyBeatWithoutDvValueElementsIsAnInputError) {
  const core::AttentionConfig c = tiny();
  UnitCycleModel m(c);
  m.tick(reset_in());
  m.tick(idle());
  AttnInputs bad = key({1}, {1}, true);
  const std::string msg = test_support::error_of([&] { m.tick(bad); });
  EXPECT_TRUE(test_support::has(msg, "k_vdata")) << msg;
  EXPECT_TRUE(m.eval(idle()).k_ready);  // nothing was loaded
  EXPECT_FALSE(m.eval(idle()).q_ready);
  AttnInputs no_beat = idle();
  no_beat.k_vdata = {1, 2, 3};
  m.tick(no_beat);
}

}  // namespace
}  // namespace accelgen::golden
