// accelgen::golden — fast transaction-level model of the attention unit, see fast_model.h.
//
// The score engine (docs/microarchitecture.md "One cycle") is simulated only at cycles where something can
// change; every lane, slot and context flag is a bit in a 64-bit mask (lanes <= 64), so one evaluated cycle
// costs a handful of mask operations plus O(1) per key issued. Between evaluated cycles lanes only step
// through the bits of their keys (each lane's done step is in a timing wheel), and only the score-phase
// cycle counter moves. The back-end (docs/softmax.md) is closed-form per query once its end beat has been
// collected; its release cycle feeds back into the result stream's s_ready.
// May include: core/, Eigen and golden/ only.
#include "golden/fast_model.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "golden/fast_kernels.h"
#include "golden/fast_softmax.h"

namespace accelgen::golden {
namespace {

using fast_internal::output_row;
using fast_internal::RowScratch;
using fast_internal::score_unchecked;
using fast_internal::SoftmaxCtx;
using fast_internal::softmax_ctx;

constexpr uint64_t kCyclesMax = 0xFFFF'FFFFull;  // o_cycles / o_bcycles: 32 bits, saturating
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

void check_range(const char* field, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    throw core::InputError(std::string("config.") + field,
                           std::to_string(v) + " outside " + std::to_string(lo) + ".." + std::to_string(hi));
  }
}

void check_inputs(const core::AttentionConfig& c, const core::AttentionWorkload& w) {
  check_range("d", c.d, 1, 256);
  check_range("wq", c.wq, 2, 16);
  check_range("wk", c.wk, 2, 16);
  check_range("lanes", c.lanes, 1, 64);
  check_range("max_keys", c.max_keys, 1, 4096);
  check_range("threshold_slots", c.threshold_slots, 1, 256);
  check_range("alpha_mant_bits", c.alpha_mant_bits, 13, 24);
  core::validate_workload(w, c, "<workload>");
}

// ---------------------------------------------------------------- the event simulation

// Per-query timing the simulation produces.
struct Timing {
  std::vector<uint64_t> cycles;  // score-phase cycles of the end beat
  std::vector<int64_t> end;      // output handshake cycle
  std::vector<uint64_t> bcycles;
  int64_t events = 0;
};

// The score engine from event to event. All state lives in locals (registers): the two contexts are kept
// relative to the head (H: the context whose results the output stream drains, O: the other one) and are
// swapped when the head's end-of-query beat fires, so no register is indexed by a context number. A context
// without keys left to issue has next == end (an idle context: both null).
// packed: steps | kept << 7 per score; kept_count: kept keys per query.
Timing simulate(const core::AttentionConfig& cfg, const std::vector<uint8_t>& packed,
                const std::vector<int64_t>& kept_count, int lq, uint32_t lk, int64_t first_query_cycle) {
  const int lanes = cfg.lanes;
  const int64_t qb_bits = core::widths(cfg).qb;
  const bool overlap = cfg.overlap_backend;
  const uint64_t all = lanes == 64 ? ~uint64_t{0} : (uint64_t{1} << lanes) - 1;
  const int64_t bank_mask = core::key_banks(cfg) - 1;  // key j lies in bank j & bank_mask
  const uint8_t* const scores = packed.data();

  Timing t;
  t.cycles.assign(static_cast<size_t>(lq), 0);
  t.end.assign(static_cast<size_t>(lq), 0);
  t.bcycles.assign(static_cast<size_t>(lq), 0);
  std::vector<int64_t> release(static_cast<size_t>(lq), 0);  // cycle from which query m's collect buffer is free
  int64_t* const end_of = t.end.data();
  int64_t* const rel = release.data();

  // Score engine registers.
  int64_t c = first_query_cycle;
  uint64_t active = 0, stalled = 0, kept = 0;  // per lane: act, waiting on its slot, key kept
  uint64_t om = 0;                             // per active lane: its key belongs to O
  uint64_t nvm = 0, nom = 0;                   // per lane: next-key register valid, its key belongs to O
  uint8_t np[64] = {};                         // per lane: the next-key register's packed score
  uint64_t wheel[32] = {};                     // lanes whose done step is at cycle = index mod 32
  uint32_t occ = 0;                            // non-empty wheel buckets
  uint64_t sv_h = 0, sv_o = 0;                 // valid result slots per context
  bool busy_h = false, busy_o = false;
  const uint8_t *next_h = nullptr, *end_h = nullptr, *next_o = nullptr, *end_o = nullptr;
  const uint8_t *base_h = nullptr, *base_o = nullptr;  // key 0 of each context's query
  int query_h = 0, query_o = 0;
  bool qb_valid = false;
  int qb_query = 0;
  int fired = 0;   // queries accepted
  int closed = 0;  // end beats collected by the back-end
  bool ov = false, ov_eoq = false;
  uint64_t cyc = 0;
  int64_t ready_from = std::numeric_limits<int64_t>::min();  // s_ready for a beat of query `closed` from here

  // overlap_backend = false: a query is taken only when none is in flight (the previous one's output
  // handshake is over). Returns the first cycle the gate is open, kNever while unknown.
  auto gate_open_from = [&]() -> int64_t {
    if (overlap || fired == 0) return 0;
    if (closed < fired) return kNever;  // the query in flight has not reached the back-end's end yet
    return end_of[fired - 1] + 1;
  };
  // A lane starts a key at edge c: its done step is due at cycle c + steps.
  auto start_key = [&](uint64_t bit, uint8_t p, uint64_t to_o) {
    const int slot = static_cast<int>((c + (p & 0x7f)) & 31);
    wheel[slot] |= bit;
    occ |= uint32_t{1} << slot;
    active |= bit;
    om = (om & ~bit) | (bit & to_o);
    kept = (kept & ~bit) | (bit & (uint64_t{0} - (p >> 7)));
  };
  // Keys go to the next-key registers of the lanes with room (f) in index order, at most one per key store
  // bank (`used`); a key whose bank is taken stops its context for this edge.
  uint64_t used = 0;
  auto issue = [&](const uint8_t*& next, const uint8_t* base, const uint8_t* end, uint64_t& f, uint64_t to_o) {
    while (f != 0 && next != end) {
      const uint64_t bank = uint64_t{1} << ((next - base) & bank_mask);
      if ((used & bank) != 0) return;
      used |= bank;
      const uint64_t bit = f & (~f + 1);
      f &= f - 1;
      np[std::countr_zero(bit)] = *next++;
      nvm |= bit;
      nom = (nom & ~bit) | (bit & to_o);
    }
  };

  for (;;) {
    ++t.events;
    // ---- one cycle of docs/microarchitecture.md "One cycle" plus the unit's wiring, from the registered state
    const bool any_act = active != 0;
    const bool out_load = !ov || c >= ready_from;
    if (ov && out_load && ov_eoq) {
      // The back-end collects the end beat of query m = closed in the output register at edge c
      // (docs/softmax.md): IDLE sees the closed buffer at c + 1 (or when the previous query's output handshake
      // returns it to IDLE), ACC n + 2 cycles (buffer released after the last entry is read), DIV QB, DONE 1
      // (o_ready = 1), then the handshake.
      const size_t m = static_cast<size_t>(closed);
      const int64_t idle = std::max(c + 1, m > 0 ? end_of[m - 1] : int64_t{0});
      const int64_t n = kept_count[m];
      int64_t done;
      if (n == 0) {
        rel[m] = idle + 1;
        done = idle + 1;
        t.bcycles[m] = 1;
      } else {
        rel[m] = idle + n + 1;
        done = idle + n + 3 + qb_bits;
        t.bcycles[m] = std::min<uint64_t>(static_cast<uint64_t>(n + 3 + qb_bits), kCyclesMax);
      }
      end_of[m] = done + 1;
      ++closed;
      if (closed == lq) break;
      ready_from = closed < 2 ? std::numeric_limits<int64_t>::min() : rel[closed - 2];
    }
    const uint64_t gbit = out_load ? (sv_h & (~sv_h + 1)) : 0;  // lowest head slot
    const bool eoq_fire =
        out_load && sv_h == 0 && busy_h && next_h == end_h && (active & ~om) == 0 && (nvm & ~nom) == 0;

    // Lanes at their done step: due now or stalled on a full slot.
    const int wb = static_cast<int>(c & 31);
    const uint64_t cand = stalled | wheel[wb];
    wheel[wb] = 0;
    occ &= ~(uint32_t{1} << wb);
    const uint64_t kc = cand & kept;
    const uint64_t commit_kept = kc & (~(sv_h | sv_o) | gbit);
    stalled = kc & ~commit_kept;
    sv_h = (sv_h & ~gbit) | (commit_kept & ~om);
    sv_o |= commit_kept & om;
    const uint64_t take = (all & ~active) | (cand & ~kept) | commit_kept;  // idle or ending a key now
    active &= ~take;

    // Key issue from the registered contexts, head first, to the lanes whose next-key register is empty;
    // lanes taking a key start their next-key register's one.
    uint64_t f = all & ~nvm;
    const uint64_t from_next = take & nvm;
    nvm &= ~from_next;
    for (uint64_t t = from_next; t != 0; t &= t - 1) {
      const uint64_t bit = t & (~t + 1);
      start_key(bit, np[std::countr_zero(bit)], nom);
    }
    if (f != 0) {
      used = 0;
      issue(next_h, base_h, end_h, f, 0);
      if (next_h == end_h) issue(next_o, base_o, end_o, f, ~uint64_t{0});  // the head's keys go first
    }

    // Query beat into the buffer (a key beat never competes: the set is loaded before any query).
    const bool q_fire = !qb_valid && fired < lq && c >= gate_open_from();

    // Output register, cycle counter, contexts.
    if (out_load) {
      if (gbit != 0) {
        ov = true;
        ov_eoq = false;
      } else if (eoq_fire) {
        ov = true;
        ov_eoq = true;
        t.cycles[static_cast<size_t>(query_h)] = std::min(cyc, kCyclesMax);
      } else {
        ov = false;
      }
    }
    const bool start = qb_valid && (!busy_h || !busy_o || eoq_fire);
    if (eoq_fire) {
      cyc = any_act ? 1 : 0;
      // the head moves to the other context; the old head (no active lane, no valid slot) becomes idle
      busy_h = busy_o;
      next_h = next_o;
      end_h = end_o;
      base_h = base_o;
      query_h = query_o;
      sv_h = sv_o;
      sv_o = 0;
      busy_o = false;
      next_o = end_o = base_o = nullptr;
      om = ~om;
      nom = ~nom;
    } else if (any_act && cyc < kCyclesMax) {
      ++cyc;
    }
    if (start) {  // into the head context when it is idle, else into the other one (idle then)
      const uint8_t* row = scores + static_cast<size_t>(qb_query) * lk;
      if (!busy_h) {
        busy_h = true;
        query_h = qb_query;
        next_h = base_h = row;
        end_h = row + lk;
      } else {
        busy_o = true;
        query_o = qb_query;
        next_o = base_o = row;
        end_o = row + lk;
      }
      qb_valid = false;
    }
    if (q_fire) {
      qb_valid = true;
      qb_query = fired++;
    }

    // ---- move c to the next cycle where anything but lane stepping can happen
    const int64_t c1 = c + 1;
    const bool sr = c1 >= ready_from;
    const bool eoq_next = sv_h == 0 && busy_h && next_h == end_h && (active & ~om) == 0 && (nvm & ~nom) == 0;
    const bool now = (ov && sr) || ((!ov || sr) && (sv_h != 0 || eoq_next)) || (qb_valid && (!busy_h || !busy_o)) ||
                     ((all & ~nvm) != 0 && (next_h != end_h || next_o != end_o)) || (nvm & ~active) != 0;
    if (now) {
      c = c1;
      continue;
    }
    int64_t next = ov ? ready_from : kNever;  // ov && !sr here
    if (!qb_valid && fired < lq) next = std::min(next, std::max(c1, gate_open_from()));
    if (next > c1 && occ != 0) {
      const uint32_t rot = std::rotr(occ, static_cast<int>(c1 & 31));
      next = std::min(next, c1 + std::countr_zero(rot));
    }
    if (next == kNever) throw std::logic_error("run_fast: no event left before every query ended (model bug)");
    if (active != 0 && next > c1) cyc = std::min<uint64_t>(cyc + static_cast<uint64_t>(next - c1), kCyclesMax);
    c = next;
  }
  return t;
}

FastRun run_unchecked(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& sc) {
  if (sc.lq != w.q.rows() || sc.lk != w.k.rows()) throw std::invalid_argument("run_fast: scores of another workload");
  FastRun run;
  run.alpha_bits = core::quantize_alpha(w.params.softmax_scale, cfg).bits;

  // Driver at full rate: reset in cycles 0-1, one config write per cycle from cycle 2 (alpha, then every
  // threshold slot unless dense), key beats in the following Lk cycles, the first query beat right after
  // (kset_valid is set by the last key beat; q_ready needs it).
  const int64_t writes = 1 + (cfg.dense_baseline ? 0 : cfg.threshold_slots);
  const int64_t first_query = 2 + writes + sc.lk;
  std::vector<uint8_t> packed(sc.steps.size());
  std::vector<int64_t> kept_count(static_cast<size_t>(sc.lq), 0);
  std::vector<uint64_t> steps_sum(static_cast<size_t>(sc.lq), 0);
  for (int i = 0; i < sc.lq; ++i) {
    const size_t row = static_cast<size_t>(i) * sc.lk;
    uint32_t kept = 0, steps = 0;
    for (int j = 0; j < sc.lk; ++j) {
      const uint8_t st = sc.steps[row + j], k = sc.kept[row + j] ? 1 : 0;
      packed[row + j] = static_cast<uint8_t>(st | (k << 7));
      kept += k;
      steps += st;
    }
    kept_count[static_cast<size_t>(i)] = kept;
    steps_sum[static_cast<size_t>(i)] = steps;
  }
  Timing t = simulate(cfg, packed, kept_count, sc.lq, static_cast<uint32_t>(sc.lk), first_query);

  const SoftmaxCtx s = softmax_ctx(cfg, run.alpha_bits, sc.lk, w.v);
  RowScratch scratch;
  run.queries.resize(static_cast<size_t>(sc.lq));
  for (int i = 0; i < sc.lq; ++i) {
    FastQuery& q = run.queries[static_cast<size_t>(i)];
    const uint32_t kept = static_cast<uint32_t>(kept_count[static_cast<size_t>(i)]);
    const uint64_t steps = steps_sum[static_cast<size_t>(i)];
    q.out = output_row(s, sc, i, w.v, scratch);
    q.count = kept;
    q.empty = kept == 0;
    q.steps = steps;
    q.cycles = t.cycles[static_cast<size_t>(i)];
    q.bcycles = t.bcycles[static_cast<size_t>(i)];
    q.end_cycle = t.end[static_cast<size_t>(i)];
  }
  run.cycles_total = t.end.back() + 1;  // the run starts at cycle 0 (no mid-run reset)
  run.cycles_simulated = t.end.back() + 1;
  run.events = t.events;
  return run;
}

}  // namespace

FastScores fast_score(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  check_inputs(cfg, w);
  return score_unchecked(cfg, w);
}

bool fast_model_supports(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  // Relative-threshold hardware also scores keys in another order (the last visible one first); the
  // lanes' next-key state is one register (key_queue 1) in this model's bit masks.
  const bool relative_hw = !cfg.dense_baseline && cfg.relative_thresholds;
  return !w.params.causal && !relative_hw && cfg.key_queue == 1;
}

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  if (!fast_model_supports(cfg, w)) {
    throw std::invalid_argument("golden::run_fast: causal, relative-threshold or key_queue 2 run (use the cycle model)");
  }
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, score_unchecked(cfg, w));
}

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& sc) {
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, sc);
}

}  // namespace accelgen::golden
