#include "tb/nm_run.h"

#include <algorithm>

#include <fmt/format.h>

namespace accelgen::tb {

std::optional<Mismatch> compare_nm_outputs(const golden::NmOutputs& e, const golden::NmOutputs& g,
                                           int64_t cycle) {
  auto diff = [&](const std::string& name, auto exp, auto got) -> std::optional<Mismatch> {
    if (exp == got) return std::nullopt;
    return Mismatch{cycle, name, fmt::format("{}", exp), fmt::format("{}", got)};
  };
  std::optional<Mismatch> m;
  if ((m = diff("w_ready_o", e.w_ready, g.w_ready))) return m;
  if ((m = diff("x_ready_o", e.x_ready, g.x_ready))) return m;
  if ((m = diff("y_valid_o", e.y_valid, g.y_valid))) return m;
  if (!e.y_valid) return std::nullopt;
  for (size_t c = 0; c < std::max(e.y_data.size(), g.y_data.size()); ++c) {
    const int64_t ev = c < e.y_data.size() ? e.y_data[c] : 0;
    const int64_t gv = c < g.y_data.size() ? g.y_data[c] : 0;
    if ((m = diff(fmt::format("y_data_o[{}]", c), ev, gv))) return m;
  }
  return diff("y_last_o", e.y_last, g.y_last);
}

namespace {

// Y as delivered against the dense product (golden::nm_reference does not use the compressed
// form the cycle model gathers from).
std::string check_y(const core::NmWorkload& w, const core::IntMatrix& y) {
  const core::IntMatrix ref = golden::nm_reference(w.x, w.w);
  if (y.rows() != ref.rows() || y.cols() != ref.cols()) {
    return fmt::format("Y is [{}, {}], expected [{}, {}]", y.rows(), y.cols(), ref.rows(), ref.cols());
  }
  for (Eigen::Index i = 0; i < ref.rows(); ++i) {
    for (Eigen::Index j = 0; j < ref.cols(); ++j) {
      if (y(i, j) != ref(i, j)) return fmt::format("Y[{}][{}] = {}, expected {}", i, j, y(i, j), ref(i, j));
    }
  }
  return "";
}

}  // namespace

NmRun run_nm(const core::NmConfig& cfg, const core::NmWorkload& w, const StimulusOptions& stim,
             NmDut* dut, int64_t stop_after) {
  NmDriver driver(cfg, w.x, w.w, stim);
  golden::NmCycleModel model(cfg);
  NmRun r;
  r.tiling = driver.tiling();
  const LockstepResult l = run_lockstep(driver, model, dut, stop_after, compare_nm_outputs,
                                        [](int64_t, const golden::NmInputs&, const golden::NmOutputs&) {});
  r.mismatch = l.mismatch;
  r.timed_out = l.timed_out;
  r.cycles_simulated = l.cycles;
  if (driver.finished()) {
    r.y = driver.y();
    r.stats = driver.stats();
  }
  if (!r.mismatch && !r.timed_out && stop_after < 0) r.functional_error = check_y(w, r.y);
  return r;
}

}  // namespace accelgen::tb
