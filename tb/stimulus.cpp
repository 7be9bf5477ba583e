#include "tb/stimulus.h"

#include <algorithm>
#include <stdexcept>

namespace accelgen::tb {

AttnDriver::AttnDriver(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                       const StimulusOptions& opts)
    : AttnDriver(cfg, std::vector<core::AttentionWorkload>{w}, opts) {}

AttnDriver::AttnDriver(const core::AttentionConfig& cfg, const std::vector<core::AttentionWorkload>& sets,
                       const StimulusOptions& opts)
    : cfg_(cfg), wd_(core::widths(cfg)), sets_(sets), opts_(opts), rng_(opts.seed) {
  if (sets_.empty()) throw std::invalid_argument("AttnDriver: no workload");
  for (const core::AttentionWorkload& s : sets_) {
    first_query_.push_back(total_queries_);
    total_queries_ += s.q.rows();
  }
  // The config writes are the first workload's; the others have the same params.
  const core::AttentionWorkload& w = sets_.front();
  alpha_ = core::quantize_alpha(w.params.softmax_scale, cfg).bits;  // (shift << mant_bits) | mant
  cfg_writes_.push_back({0, alpha_});
  if (!cfg.dense_baseline) {
    // The workload's slot gets its theta; every other slot gets a decoy at the end of the range
    // (keep everything / prune everything), so a wrong slot lookup cannot go unnoticed.
    for (int s = 0; s < cfg.threshold_slots; ++s) {
      const int64_t decoy = s % 2 ? core::signed_min(wd_.tw) : core::signed_max(wd_.tw);
      uint64_t bits = theta_bits(decoy);
      if (s == w.params.slot) bits = slot_bits(w.params);
      cfg_writes_.push_back({static_cast<uint32_t>(1 + s), bits});
    }
  }
  for (int i = 0; i < 16; ++i) {
    k_garbage_.push_back(random_row(cfg.wk, cfg.d));
    q_garbage_.push_back(random_row(cfg.wq, cfg.d));
    v_garbage_.push_back(random_row(cfg.wv, cfg.dv));
  }
  // Write the workload's own slot last, so it is the most recent write before the run.
  std::stable_partition(cfg_writes_.begin() + 1, cfg_writes_.end(), [&](const CfgWrite& c) {
    return c.addr != static_cast<uint32_t>(1 + w.params.slot);
  });
}

uint64_t AttnDriver::theta_bits(int64_t theta) const {
  // Relative-threshold hardware: the mode bit above theta's TW bits must be 0 (absolute).
  const int bits = cfg_.relative_thresholds && !cfg_.dense_baseline ? wd_.tw : wd_.cdw;
  const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
  return static_cast<uint64_t>(theta) & mask;
}

// A slot register write: theta or delta in the low TW bits, the relative-mode bit above them (relative-
// threshold hardware only; docs/microarchitecture.md "Ports").
uint64_t AttnDriver::slot_bits(const core::AttentionParams& p) const {
  if (p.mode == core::ThresholdMode::absolute) return theta_bits(p.theta);
  const uint64_t value = static_cast<uint64_t>(p.delta) & ((uint64_t{1} << wd_.tw) - 1);
  return (uint64_t{1} << wd_.tw) | value;
}

bool AttnDriver::chance(double p) {
  if (p >= 1.0) return true;
  // Own mapping from raw 64-bit draws: std::uniform_real_distribution is implementation-defined.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
}

std::vector<int64_t> AttnDriver::random_row(int width, int length) {
  std::vector<int64_t> v(static_cast<size_t>(length));
  for (auto& x : v) x = core::signed_min(width) + static_cast<int64_t>(rng_() % (uint64_t{1} << width));
  return v;
}

const std::vector<int64_t>& AttnDriver::garbage_row(const std::vector<std::vector<int64_t>>& pool) {
  return pool[rng_() % pool.size()];
}

std::vector<int64_t> AttnDriver::row(const core::IntMatrix& m, Eigen::Index i) const {
  return std::vector<int64_t>(m.row(i).data(), m.row(i).data() + m.cols());
}

size_t AttnDriver::set_of_query(Eigen::Index i) const {
  size_t t = 0;
  while (t + 1 < sets_.size() && i >= first_query_[t + 1]) ++t;
  return t;
}

// Workload 0's keys go at once; a later workload's keys (a new key set) once every query before
// them has been accepted, so that no query can be taken against the wrong key set.
bool AttnDriver::keys_may_go() const {
  if (next_key_ >= sets_[key_set_].k.rows()) return false;
  return key_set_ == 0 || next_query_ >= first_query_[key_set_];
}

// Workload 0's queries go at once (the unit holds them until its key set is complete); a later
// workload's queries once its last key has been accepted.
bool AttnDriver::query_may_go() const {
  if (next_query_ >= total_queries_) return false;
  const size_t t = set_of_query(next_query_);
  return t == 0 || key_set_ > t || (key_set_ == t && next_key_ == sets_[t].k.rows());
}

int64_t AttnDriver::cycle_limit() const {
  const core::AttentionWidths w = core::widths(cfg_);
  double work = cfg_.threshold_slots + 16;
  for (const core::AttentionWorkload& s : sets_) {
    const double lq = static_cast<double>(s.q.rows());
    const double lk = static_cast<double>(s.k.rows());
    work += lq * (lk * cfg_.wk / cfg_.lanes + 2 * lk + w.qb + 12) + lk;
  }
  const double slow = std::max(1.0, 1.0 / std::max(0.01, std::min(opts_.valid_prob, opts_.ready_prob)));
  const int64_t reset_extra = opts_.reset_at >= 0 ? opts_.reset_at : 0;
  return static_cast<int64_t>(work * 4 * slow) + 1000 + reset_extra;
}

void AttnDriver::restart(int64_t cycle) {
  phase_ = Phase::kReset;
  reset_cycles_left_ = 2;
  run_start_ = cycle + 2;
  next_cfg_ = 0;
  key_set_ = 0;
  next_key_ = next_query_ = 0;
  k_presenting_ = q_presenting_ = false;
  results_.clear();
}

golden::AttnInputs AttnDriver::inputs(int64_t cycle) {
  if (opts_.reset_at >= 0 && cycle == opts_.reset_at && !reset_done_again_) {
    reset_done_again_ = true;
    restart(cycle);
  }
  golden::AttnInputs in;
  // Defaults: garbage on every data input, so the design must honour the valids.
  in.cfg_addr = static_cast<uint32_t>(rng_() % (uint64_t{1} << wd_.caw));
  in.cfg_wdata = rng_() & (wd_.cdw >= 64 ? ~uint64_t{0} : (uint64_t{1} << wd_.cdw) - 1);
  in.k_data = garbage_row(k_garbage_);
  in.k_vdata = garbage_row(v_garbage_);
  in.k_last = rng_() & 1;
  in.q_data = garbage_row(q_garbage_);
  in.q_slot = static_cast<uint32_t>(rng_() % (uint64_t{1} << wd_.slw));
  in.q_keys = static_cast<uint32_t>(rng_() % (uint64_t{1} << wd_.kcw));
  in.o_ready = chance(opts_.ready_prob);

  switch (phase_) {
    case Phase::kReset:
      in.rst_n = false;
      if (--reset_cycles_left_ == 0) phase_ = Phase::kConfig;
      break;
    case Phase::kConfig:
      if (chance(opts_.valid_prob)) {
        in.cfg_we = true;
        in.cfg_addr = cfg_writes_[next_cfg_].addr;
        in.cfg_wdata = cfg_writes_[next_cfg_].data;
      }
      break;
    case Phase::kRun:
      if (keys_may_go() && (k_presenting_ || chance(opts_.valid_prob))) {
        const core::AttentionWorkload& ks = sets_[key_set_];
        k_presenting_ = true;  // once valid, stays valid until accepted
        in.k_valid = true;
        in.k_data = row(ks.k, next_key_);
        in.k_vdata = row(ks.v, next_key_);
        // A key set of max_keys keys ends by the store's count; --last-by-count leaves it to that.
        in.k_last = next_key_ + 1 == ks.k.rows() && !(opts_.last_by_count && ks.k.rows() == cfg_.max_keys);
      }
      if (query_may_go() && (q_presenting_ || chance(opts_.valid_prob))) {
        const size_t t = set_of_query(next_query_);
        const core::AttentionWorkload& qs = sets_[t];
        const Eigen::Index i = next_query_ - first_query_[t];
        q_presenting_ = true;
        in.q_valid = true;
        in.q_data = row(qs.q, i);
        in.q_slot = static_cast<uint32_t>(qs.params.slot);
        in.q_keys = static_cast<uint32_t>(core::visible_keys(qs.params, i, qs.k.rows()));
      }
      break;
  }
  return in;
}

void AttnDriver::observe(const golden::AttnInputs& in, const golden::UnitOutputs& out,
                         int64_t cycle) {
  if (!in.rst_n) return;
  if (phase_ == Phase::kConfig && in.cfg_we && ++next_cfg_ == cfg_writes_.size()) {
    phase_ = Phase::kRun;
  }
  if (in.k_valid && out.k_ready) {
    ++next_key_;
    k_presenting_ = false;
    if (next_key_ == sets_[key_set_].k.rows() && key_set_ + 1 < sets_.size()) {
      ++key_set_;  // the next workload's keys, once this one's queries are all in
      next_key_ = 0;
    }
  }
  if (in.q_valid && out.q_ready) {
    ++next_query_;
    q_presenting_ = false;
  }
  if (out.o_valid && in.o_ready) {
    QueryResult q;
    q.out = out.o_data;
    q.count = out.o_count;
    q.empty = out.o_empty;
    q.steps = out.o_steps;
    q.cycles = out.o_cycles;
    q.bcycles = out.o_bcycles;
    q.filtered = out.o_filtered;
    q.end_cycle = cycle;
    results_.push_back(std::move(q));
  }
}

}  // namespace accelgen::tb
