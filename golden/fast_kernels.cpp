// accelgen::golden — the fast model's exact score kernels (docs/semantics.md), see fast_kernels.h.
//
// The AVX2 kernel carries __attribute__((target("avx2"))) and is chosen at run time
// (__builtin_cpu_supports), so this file needs no per-file compiler flags: SSE2 is the x86-64 baseline, and
// without SSE2 the scalar loops are used.
// May include: core/, Eigen and golden/ only.
#include "golden/fast_kernels.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "golden/functional.h"

namespace accelgen::golden::fast_internal {
namespace {

// ---------------------------------------------------------------- scores (docs/semantics.md)

// sum_t q[t] * (k[t] >> b): the accumulator A of docs/semantics.md after the top wk - b bits (the arithmetic shift of the
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

}  // namespace

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

}  // namespace accelgen::golden::fast_internal
