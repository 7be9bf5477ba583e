// accelgen::tb — GEMM driver and model-only run of docs/nm_array.md, see nm_driver.h.
#include "tb/nm_driver.h"

#include <algorithm>

namespace accelgen::tb {
namespace {

constexpr int kGarbagePool = 8;  // drawing fresh random data every cycle would dominate run time
constexpr int kResetCycles = 2;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

NmTiling nm_tiling(const core::NmConfig& cfg, int64_t r, int64_t k, int64_t c) {
  const core::NmWidths w = core::nm_widths(cfg);
  return {r, k, c, ceil_div(k, w.kb), ceil_div(r, cfg.rows), ceil_div(c, cfg.cols)};
}

NmDriver::NmDriver(const core::NmConfig& cfg, const core::IntMatrix& x, const core::IntMatrix& w,
                   const StimulusOptions& opts)
    : cfg_(cfg), wd_(core::nm_widths(cfg)), x_(x), w_(w), opts_(opts), rng_(opts.seed) {
  core::check_gemm_operands(cfg_, x_, w_);
  if (!cfg_.dense_baseline) wc_ = core::compress(w_, cfg_.n, cfg_.m, core::Prune::kNone, "w.npy");
  tiling_ = nm_tiling(cfg_, x_.rows(), x_.cols(), w_.cols());
  for (int i = 0; i < kGarbagePool; ++i) {
    golden::NmInputs g;
    for (int s = 0; s < cfg_.cols * cfg_.n; ++s) {
      g.w_values.push_back(static_cast<int64_t>(rng_()));
      g.w_indices.push_back(static_cast<uint32_t>(rng_()));
    }
    for (int e = 0; e < cfg_.rows * wd_.kb; ++e) g.x_data.push_back(static_cast<int64_t>(rng_()));
    garbage_.push_back(std::move(g));
  }
  restart(0);
}

void NmDriver::restart(int64_t cycle) {
  in_reset_ = true;
  reset_cycles_left_ = kResetCycles;
  run_start_ = cycle + kResetCycles;
  tile_ = 0;
  stage_ = -1;
  beat_ = 0;
  presenting_ = false;
  out_tile_ = out_beat_ = 0;
  x_beats_ = 0;
  last_y_cycle_ = run_start_ - 1;
  y_ = core::IntMatrix::Zero(tiling_.r, tiling_.c);
}

bool NmDriver::chance(double p) {
  if (p >= 1.0) return true;
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p;
}

void NmDriver::garbage(golden::NmInputs& in) {
  const golden::NmInputs& g = garbage_[rng_() % garbage_.size()];
  in.w_values = g.w_values;
  in.w_indices = g.w_indices;
  in.x_data = g.x_data;
  in.w_last = (rng_() & 1) != 0;
  in.x_last = (rng_() & 1) != 0;
}

void NmDriver::weight_beat(golden::NmInputs& in) const {
  in.w_valid = true;
  // A weight set of D beats ends by the store's count; --last-by-count leaves it to that.
  in.w_last = beat_ == tiling_.groups - 1 && !(opts_.last_by_count && tiling_.groups == wd_.depth);
  for (int c = 0; c < cfg_.cols; ++c) {
    const int64_t col = tile_ * cfg_.cols + c;
    for (int s = 0; s < cfg_.n; ++s) {
      const auto slot = static_cast<size_t>(c * cfg_.n + s);
      int64_t value = 0;
      uint32_t index = static_cast<uint32_t>(s);  // a padding column is the canonical zero group
      if (cfg_.dense_baseline) {
        const int64_t k = beat_ * cfg_.n + s;
        if (col < tiling_.c && k < tiling_.k) value = w_(k, col);
        index = 0;
      } else if (col < tiling_.c) {
        value = wc_.values[wc_.at(beat_, col, s)];
        index = static_cast<uint32_t>(wc_.indices[wc_.at(beat_, col, s)]);
      }
      in.w_values[slot] = value;
      in.w_indices[slot] = index;
    }
  }
}

void NmDriver::x_beat(golden::NmInputs& in) const {
  in.x_valid = true;
  // A row tile has as many beats as the weight set, so it always ends by the count as well.
  in.x_last = beat_ == tiling_.groups - 1 && !opts_.last_by_count;
  for (int r = 0; r < cfg_.rows; ++r) {
    const int64_t row = stage_ * cfg_.rows + r;
    for (int j = 0; j < wd_.kb; ++j) {
      const int64_t k = beat_ * wd_.kb + j;
      const bool real = row < tiling_.r && k < tiling_.k;
      in.x_data[static_cast<size_t>(r * wd_.kb + j)] = real ? x_(row, k) : 0;
    }
  }
}

golden::NmInputs NmDriver::inputs(int64_t cycle) {
  if (opts_.reset_at >= 0 && cycle == opts_.reset_at && !reset_again_done_) {
    reset_again_done_ = true;
    restart(cycle);
  }
  golden::NmInputs in;
  garbage(in);  // data inputs carry random bits unless a beat is presented
  in.y_ready = chance(opts_.ready_prob);
  if (in_reset_) {
    in.rst_n = false;
    if (--reset_cycles_left_ == 0) in_reset_ = false;
    return in;
  }
  if (tile_ < tiling_.col_tiles && (presenting_ || chance(opts_.valid_prob))) {
    presenting_ = true;  // once valid, stays valid (and stable) until accepted
    if (stage_ < 0) {
      weight_beat(in);
    } else {
      x_beat(in);
    }
  }
  return in;
}

void NmDriver::advance() {
  presenting_ = false;
  if (++beat_ < tiling_.groups) return;
  beat_ = 0;
  if (++stage_ < tiling_.row_tiles) return;
  stage_ = -1;
  ++tile_;
}

void NmDriver::collect(const std::vector<int64_t>& y_data) {
  const int64_t row = (out_beat_ / cfg_.rows) * cfg_.rows + out_beat_ % cfg_.rows;
  if (row < tiling_.r) {
    for (int c = 0; c < cfg_.cols; ++c) {
      const int64_t col = out_tile_ * cfg_.cols + c;
      if (col < tiling_.c) y_(row, col) = y_data[static_cast<size_t>(c)];
    }
  }
  if (++out_beat_ == tiling_.row_tiles * cfg_.rows) {
    out_beat_ = 0;
    ++out_tile_;
  }
}

void NmDriver::observe(const golden::NmInputs& in, const golden::NmOutputs& out, int64_t cycle) {
  if (!in.rst_n) return;
  if (in.w_valid && out.w_ready) advance();
  if (in.x_valid && out.x_ready) {
    ++x_beats_;
    advance();
  }
  if (out.y_valid && in.y_ready) {
    collect(out.y_data);
    last_y_cycle_ = cycle;
  }
}

NmStats NmDriver::stats() const {
  NmStats s;
  s.cycles = last_y_cycle_ - run_start_ + 1;
  s.compute_cycles = x_beats_;
  s.macs = cfg_.n * tiling_.r * tiling_.c * tiling_.groups;
  s.effective_macs = tiling_.r * tiling_.k * tiling_.c;
  const double slots = static_cast<double>(cfg_.n) * cfg_.rows * cfg_.cols;
  if (s.compute_cycles > 0) s.pe_utilization = static_cast<double>(s.macs) / (slots * s.compute_cycles);
  if (s.cycles > 0) s.array_utilization = static_cast<double>(s.macs) / (slots * s.cycles);
  return s;
}

int64_t NmDriver::cycle_limit() const {
  const double work = static_cast<double>(tiling_.col_tiles) *
                      ((tiling_.row_tiles + 1) * (tiling_.groups + cfg_.rows + 2) + 2);
  const double slow = 1.0 / std::max(0.01, std::min(opts_.valid_prob, opts_.ready_prob));
  const int64_t reset_extra = opts_.reset_at >= 0 ? opts_.reset_at : 0;
  return static_cast<int64_t>(work * 4 * slow) + 1000 + reset_extra;
}

NmRunResult run_nm_gemm(const core::NmConfig& cfg, const core::IntMatrix& x,
                        const core::IntMatrix& w, const StimulusOptions& opts) {
  NmDriver driver(cfg, x, w, opts);
  golden::NmCycleModel model(cfg);
  NmRunResult r;
  const int64_t limit = driver.cycle_limit();
  int64_t cycle = 0;
  for (; !driver.finished(); ++cycle) {
    if (cycle > limit) {
      r.timed_out = true;
      break;
    }
    const golden::NmInputs in = driver.inputs(cycle);
    driver.observe(in, model.eval(in), cycle);
    model.tick(in);
  }
  r.cycles_simulated = cycle;
  r.y = driver.y();
  r.stats = driver.stats();
  return r;
}

}  // namespace accelgen::tb
