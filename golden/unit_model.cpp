// accelgen::golden — cycle-accurate model of the attention unit `<name>_attn_top`, see unit_model.h.
//
// Owns: the unit-level wiring of docs/softmax.md "Microarchitecture and cycle contract of the back-end and the
// unit" (value store, in-flight gate inflight_q, score engine <-> back-end result stream) and the back-end's schedule
// (collect buffers, IDLE/ACC/DIV/DONE, stage registers, output register, bcycles). The score engine is the
// unchanged AttnCycleModel. Arithmetic is not the RTL's: e from exp_fixed, Z and A_c as exact 128-bit sums,
// the quotient by one integer division when the DIV phase ends (the RTL's restoring divider gets there in QB
// steps). May include: core/, Eigen and golden/ only.
#include "golden/unit_model.h"

#include <algorithm>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "golden/softmax.h"

namespace accelgen::golden {
namespace {

__extension__ typedef __int128 i128;

constexpr uint64_t kCyclesMax = 0xFFFF'FFFFull;  // o_bcycles / o_cycles: 32 bits, saturating

uint64_t saturating_inc(uint64_t v) { return v < kCyclesMax ? v + 1 : kCyclesMax; }

// The low `bits` of v read as a two's-complement number (what a `bits`-wide port element carries).
int64_t sign_extend(uint64_t v, int bits) {
  const uint64_t m = (uint64_t{1} << bits) - 1;  // bits <= 16 here
  v &= m;
  return ((v >> (bits - 1)) & 1) != 0 ? static_cast<int64_t>(v) - static_cast<int64_t>(m + 1)
                                      : static_cast<int64_t>(v);
}

// docs/softmax.md step 2: x from the alpha register and max - score (>= 0, below 2^64).
int64_t exponent(uint64_t alpha, int64_t max, int64_t score, const SoftmaxFormat& f) {
  const uint64_t d = static_cast<uint64_t>(static_cast<i128>(max) - static_cast<i128>(score));
  return exponent_fixed(d, alpha, f);
}

enum class Phase { kIdle, kAcc, kDiv, kDone };

// The end-of-query fields a query carries from the score engine's end beat to the output.
struct EndFields {
  uint32_t count = 0;
  bool empty = false;
  uint64_t steps = 0, cycles = 0;
  bool rel = false;   // relative slot: entries below max - delta are filtered
  int64_t delta = 0;
};

// Registers of one collect buffer (its entries live outside, see Backend::entries_).
struct Collect {
  uint32_t n = 0;  // entries written
  bool full = false;
  int64_t max = 0;  // running maximum score
  EndFields end;
};

// Issued entry (stage 1) and its exponential and V row (stage 2).
struct Stage1 {
  bool valid = false;
  bool keep = false;  // false: a filtered entry, which passes the pipeline with e = 0
  int64_t x = 0;
  uint32_t key = 0;
};
struct Stage2 {
  bool valid = false;
  int64_t e = 0;
  std::vector<int64_t> v;
};

struct Entry {
  uint32_t key = 0;
  int64_t score = 0;
};

// What the back-end reads from the rest of the unit in one cycle.
struct BackendInputs {
  const AttnOutputs& s;  // score engine's result stream (s_valid, s_eoq, ...)
  uint64_t alpha;        // alpha register this cycle
  bool o_ready;
  const std::vector<std::vector<int64_t>>& v_mem;  // value store, combinational read
};

// The back-end `<name>_softmax_v`. Small registers are copied into the next state at every edge so that the
// edge logic reads only pre-edge values; the collect entries are written in place (only at entry n_q of a
// buffer that is not full, never the one being issued from).
class Backend {
 public:
  Backend(const core::AttentionConfig& cfg, const SoftmaxFormat& fmt)
      : cfg_(cfg), fmt_(fmt), qb_(core::widths(cfg).qb), theta_width_(core::widths(cfg).tw) {
    for (auto& e : entries_) e.resize(static_cast<size_t>(cfg.max_keys));
    s_.p2.v.assign(static_cast<size_t>(cfg.dv), 0);
    s_.a.assign(static_cast<size_t>(cfg.dv), 0);
    s_.quo.assign(static_cast<size_t>(cfg.dv), 0);
    s_.out = blank_output();
  }

  // Clears n_q, full_q, wr_q, rd_q, st_q, p1/p2 valid, ov_q, bcyc_q; data registers keep their value.
  void reset() {
    for (Collect& b : s_.buf) {
      b.n = 0;
      b.full = false;
    }
    s_.wr = s_.rd = 0;
    s_.st = Phase::kIdle;
    s_.p1.valid = s_.p2.valid = false;
    s_.bcyc = 0;
    s_.out = blank_output();
  }

  bool s_ready() const { return !s_.buf[s_.wr].full; }  // registers only
  const UnitOutputs& output_register() const { return s_.out; }
  bool busy() const { return s_.st != Phase::kIdle; }
  int closed_buffers() const { return (s_.buf[0].full ? 1 : 0) + (s_.buf[1].full ? 1 : 0); }

  void tick(const BackendInputs& in) {
    State n = s_;
    const bool out_free = !s_.out.o_valid || in.o_ready;
    if (out_free) n.out = blank_output();  // ov = 0 unless DONE loads it below
    switch (s_.st) {
      case Phase::kIdle: idle(n); break;
      case Phase::kAcc: accumulate(n, in); break;
      case Phase::kDiv: divide(n); break;
      case Phase::kDone: done(n, out_free); break;
    }
    collect(n, in.s);  // after processing: never touches the buffer processing reads (see s_ready)
    s_ = std::move(n);
  }

 private:
  struct State {
    Collect buf[2];
    int wr = 0, rd = 0;
    Phase st = Phase::kIdle;
    int cur = 0;        // buf_q
    uint32_t nacc = 0;  // nacc_q
    uint32_t idx = 0;   // idx_q
    Stage1 p1;
    Stage2 p2;
    i128 z = 0;
    std::vector<i128> a;        // a_q[c]
    std::vector<int64_t> quo;   // signed result per column once DIV is over (sign applied at DONE)
    int k = 0;                  // k_q: divider step, QB-1 .. 0
    EndFields r;                // r_count_q, r_empty_q, r_steps_q, r_cycles_q, r_rel_q, r_delta_q
    uint32_t filtered = 0;      // filt_q: entries of the query dropped below max - delta
    uint64_t bcyc = 0;
    UnitOutputs out;  // output register (o_valid == ov_q); cfg_rdata / k_ready / q_ready unused
  };

  UnitOutputs blank_output() const {
    UnitOutputs o;
    o.o_data.assign(static_cast<size_t>(cfg_.dv), 0);
    return o;
  }

  // A closed buffer starts a query: empty ones go straight to DONE with a zero row.
  void idle(State& n) const {
    const Collect& b = s_.buf[s_.rd];
    if (!b.full) return;
    n.r = b.end;
    n.bcyc = 0;
    n.filtered = 0;
    if (b.n == 0) {
      release(n, s_.rd);
      std::fill(n.quo.begin(), n.quo.end(), 0);
      n.st = Phase::kDone;
      return;
    }
    n.cur = s_.rd;
    n.nacc = b.n;
    n.idx = 0;
    n.z = 0;
    std::fill(n.a.begin(), n.a.end(), 0);
    n.st = Phase::kAcc;
  }

  void release(State& n, int b) const {
    n.buf[b].full = false;
    n.buf[b].n = 0;
    n.rd = s_.rd ^ 1;
  }

  // Issue (stage 1: x with this cycle's alpha), exp and V read (stage 2), accumulate (stage 3).
  void accumulate(State& n, const BackendInputs& in) const {
    const bool issue = s_.idx < s_.nacc;
    n.p1.valid = issue;
    if (issue) {
      const Entry& en = entries_[s_.cur][s_.idx];
      const int64_t max = s_.buf[s_.cur].max;
      // Relative slot: a survivor that ends below M_i - delta (M_i = the buffer's maximum) is filtered.
      // delta is compared as the unsigned TW-bit register pattern, as the RTL does.
      const uint64_t delta = static_cast<uint64_t>(s_.r.delta) & ((uint64_t{1} << theta_width_) - 1);
      n.p1.keep = !(s_.r.rel && static_cast<uint64_t>(max - en.score) > delta);
      if (!n.p1.keep) ++n.filtered;
      n.p1.x = exponent(in.alpha, max, en.score, fmt_);
      n.p1.key = en.key;
      n.idx = s_.idx + 1;
      if (s_.idx + 1 == s_.nacc) release(n, s_.cur);  // last entry read: the buffer may refill
    }
    n.p2.valid = s_.p1.valid;
    if (s_.p1.valid) {
      n.p2.e = s_.p1.keep ? exp_fixed(s_.p1.x, fmt_) : 0;
      n.p2.v = in.v_mem.at(s_.p1.key);
    }
    if (s_.p2.valid) {
      n.z += s_.p2.e;
      for (size_t c = 0; c < n.a.size(); ++c) n.a[c] += static_cast<i128>(s_.p2.e) * s_.p2.v[c];
    }
    n.bcyc = saturating_inc(s_.bcyc);
    if (!issue && !s_.p1.valid && s_.p2.valid) {
      n.k = qb_ - 1;
      n.st = Phase::kDiv;
    }
  }

  // QB cycles; the quotient appears when the last one ends, as the restoring divider's does.
  void divide(State& n) const {
    n.bcyc = saturating_inc(s_.bcyc);
    if (s_.k > 0) {
      n.k = s_.k - 1;
      return;
    }
    for (size_t c = 0; c < n.quo.size(); ++c) n.quo[c] = rounded_quotient(s_.a[c], s_.z);
    n.st = Phase::kDone;
  }

  // sign(A) * ((2|A| 2^F_o + Z) div 2Z), docs/softmax.md step 8.
  int64_t rounded_quotient(i128 a, i128 z) const {
    if (z <= 0) throw std::logic_error("UnitCycleModel: Z = 0 at the division");
    const i128 mag = a < 0 ? -a : a;
    const i128 q = (2 * mag * (i128{1} << fmt_.out_frac_bits) + z) / (2 * z);
    // The RTL's divider produces QB quotient bits; the doc's bound says q <= 2^(QB-1).
    if (q >= (i128{1} << qb_)) throw std::logic_error("UnitCycleModel: quotient exceeds QB bits");
    return static_cast<int64_t>(a < 0 ? -q : q);
  }

  void done(State& n, bool out_free) const {
    if (!out_free) {  // waiting for the output register
      n.bcyc = saturating_inc(s_.bcyc);
      return;
    }
    UnitOutputs& o = n.out;
    o.o_valid = true;
    o.o_data = s_.quo;
    o.o_empty = s_.r.empty;
    o.o_count = s_.r.count - s_.filtered;
    o.o_filtered = s_.filtered;
    o.o_steps = s_.r.steps;
    o.o_cycles = std::min(s_.r.cycles, kCyclesMax);
    o.o_bcycles = saturating_inc(s_.bcyc);
    n.st = Phase::kIdle;
  }

  // Score beats fill buffer wr_q; an end beat closes it and moves to the other one.
  void collect(State& n, const AttnOutputs& s) {
    if (!s.s_valid || !s_ready()) return;
    Collect& b = n.buf[s_.wr];
    const Collect& cur = s_.buf[s_.wr];
    if (s.s_eoq) {
      b.full = true;
      b.end = EndFields{s.s_count, s.s_empty, s.s_steps, s.s_cycles, s.s_rel, s.s_delta};
      n.wr = s_.wr ^ 1;
      return;
    }
    if (cur.n >= entries_[s_.wr].size()) throw std::logic_error("UnitCycleModel: collect buffer overrun");
    entries_[s_.wr][cur.n] = Entry{s.s_key, s.s_score};
    b.n = cur.n + 1;
    b.max = cur.n == 0 ? s.s_score : std::max(cur.max, s.s_score);
  }

  core::AttentionConfig cfg_;
  SoftmaxFormat fmt_;
  int qb_;
  int theta_width_;
  State s_;
  std::vector<Entry> entries_[2];  // key[b][i], score[b][i]: not reset
};

}  // namespace

struct UnitCycleModel::Impl {
  explicit Impl(const core::AttentionConfig& c)
      : cfg(c), fmt(default_softmax_format(c)), engine(c), backend(c, fmt),
        v_mem(static_cast<size_t>(c.max_keys), std::vector<int64_t>(static_cast<size_t>(c.dv), 0)) {}

  // overlap_backend = false admits a query only while none is in flight.
  bool query_gate_open() const { return cfg.overlap_backend || inflight == 0; }
  // A new key set (and its V rows) only when no query is in flight anywhere in the unit: the
  // back-end may still read V rows of the current set after the score engine has gone idle.
  bool key_gate_open() const { return inflight == 0; }

  // What the score engine sees: the back-end's s_ready and the gated key and query valids.
  AttnInputs engine_inputs(const AttnInputs& in) const {
    AttnInputs e = in;
    e.s_ready = backend.s_ready();
    e.k_valid = in.k_valid && key_gate_open();
    e.q_valid = in.q_valid && query_gate_open();
    return e;
  }

  std::vector<int64_t> value_row(const std::vector<int64_t>& v) const {
    if (v.size() != static_cast<size_t>(cfg.dv)) {
      throw core::InputError("k_vdata", std::to_string(v.size()) + " elements on a key beat, expected dv = " +
                                            std::to_string(cfg.dv));
    }
    std::vector<int64_t> row(v.size());
    for (size_t c = 0; c < v.size(); ++c) row[c] = sign_extend(static_cast<uint64_t>(v[c]), cfg.wv);
    return row;
  }

  core::AttentionConfig cfg;
  SoftmaxFormat fmt;
  AttnCycleModel engine;
  Backend backend;
  std::vector<std::vector<int64_t>> v_mem;  // value store: not reset
  int inflight = 0;                         // inflight_q: queries accepted and not yet output
};

std::ostream& operator<<(std::ostream& os, const UnitOutputs& o) {
  os << "{cfg_rdata=" << o.cfg_rdata << " k_ready=" << o.k_ready << " q_ready=" << o.q_ready
     << " o_valid=" << o.o_valid << " o_data=[";
  for (size_t c = 0; c < o.o_data.size(); ++c) os << (c ? "," : "") << o.o_data[c];
  return os << "] o_empty=" << o.o_empty << " o_count=" << o.o_count << " o_steps=" << o.o_steps
            << " o_cycles=" << o.o_cycles << " o_bcycles=" << o.o_bcycles << " o_filtered=" << o.o_filtered
            << "}";
}

UnitCycleModel::UnitCycleModel(const core::AttentionConfig& cfg) : impl_(std::make_unique<Impl>(cfg)) {}
UnitCycleModel::~UnitCycleModel() = default;
UnitCycleModel::UnitCycleModel(UnitCycleModel&&) noexcept = default;
UnitCycleModel& UnitCycleModel::operator=(UnitCycleModel&&) noexcept = default;

UnitOutputs UnitCycleModel::eval(const AttnInputs& in) const {
  const Impl& m = *impl_;
  if (!in.rst_n) {  // the reset state: score engine's reset outputs, empty output register, gate open
    const AttnOutputs e = m.engine.eval(in);
    UnitOutputs o;
    o.o_data.assign(static_cast<size_t>(m.cfg.dv), 0);
    o.cfg_rdata = e.cfg_rdata;
    o.k_ready = e.k_ready;
    o.q_ready = e.q_ready;
    return o;
  }
  const AttnOutputs e = m.engine.eval(m.engine_inputs(in));
  UnitOutputs o = m.backend.output_register();
  o.cfg_rdata = e.cfg_rdata;
  o.k_ready = e.k_ready && m.key_gate_open();
  o.q_ready = e.q_ready && m.query_gate_open();
  return o;
}

void UnitCycleModel::tick(const AttnInputs& in) {
  Impl& m = *impl_;
  if (!in.rst_n) {
    m.engine.tick(in);
    m.backend.reset();
    m.inflight = 0;
    return;
  }
  const AttnInputs ein = m.engine_inputs(in);
  const AttnOutputs e = m.engine.eval(ein);
  const bool k_fire = ein.k_valid && e.k_ready;
  const bool q_fire = ein.q_valid && e.q_ready;
  const bool o_fire = m.backend.output_register().o_valid && in.o_ready;
  // Sampled before the edge: the key store's write index and alpha_q as this cycle's wires carry them.
  const uint32_t widx = m.engine.key_write_index();
  const uint64_t alpha = m.engine.alpha_register();
  std::vector<int64_t> vrow;
  if (k_fire) vrow = m.value_row(in.k_vdata);  // validate before any state changes

  m.backend.tick(BackendInputs{e, alpha, in.o_ready, m.v_mem});  // reads v_mem before this edge's write
  m.engine.tick(ein);
  if (k_fire) m.v_mem.at(widx) = std::move(vrow);
  m.inflight += (q_fire ? 1 : 0) - (o_fire ? 1 : 0);
}

const AttnCycleModel& UnitCycleModel::score_engine() const { return impl_->engine; }
bool UnitCycleModel::backend_busy() const { return impl_->backend.busy(); }
int UnitCycleModel::closed_buffers() const { return impl_->backend.closed_buffers(); }
const core::AttentionConfig& UnitCycleModel::config() const { return impl_->cfg; }

}  // namespace accelgen::golden
