// The bound-table identity the RTL relies on (docs/microarchitecture.md "The bound table"): for
// integer A, `A * 2^b < T` holds exactly when `A < ceil(T / 2^b)`, and the hardware computes that
// ceiling as `-((-T) >>> b)`. Checked exhaustively on a range that includes every sign case, and the
// table entries against the bound U_m of docs/semantics.md written out directly.
#include <gtest/gtest.h>

#include <cstdint>

namespace {

int64_t ceil_shift(int64_t t, int b) { return -((-t) >> b); }  // >> on int64 is arithmetic

TEST(BoundTable, CeilShiftEqualsTheCompareItReplaces) {
  for (int b = 0; b <= 6; ++b) {
    for (int64_t t = -300; t <= 300; ++t) {
      const int64_t tc = ceil_shift(t, b);
      for (int64_t a = -80; a <= 80; ++a) {
        ASSERT_EQ(a * (int64_t{1} << b) < t, a < tc) << "a=" << a << " t=" << t << " b=" << b;
      }
    }
  }
}

TEST(BoundTable, TableEntryMatchesSpecBoundForEveryPartialSum) {
  // U_m = A*2^b + (2^b - 1)*Qpos < theta  <=>  A < tc_b, tc_b = ceil((theta - (2^b-1)*Qpos) / 2^b).
  for (int b = 0; b <= 5; ++b) {
    for (int64_t qpos = 0; qpos <= 40; qpos += 7) {
      for (int64_t theta = -150; theta <= 150; theta += 3) {
        const int64_t tc = ceil_shift(theta - ((int64_t{1} << b) - 1) * qpos, b);
        for (int64_t a = -40; a <= 40; ++a) {
          const int64_t u = a * (int64_t{1} << b) + ((int64_t{1} << b) - 1) * qpos;
          ASSERT_EQ(u < theta, a < tc) << "a=" << a << " qpos=" << qpos << " theta=" << theta << " b=" << b;
        }
      }
    }
  }
}

}  // namespace
