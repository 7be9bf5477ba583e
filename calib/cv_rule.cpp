// accelgen::calib — the acceptance rule of --cv-margin over the left-out (fold) errors, see calibrate.h
// ("cross-validation rule") and docs/calibration.md "Cross-validated margin": the worst fold, or a one-sided
// Student-t prediction bound for the error of a new workload.
// May include: core/, fmt.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "calib/calibrate.h"
#include "core/error.h"

namespace accelgen::calib {

const char* to_string(CvRule r) { return r == CvRule::predict ? "predict" : "worst"; }

CvRule parse_cv_rule(const std::string& text) {
  if (text == "worst") return CvRule::worst;
  if (text == "predict") return CvRule::predict;
  throw core::InputError("--cv-rule", fmt::format("'{}' is not a cross-validation rule; allowed: worst, predict", text));
}

namespace {

// P(|T| <= t) for Student's t with an integer df >= 1, as a function of theta = atan(t / sqrt(df)) in [0, pi/2)
// (Abramowitz & Stegun 26.7.3 and 26.7.4; finite sums, no special functions):
//   df odd:  (2/pi) * (theta + sin(theta) * (c + (2/3) c^3 + (2*4)/(3*5) c^5 + ... up to c^(df-2))), c = cos(theta)
//            (df = 1: 2 theta / pi);
//   df even: sin(theta) * (1 + (1/2) c^2 + (1*3)/(2*4) c^4 + ... up to c^(df-2)).
// Each term is the previous one times c^2 (k - 1) / k, k the new power.
double t_two_sided_cdf(double theta, int df) {
  const double c = std::cos(theta), c2 = c * c, s = std::sin(theta);
  if (df % 2 == 0) {
    double term = 1.0, sum = 1.0;
    for (int k = 2; k <= df - 2; k += 2) {
      term *= c2 * (k - 1) / k;
      sum += term;
    }
    return s * sum;
  }
  double sum = 0.0;
  if (df > 1) {
    double term = c;
    sum = c;
    for (int k = 3; k <= df - 2; k += 2) {
      term *= c2 * (k - 1) / k;
      sum += term;
    }
  }
  return 2.0 / std::numbers::pi * (theta + s * sum);
}

}  // namespace

double student_t_quantile(int df, double q) {
  if (df < 1 || !(q > 0.0 && q < 1.0)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0.5) return -student_t_quantile(df, 1.0 - q);  // symmetric
  // One-sided CDF = (1 + two_sided) / 2, increasing in theta: bisect theta in [0, pi/2) for two_sided = 2q - 1.
  const double target = 2.0 * q - 1.0;
  double lo = 0.0, hi = std::numbers::pi / 2.0;
  for (int it = 0; it < 200 && hi - lo > 1e-17; ++it) {
    const double mid = 0.5 * (lo + hi);
    (t_two_sided_cdf(mid, df) < target ? lo : hi) = mid;
  }
  return std::sqrt(static_cast<double>(df)) * std::tan(0.5 * (lo + hi));
}

double cv_bound(const std::vector<double>& e, CvRule rule, double level) {
  const double inf = std::numeric_limits<double>::infinity();
  if (e.empty()) return inf;
  for (double x : e)
    if (!std::isfinite(x)) return inf;
  if (rule == CvRule::worst) return *std::max_element(e.begin(), e.end());
  const size_t n = e.size();
  if (n < 2) return inf;  // one fold: no spread to bound a new workload with
  double mean = 0.0;
  for (double x : e) mean += x;
  mean /= static_cast<double>(n);
  double ss = 0.0;
  for (double x : e) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  const double t = student_t_quantile(static_cast<int>(n - 1), level);
  return mean + t * sd * std::sqrt(1.0 + 1.0 / static_cast<double>(n));
}

bool cv_accepts(const std::vector<double>& fold_errors, double max_error, CvRule rule, double level) {
  return cv_bound(fold_errors, rule, level) <= max_error;
}

}  // namespace accelgen::calib
