// accelgen::golden — cycle-accurate model of docs/microarchitecture.md, see cycle_model.h.
// May include: core/ and Eigen only.
#include "golden/cycle_model.h"

#include <algorithm>
#include <ostream>
#include <stdexcept>
#include <string>

#include "core/error.h"

namespace accelgen::golden {
namespace {

constexpr uint64_t kCyclesMax = 0xFFFF'FFFFull;  // CYW = 32, saturating

uint64_t mask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// The low `bits` of v read as a two's-complement number.
int64_t sign_extend(uint64_t v, int bits) {
  v &= mask(bits);
  if (bits < 64 && ((v >> (bits - 1)) & 1) != 0)
    return static_cast<int64_t>(v) - static_cast<int64_t>(1ull << bits);
  return static_cast<int64_t>(v);
}

void check_range(const char* field, int v, int lo, int hi) {
  if (v < lo || v > hi) {
    throw core::InputError(std::string("config.") + field,
                           std::to_string(v) + " outside " + std::to_string(lo) + ".." + std::to_string(hi));
  }
}

void check_config(const core::AttentionConfig& c) {
  check_range("d", c.d, 1, 256);
  check_range("wq", c.wq, 2, 16);
  check_range("wk", c.wk, 2, 16);
  check_range("lanes", c.lanes, 1, 64);
  check_range("max_keys", c.max_keys, 1, 4096);
  check_range("threshold_slots", c.threshold_slots, 1, 256);
  check_range("alpha_mant_bits", c.alpha_mant_bits, 13, 24);
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const AttnOutputs& o) {
  return os << "{cfg_rdata=" << o.cfg_rdata << " k_ready=" << o.k_ready << " q_ready=" << o.q_ready
            << " s_valid=" << o.s_valid << " s_eoq=" << o.s_eoq << " s_key=" << o.s_key
            << " s_score=" << o.s_score << " s_count=" << o.s_count << " s_empty=" << o.s_empty
            << " s_steps=" << o.s_steps << " s_cycles=" << o.s_cycles << " s_rel=" << o.s_rel
            << " s_delta=" << o.s_delta << "}";
}

AttnCycleModel::AttnCycleModel(const core::AttentionConfig& cfg) : cfg_(cfg) {
  check_config(cfg_);
  w_ = core::widths(cfg_);  // dense baseline: CAW = 1, only address 0 is mapped
  rel_hw_ = cfg_.relative_thresholds && !cfg_.dense_baseline;
  s_.theta.assign(cfg_.dense_baseline ? 0 : cfg_.threshold_slots, SlotReg{});
  s_.qb_data.assign(cfg_.d, 0);
  s_.lanes.resize(cfg_.lanes);
  s_.slots.resize(cfg_.lanes);
  k_mem_ = core::IntMatrix::Zero(cfg_.max_keys, cfg_.d);
  reset(s_);
}

// Clears every reset, valid, busy, count and pointer register; data registers (qb_data, lane key/step, slot
// data, and k_mem_ / results_ outside State) keep their value.
void AttnCycleModel::reset(State& s) {
  s.alpha = 0;
  std::fill(s.theta.begin(), s.theta.end(), SlotReg{});
  s.k_count = 0;
  s.kset_valid = false;
  s.qb_valid = false;
  for (Context& x : s.ctx) x = Context{};
  s.head = 0;
  s.cycles = 0;
  for (Lane& l : s.lanes) {
    l.act = false;
    l.next.clear();
  }
  for (Slot& sl : s.slots) sl.valid = false;
  s.survivors.clear();
  s.out = AttnOutputs{};
}

AttnOutputs AttnCycleModel::eval(const AttnInputs& in) const {
  if (in.rst_n) return outputs(s_, in);
  State r = s_;
  reset(r);
  return outputs(r, in);
}

void AttnCycleModel::tick(const AttnInputs& in) {
  if (!in.rst_n) {
    reset(s_);
    return;
  }
  const Comb c = comb(s_, in);
  State n = s_;
  cfg_write(n, in);
  if (c.q_fire) {
    query_beat(n, in);
  } else if (c.start) {
    n.qb_valid = false;
  }
  output_register(n, c);                  // a granted slot may be refilled by its lane at this edge
  update_thresholds(n, c);                // before step_lanes: reads the lanes before the edge
  step_lanes(n, c);                       // commits and key issue, from the registered contexts
  if (c.start) start_query(n, c.target);  // last: wins over eoq_fire clearing busy_q[h] when target == h
  if (c.k_fire) key_beat(n, in);
  s_ = std::move(n);
}

int AttnCycleModel::active_lanes() const {
  return static_cast<int>(
      std::count_if(s_.lanes.begin(), s_.lanes.end(), [](const Lane& l) { return l.act; }));
}

int AttnCycleModel::stalled_lanes(const AttnInputs& in) const {
  if (!in.rst_n) return 0;
  const Comb c = comb(s_, in);
  int n = 0;
  for (size_t l = 0; l < s_.lanes.size(); ++l) n += (s_.lanes[l].act && !c.commit[l]) ? 1 : 0;
  return n;
}

int AttnCycleModel::busy_contexts() const { return (s_.ctx[0].busy ? 1 : 0) + (s_.ctx[1].busy ? 1 : 0); }

// "One cycle", items 1-7 (h = head, o = the other context).
AttnCycleModel::Comb AttnCycleModel::comb(const State& s, const AttnInputs& in) const {
  const size_t nl = s.lanes.size();
  const int h = s.head, o = h ^ 1;
  Comb c;
  const bool k_ready = !s.ctx[0].busy && !s.ctx[1].busy && !s.qb_valid;
  const bool q_ready = s.kset_valid && !s.qb_valid && !(in.k_valid && k_ready);
  c.k_fire = in.k_valid && k_ready;
  c.q_fire = in.q_valid && q_ready;

  c.done.assign(nl, false);
  c.kept.assign(nl, false);
  bool head_act = false;
  for (size_t l = 0; l < nl; ++l) {
    const Lane& lane = s.lanes[l];
    for (const Lane::Next& k : lane.next) head_act = head_act || k.ctx == h;
    if (!lane.act) continue;
    head_act = head_act || lane.ctx == h;
    // Step m = step + 1 terminates when U_m is below the threshold the context's bound table holds now.
    const std::vector<int64_t>& u = bounds_[lane.ctx].at(lane.key);
    const bool below = !cfg_.dense_baseline && u[static_cast<size_t>(lane.step)] < s.ctx[lane.ctx].thr;
    c.done[l] = below || lane.step + 1 == cfg_.wk;
    c.kept[l] = c.done[l] && !below;
  }

  c.out_load = !s.out.s_valid || in.s_ready;
  bool head_sv = false;
  for (size_t l = 0; l < nl; ++l) {
    if (!s.slots[l].valid || s.slots[l].ctx != h) continue;
    head_sv = true;
    if (c.out_load && c.grant < 0) c.grant = static_cast<int>(l);
  }
  const Context& hc = s.ctx[h];
  const bool eoq_cond = hc.busy && hc.next_key == hc.limit && !head_act && !head_sv;
  c.eoq_fire = c.out_load && c.grant < 0 && eoq_cond;

  c.commit.assign(nl, false);
  c.take.assign(nl, false);
  for (size_t l = 0; l < nl; ++l) {
    const bool slot_free = !s.slots[l].valid || c.grant == static_cast<int>(l);
    c.commit[l] = s.lanes[l].act && !(c.kept[l] && !slot_free);
    c.take[l] = !s.lanes[l].act || (c.commit[l] && c.done[l]);
  }
  c.start = s.qb_valid && (!s.ctx[h].busy || !s.ctx[o].busy || c.eoq_fire);
  c.target = !s.ctx[h].busy ? h : (!s.ctx[o].busy ? o : h);
  return c;
}

AttnOutputs AttnCycleModel::outputs(const State& s, const AttnInputs& in) const {
  AttnOutputs o = s.out;
  o.k_ready = !s.ctx[0].busy && !s.ctx[1].busy && !s.qb_valid;
  o.q_ready = s.kset_valid && !s.qb_valid && !(in.k_valid && o.k_ready);
  o.cfg_rdata = cfg_read(s, in.cfg_addr);
  return o;
}

uint64_t AttnCycleModel::cfg_read(const State& s, uint32_t addr_in) const {
  const uint64_t addr = addr_in & mask(w_.caw);
  if (addr == 0) return s.alpha;
  if (addr - 1 >= s.theta.size()) return 0;
  const SlotReg& r = s.theta[addr - 1];
  if (!rel_hw_) return static_cast<uint64_t>(r.value) & mask(w_.cdw);  // theta sign-extended
  return (uint64_t{r.rel} << w_.tw) | (static_cast<uint64_t>(r.value) & mask(w_.tw));
}

void AttnCycleModel::cfg_write(State& n, const AttnInputs& in) const {
  if (!in.cfg_we) return;
  const uint64_t addr = in.cfg_addr & mask(w_.caw);
  const uint64_t data = in.cfg_wdata & mask(w_.cdw);
  if (addr == 0) {
    n.alpha = data & mask(w_.aw);
  } else if (addr - 1 < n.theta.size()) {
    n.theta[addr - 1] = SlotReg{rel_hw_ && ((data >> w_.tw) & 1) != 0, sign_extend(data, w_.tw)};
  }
}

std::vector<int64_t> AttnCycleModel::port_row(const std::vector<int64_t>& v, int width,
                                              const char* field) const {
  if (v.size() != static_cast<size_t>(cfg_.d)) {
    throw core::InputError(
        field, std::to_string(v.size()) + " elements on a beat, expected d = " + std::to_string(cfg_.d));
  }
  std::vector<int64_t> row(v.size());
  for (size_t t = 0; t < v.size(); ++t) row[t] = sign_extend(static_cast<uint64_t>(v[t]), width);
  return row;
}

void AttnCycleModel::key_beat(State& n, const AttnInputs& in) {
  const uint32_t i = s_.kset_valid ? 0 : s_.k_count;
  if (i >= static_cast<uint32_t>(cfg_.max_keys)) throw std::logic_error("AttnCycleModel: key store overrun");
  const std::vector<int64_t> row = port_row(in.k_data, cfg_.wk, "k_data");
  for (int t = 0; t < cfg_.d; ++t) k_mem_(i, t) = row[t];
  n.k_count = i + 1;
  n.kset_valid = in.k_last || i + 1 == static_cast<uint32_t>(cfg_.max_keys);
}

void AttnCycleModel::query_beat(State& n, const AttnInputs& in) const {
  n.qb_valid = true;
  n.qb_data = port_row(in.q_data, cfg_.wq, "q_data");
  const uint64_t slot = in.q_slot & mask(w_.slw);
  n.qb_theta = slot < s_.theta.size() ? s_.theta[slot] : SlotReg{};  // value before this edge's cfg write
  n.qb_keys = static_cast<uint32_t>(in.q_keys & mask(w_.kcw));
}

void AttnCycleModel::output_register(State& n, const Comb& c) const {
  if (!c.out_load) return;  // hold the beat while s_valid && !s_ready
  AttnOutputs beat;
  if (c.grant >= 0) {
    const Slot& sl = s_.slots[c.grant];
    beat.s_valid = true;
    beat.s_key = sl.key;
    beat.s_score = sl.score;
    n.slots[c.grant].valid = false;  // refilled by step_lanes if its lane commits a kept score now
  } else if (c.eoq_fire) {
    const int h = s_.head;
    const Context& hc = s_.ctx[h];
    beat.s_valid = true;
    beat.s_eoq = true;
    beat.s_count = static_cast<uint32_t>(hc.kept);
    beat.s_empty = hc.kept == 0;
    beat.s_steps = hc.steps;
    beat.s_cycles = s_.cycles;
    if (rel_hw_) {
      beat.s_rel = hc.rel;
      beat.s_delta = hc.value;
    }
    n.ctx[h].busy = false;
    n.head = h ^ 1;
  }
  n.out = beat;
}

// Commits, result slots, key issue (from the registered contexts: head first, to every lane whose next-key
// register is empty, at most one key per key store bank), per-context counters and the score-phase cycle
// counter. The counters count at once what
// the RTL counts one cycle later: their values differ only while a query's keys are still in the lanes, and
// they are read only at its end beat.
void AttnCycleModel::step_lanes(State& n, const Comb& c) const {
  const int h = s_.head;
  uint32_t next[2] = {s_.ctx[0].next_key, s_.ctx[1].next_key};
  const uint32_t banks = static_cast<uint32_t>(core::key_banks(cfg_));
  std::vector<bool> bank_used(banks, false);
  bool any_act = false;
  for (size_t l = 0; l < n.lanes.size(); ++l) {
    const Lane& cur = s_.lanes[l];
    Lane& lane = n.lanes[l];
    any_act = any_act || cur.act;
    if (cur.act && c.commit[l]) {
      ++n.ctx[cur.ctx].steps;
      if (!c.done[l]) {
        ++lane.step;
      } else if (c.kept[l]) {
        n.slots[l] = Slot{true, cur.ctx, cur.key, bounds_[cur.ctx].at(cur.key).back()};
        ++n.ctx[cur.ctx].kept;
      }
    }
    bool issued = false;
    int ictx = 0;
    uint32_t ikey = 0;
    if (cur.next.size() < static_cast<size_t>(cfg_.key_queue)) {
      // The candidate: the head's next key while it has keys left, else the other context's. Keys go in
      // order, so a candidate whose bank is taken at this edge waits for the next one.
      for (const int x : {h, h ^ 1}) {
        if (s_.ctx[x].busy && next[x] < s_.ctx[x].limit) {
          const uint32_t key = issue_index(s_.ctx[x], next[x]);
          if (!bank_used[key % banks]) {
            bank_used[key % banks] = true;
            issued = true;
            ictx = x;
            ikey = key;
            ++next[x];
          }
          break;
        }
      }
    }
    if (c.take[l]) {  // start the oldest queued key (its row has arrived), or idle
      if (cur.next.empty()) {
        lane.act = false;
      } else {
        lane.act = true;
        lane.ctx = cur.next.front().ctx;
        lane.key = cur.next.front().key;
        lane.step = 0;
        lane.next.erase(lane.next.begin());
      }
    }
    if (issued) lane.next.push_back({ictx, ikey});  // the key store reads its row at this edge
  }
  for (int x = 0; x < 2; ++x) n.ctx[x].next_key = next[x];
  if (c.eoq_fire) {
    n.cycles = any_act ? 1 : 0;
  } else if (any_act && n.cycles < kCyclesMax) {
    ++n.cycles;
  }
}

// Keys of a relative-threshold unit are scored from the last visible key down, so that the keys a decoder
// query favours most (the recent ones) survive first and raise the running maximum early; otherwise in
// index order.
uint32_t AttnCycleModel::issue_index(const Context& x, uint32_t issued) const {
  return rel_hw_ ? x.limit - 1 - issued : issued;
}

// The threshold the bound table of context x encodes after this edge, from the registers before it:
// theta; or, for a relative slot, the running maximum minus delta (clamped to the most negative theta,
// which already terminates nothing, and to the largest) once a score has survived, else nothing terminates.
int64_t AttnCycleModel::next_threshold(const Context& x) const {
  const int64_t floor = core::signed_min(w_.tw);
  if (!x.rel) return x.value;
  return x.rvalid ? std::clamp(x.rmax - x.value, floor, core::signed_max(w_.tw)) : floor;
}

// Relative-threshold hardware: every edge reloads each context's bound table from its registers, the
// running maximum takes the scores that survived their last step in the previous cycle, and this cycle's
// survivors are registered for the next edge. A new maximum thus reaches the lanes three edges after the
// step that produced it.
void AttnCycleModel::update_thresholds(State& n, const Comb& c) const {
  if (!rel_hw_) return;
  for (int x = 0; x < 2; ++x) n.ctx[x].thr = next_threshold(s_.ctx[x]);
  for (const Survivor& v : s_.survivors) {
    Context& x = n.ctx[v.ctx];
    x.rmax = x.rvalid ? std::max(x.rmax, v.score) : v.score;
    x.rvalid = true;
  }
  n.survivors.clear();
  for (size_t l = 0; l < s_.lanes.size(); ++l) {
    const Lane& cur = s_.lanes[l];
    if (!cur.act || !c.commit[l] || !c.kept[l]) continue;
    n.survivors.push_back(Survivor{cur.ctx, bounds_[cur.ctx].at(cur.key).back()});
  }
}

void AttnCycleModel::start_query(State& n, int target) {
  core::IntMatrix q(1, cfg_.d);
  for (int t = 0; t < cfg_.d; ++t) q(0, t) = s_.qb_data[t];
  std::vector<std::vector<int64_t>>& b = bounds_[target];
  b.clear();
  for (uint32_t j = 0; j < s_.k_count; ++j) b.push_back(upper_bounds(q, 0, k_mem_, j, cfg_.wk));
  Context x;
  x.busy = true;
  x.limit = std::min(s_.qb_keys, s_.k_count);
  x.rel = s_.qb_theta.rel;
  x.value = s_.qb_theta.value;
  x.thr = next_threshold(x);  // as loaded at this edge (the relative unit reloads it at the next one)
  n.ctx[target] = x;
}

}  // namespace accelgen::golden
