// accelgen::golden — the fast model's softmax row (docs/softmax.md steps 1-9), see fast_softmax.h.
// May include: core/, Eigen and golden/ only.
#include "golden/fast_softmax.h"

#include <algorithm>
#include <limits>
#include <utility>

namespace accelgen::golden::fast_internal {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

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

// Steps 3-6 for an exponent 0 <= x <= s.xlim (units 2^-F).
inline int64_t exp_from_x(const SoftmaxCtx& s, uint64_t x) {
  const int Fa = s.f.x_frac_bits, L = s.f.exp_lut_bits, E = s.f.exp_frac_bits;
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

// Step 2 from the product p = mant * d: x = min(floor(p * 2^F / 2^shift), xlim).
template <typename U>
inline uint64_t x_of_product(const SoftmaxCtx& s, U p) {
  if (s.rsh >= 0) {
    const U x = s.rsh >= static_cast<int>(8 * sizeof(U)) ? U{0} : p >> s.rsh;
    return x > static_cast<U>(s.xlim) ? s.xlim : static_cast<uint64_t>(x);
  }
  return p > static_cast<U>(s.xlim >> -s.rsh) ? s.xlim : static_cast<uint64_t>(p) << -s.rsh;
}

int64_t exp_of(const SoftmaxCtx& s, int64_t max, int64_t score) {
  const uint64_t d = static_cast<uint64_t>(static_cast<i128>(max) - static_cast<i128>(score));
  return exp_from_x(s, x_of_product(s, static_cast<u128>(s.mant) * d));  // mant < 2^32, d < 2^64: exact
}

// exp_of for d = max - score with mant * d below 2^64 (d <= s.d_lim): the product in 64 bits.
inline int64_t exp_of64(const SoftmaxCtx& s, uint64_t d) { return exp_from_x(s, x_of_product(s, s.mant * d)); }

}  // namespace

SoftmaxCtx softmax_ctx(const core::AttentionConfig& cfg, uint64_t alpha_bits, int lk, const core::IntMatrix& v) {
  SoftmaxCtx s;
  s.f = default_softmax_format(cfg);
  s.table = exp_table(s.f);
  s.alpha = alpha_bits;
  const int m = s.f.alpha_mant_bits;
  s.mant = alpha_bits & ((uint64_t{1} << m) - 1);
  s.rsh = static_cast<int>((alpha_bits >> m) & ((uint64_t{1} << core::kAlphaShiftBits) - 1)) - s.f.x_frac_bits;
  s.xlim = (uint64_t{1} << exponent_width(s.f)) - 1;
  const int kbits = core::clog2(static_cast<uint64_t>(lk) + 1);  // |A_c| <= Lk 2^E 2^(wv-1), Z <= Lk 2^E
  s.narrow = kbits + s.f.exp_frac_bits + s.f.wv + s.f.out_frac_bits + 2 <= 62;
  s.exact_double = s.narrow && kbits + s.f.exp_frac_bits + s.f.wv <= 52;
  if (s.exact_double) {
    s.vd.resize(static_cast<size_t>(v.size()));
    for (Eigen::Index x = 0; x < v.size(); ++x) s.vd[static_cast<size_t>(x)] = static_cast<double>(v.data()[x]);
  }
  {
    const int G = std::max(s.f.x_frac_bits, s.f.exp_lut_bits);
    int64_t diff = 0;
    for (size_t x = 0; x + 1 < s.table.size(); ++x) {
      const int64_t dd = s.table[x] - s.table[x + 1];
      diff = std::max(diff, dd < 0 ? -dd : dd);
    }
    s.interp64 = G - s.f.exp_lut_bits < 62 && diff < (int64_t{1} << (62 - (G - s.f.exp_lut_bits)));
    s.d_lim = s.mant == 0 ? std::numeric_limits<uint64_t>::max() : std::numeric_limits<uint64_t>::max() / s.mant;
  }
  return s;
}

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

}  // namespace accelgen::golden::fast_internal
