// accelgen::tb — the X-state options of the per-config simulators: Verilator's own runtime
// arguments `+verilator+rand+reset+N` (how the registers' power-up values and Verilator's X
// resolution are chosen: 0 zeros, 1 all ones, 2 random) and `+verilator+seed+N` (the random
// seed; default: the stimulus seed). They reach the Verilated context in tb/verilated_top.h.
//
// The simulators are built once with `--x-assign unique --x-initial unique`, so these are run-time
// choices: the X-state sweep of the regression (tests/test_regression.cpp, tests/test_nm_rtl.cpp)
// reruns the same simulator with zeros and with three random seeds and requires identical reports.
// May include: the standard library only.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accelgen::tb {

struct XStateArgs {
  int rand_reset = 2;             // +verilator+rand+reset+N: 0 zeros, 1 ones, 2 random
  std::optional<uint32_t> seed;   // +verilator+seed+N (N >= 1); unset: the stimulus seed
  bool given = false;             // any +verilator+ argument was on the command line
};

// The process's X-state options (one simulator run per process).
inline XStateArgs& xstate_args() {
  static XStateArgs args;
  return args;
}

// Moves every `+verilator+...` argument out of argv (CLI11 sees the rest) into xstate_args().
// Returns "" or a one-line error naming the argument and what is allowed.
inline std::string take_xstate_args(int& argc, char** argv) {
  constexpr std::string_view kReset = "+verilator+rand+reset+", kSeed = "+verilator+seed+";
  auto number = [](std::string_view s, uint64_t min, uint64_t max, uint64_t& out) {
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty() && out >= min && out <= max;
  };
  int kept = 0;
  for (int i = 0; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i == 0 || a.rfind("+verilator+", 0) != 0) {
      argv[kept++] = argv[i];
      continue;
    }
    uint64_t v = 0;
    if (a.rfind(kReset, 0) == 0 && number(a.substr(kReset.size()), 0, 2, v)) {
      xstate_args().rand_reset = static_cast<int>(v);
    } else if (a.rfind(kSeed, 0) == 0 && number(a.substr(kSeed.size()), 1, 0x7fffffff, v)) {
      xstate_args().seed = static_cast<uint32_t>(v);
    } else {
      return std::string(a) +
             ": allowed are +verilator+rand+reset+N (N 0, 1 or 2) and +verilator+seed+N (N 1..2147483647; Verilator reads 0 as 'pick a seed')";
    }
    xstate_args().given = true;
  }
  argc = kept;
  return "";
}

// The X-state arguments as given, for the reproduce line ("" when none were given).
inline std::string xstate_args_text() {
  const XStateArgs& x = xstate_args();
  if (!x.given) return "";
  std::string s = " +verilator+rand+reset+" + std::to_string(x.rand_reset);
  if (x.seed) s += " +verilator+seed+" + std::to_string(*x.seed);
  return s;
}

}  // namespace accelgen::tb
