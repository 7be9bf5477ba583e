// Tests of accelgen::golden cycle model (golden/cycle_model.h) against docs/microarchitecture.md.
// Timelines are hand-derived from the cycle contract (the derivation is in the comments); cycle c means
// "eval(in[c]) shows the outputs of cycle c, then tick(in[c]) is the edge that ends it". The random test
// checks properties that hold for any correct implementation (functional kept sets, step totals, stream
// stability).
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "core/config.h"
#include "golden/cycle_model.h"
#include "golden/functional.h"
#include "attn_pins.h"

namespace accelgen::golden {
namespace {

using namespace test_support::pins;

// ---- expected-output helpers ----

AttnOutputs ports(bool k_ready, bool q_ready, uint64_t cfg_rdata = 0) {
  AttnOutputs o;
  o.k_ready = k_ready;
  o.q_ready = q_ready;
  o.cfg_rdata = cfg_rdata;
  return o;
}
AttnOutputs score_beat(AttnOutputs o, uint32_t key, int64_t score) {
  o.s_valid = true;
  o.s_key = key;
  o.s_score = score;
  return o;
}
AttnOutputs eoq_beat(AttnOutputs o, uint32_t count, uint64_t steps, uint64_t cycles) {
  o.s_valid = true;
  o.s_eoq = true;
  o.s_count = count;
  o.s_empty = count == 0;
  o.s_steps = steps;
  o.s_cycles = cycles;
  return o;
}

struct Trace {
  std::vector<AttnOutputs> out;
  std::vector<int> active;   // active_lanes() during each cycle
  std::vector<int> stalled;  // stalled_lanes() during each cycle
};

Trace run(AttnCycleModel& m, const std::vector<AttnInputs>& ins) {
  Trace t;
  for (const AttnInputs& in : ins) {
    t.out.push_back(m.eval(in));
    t.active.push_back(m.active_lanes());
    t.stalled.push_back(m.stalled_lanes(in));
    m.tick(in);
  }
  return t;
}

void expect_trace(const Trace& t, const std::vector<AttnOutputs>& expected) {
  ASSERT_EQ(t.out.size(), expected.size());
  for (size_t c = 0; c < expected.size(); ++c) EXPECT_EQ(t.out[c], expected[c]) << "cycle " << c;
}

// d=1, wq=4, wk=2, 1 lane, 4 keys, 1 slot. SW = 4+2+0 = 6, TW = 8, AW = 8, CDW = 8, CAW = clog2(2) = 1.
// One key store bank per lane unless `banks` says otherwise.
core::AttentionConfig tiny(int lanes = 1, int max_keys = 4, int slots = 1, int banks = 0) {
  core::AttentionConfig c;
  c.d = 1;
  c.dv = 1;
  c.wq = 4;
  c.wk = 2;
  c.wv = 4;
  c.lanes = lanes;
  c.max_keys = max_keys;
  c.threshold_slots = slots;
  c.alpha_mant_bits = 13;  // AW = 13 + 6 = 19
  c.key_banks = banks != 0 ? banks : lanes;
  return c;
}

// Arithmetic used by the timelines below (wk = 2: bit 1 is the sign bit, bound U1 = A*2 + 1*Qpos):
//   q=[3] (Qpos 3), theta 1: key  1 = 01b: A1 = 0,  U1 = 3 >= 1; A2 = 3 = s      -> kept,   n = 2, s = 3
//                            key -2 = 10b: A1 = -3, U1 = -3 < 1                   -> pruned, n = 1
//   q=[-1] (Qpos 0), theta 1: key 1: A1 = 0, U1 = 0 < 1                           -> pruned, n = 1
//                             key -2: A1 = +1, U1 = 2; A2 = 2 = s                 -> kept,   n = 2, s = 2
// Contexts: the first query enters context 0 (the head after reset); keys are issued from registered
// contexts only, so a query's first key is issued at the edge after the one where it enters its context.
// An issued key goes to the lane's next-key register while the key store reads its row (synchronous
// read); the lane starts it at the end of its current key, at the earliest at the edge after the issue.

// Reset, theta = 1, keys {1, -2}, one query [3], s_ready = 1 throughout.
//   c4 edge: query buffered.  c5 edge: start into context 0.  c6 edge: key0 issued (row read).
//   c7: the lane is idle; it takes key0 at the edge.  c8: key0 step 1; key1 issued (the next-key register
//   is empty again).  c9: key0 step 2, done kept -> slot0; lane0 <- key1.  c10: key1 step 1, done pruned;
//   lane idle; slot0 granted -> output register.  c11: beat (key0, 3); eoq_cond -> end beat loaded.
//   c12: end beat: count 1, steps 2+1 = 3, cycles = c8..c10 = 3; no context busy any more.
TEST(CycleModelTimeline, OneLaneTwoKeysOneQuery) {
  AttnCycleModel m(tiny());
  AttnInputs read1 = key({1}, false);
  read1.cfg_addr = 1;
  const std::vector<AttnInputs> ins = then_idle({reset_in(),       // c0
                                                 cfg_write(1, 1),  // c1 theta[0] = 1
                                                 read1,            // c2 key 0 = [1], read theta[0]
                                                 key({-2}, true),  // c3 key 1 = [-2], last
                                                 query({3})},      // c4
                                                9);                // c5..c13
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false),                    // c0 reset state
                      ports(true, false, 0),                 // c1 the write lands at the edge
                      ports(true, false, 1),                 // c2
                      ports(true, false),                    // c3 set not complete yet
                      ports(true, true),                     // c4 query accepted
                      ports(false, false),                   // c5 buffered, start at this edge
                      ports(false, true),                    // c6 next query may be buffered
                      ports(false, true),                    // c7
                      ports(false, true),                    // c8
                      ports(false, true),                    // c9
                      ports(false, true),                    // c10
                      score_beat(ports(false, true), 0, 3),  // c11
                      eoq_beat(ports(true, true), 1, 3, 3),  // c12
                      ports(true, true),                     // c13
                  });
  EXPECT_EQ(t.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0}));
}

// As above, with a second query B = [-1] buffered at c6. Context 1 is free, so B enters it at the c7 edge;
// its keys go to lanes once context 0 (the head) has issued all of its own.
//   c7: lane0 takes A key0.  c8: A key0 step 1; A key1 issued.  c9: A key0 kept -> slot0; lane0 <- A key1.
//   c10: A key1 pruned (n=1), lane idle; B key0 issued (context 1); slot0 (A) granted.
//   c11: beat (0, 3); lane0 takes B key0. A's end condition holds -> end beat loaded, head -> context 1,
//        cycle counter restarts at 0 (no lane is active in c11).
//   c12: end beat of A: count 1, steps 3, cycles c8..c10 = 3.  B key0 pruned (n=1); B key1 issued.
//   c13: idle, lane0 takes B key1.  c14: B key1 step 1.  c15: B key1 kept -> slot0.  c16: slot0 -> output.
//   c17: beat (1, 2); end beat loaded.  c18: end beat of B: count 1, steps 1+2 = 3, cycles c12, c14, c15 = 3.
TEST(CycleModelTimeline, NextQueryUsesLanesTheCurrentQueryNoLongerNeeds) {
  AttnCycleModel m(tiny());
  const std::vector<AttnInputs> ins =
      then_idle({reset_in(), cfg_write(1, 1), key({1}, false), key({-2}, true), query({3}),  // c0..c4
                 idle(),                                                                     // c5
                 query({-1})},                                                               // c6
                13);                                                                         // c7..c19
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false), ports(true, false), ports(true, false), ports(true, false),
                      ports(true, true),                      // c4
                      ports(false, false),                    // c5
                      ports(false, true),                     // c6 B accepted
                      ports(false, false),                    // c7 B buffered; enters context 1 at this edge
                      ports(false, true),                     // c8
                      ports(false, true),                     // c9
                      ports(false, true),                     // c10
                      score_beat(ports(false, true), 0, 3),   // c11
                      eoq_beat(ports(false, true), 1, 3, 3),  // c12 B still busy: k_ready stays 0
                      ports(false, true),                     // c13
                      ports(false, true),                     // c14
                      ports(false, true),                     // c15
                      ports(false, true),                     // c16
                      score_beat(ports(false, true), 1, 2),   // c17
                      eoq_beat(ports(true, true), 1, 3, 3),   // c18
                      ports(true, true),                      // c19
                  });
  EXPECT_EQ(t.active,
            (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0}));
}

// 2 lanes (2 banks), keys {-2, 1, 1}, query [3], theta 1: key0 n=1 pruned, key1 and key2 n=2 kept (s=3).
//   c6 edge: start.  c7 edge: key0 -> lane0's next-key register, key1 -> lane1's (banks 0 and 1).
//   c8: both lanes idle; they take their keys.
//   c9: lane0 key0 done (pruned), nothing queued: idle; key2 issued to it; lane1 key1 step 1.  cycles 1
//   c10: lane0 takes key2; lane1 key1 done kept -> slot1, idle.                                  cycles 2
//   c11: lane0 key2 step 1; slot1 granted -> output.                                             cycles 3
//   c12: beat (1, 3); lane0 key2 done kept -> slot0.                                             cycles 4
//   c13: slot0 -> output.  c14: beat (2, 3); end.  c15: end beat: count 2, steps 5, cycles 4.
// (The early finisher gets the next key at the edge where it finishes and starts it one cycle later: the
// key's row is read at the issue edge.)
TEST(CycleModelTimeline, TwoLanesEarlyFinisherStartsTheNextKeyACycleAfterItsIssue) {
  AttnCycleModel m(tiny(2));
  const std::vector<AttnInputs> ins = then_idle(
      {reset_in(), cfg_write(1, 1), key({-2}, false), key({1}, false), key({1}, true), query({3})},  // c0..c5
      11);  // c6..c16
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false), ports(true, false), ports(true, false), ports(true, false),
                      ports(true, false),                                          // c4 last key
                      ports(true, true),                                           // c5 query accepted
                      ports(false, false),                                         // c6
                      ports(false, true), ports(false, true), ports(false, true),  // c7..c9
                      ports(false, true), ports(false, true),                      // c10, c11
                      score_beat(ports(false, true), 1, 3),                        // c12
                      ports(false, true),                                          // c13
                      score_beat(ports(false, true), 2, 3),                        // c14
                      eoq_beat(ports(true, true), 2, 5, 4),                        // c15
                      ports(true, true),                                           // c16
                  });
  EXPECT_EQ(t.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 1, 0, 0, 0, 0}));
}

// The next-key register (docs/microarchitecture.md "Key issue"): keys go to lanes with room in index order,
// not to the lane that becomes free first. 2 lanes, keys {1, -2, -2}, query [3], theta 1: key0 n=2 kept (s=3),
// key1 and key2 n=1 pruned.
//   c6 edge: start.  c7 edge: key0, key1 -> the next-key registers of lane0, lane1.  c8: both take them.
//   c9: both lanes have room, lane0 first: key2 goes to lane0's next-key register (key0 is not done).
//       lane1: key1 done (pruned), nothing for it: idle.                              steps 2, cycles 1
//   c10: lane0 key0 done kept -> slot0, starts key2 from its register.                 steps 3, cycles 2
//   c11: lane0 key2 done (pruned); slot0 granted -> output.                            steps 4, cycles 3
//   c12: beat (0, 3); end condition -> end beat.   c13: end beat: count 1, steps 4, cycles 3.
// (Handing key2 to the lane that became free first, lane1 in c9, would have ended the scores a cycle earlier.)
TEST(CycleModelTimeline, TwoLanesKeyWaitsInTheNextKeyRegisterOfTheLowestLaneWithRoom) {
  AttnCycleModel m(tiny(2));
  const std::vector<AttnInputs> ins = then_idle(
      {reset_in(), cfg_write(1, 1), key({1}, false), key({-2}, false), key({-2}, true), query({3})},  // c0..c5
      9);  // c6..c14
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false), ports(true, false), ports(true, false), ports(true, false),
                      ports(true, false),                                          // c4 last key
                      ports(true, true),                                           // c5 query accepted
                      ports(false, false),                                         // c6
                      ports(false, true), ports(false, true), ports(false, true),  // c7..c9
                      ports(false, true), ports(false, true),                      // c10, c11
                      score_beat(ports(false, true), 0, 3),                        // c12
                      eoq_beat(ports(true, true), 1, 4, 3),                        // c13
                      ports(true, true),                                           // c14
                  });
  EXPECT_EQ(t.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 0, 0, 0}));
}

// 2 lanes, keys {1, 1}, query [3], theta 1: both kept (n=2, s=3) at the same edge; lowest lane goes first.
//   c5 edge start.  c6 edge: key0 -> lane0, key1 -> lane1 (next-key registers).  c7: both take them.
//   c8: both step 1.  c9: both kept -> slot0, slot1.  c10: slot0 granted; slot1 waits (its lane is idle,
//   nothing stalls).  c11: beat (0, 3); slot1 granted.  c12: beat (1, 3); end.
//   c13: end beat: count 2, steps 4, cycles c8..c9 = 2.
TEST(CycleModelTimeline, SimultaneousResultsLeaveLowestLaneFirst) {
  AttnCycleModel m(tiny(2));
  const std::vector<AttnInputs> ins =
      then_idle({reset_in(), cfg_write(1, 1), key({1}, false), key({1}, true), query({3})},  // c0..c4
                10);                                                                         // c5..c14
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false), ports(true, false), ports(true, false), ports(true, false),
                      ports(true, true),                                           // c4
                      ports(false, false),                                         // c5
                      ports(false, true), ports(false, true), ports(false, true),  // c6..c8
                      ports(false, true), ports(false, true),                      // c9, c10
                      score_beat(ports(false, true), 0, 3),                        // c11
                      score_beat(ports(false, true), 1, 3),                        // c12
                      eoq_beat(ports(true, true), 2, 4, 2),                        // c13
                      ports(true, true),                                           // c14
                  });
}

// As above with one key store bank: one key is issued per cycle.
//   c6 edge: key0 -> lane0 (bank 0 taken: key1 waits).  c7: lane0 takes key0; key1 -> lane1.
//   c8: lane0 step 1; lane1 takes key1.  c9: lane0 kept -> slot0; lane1 step 1.
//   c10: slot0 granted; lane1 kept -> slot1.  c11: beat (0, 3); slot1 granted.  c12: beat (1, 3); end.
//   c13: end beat: count 2, steps 4, cycles c8..c10 = 3.
TEST(CycleModelTimeline, OneKeyStoreBankIssuesOneKeyPerCycle) {
  AttnCycleModel m(tiny(2, 4, 1, 1));
  const std::vector<AttnInputs> ins =
      then_idle({reset_in(), cfg_write(1, 1), key({1}, false), key({1}, true), query({3})},  // c0..c4
                10);                                                                         // c5..c14
  const Trace t = run(m, ins);
  expect_trace(t, {
                      ports(true, false), ports(true, false), ports(true, false), ports(true, false),
                      ports(true, true),                                           // c4
                      ports(false, false),                                         // c5
                      ports(false, true), ports(false, true), ports(false, true),  // c6..c8
                      ports(false, true), ports(false, true),                      // c9, c10
                      score_beat(ports(false, true), 0, 3),                        // c11
                      score_beat(ports(false, true), 1, 3),                        // c12
                      eoq_beat(ports(true, true), 2, 4, 3),                        // c13
                      ports(true, true),                                           // c14
                  });
  EXPECT_EQ(t.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 0}));
}

// The next-key queue (key_queue 2, docs/microarchitecture.md "Next-key queue"). 1 lane, one bank, keys
// {-2, -2, -2, 1}, query [3], theta 1: keys 0-2 pruned at their sign step (n=1), key 3 kept (n=2, s=3).
//   c6: query accepted.  c7 edge: start.  c8 edge: key0 issued into the empty queue.
//   key_queue 2 -- c9 edge: the lane takes key0; the queue has room: key1 issued.
//     c10: key0 pruned; the lane takes key1 (its row arrived in c10); key2 issued.
//     c11: key1 pruned, lane <- key2; key3 issued.  c12: key2 pruned, lane <- key3.  c13: key3 step 1.
//     c14: key3 kept -> slot.  c15: slot -> output.  c16: beat (3, 3); end condition -> end beat.
//     c17: end beat: count 1, steps 5, cycles c10..c14 = 5.
//   key_queue 1 -- c9 edge: the lane takes key0; the register was full before the edge: nothing issued.
//     c10: key0 pruned, the register is empty: the lane idles; key1 issued.  c11: idle, lane <- key1.
//     c12: key1 pruned; key2 issued.  c13: idle, lane <- key2.  c14: key2 pruned; key3 issued.
//     c15: idle, lane <- key3.  c16, c17: key3 steps 1, 2, kept -> slot.  c18: slot -> output.
//     c19: beat (3, 3); end beat.  c20: end beat: count 1, steps 5, cycles c10, c12, c14, c16, c17 = 5.
// A one-step key costs two cycles with one key ahead and one with two.
TEST(CycleModelTimeline, NextKeyQueueOfTwoRemovesTheIdleCycleAfterAOneStepKey) {
  const std::vector<AttnInputs> ins = then_idle({reset_in(), cfg_write(1, 1), key({-2}, false), key({-2}, false),
                                                 key({-2}, false), key({1}, true), query({3})},  // c0..c6
                                                15);                                             // c7..c21
  const auto head = [] {
    return std::vector<AttnOutputs>{
        ports(true, false), ports(true, false), ports(true, false), ports(true, false),
        ports(true, false), ports(true, false),  // c0..c5: reset, theta, keys
        ports(true, true),                       // c6 query accepted
        ports(false, false),                     // c7 buffered, start at this edge
    };
  };
  core::AttentionConfig two = tiny();
  two.key_queue = 2;
  AttnCycleModel m2(two);
  std::vector<AttnOutputs> e2 = head();
  for (int c = 8; c <= 15; ++c) e2.push_back(ports(false, true));  // c8..c15
  e2.push_back(score_beat(ports(false, true), 3, 3));               // c16
  e2.push_back(eoq_beat(ports(true, true), 1, 5, 5));               // c17
  for (int c = 18; c <= 21; ++c) e2.push_back(ports(true, true));
  const Trace t2 = run(m2, ins);
  expect_trace(t2, e2);
  EXPECT_EQ(t2.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}));

  AttnCycleModel m1(tiny());
  std::vector<AttnOutputs> e1 = head();
  for (int c = 8; c <= 18; ++c) e1.push_back(ports(false, true));  // c8..c18
  e1.push_back(score_beat(ports(false, true), 3, 3));               // c19
  e1.push_back(eoq_beat(ports(true, true), 1, 5, 5));               // c20
  e1.push_back(ports(true, true));                                  // c21
  const Trace t1 = run(m1, ins);
  expect_trace(t1, e1);
  EXPECT_EQ(t1.active, (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0}));
}

// 1 lane, keys {1, 1, 1} (all kept, n=2, s=3), query [3], theta 1; s_ready = 0 during c12..c15.
//   c6 edge start.  c7 edge: key0 issued.  c8: lane takes key0.  c9: key0 step 1; key1 issued.
//   c10: key0 kept -> slot; lane <- key1.  c11: key1 step 1; key2 issued; slot -> output.
//   c12: beat key0 held (s_ready = 0); key1 kept into the now-empty slot; lane <- key2.  c13: key2 step 1.
//   c14, c15: key2 kept but the slot is full and not granted: the lane stalls (no step, but a score cycle).
//   c16: s_ready: key0 leaves, slot(key1) -> output, key2 commits into the slot.
//   c17: beat key1; slot(key2) -> output.  c18: beat key2; end.  c19: end: count 3, steps 6, cycles c9..c16
//   = 8.
TEST(CycleModelTimeline, BackPressureStallsALaneWithAKeptScore) {
  AttnCycleModel m(tiny());
  std::vector<AttnInputs> ins = {reset_in(),      cfg_write(1, 1), key({1}, false),
                                 key({1}, false), key({1}, true),  query({3})};  // c0..c5
  for (int c = 6; c <= 20; ++c) ins.push_back(idle(c < 12 || c > 15));
  const Trace t = run(m, ins);
  std::vector<AttnOutputs> expected = {ports(true, false), ports(true, false), ports(true, false),
                                       ports(true, false), ports(true, false), ports(true, true),
                                       ports(false, false)};  // c0..c6
  for (int c = 7; c <= 11; ++c) expected.push_back(ports(false, true));
  for (int c = 12; c <= 16; ++c) expected.push_back(score_beat(ports(false, true), 0, 3));
  expected.push_back(score_beat(ports(false, true), 1, 3));  // c17
  expected.push_back(score_beat(ports(false, true), 2, 3));  // c18
  expected.push_back(eoq_beat(ports(true, true), 3, 6, 8));  // c19
  expected.push_back(ports(true, true));                     // c20
  expect_trace(t, expected);
  EXPECT_EQ(t.stalled,
            (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
}

// 1 lane, keys {1, 1}; queries A = B = [3] (every score kept, n=2, s=3); B buffered at c6, enters context 1
// at c7. s_ready = 0 during c11..c13. B's results wait in the slot until A's end beat has been sent.
//   c6 edge: A0 issued.  c7: lane takes A0.  c8: A0 step 1; A1 issued.  c9: A0 kept -> slot; lane <- A1.
//   c10: slot (A0) -> output; A1 step 1; A has no key left: B0 issued (context 1).
//   c11: beat A0 held; A1 kept into the empty slot; lane <- B0.  c12: B0 step 1; B1 issued.
//   c13: B0 kept, slot full (A1) -> stall.  c14: s_ready: A0 leaves, slot (A1) -> output, B0 commits into
//   the slot (context 1); lane <- B1.  c15: beat A1; slot holds B0 but only head results (A) may go: no
//   grant. A's end condition holds: end beat loaded, head -> B, cycle counter restarts at 1. B1 step 1.
//   c16: end beat of A: count 2, steps 4, cycles c8..c14 = 7. Slot (B0) -> output; B1 kept into it.
//   c17: beat B0; slot (B1) -> output.  c18: beat B1; end beat.  c19: end of B: count 2, steps 4, cycles
//   c15..c16 = 2.
TEST(CycleModelTimeline, NextQueryResultsWaitForTheCurrentEndBeat) {
  AttnCycleModel m(tiny());
  std::vector<AttnInputs> ins = {reset_in(), cfg_write(1, 1), key({1}, false), key({1}, true),
                                 query({3}), idle(),          query({3})};  // c0..c6
  for (int c = 7; c <= 20; ++c) ins.push_back(idle(c < 11 || c > 13));
  const Trace t = run(m, ins);
  std::vector<AttnOutputs> expected = {
      ports(true, false),  ports(true, false),  ports(true, false), ports(true, false),
      ports(true, true),   ports(false, false), ports(false, true),  // c6 B accepted
      ports(false, false), ports(false, true),  ports(false, true),  // c7..c9
      ports(false, true)};                                            // c10
  for (int c = 11; c <= 14; ++c) expected.push_back(score_beat(ports(false, true), 0, 3));
  expected.push_back(score_beat(ports(false, true), 1, 3));   // c15
  expected.push_back(eoq_beat(ports(false, true), 2, 4, 7));  // c16
  expected.push_back(score_beat(ports(false, true), 0, 3));   // c17
  expected.push_back(score_beat(ports(false, true), 1, 3));   // c18
  expected.push_back(eoq_beat(ports(true, true), 2, 4, 2));   // c19
  expected.push_back(ports(true, true));                      // c20
  expect_trace(t, expected);
  EXPECT_EQ(t.stalled,
            (std::vector<int>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
}

// Reset in the middle of a query, while a score beat is valid (c11 of OneLaneTwoKeysOneQuery).
// The reset cycle already shows the reset state; afterwards theta is 0 and no key set is loaded (q_ready =
// 0). Then key [1] (last) at c13, query [3] at c14 with theta 0: U1 = 3, U2 = 3 -> kept, n = 2.
//   c15 edge start.  c16 edge issue.  c17 take.  c18 step 1.  c19 kept -> slot.  c20 slot -> output.
//   c21 beat (0, 3).  c22 end: count 1, steps 2, cycles c18..c19 = 2 (the counter was reset).
TEST(CycleModelTimeline, ResetInTheMiddleReturnsToTheResetState) {
  AttnCycleModel m(tiny());
  std::vector<AttnInputs> ins =
      then_idle({reset_in(), cfg_write(1, 1), key({1}, false), key({-2}, true), query({3})}, 6);  // c0..c10
  AttnInputs rst = key({1}, true);  // a key offered during reset is not loaded
  rst.rst_n = false;
  rst.cfg_addr = 1;
  ins.push_back(rst);  // c11
  AttnInputs read1 = idle();
  read1.cfg_addr = 1;
  ins.push_back(read1);           // c12
  ins.push_back(key({1}, true));  // c13
  ins.push_back(query({3}));      // c14
  for (int c = 15; c <= 23; ++c) ins.push_back(idle());
  const Trace t = run(m, ins);
  EXPECT_EQ(t.out[10], ports(false, true));
  EXPECT_EQ(t.active[10], 1);
  EXPECT_EQ(t.out[11], ports(true, false, 0));  // reset state: theta reads 0, nothing valid
  EXPECT_EQ(t.out[12], ports(true, false, 0));  // theta was reset; no key set
  EXPECT_EQ(t.active[12], 0);
  EXPECT_EQ(t.out[13], ports(true, false));
  EXPECT_EQ(t.out[14], ports(true, true));
  EXPECT_EQ(t.out[15], ports(false, false));
  for (int c = 16; c <= 20; ++c) EXPECT_EQ(t.out[c], ports(false, true)) << c;
  EXPECT_EQ(t.out[21], score_beat(ports(false, true), 0, 3));
  EXPECT_EQ(t.out[22], eoq_beat(ports(true, true), 1, 2, 2));
  EXPECT_EQ(t.out[23], ports(true, true));
}

// q_ready = kset_valid && !qb_valid && !(k_valid && k_ready): a key beat that can be taken in the same
// cycle wins and starts a new set; a key beat that must wait for the engine does not block queries.
TEST(CycleModelHandshake, QueryReadyIsLowWhileAKeyIsOffered) {
  AttnCycleModel m(tiny());
  for (const AttnInputs& in : {reset_in(), key({1}, true)}) m.tick(in);
  EXPECT_EQ(m.eval(idle()), ports(true, true));
  AttnInputs both = key({-2}, false);
  both.q_valid = true;
  both.q_data = {3};
  EXPECT_EQ(m.eval(both), ports(true, false));
  m.tick(both);  // key beat after a complete set: new set {-2}, incomplete
  EXPECT_EQ(m.eval(idle()), ports(true, false));
  m.tick(key({1}, true));  // set {-2, 1}
  m.tick(query({3}));      // accepted
  m.tick(idle());          // start
  EXPECT_EQ(m.eval(idle()), ports(false, true));
  EXPECT_EQ(m.eval(key({1}, true)), ports(false, true));  // k_ready is 0 (busy): the key waits, queries flow
}

// Runs until the end-of-query beat, s_ready = 1; returns every beat of the query, eoq last.
std::vector<AttnOutputs> drain(AttnCycleModel& m, int limit = 200) {
  std::vector<AttnOutputs> beats;
  for (int c = 0; c < limit; ++c) {
    const AttnOutputs o = m.eval(idle());
    m.tick(idle());
    if (!o.s_valid) continue;
    beats.push_back(o);
    if (o.s_eoq) return beats;
  }
  ADD_FAILURE() << "no end-of-query beat within " << limit << " cycles";
  return beats;
}

AttnOutputs no_ports(AttnOutputs o) {
  o.k_ready = o.q_ready = false;
  o.cfg_rdata = 0;
  return o;
}

// max_keys = 2: the second beat ends the set without k_last; a third beat starts a new set.
//   set {1, 1}, q [3], theta 1: both kept (n=2) -> count 2, steps 4.
//   set {-2, 1}: key0 n=1 pruned, key1 kept -> beat (1, 3), count 1, steps 3.
TEST(CycleModelKeySet, BeatNumberMaxKeysEndsTheSetAndTheNextBeatStartsANewOne) {
  AttnCycleModel m(tiny(1, 2));
  for (const AttnInputs& in : {reset_in(), cfg_write(1, 1), key({1}, false), key({1}, false)}) m.tick(in);
  EXPECT_TRUE(m.eval(idle()).q_ready);
  m.tick(query({3}));
  std::vector<AttnOutputs> b = drain(m);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(no_ports(b[2]), eoq_beat({}, 2, 4, 4));  // one lane: 4 committing cycles, no stall

  m.tick(key({-2}, false));
  EXPECT_FALSE(m.eval(idle()).q_ready);  // new set incomplete
  m.tick(key({1}, true));
  m.tick(query({3}));
  b = drain(m);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(no_ports(b[0]), score_beat({}, 1, 3));
  EXPECT_EQ(no_ports(b[1]), eoq_beat({}, 1, 3, 3));
}

// threshold_slots = 2: CAW = clog2(3) = 2 (address 3 unmapped), TW = 8, AW = 13 + 6 = 19, CDW = 19, SLW = 1.
TEST(CycleModelConfig, ReadBackMasksAndSignExtends) {
  core::AttentionConfig c = tiny(1, 4, 2);
  AttnCycleModel m(c);
  m.tick(reset_in());
  auto read = [&m](uint32_t addr) {
    AttnInputs in = idle();
    in.cfg_addr = addr;
    return m.eval(in).cfg_rdata;
  };
  const AttnInputs w_alpha = cfg_write(0, 0xFFFFFF);
  EXPECT_EQ(m.eval(w_alpha).cfg_rdata, 0u);  // combinational read shows the old value during the write cycle
  m.tick(w_alpha);
  m.tick(cfg_write(1, 0x80));   // theta[0] = 1000_0000b = -128
  m.tick(cfg_write(2, 0xF7F));  // bits above TW ignored: theta[1] = 0111_1111b = 127
  m.tick(cfg_write(3, 0x123));  // unmapped: ignored
  EXPECT_EQ(read(0), 0x7FFFFu);  // alpha {shift, mant} = low AW = 19 bits
  EXPECT_EQ(read(1), 0x7FF80u);  // -128 sign-extended to CDW = 19 bits
  EXPECT_EQ(read(2), 0x0007Fu);
  EXPECT_EQ(read(3), 0u);
  EXPECT_EQ(read(4), 0x7FFFFu);  // address port is CAW = 2 bits wide: 4 is address 0
  m.tick(cfg_write(1, 0x1F81));  // TW bits 0x81 = -127
  EXPECT_EQ(read(1), 0x7FF81u);
  m.tick(reset_in());
  for (uint32_t a = 0; a < 4; ++a) EXPECT_EQ(read(a), 0u) << a;
}

// threshold_slots = 3 (SLW = 2): slot 3 does not exist and reads theta 0.
//   key [1], q [3] (s = 3): theta 100 -> U1 = 3 < 100: n = 1, pruned, empty; theta 0 -> kept, n = 2.
TEST(CycleModelConfig, QuerySlotSelectsThetaAndMissingSlotIsZero) {
  AttnCycleModel m(tiny(1, 4, 3));
  for (const AttnInputs& in :
       {reset_in(), cfg_write(1, 100), cfg_write(2, 100), cfg_write(3, 100), key({1}, true)}) {
    m.tick(in);
  }
  m.tick(query({3}, 2));
  std::vector<AttnOutputs> b = drain(m);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(no_ports(b[0]), eoq_beat({}, 0, 1, 1));
  EXPECT_TRUE(b[0].s_empty);
  m.tick(query({3}, 3));
  b = drain(m);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(no_ports(b[0]), score_beat({}, 0, 3));
  EXPECT_EQ(no_ports(b[1]), eoq_beat({}, 1, 2, 2));
  m.tick(query({3}, 4));  // the slot port is SLW = 2 bits wide: 4 is slot 0 (theta 100)
  b = drain(m);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(no_ports(b[0]), eoq_beat({}, 0, 1, 1));
}

// A query accepted at the edge that also writes its slot's theta gets the old theta (registers are read
// before the edge updates them). key [1], q [3] (s = 3): old theta 0 -> kept; new theta 100 would prune it.
TEST(CycleModelConfig, QueryAcceptedDuringAThetaWriteUsesTheOldTheta) {
  AttnCycleModel m(tiny());
  for (const AttnInputs& in : {reset_in(), key({1}, true)}) m.tick(in);
  AttnInputs both = query({3});
  both.cfg_we = true;
  both.cfg_addr = 1;
  both.cfg_wdata = 100;
  m.tick(both);
  std::vector<AttnOutputs> b = drain(m);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(no_ports(b[1]), eoq_beat({}, 1, 2, 2));
  m.tick(query({3}));  // now theta 100: U1 = 3 < 100, pruned after 1 step
  b = drain(m);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(no_ports(b[0]), eoq_beat({}, 0, 1, 1));
}

// Dense baseline: only address 0 exists; keys {1, -2}, q [3]: both kept with wk = 2 steps (s = 3, -6).
//   1 lane: c+1 key0 step 1, key0 done -> slot, key1 step 1, key1 done -> slot (after key0 is granted) ...
TEST(CycleModelDense, KeepsEveryKeyWithFullStepsAndMapsOnlyAlpha) {
  core::AttentionConfig c = tiny();
  c.dense_baseline = true;
  AttnCycleModel m(c);
  for (const AttnInputs& in :
       {reset_in(), cfg_write(0, 5), cfg_write(1, 7), key({1}, false), key({-2}, true)}) {
    m.tick(in);
  }
  AttnInputs r = idle();
  r.cfg_addr = 1;
  EXPECT_EQ(m.eval(r).cfg_rdata, 0u);
  r.cfg_addr = 0;
  EXPECT_EQ(m.eval(r).cfg_rdata, 5u);
  m.tick(query({3}, 1));
  const std::vector<AttnOutputs> b = drain(m);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(no_ports(b[0]), score_beat({}, 0, 3));
  EXPECT_EQ(no_ports(b[1]), score_beat({}, 1, -6));
  EXPECT_EQ(no_ports(b[2]), eoq_beat({}, 2, 4, 4));
}

// ---- invariants over random stimulus ----

int64_t sext(uint64_t v, int bits) {
  v &= (uint64_t{1} << bits) - 1;
  return (v >> (bits - 1)) & 1 ? static_cast<int64_t>(v) - (int64_t{1} << bits) : static_cast<int64_t>(v);
}

struct Pending {      // a query the engine accepted, with what it must be scored against
  core::IntMatrix q;  // 1 x d
  core::IntMatrix k;  // the key set at acceptance
  int64_t theta = 0;
};

class RandomBench {
 public:
  RandomBench(const core::AttentionConfig& c, uint64_t seed) : c_(c), w_(core::widths(c)), m_(c), rng_(seed) {
    theta_.assign(c.threshold_slots, 0);
    ready_percent_ = static_cast<int>(uni(1, 4)) * 25;  // output back-pressure differs per run
  }

  void run(int cycles) {
    AttnInputs in = reset_in();
    for (int cyc = 0; cyc < cycles; ++cyc) {
      SCOPED_TRACE(testing::Message() << "cycle " << cyc);
      const AttnOutputs o = m_.eval(in);
      check_outputs(in, o);
      observe_edge(in, o);
      if (testing::Test::HasFatalFailure()) return;
      cov_.stalled_cycles += m_.stalled_lanes(in) > 0 ? 1 : 0;
      cov_.resets_while_busy += (!in.rst_n && m_.context_busy()) ? 1 : 0;
      cov_.overlap_cycles += m_.busy_contexts() == 2 ? 1 : 0;
      m_.tick(in);
      prev_ = o;
      prev_in_ = in;
      in = next_inputs(in, o);
    }
  }
  struct Coverage {
    int64_t queries = 0, empty = 0, partly_pruned = 0, stalled_cycles = 0, resets_while_busy = 0;
    int64_t overlap_cycles = 0;  // both contexts busy
  };
  const Coverage& coverage() const { return cov_; }

 private:
  int64_t uni(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }
  bool chance(int percent) { return uni(0, 99) < percent; }
  std::vector<int64_t> row(int w) {
    std::vector<int64_t> r(c_.d);
    for (auto& v : r) v = uni(-(int64_t{1} << (w - 1)), (int64_t{1} << (w - 1)) - 1);
    return r;
  }

  void check_outputs(const AttnInputs& in, const AttnOutputs& o) {
    if (!in.rst_n) {
      ASSERT_EQ(o, ports(true, false));
      return;
    }
    ASSERT_EQ(o.cfg_rdata, expected_rdata(in.cfg_addr));
    if (!o.s_valid) {
      ASSERT_EQ(no_ports(o), AttnOutputs{});
    }
    if (prev_in_.rst_n && prev_.s_valid && !prev_in_.s_ready) {
      ASSERT_EQ(no_ports(o), no_ports(prev_)) << "beat changed while s_valid && !s_ready";
    }
  }

  uint64_t expected_rdata(uint32_t addr) const {
    if (addr == 0) return alpha_;
    if (!c_.dense_baseline && addr - 1 < theta_.size()) {
      return static_cast<uint64_t>(theta_[addr - 1]) & ((uint64_t{1} << w_.cdw) - 1);
    }
    return 0;
  }

  // What the test knows happens at this edge, from the handshakes it can see.
  void observe_edge(const AttnInputs& in, const AttnOutputs& o) {
    if (!in.rst_n) {
      alpha_ = 0;
      std::fill(theta_.begin(), theta_.end(), 0);
      pending_.clear();
      sum_steps_ = sum_cycles_ = 0;
      set_.clear();
      partial_.clear();
      beats_.clear();
      set_done_ = false;
      return;
    }
    const std::vector<int64_t> theta_before = theta_;
    if (o.q_ready && in.q_valid) {
      ASSERT_TRUE(set_done_) << "query accepted without a complete key set";
      Pending p{core::IntMatrix(1, c_.d), to_matrix(set_), 0};
      for (int t = 0; t < c_.d; ++t) p.q(0, t) = in.q_data[t];
      p.theta = in.q_slot < theta_before.size() ? theta_before[in.q_slot] : 0;
      pending_.push_back(std::move(p));
    }
    if (o.k_ready && in.k_valid) {
      if (set_done_) partial_.clear();
      partial_.push_back(in.k_data);
      set_done_ = in.k_last || partial_.size() == static_cast<size_t>(c_.max_keys);
      if (set_done_) set_ = partial_;
    }
    if (in.cfg_we) {
      if (in.cfg_addr == 0) alpha_ = in.cfg_wdata & ((uint64_t{1} << w_.aw) - 1);
      if (!c_.dense_baseline && in.cfg_addr >= 1 && in.cfg_addr - 1 < theta_.size()) {
        theta_[in.cfg_addr - 1] = sext(in.cfg_wdata, w_.tw);
      }
    }
    if (o.s_valid && in.s_ready) take_beat(o);
  }

  core::IntMatrix to_matrix(const std::vector<std::vector<int64_t>>& rows) const {
    core::IntMatrix k(static_cast<Eigen::Index>(rows.size()), c_.d);
    for (size_t j = 0; j < rows.size(); ++j) {
      for (int t = 0; t < c_.d; ++t) k(static_cast<Eigen::Index>(j), t) = rows[j][t];
    }
    return k;
  }

  void take_beat(const AttnOutputs& o) {
    ASSERT_FALSE(pending_.empty()) << "beat without an outstanding query";
    if (!o.s_eoq) {
      ASSERT_TRUE(beats_.emplace(o.s_key, o.s_score).second) << "key " << o.s_key << " sent twice";
      return;
    }
    const Pending& p = pending_.front();
    const ScoreResults r = score_all(p.q, p.k, c_.wk, p.theta, c_.dense_baseline);
    std::set<std::pair<uint32_t, int64_t>> expected;
    for (Eigen::Index j = 0; j < p.k.rows(); ++j) {
      if (r.kept(0, j)) expected.emplace(static_cast<uint32_t>(j), r.score(0, j));
    }
    ASSERT_EQ(beats_, expected) << "kept set, theta " << p.theta;
    ASSERT_EQ(o.s_count, r.kept_count());
    ASSERT_EQ(o.s_empty, r.kept_count() == 0);
    ASSERT_EQ(static_cast<int64_t>(o.s_steps), r.total_steps());
    // Lane utilization <= 1. s_cycles counts since the previous end beat and a query's steps may fall in the
    // previous window (two queries overlap), so the bound holds for the sums since reset: every step of a
    // finished query was done before its end beat fired, in a cycle some end beat has counted.
    sum_steps_ += o.s_steps;
    sum_cycles_ += o.s_cycles;
    ASSERT_LE(sum_steps_, sum_cycles_ * static_cast<uint64_t>(c_.lanes));
    ++cov_.queries;
    cov_.empty += r.kept_count() == 0 ? 1 : 0;
    cov_.partly_pruned += (r.kept_count() > 0 && r.kept_count() < p.k.rows()) ? 1 : 0;
    beats_.clear();
    pending_.pop_front();  // last: `p` refers to it
  }

  AttnInputs next_inputs(const AttnInputs& in, const AttnOutputs& o) {
    AttnInputs n = idle(chance(ready_percent_));
    if (uni(0, 999) < 3) {
      n.rst_n = false;
      return n;
    }
    // A stream holds its beat until it is taken (reset aborts everything offered).
    const bool k_taken = !in.rst_n || !in.k_valid || o.k_ready;
    const bool q_taken = !in.rst_n || !in.q_valid || o.q_ready;
    if (!k_taken) {
      n.k_valid = true, n.k_data = in.k_data, n.k_last = in.k_last;
    } else if (chance(3)) {
      n.k_valid = true;
      n.k_data = row(c_.wk);
      n.k_last = chance(40);
    }
    if (!q_taken) {
      n.q_valid = true, n.q_data = in.q_data, n.q_slot = in.q_slot;
    } else if (chance(15)) {
      n.q_valid = true;
      n.q_data = row(c_.wq);
      n.q_slot = static_cast<uint32_t>(uni(0, (int64_t{1} << w_.slw) - 1));
    }
    n.cfg_addr = static_cast<uint32_t>(uni(0, (int64_t{1} << w_.caw) - 1));
    if (chance(4)) {
      n.cfg_we = true;
      const int64_t span = int64_t{c_.d} << (c_.wq + c_.wk - 3);
      n.cfg_wdata = static_cast<uint64_t>(uni(-span, span / 4)) & ((uint64_t{1} << w_.cdw) - 1);
    }
    return n;
  }

  core::AttentionConfig c_;
  core::AttentionWidths w_;
  AttnCycleModel m_;
  std::mt19937_64 rng_;
  int ready_percent_ = 100;
  uint64_t alpha_ = 0;
  std::vector<int64_t> theta_;
  std::vector<std::vector<int64_t>> set_, partial_;
  bool set_done_ = false;
  std::deque<Pending> pending_;
  std::set<std::pair<uint32_t, int64_t>> beats_;
  AttnOutputs prev_;
  AttnInputs prev_in_ = reset_in();
  uint64_t sum_steps_ = 0, sum_cycles_ = 0;  // over end beats since reset
  Coverage cov_;
};

TEST(CycleModelRandom, BeatsMatchTheFunctionalModelAndStreamsStayStable) {
  const uint64_t seed = 0xacce'1000;
  std::mt19937_64 cfg_rng(seed);
  auto uni = [&cfg_rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(cfg_rng); };
  RandomBench::Coverage total;
  for (int run = 0; run < 120; ++run) {
    core::AttentionConfig c;
    c.d = uni(1, 4);
    c.wq = uni(2, 6);
    c.wk = uni(2, 5);
    c.lanes = uni(1, 5);
    c.max_keys = uni(1, 9);
    c.threshold_slots = uni(1, 3);
    c.alpha_mant_bits = uni(13, 24);
    c.dense_baseline = uni(0, 4) == 0;
    const uint64_t run_seed = seed + static_cast<uint64_t>(run);
    SCOPED_TRACE(testing::Message() << "seed=" << run_seed << " d=" << c.d << " wq=" << c.wq << " wk=" << c.wk
                                    << " lanes=" << c.lanes << " max_keys=" << c.max_keys
                                    << " slots=" << c.threshold_slots << " dense=" << c.dense_baseline);
    RandomBench bench(c, run_seed);
    bench.run(3000);
    if (testing::Test::HasFatalFailure()) return;
    const RandomBench::Coverage& cv = bench.coverage();
    total.queries += cv.queries;
    total.empty += cv.empty;
    total.partly_pruned += cv.partly_pruned;
    total.stalled_cycles += cv.stalled_cycles;
    total.resets_while_busy += cv.resets_while_busy;
    total.overlap_cycles += cv.overlap_cycles;
  }
  // the stimulus really exercises what the invariants are about
  EXPECT_GT(total.queries, 1000);
  EXPECT_GT(total.empty, 50);
  EXPECT_GT(total.partly_pruned, 50);
  EXPECT_GT(total.stalled_cycles, 50);
  EXPECT_GT(total.resets_while_busy, 20);
  EXPECT_GT(total.overlap_cycles, 1000);
  std::cout << "random coverage: queries " << total.queries << ", empty " << total.empty << ", partly pruned "
            << total.partly_pruned << ", stalled cycles " << total.stalled_cycles << ", resets while busy "
            << total.resets_while_busy << ", both contexts busy " << total.overlap_cycles << "\n";
}

}  // namespace
}  // namespace accelgen::golden
