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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/error.h"
#include "golden/functional.h"
#include "golden/softmax.h"

namespace accelgen::golden {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

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
  check_range("alpha_int_bits + alpha_frac_bits", c.alpha_int_bits + c.alpha_frac_bits, 1, 32);
  core::validate_workload(w, c, "<workload>");
}

// ---------------------------------------------------------------- scores (SPEC section 1)

// sum_t q[t] * (k[t] >> b): the SPEC accumulator A after the top wk - b bits (the arithmetic shift of the
// two's-complement element is its top bits' signed value). int16 rows padded with zeros to a multiple of 8,
// so the compiler vectorizes the 32-bit version (used only when no partial sum can leave 31 bits).
int32_t dot_shift32(const int16_t* __restrict q, const int16_t* __restrict k, int n, int b) {
#if defined(__SSE2__)
  // pmaddwd: pairs of 16 x 16-bit products summed into 32 bits (the caller's bound keeps every sum in range)
  const __m128i cnt = _mm_cvtsi32_si128(b);
  __m128i acc = _mm_setzero_si128();
  for (int t = 0; t < n; t += 8) {
    const __m128i kv = _mm_sra_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k + t)), cnt);
    acc = _mm_add_epi32(acc, _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + t)), kv));
  }
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0x4e));
  acc = _mm_add_epi32(acc, _mm_shuffle_epi32(acc, 0xb1));
  return _mm_cvtsi128_si32(acc);
#else
  int32_t acc = 0;
  for (int t = 0; t < n; ++t) acc += static_cast<int32_t>(q[t]) * static_cast<int32_t>(static_cast<int16_t>(k[t] >> b));
  return acc;
#endif
}
int64_t dot_shift64(const int16_t* __restrict q, const int16_t* __restrict k, int n, int b) {
  int64_t acc = 0;
  for (int t = 0; t < n; ++t) acc += static_cast<int64_t>(q[t]) * static_cast<int64_t>(k[t] >> b);
  return acc;
}

// Q and K as int16 rows padded with zeros to a multiple of 8 elements.
struct Rows16 {
  int dp = 0;
  std::vector<int16_t> q, k;
  Rows16(const core::AttentionWorkload& w, int d) : dp((d + 7) / 8 * 8) {
    q.assign(static_cast<size_t>(w.q.rows()) * dp, 0);
    k.assign(static_cast<size_t>(w.k.rows()) * dp, 0);
    for (Eigen::Index i = 0; i < w.q.rows(); ++i)
      for (int t = 0; t < d; ++t) q[static_cast<size_t>(i) * dp + t] = static_cast<int16_t>(w.q(i, t));
    for (Eigen::Index j = 0; j < w.k.rows(); ++j)
      for (int t = 0; t < d; ++t) k[static_cast<size_t>(j) * dp + t] = static_cast<int16_t>(w.k(j, t));
  }
};

// ceil(x / 2^b) for b < 63.
int64_t ceil_shift(int64_t x, int b) { return -((-x) >> b); }

// Narrow scores (every partial sum within 31 bits): all wk accumulators of a key are computed without a
// data-dependent branch (independent dot products the CPU overlaps), then the first step below the bound
// table entry (docs/microarchitecture.md: U_m < theta <=> A_m < tc_b = ceil((theta - (2^b - 1) Qpos) / 2^b))
// is found with a bit mask: the highest bit b with A_b < tc_b gives n = wk - b.
void score_rows_narrow(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, FastScores& r) {
  const Rows16 rows(w, cfg.d);
  const int dp = rows.dp, wk = cfg.wk, lq = r.lq, lk = r.lk;
  for (int i = 0; i < lq; ++i) {
    const int16_t* q = &rows.q[static_cast<size_t>(i) * dp];
    const int64_t qp = qpos(w.q, i);
    int32_t tc[16];
    for (int b = 0; b < wk; ++b) {  // |A| < 2^30, so clamping tc to 32 bits keeps A < tc exact
      const int64_t t = ceil_shift(w.params.theta - ((int64_t{1} << b) - 1) * qp, b);
      tc[b] = static_cast<int32_t>(std::clamp<int64_t>(t, std::numeric_limits<int32_t>::min(),
                                                       std::numeric_limits<int32_t>::max()));
    }
    const size_t row = static_cast<size_t>(i) * lk;
    for (int j = 0; j < lk; ++j) {
      const int16_t* k = &rows.k[static_cast<size_t>(j) * dp];
      if (cfg.dense_baseline) {
        r.steps[row + j] = static_cast<uint8_t>(wk);
        r.kept[row + j] = 1;
        r.score[row + j] = dot_shift32(q, k, dp, 0);
        continue;
      }
      int b = wk - 1;
      int32_t a = dot_shift32(q, k, dp, b);
      while (a >= tc[b] && b > 0) {
        --b;
        a = dot_shift32(q, k, dp, b);
      }
      const bool kept = a >= tc[b];  // b == 0 here: never below the bound
      r.steps[row + j] = static_cast<uint8_t>(wk - b);
      r.kept[row + j] = kept ? 1 : 0;
      r.score[row + j] = a;  // A after all wk bits = s_ij where kept
    }
  }
}

// Any width: SPEC's bound U_m step by step in 64 bits, stopping at the first U_m < theta.
void score_rows_wide(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, FastScores& r) {
  const Rows16 rows(w, cfg.d);
  const int dp = rows.dp, wk = cfg.wk, lq = r.lq, lk = r.lk;
  const int64_t theta = w.params.theta;
  for (int i = 0; i < lq; ++i) {
    const int16_t* q = &rows.q[static_cast<size_t>(i) * dp];
    const int64_t qp = qpos(w.q, i);
    const size_t row = static_cast<size_t>(i) * lk;
    for (int j = 0; j < lk; ++j) {
      const int16_t* k = &rows.k[static_cast<size_t>(j) * dp];
      if (cfg.dense_baseline) {
        r.steps[row + j] = static_cast<uint8_t>(wk);
        r.kept[row + j] = 1;
        r.score[row + j] = dot_shift64(q, k, dp, 0);
        continue;
      }
      int m = 1;
      for (; m <= wk; ++m) {
        const int b = wk - m;
        const int64_t a = dot_shift64(q, k, dp, b);
        const int64_t pow_b = int64_t{1} << b;
        if (a * pow_b + (pow_b - 1) * qp < theta) break;  // U_m < theta
        if (b == 0) r.score[row + j] = a;                   // A_Wk = s_ij, not below theta: kept
      }
      r.steps[row + j] = static_cast<uint8_t>(std::min(m, wk));
      r.kept[row + j] = m > wk ? 1 : 0;
    }
  }
}

// ---------------------------------------------------------------- softmax row (docs/softmax.md steps 1-9)

struct SoftmaxCtx {
  SoftmaxFormat f;
  std::vector<int64_t> table;
  uint64_t alpha;
  bool narrow;  // every sum and the rounding numerator fit in int64
  bool exact_double;       // ... and every sum is an integer below 2^53: accumulate in doubles (vectorized)
  std::vector<double> vd;  // V as doubles (exact_double)
};

// floor(num / den) for 0 <= num, 0 < den: a double quotient corrected by one step when both are below 2^52
// (cheaper than a 64-bit integer division).
int64_t floor_div(int64_t num, int64_t den) {
  constexpr int64_t kLim = int64_t{1} << 52;
  if (num >= kLim || den >= kLim) return num / den;
  int64_t q = static_cast<int64_t>(static_cast<double>(num) / static_cast<double>(den));
  if (q * den > num) {
    --q;
  } else if ((q + 1) * den <= num) {
    ++q;
  }
  return q;
}

int64_t exp_of(const SoftmaxCtx& s, int64_t max, int64_t score) {
  const uint64_t d = static_cast<uint64_t>(static_cast<i128>(max) - static_cast<i128>(score));
  const u128 x = static_cast<u128>(s.alpha) * d;  // alpha < 2^32, d < 2^64: exact
  const int Fa = s.f.alpha_frac_bits, L = s.f.exp_lut_bits, E = s.f.exp_frac_bits;
  const u128 I = x >> Fa;
  if (I > static_cast<u128>(E)) return 0;
  const int64_t fr = static_cast<int64_t>(x & ((u128{1} << Fa) - 1));
  const int G = std::max(Fa, L);
  const int64_t g = fr << (G - Fa);
  const int64_t idx = g >> (G - L);
  const int64_t r = g - (idx << (G - L));
  const int64_t ti = s.table[static_cast<size_t>(idx)], tn = s.table[static_cast<size_t>(idx + 1)];
  const int64_t u = ti - static_cast<int64_t>((static_cast<i128>(ti - tn) * r) >> (G - L));
  return u >> static_cast<int>(I);
}

std::vector<int64_t> output_row(const SoftmaxCtx& s, const FastScores& sc, int i, const core::IntMatrix& v,
                                std::vector<int64_t>& acc) {
  const int lk = sc.lk;
  const Eigen::Index dv = v.cols();
  const size_t row = static_cast<size_t>(i) * lk;
  std::vector<int64_t> out(static_cast<size_t>(dv), 0);
  int64_t m = std::numeric_limits<int64_t>::min();
  bool any = false;
  for (int j = 0; j < lk; ++j) {
    if (!sc.kept[row + j]) continue;
    any = true;
    m = std::max(m, sc.score[row + j]);
  }
  if (!any) return out;
  if (!s.narrow) {  // wide formats: the reference arithmetic (128-bit sums)
    std::vector<std::pair<int, int64_t>> kept;
    for (int j = 0; j < lk; ++j)
      if (sc.kept[row + j]) kept.emplace_back(j, sc.score[row + j]);
    return softmax_row(kept, v, s.alpha, s.f).out;
  }
  acc.assign(static_cast<size_t>(dv), 0);
  int64_t z = 0;
  if (s.exact_double) {
    thread_local std::vector<double> accd;
    accd.assign(static_cast<size_t>(dv), 0.0);
    double* ad = accd.data();
    for (int j = 0; j < lk; ++j) {
      if (!sc.kept[row + j]) continue;
      const int64_t e = exp_of(s, m, sc.score[row + j]);
      if (e == 0) continue;
      z += e;
      const double ed = static_cast<double>(e);
      const double* vr = s.vd.data() + static_cast<size_t>(j) * static_cast<size_t>(dv);
      for (Eigen::Index c = 0; c < dv; ++c) ad[c] += ed * vr[c];
    }
    for (Eigen::Index c = 0; c < dv; ++c) acc[static_cast<size_t>(c)] = static_cast<int64_t>(ad[c]);
  } else {
    for (int j = 0; j < lk; ++j) {
      if (!sc.kept[row + j]) continue;
      const int64_t e = exp_of(s, m, sc.score[row + j]);
      if (e == 0) continue;
      z += e;
      const int64_t* vr = v.data() + static_cast<Eigen::Index>(j) * dv;
      for (Eigen::Index c = 0; c < dv; ++c) acc[static_cast<size_t>(c)] += e * vr[c];
    }
  }
  const int64_t two_z = 2 * z;
  for (Eigen::Index c = 0; c < dv; ++c) {
    const int64_t a = acc[static_cast<size_t>(c)];
    const int64_t mag = a < 0 ? -a : a;
    const int64_t q = floor_div((mag << (s.f.out_frac_bits + 1)) + z, two_z);
    out[static_cast<size_t>(c)] = a < 0 ? -q : q;
  }
  return out;
}

// ---------------------------------------------------------------- the event simulation

// Per-query timing the simulation produces.
struct Timing {
  std::vector<uint64_t> cycles;  // score-phase cycles of the end beat
  std::vector<int64_t> end;      // output handshake cycle
  std::vector<uint64_t> bcycles;
  int64_t events = 0;
};

class Engine {
 public:
  Engine(const core::AttentionConfig& cfg, const FastScores& sc, int64_t first_query_cycle)
      : lanes_(cfg.lanes), lk_(static_cast<uint32_t>(sc.lk)), lq_(sc.lq), qb_bits_(core::widths(cfg).qb),
        overlap_(cfg.overlap_backend), c_(first_query_cycle) {
    all_ = lanes_ == 64 ? ~uint64_t{0} : (uint64_t{1} << lanes_) - 1;
    // steps | kept << 7 per score, so a key issue reads one byte
    packed_.resize(sc.steps.size());
    for (size_t x = 0; x < packed_.size(); ++x)
      packed_[x] = static_cast<uint8_t>(sc.steps[x] | (sc.kept[x] ? 0x80 : 0));
    kept_count_.assign(static_cast<size_t>(lq_), 0);
    for (int i = 0; i < lq_; ++i)
      for (uint32_t j = 0; j < lk_; ++j) kept_count_[static_cast<size_t>(i)] += sc.kept[static_cast<size_t>(i) * lk_ + j];
    t_.cycles.assign(static_cast<size_t>(lq_), 0);
    t_.end.assign(static_cast<size_t>(lq_), 0);
    t_.bcycles.assign(static_cast<size_t>(lq_), 0);
    release_.assign(static_cast<size_t>(lq_), 0);
  }

  Timing run() {
    while (closed_ < lq_) {
      ++t_.events;
      step();
      if (closed_ == lq_) break;
      advance();
    }
    return std::move(t_);
  }

 private:
  // s_ready in cycle c for a beat of query closed_ (buffer closed_ % 2 must have been released).
  bool s_ready(int64_t c) const { return closed_ < 2 || c >= release_[static_cast<size_t>(closed_ - 2)]; }
  uint64_t ctx_mask(int x) const { return x ? ctx1_ : ~ctx1_; }
  bool eoq_cond(int h) const {
    return busy_[h] && next_key_[h] == lk_ && (active_ & ctx_mask(h)) == 0 && sv_[h] == 0;
  }
  // overlap_backend = false: a query is taken only when none is in flight (the previous one's output
  // handshake is over). Returns the first cycle the gate is open, kNever while unknown.
  int64_t gate_open_from() const {
    if (overlap_ || fired_ == 0) return 0;
    if (closed_ < fired_) return kNever;  // the query in flight has not reached the back-end's end yet
    return t_.end[static_cast<size_t>(fired_ - 1)] + 1;
  }

  // The back-end once query m's end beat is collected at edge t (docs/softmax.md): IDLE sees the closed
  // buffer at t + 1 (or when the previous query's output handshake returns it to IDLE), ACC n + 2 cycles
  // (buffer released after the last entry is read), DIV QB, DONE 1 (o_ready = 1), then the handshake.
  void close_query(int m, int64_t t) {
    const size_t k = static_cast<size_t>(m);
    const int64_t idle = std::max(t + 1, m > 0 ? t_.end[k - 1] : int64_t{0});
    const int64_t n = kept_count_[k];
    int64_t done;
    if (n == 0) {
      release_[k] = idle + 1;
      done = idle + 1;
      t_.bcycles[k] = 1;
    } else {
      release_[k] = idle + n + 1;
      done = idle + n + 3 + qb_bits_;
      t_.bcycles[k] = std::min<uint64_t>(static_cast<uint64_t>(n + 3 + qb_bits_), kCyclesMax);
    }
    t_.end[k] = done + 1;
  }

  // One cycle of docs/microarchitecture.md "One cycle" plus the unit's wiring, from the registered state.
  void step() {
    const int64_t c = c_;
    const int h = head_, o = h ^ 1;
    const bool any_act = active_ != 0;
    const bool out_load = !ov_ || s_ready(c);
    if (ov_ && out_load && ov_eoq_) {  // the back-end collects the end beat in the output register
      close_query(closed_, c);
      ++closed_;
      if (closed_ == lq_) return;
    }
    const uint64_t hs = sv_[h];
    const uint64_t gbit = (out_load && hs) ? (hs & (~hs + 1)) : 0;  // lowest head slot
    const bool eoq_fire = out_load && gbit == 0 && eoq_cond(h);

    // Lanes at their done step: due now or stalled on a full slot.
    uint64_t cand = stalled_;
    const int wb = static_cast<int>(c & 31);
    if ((occ_ >> wb) & 1) {
      cand |= wheel_[wb];
      wheel_[wb] = 0;
      occ_ &= ~(uint32_t{1} << wb);
    }
    const uint64_t kc = cand & kept_;
    const uint64_t commit_kept = kc & (~(sv_[0] | sv_[1]) | gbit);
    const uint64_t done = (cand & ~kept_) | commit_kept;
    stalled_ = kc & ~commit_kept;
    // (whole-word updates through locals: a store to sv_[h] followed by a wide load of sv_ stalls forwarding)
    const uint64_t sv0 = (sv_[0] & ~(h ? 0 : gbit)) | (commit_kept & ~ctx1_);
    const uint64_t sv1 = (sv_[1] & ~(h ? gbit : 0)) | (commit_kept & ctx1_);
    sv_[0] = sv0;
    sv_[1] = sv1;
    active_ &= ~done;

    // Key issue from the registered contexts, head first; free lanes in index order.
    const bool start = qb_valid_ && (!busy_[h] || !busy_[o] || eoq_fire);
    const int target = !busy_[h] ? h : (!busy_[o] ? o : h);
    uint64_t f = all_ & ~active_;
    if (f != 0) {
      // locals: the byte-wide score table may alias any member, which would force a reload per key
      uint64_t act = active_, c1 = ctx1_, kp = kept_;
      uint32_t occ = occ_;
      for (const int x : {h, o}) {
        uint32_t nk = next_key_[x];
        if (!busy_[x] || nk >= lk_) continue;
        const uint8_t* row = &packed_[static_cast<size_t>(ctx_query_[x]) * lk_];
        const uint64_t xmask = x ? ~uint64_t{0} : 0;
        while (f != 0 && nk < lk_) {
          const uint64_t bit = f & (~f + 1);
          f &= f - 1;
          const uint8_t p = row[nk++];
          const int slot = static_cast<int>((c + (p & 0x7f)) & 31);
          wheel_[slot] |= bit;
          occ |= uint32_t{1} << slot;
          act |= bit;
          c1 = (c1 & ~bit) | (bit & xmask);
          kp = (kp & ~bit) | (bit & (uint64_t{0} - (p >> 7)));
        }
        next_key_[x] = nk;
      }
      active_ = act;
      ctx1_ = c1;
      kept_ = kp;
      occ_ = occ;
    }

    // Query beat into the buffer (a key beat never competes: the set is loaded before any query).
    const bool q_fire = !qb_valid_ && fired_ < lq_ && c >= gate_open_from();

    // Output register, cycle counter, contexts.
    if (out_load) {
      if (gbit != 0) {
        ov_ = true;
        ov_eoq_ = false;
      } else if (eoq_fire) {
        ov_ = true;
        ov_eoq_ = true;
        t_.cycles[static_cast<size_t>(ctx_query_[h])] = std::min(cyc_, kCyclesMax);
        busy_[h] = false;
        head_ = o;
      } else {
        ov_ = false;
      }
    }
    if (eoq_fire) {
      cyc_ = any_act ? 1 : 0;
    } else if (any_act && cyc_ < kCyclesMax) {
      ++cyc_;
    }
    if (start) {
      busy_[target] = true;
      ctx_query_[target] = qb_query_;
      next_key_[target] = 0;
      qb_valid_ = false;
    }
    if (q_fire) {
      qb_valid_ = true;
      qb_query_ = fired_++;
    }
  }

  // Moves c_ to the next cycle where anything but lane stepping can happen.
  void advance() {
    const int64_t c1 = c_ + 1;
    int64_t next = kNever;
    bool now = false;
    const bool sr = s_ready(c1);
    if (ov_) {
      if (sr) {
        now = true;
      } else {
        next = std::min(next, release_[static_cast<size_t>(closed_ - 2)]);
      }
    }
    if ((!ov_ || sr) && (sv_[head_] != 0 || eoq_cond(head_))) now = true;
    if (qb_valid_ && (!busy_[0] || !busy_[1])) now = true;
    if ((all_ & ~active_) != 0 && ((busy_[0] && next_key_[0] < lk_) || (busy_[1] && next_key_[1] < lk_))) now = true;
    if (!qb_valid_ && fired_ < lq_) next = std::min(next, std::max(c1, gate_open_from()));
    if (now) next = c1;
    if (next > c1 && occ_ != 0) {
      const int s = static_cast<int>(c1 & 31);
      const uint32_t rot = std::rotr(occ_, s);
      next = std::min(next, c1 + std::countr_zero(rot));
    }
    if (next == kNever) throw std::logic_error("run_fast: no event left before every query ended (model bug)");
    if (active_ != 0 && next > c1) cyc_ = std::min<uint64_t>(cyc_ + static_cast<uint64_t>(next - c1), kCyclesMax);
    c_ = next;
  }

  // Configuration.
  int lanes_;
  uint32_t lk_;
  int lq_;
  int qb_bits_;
  bool overlap_;
  uint64_t all_ = 0;
  std::vector<uint8_t> packed_;
  std::vector<int64_t> kept_count_;

  // Score engine registers.
  int64_t c_;
  uint64_t active_ = 0, stalled_ = 0, ctx1_ = 0, kept_ = 0;  // per lane: act, waiting on its slot, ctx, key kept
  uint64_t wheel_[32] = {};                                  // lanes whose done step is at cycle = index mod 32
  uint32_t occ_ = 0;                                         // non-empty wheel buckets
  uint64_t sv_[2] = {0, 0};                                  // valid result slots per context
  bool busy_[2] = {false, false};
  uint32_t next_key_[2] = {0, 0};
  int ctx_query_[2] = {0, 0};
  int head_ = 0;
  bool qb_valid_ = false;
  int qb_query_ = 0;
  int fired_ = 0;   // queries accepted
  int closed_ = 0;  // end beats collected by the back-end
  bool ov_ = false, ov_eoq_ = false;
  uint64_t cyc_ = 0;
  std::vector<int64_t> release_;  // cycle from which query m's collect buffer is free again
  Timing t_;
};

FastScores score_unchecked(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  FastScores r;
  r.lq = static_cast<int>(w.q.rows());
  r.lk = static_cast<int>(w.k.rows());
  const size_t n = static_cast<size_t>(r.lq) * static_cast<size_t>(r.lk);
  r.steps.assign(n, 0);
  r.kept.assign(n, 0);
  r.score.assign(n, 0);
  // |partial sums| <= d * 2^(wq-1) * 2^(wk-1) <= 2^(wq + wk - 2 + clog2 d)
  if (cfg.wq + cfg.wk - 2 + core::clog2(static_cast<uint64_t>(cfg.d)) <= 30) {
    score_rows_narrow(cfg, w, r);
  } else {
    score_rows_wide(cfg, w, r);
  }
  return r;
}

FastRun run_unchecked(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& sc) {
  if (sc.lq != w.q.rows() || sc.lk != w.k.rows()) throw std::invalid_argument("run_fast: scores of another workload");
  FastRun run;
  run.alpha_bits = core::quantize_alpha(w.params.softmax_scale, cfg);

  // Driver at full rate: reset in cycles 0-1, one config write per cycle from cycle 2 (alpha, then every
  // threshold slot unless dense), key beats in the following Lk cycles, the first query beat right after
  // (kset_valid is set by the last key beat; q_ready needs it).
  const int64_t writes = 1 + (cfg.dense_baseline ? 0 : cfg.threshold_slots);
  const int64_t first_query = 2 + writes + sc.lk;
  Timing t = Engine(cfg, sc, first_query).run();

  SoftmaxCtx s;
  s.f = default_softmax_format(cfg);
  s.table = exp_table(s.f);
  s.alpha = run.alpha_bits;
  const int kbits = core::clog2(static_cast<uint64_t>(sc.lk) + 1);  // |A_c| <= Lk 2^E 2^(wv-1), Z <= Lk 2^E
  s.narrow = kbits + s.f.exp_frac_bits + s.f.wv + s.f.out_frac_bits + 2 <= 62;
  s.exact_double = s.narrow && kbits + s.f.exp_frac_bits + s.f.wv <= 52;
  if (s.exact_double) {
    s.vd.resize(static_cast<size_t>(w.v.size()));
    for (Eigen::Index x = 0; x < w.v.size(); ++x) s.vd[static_cast<size_t>(x)] = static_cast<double>(w.v.data()[x]);
  }
  std::vector<int64_t> acc;
  run.queries.resize(static_cast<size_t>(sc.lq));
  for (int i = 0; i < sc.lq; ++i) {
    FastQuery& q = run.queries[static_cast<size_t>(i)];
    const size_t row = static_cast<size_t>(i) * sc.lk;
    uint64_t steps = 0;
    uint32_t kept = 0;
    for (int j = 0; j < sc.lk; ++j) {
      steps += sc.steps[row + j];
      kept += sc.kept[row + j];
    }
    q.out = output_row(s, sc, i, w.v, acc);
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

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, score_unchecked(cfg, w));
}

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& sc) {
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, sc);
}

}  // namespace accelgen::golden
