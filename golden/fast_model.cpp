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
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
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

// ---------------------------------------------------------------- scores (docs/semantics.md)

// sum_t q[t] * (k[t] >> b): the accumulator A of docs/semantics.md after the top wk - b bits (the arithmetic
// shift of the two's-complement element is its top bits' signed value). int16 rows padded with zeros to a
// multiple of 8, so the compiler vectorizes the 32-bit version (used only when no partial sum can leave 31 bits).
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

// Narrow scores (every partial sum within 31 bits), SIMD across keys: all wk accumulators A_b of a group of
// G keys at once without a data-dependent branch, then the first step below the bound table entry
// (docs/microarchitecture.md: U_m < theta <=> A_m < tc_b = ceil((theta - (2^b - 1) Qpos) / 2^b)) is the highest
// b with A_b < tc_b (steps run from b = wk - 1 down), which gives n = wk - b; no such b: kept, n = wk,
// s = A_0. The keys are laid out per group g, element pair p and shift b as 2G int16:
// [k_j[2p] >> b, k_j[2p+1] >> b] for the G keys j of the group (zeros past Lk and past d), so one pmaddwd
// against the broadcast pair (q[2p], q[2p+1]) adds A_b's pair term for the G keys (a pair sum is at most
// 2^(wq + wk - 1) <= 2^30 here, every partial sum below 2^30 as for dot_shift32).
#if defined(__SSE2__)
// The layout of key groups g0 .. g0 + n - 1 (a chunk: at most kChunkBytes, so it stays in the cache while
// every query runs against it).
struct KeyGroups {
  int g_keys, np, g0, n;
  std::vector<int16_t> e;  // (((g - g0) * np + p) * wk + b) * 2G + 2 jj + (0|1)
  const int16_t* block(int g, int wk) const { return &e[static_cast<size_t>(g - g0) * np * wk * 2 * g_keys]; }
};
constexpr size_t kChunkBytes = size_t{1} << 17;

int chunk_groups(int d, int wk, int g_keys) {
  const size_t group_bytes = static_cast<size_t>((d + 1) / 2) * wk * 2 * g_keys * sizeof(int16_t);
  return static_cast<int>(std::max<size_t>(1, kChunkBytes / group_bytes));
}

void key_groups(const core::AttentionWorkload& w, int d, int lk, int wk, int g0, int n, KeyGroups& kg) {
  kg.np = (d + 1) / 2;
  kg.g0 = g0;
  kg.n = n;
  const int row = 2 * kg.g_keys;  // a multiple of 8
  kg.e.assign(static_cast<size_t>(n) * kg.np * wk * row, 0);
  const int64_t* k = w.k.data();  // row-major, d columns
  const int g_keys = kg.g_keys;
  for (int g = g0; g < g0 + n; ++g) {
    for (int p = 0; p < kg.np; ++p) {
      int16_t* base = &kg.e[(static_cast<size_t>(g - g0) * kg.np + p) * wk * row];
      for (int jj = 0; jj < g_keys; ++jj) {
        const int j = g * g_keys + jj;
        if (j >= lk) break;
        const int64_t* kr = k + static_cast<size_t>(j) * d;
        base[2 * jj] = static_cast<int16_t>(kr[2 * p]);
        if (2 * p + 1 < d) base[2 * jj + 1] = static_cast<int16_t>(kr[2 * p + 1]);
      }
      for (int b = 1; b < wk; ++b) {
        const __m128i cnt = _mm_cvtsi32_si128(b);
        for (int x = 0; x < row; x += 8) {
          const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + x));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(base + b * row + x), _mm_sra_epi16(v, cnt));
        }
      }
    }
  }
}

// Per query: the bound table tc_b (|A| < 2^30, so clamping tc to 32 bits keeps A < tc exact) and the element
// pairs (q[2p], q[2p+1]) as one 32-bit word each.
void query_table(const core::AttentionWorkload& w, int d, int i, int wk, int32_t* tc, int32_t* qpair) {
  const int64_t qp = qpos(w.q, i);
  for (int b = 0; b < wk; ++b) {
    const int64_t t = ceil_shift(w.params.theta - ((int64_t{1} << b) - 1) * qp, b);
    tc[b] = static_cast<int32_t>(
        std::clamp<int64_t>(t, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  }
  const int64_t* q = w.q.data() + static_cast<size_t>(i) * d;
  for (int p = 0; p < (d + 1) / 2; ++p) {
    const uint32_t lo = static_cast<uint16_t>(q[2 * p]);
    const uint32_t hi = 2 * p + 1 < d ? static_cast<uint16_t>(q[2 * p + 1]) : 0;
    qpair[p] = static_cast<int32_t>(lo | (hi << 16));
  }
}

// Every query's table: tc at i * (wk + np), the pairs right after.
std::vector<int32_t> query_tables(const core::AttentionWorkload& w, int d, int lq, int wk) {
  const int np = (d + 1) / 2;
  std::vector<int32_t> t(static_cast<size_t>(lq) * (wk + np));
  for (int i = 0; i < lq; ++i) {
    int32_t* ti = &t[static_cast<size_t>(i) * (wk + np)];
    query_table(w, d, i, wk, ti, ti + wk);
  }
  return t;
}

// The first n results of a group: steps, kept (no failing step) and A_0.
inline void store_group(FastScores& r, size_t x, int n, const int32_t* st, const int32_t* any, const int32_t* a0) {
  for (int jj = 0; jj < n; ++jj) {
    r.steps[x + jj] = static_cast<uint8_t>(st[jj]);
    r.kept[x + jj] = any[jj] == 0 ? 1 : 0;
    r.score[x + jj] = a0[jj];  // A after all wk bits = s_ij where kept
  }
}

template <int WK>
void score_groups_sse2(const core::AttentionWorkload& w, int d, FastScores& r) {
  constexpr int G = 4;
  const int lq = r.lq, lk = r.lk, np = (d + 1) / 2, ng = (lk + G - 1) / G, chunk = chunk_groups(d, WK, G);
  const std::vector<int32_t> tables = query_tables(w, d, lq, WK);
  KeyGroups kg{G, 0, 0, 0, {}};
  for (int g0 = 0; g0 < ng; g0 += chunk) {
    key_groups(w, d, lk, WK, g0, std::min(chunk, ng - g0), kg);
    for (int i = 0; i < lq; ++i) {
      int32_t tc[WK];  // a local copy: the byte-wide result stores may alias the table
      std::memcpy(tc, &tables[static_cast<size_t>(i) * (WK + np)], sizeof tc);
      const int32_t* qpair = &tables[static_cast<size_t>(i) * (WK + np) + WK];
      const size_t row = static_cast<size_t>(i) * lk;
      for (int g = g0; g < g0 + kg.n; ++g) {
        __m128i acc[WK];
        for (int b = 0; b < WK; ++b) acc[b] = _mm_setzero_si128();
        const int16_t* kp = kg.block(g, WK);
        for (int p = 0; p < np; ++p) {
          const __m128i q = _mm_set1_epi32(qpair[p]);
          for (int b = 0; b < WK; ++b, kp += 2 * G)
            acc[b] = _mm_add_epi32(acc[b], _mm_madd_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(kp)), q));
        }
        __m128i st = _mm_set1_epi32(WK), any = _mm_setzero_si128();
        for (int b = 0; b < WK; ++b) {  // ascending: the highest failing b wins
          const __m128i m = _mm_cmpgt_epi32(_mm_set1_epi32(tc[b]), acc[b]);
          st = _mm_or_si128(_mm_and_si128(m, _mm_set1_epi32(WK - b)), _mm_andnot_si128(m, st));
          any = _mm_or_si128(any, m);
        }
        const size_t x = row + static_cast<size_t>(G * g);
        if (G * g + G <= lk) {  // whole group: steps and kept (1 + any) as bytes, A_0 sign-extended
          const __m128i b = _mm_packus_epi16(_mm_packs_epi32(st, _mm_add_epi32(any, _mm_set1_epi32(1))), st);
          uint64_t bytes;
          _mm_storel_epi64(reinterpret_cast<__m128i*>(&bytes), b);
          const uint32_t steps4 = static_cast<uint32_t>(bytes), kept4 = static_cast<uint32_t>(bytes >> 32);
          std::memcpy(&r.steps[x], &steps4, 4);
          std::memcpy(&r.kept[x], &kept4, 4);
          const __m128i sign = _mm_srai_epi32(acc[0], 31);
          _mm_storeu_si128(reinterpret_cast<__m128i*>(&r.score[x]), _mm_unpacklo_epi32(acc[0], sign));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(&r.score[x + 2]), _mm_unpackhi_epi32(acc[0], sign));
        } else {
          alignas(16) int32_t sts[G], an[G], sc[G];
          _mm_store_si128(reinterpret_cast<__m128i*>(sts), st);
          _mm_store_si128(reinterpret_cast<__m128i*>(an), any);
          _mm_store_si128(reinterpret_cast<__m128i*>(sc), acc[0]);
          store_group(r, x, lk - G * g, sts, an, sc);
        }
      }
    }
  }
}

#if defined(__x86_64__)
// The same with 8 keys per group in AVX2 registers (used when the CPU has AVX2).
template <int WK>
__attribute__((target("avx2"))) void score_groups_avx2(const core::AttentionWorkload& w, int d, FastScores& r) {
  constexpr int G = 8;
  const int lq = r.lq, lk = r.lk, np = (d + 1) / 2, ng = (lk + G - 1) / G, chunk = chunk_groups(d, WK, G);
  const std::vector<int32_t> tables = query_tables(w, d, lq, WK);
  KeyGroups kg{G, 0, 0, 0, {}};
  for (int g0 = 0; g0 < ng; g0 += chunk) {
    key_groups(w, d, lk, WK, g0, std::min(chunk, ng - g0), kg);
    for (int i = 0; i < lq; ++i) {
      int32_t tc[WK];  // a local copy: the byte-wide result stores may alias the table
      std::memcpy(tc, &tables[static_cast<size_t>(i) * (WK + np)], sizeof tc);
      const int32_t* qpair = &tables[static_cast<size_t>(i) * (WK + np) + WK];
      const size_t row = static_cast<size_t>(i) * lk;
      for (int g = g0; g < g0 + kg.n; ++g) {
        __m256i acc[WK];
        for (int b = 0; b < WK; ++b) acc[b] = _mm256_setzero_si256();
        const int16_t* kp = kg.block(g, WK);
        for (int p = 0; p < np; ++p) {
          const __m256i q = _mm256_set1_epi32(qpair[p]);
          for (int b = 0; b < WK; ++b, kp += 2 * G)
            acc[b] = _mm256_add_epi32(acc[b],
                                      _mm256_madd_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(kp)), q));
        }
        __m256i st = _mm256_set1_epi32(WK), any = _mm256_setzero_si256();
        for (int b = 0; b < WK; ++b) {  // ascending: the highest failing b wins
          const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(tc[b]), acc[b]);
          st = _mm256_blendv_epi8(st, _mm256_set1_epi32(WK - b), m);
          any = _mm256_or_si256(any, m);
        }
        const size_t x = row + static_cast<size_t>(G * g);
        if (G * g + G <= lk) {  // whole group: steps and kept (1 + any) as bytes, A_0 sign-extended
          // per 128-bit lane: steps of its 4 keys in dword 0, kept in dword 1
          const __m256i kept = _mm256_add_epi32(any, _mm256_set1_epi32(1));
          const __m256i b = _mm256_packus_epi16(_mm256_packs_epi32(st, kept), st);
          const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
          const __m128i sk = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(b, order));
          _mm_storel_epi64(reinterpret_cast<__m128i*>(&r.steps[x]), sk);
          _mm_storel_epi64(reinterpret_cast<__m128i*>(&r.kept[x]), _mm_srli_si128(sk, 8));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(&r.score[x]),
                              _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc[0])));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(&r.score[x + 4]),
                              _mm256_cvtepi32_epi64(_mm256_extracti128_si256(acc[0], 1)));
        } else {
          alignas(32) int32_t sts[G], an[G], sc[G];
          _mm256_store_si256(reinterpret_cast<__m256i*>(sts), st);
          _mm256_store_si256(reinterpret_cast<__m256i*>(an), any);
          _mm256_store_si256(reinterpret_cast<__m256i*>(sc), acc[0]);
          store_group(r, x, lk - G * g, sts, an, sc);
        }
      }
    }
  }
}
#endif

template <int WK>
void score_groups_dispatch(int wk, const core::AttentionWorkload& w, int d, FastScores& r) {
  if constexpr (WK <= 16) {
    if (wk != WK) return score_groups_dispatch<WK + 1>(wk, w, d, r);
#if defined(__x86_64__)
    static const bool avx2 = __builtin_cpu_supports("avx2");
    if (avx2) return score_groups_avx2<WK>(w, d, r);
#endif
    return score_groups_sse2<WK>(w, d, r);
  }
}
#endif

void score_rows_narrow(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, FastScores& r) {
#if defined(__SSE2__)
  if (!cfg.dense_baseline) return score_groups_dispatch<2>(cfg.wk, w, cfg.d, r);
#endif
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

// Any width: the bound U_m of docs/semantics.md step by step in 64 bits, stopping at the first U_m < theta.
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
  bool interp64 = false;   // every |table[i] - table[i + 1]| * 2^(G - L) below 2^62: interpolate in int64
  uint64_t d_lim = 0;      // alpha * d fits in 64 bits for d <= d_lim
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

// exp_of for d = max - score with alpha * d below 2^64 (d <= s.d_lim): the same steps in 64 bits.
inline int64_t exp_of64(const SoftmaxCtx& s, uint64_t d) {
  const uint64_t x = s.alpha * d;
  const int Fa = s.f.alpha_frac_bits, L = s.f.exp_lut_bits, E = s.f.exp_frac_bits;
  const uint64_t I = x >> Fa;
  if (I > static_cast<uint64_t>(E)) return 0;
  const int64_t fr = static_cast<int64_t>(x & ((uint64_t{1} << Fa) - 1));
  const int G = std::max(Fa, L);
  const int64_t g = fr << (G - Fa);
  const int64_t idx = g >> (G - L);
  const int64_t r = g - (idx << (G - L));
  const int64_t ti = s.table[static_cast<size_t>(idx)], tn = s.table[static_cast<size_t>(idx + 1)];
  const int64_t u = ti - (s.interp64 ? ((ti - tn) * r) >> (G - L)
                                     : static_cast<int64_t>((static_cast<i128>(ti - tn) * r) >> (G - L)));
  return u >> static_cast<int>(I);
}

// Scratch buffers reused across the rows of a run.
struct RowScratch {
  std::vector<int64_t> acc;
  std::vector<double> accd;
  std::vector<int> idx;  // kept keys of the row, in index order
};

std::vector<int64_t> output_row(const SoftmaxCtx& s, const FastScores& sc, int i, const core::IntMatrix& v,
                                RowScratch& scr) {
  const int lk = sc.lk;
  const Eigen::Index dv = v.cols();
  const size_t row = static_cast<size_t>(i) * lk;
  std::vector<int64_t> out(static_cast<size_t>(dv), 0);
  // the kept keys (branch-free compaction) and their largest and smallest score
  scr.idx.resize(static_cast<size_t>(lk));
  int* idx = scr.idx.data();
  const uint8_t* kr = &sc.kept[row];
  const int64_t* sr = &sc.score[row];
  int n = 0;
  int64_t m = std::numeric_limits<int64_t>::min(), lo = std::numeric_limits<int64_t>::max();
  for (int j = 0; j < lk; ++j) {
    const bool k = kr[j] != 0;
    idx[n] = j;
    n += k ? 1 : 0;
    m = std::max(m, k ? sr[j] : std::numeric_limits<int64_t>::min());
    lo = std::min(lo, k ? sr[j] : std::numeric_limits<int64_t>::max());
  }
  if (n == 0) return out;
  if (!s.narrow) {  // wide formats: the reference arithmetic (128-bit sums)
    std::vector<std::pair<int, int64_t>> kept;
    for (int x = 0; x < n; ++x) kept.emplace_back(idx[x], sr[idx[x]]);
    return softmax_row(kept, v, s.alpha, s.f).out;
  }
  // every d = m - score of the row is at most m - lo (as an unsigned difference: below 2^64)
  const bool fast_exp = static_cast<uint64_t>(m) - static_cast<uint64_t>(lo) <= s.d_lim;
  auto exp_at = [&](int j) {
    return fast_exp ? exp_of64(s, static_cast<uint64_t>(m) - static_cast<uint64_t>(sr[j])) : exp_of(s, m, sr[j]);
  };
  scr.acc.assign(static_cast<size_t>(dv), 0);
  int64_t* acc = scr.acc.data();
  int64_t z = 0;
  if (s.exact_double) {
    scr.accd.assign(static_cast<size_t>(dv), 0.0);
    double* ad = scr.accd.data();
    for (int x = 0; x < n; ++x) {
      const int j = idx[x];
      const int64_t e = exp_at(j);
      if (e == 0) continue;
      z += e;
      const double ed = static_cast<double>(e);
      const double* vr = s.vd.data() + static_cast<size_t>(j) * static_cast<size_t>(dv);
      for (Eigen::Index c = 0; c < dv; ++c) ad[c] += ed * vr[c];
    }
    for (Eigen::Index c = 0; c < dv; ++c) acc[c] = static_cast<int64_t>(ad[c]);
  } else {
    for (int x = 0; x < n; ++x) {
      const int j = idx[x];
      const int64_t e = exp_at(j);
      if (e == 0) continue;
      z += e;
      const int64_t* vr = v.data() + static_cast<Eigen::Index>(j) * dv;
      for (Eigen::Index c = 0; c < dv; ++c) acc[c] += e * vr[c];
    }
  }
  const int64_t two_z = 2 * z;
  for (Eigen::Index c = 0; c < dv; ++c) {
    const int64_t a = acc[c];
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
  uint64_t wheel[32] = {};                     // lanes whose done step is at cycle = index mod 32
  uint32_t occ = 0;                            // non-empty wheel buckets
  uint64_t sv_h = 0, sv_o = 0;                 // valid result slots per context
  bool busy_h = false, busy_o = false;
  const uint8_t *next_h = nullptr, *end_h = nullptr, *next_o = nullptr, *end_o = nullptr;
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
  auto issue = [&](const uint8_t*& next, const uint8_t* end, uint64_t& f, uint64_t to_o) {
    while (f != 0 && next != end) {
      const uint64_t bit = f & (~f + 1);
      f &= f - 1;
      const uint8_t p = *next++;
      const int slot = static_cast<int>((c + (p & 0x7f)) & 31);
      wheel[slot] |= bit;
      occ |= uint32_t{1} << slot;
      active |= bit;
      om = (om & ~bit) | (bit & to_o);
      kept = (kept & ~bit) | (bit & (uint64_t{0} - (p >> 7)));
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
        out_load && sv_h == 0 && busy_h && next_h == end_h && (active & ~om) == 0;

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
    active &= ~((cand & ~kept) | commit_kept);

    // Key issue from the registered contexts, head first; free lanes in index order.
    uint64_t f = all & ~active;
    if (f != 0) {
      issue(next_h, end_h, f, 0);
      issue(next_o, end_o, f, ~uint64_t{0});
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
      query_h = query_o;
      sv_h = sv_o;
      sv_o = 0;
      busy_o = false;
      next_o = end_o = nullptr;
      om = ~om;
    } else if (any_act && cyc < kCyclesMax) {
      ++cyc;
    }
    if (start) {  // into the head context when it is idle, else into the other one (idle then)
      const uint8_t* row = scores + static_cast<size_t>(qb_query) * lk;
      if (!busy_h) {
        busy_h = true;
        query_h = qb_query;
        next_h = row;
        end_h = row + lk;
      } else {
        busy_o = true;
        query_o = qb_query;
        next_o = row;
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
    const bool eoq_next = sv_h == 0 && busy_h && next_h == end_h && (active & ~om) == 0;
    const bool now = (ov && sr) || ((!ov || sr) && (sv_h != 0 || eoq_next)) || (qb_valid && (!busy_h || !busy_o)) ||
                     ((all & ~active) != 0 && (next_h != end_h || next_o != end_o));
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
  {
    const int G = std::max(s.f.alpha_frac_bits, s.f.exp_lut_bits);
    int64_t diff = 0;
    for (size_t x = 0; x + 1 < s.table.size(); ++x) {
      const int64_t dd = s.table[x] - s.table[x + 1];
      diff = std::max(diff, dd < 0 ? -dd : dd);
    }
    s.interp64 = G - s.f.exp_lut_bits < 62 && diff < (int64_t{1} << (62 - (G - s.f.exp_lut_bits)));
    s.d_lim = s.alpha == 0 ? std::numeric_limits<uint64_t>::max() : std::numeric_limits<uint64_t>::max() / s.alpha;
  }
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

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, score_unchecked(cfg, w));
}

FastRun run_fast(const core::AttentionConfig& cfg, const core::AttentionWorkload& w, const FastScores& sc) {
  check_inputs(cfg, w);
  return run_unchecked(cfg, w, sc);
}

}  // namespace accelgen::golden
