// accelgen::golden — cycle-accurate, pin-level model of the bit-serial attention score engine.
//
// Owns: the cycle contract of docs/microarchitecture.md ("One cycle", "Reset") for `<name>_score_top`: config
// registers, key store, query buffer, query context, lanes, per-lane result slots, output register and the
// end-of-query statistics. A testbench drives this model and the Verilated RTL with the same AttnInputs every
// cycle and compares AttnOutputs. The arithmetic of each score (s_ij, n_ij, kept) comes from the functional
// model (golden/functional.h), not from the microarchitecture's shared bound table, so the two formulations
// are checked against each other; this model only schedules lanes, each spending exactly n_ij committing
// cycles on a key.
//
// Cycle protocol: eval(in) gives the outputs of the current cycle (registers + this cycle's inputs), tick(in)
// is the rising edge at the end of that cycle. A cycle with in.rst_n == false shows the reset state's outputs
// and leaves the reset state (asynchronous reset). The model is constructed in the reset state; like the RTL
// it should be reset before use.
//
// Input fields are interpreted as the port bits the RTL sees: cfg_addr is truncated to CAW bits, cfg_wdata to
// CDW bits, q_slot to SLW bits, and each k_data / q_data element to its low wk / wq bits, sign-extended.
//
// May include: core/ and Eigen only.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "core/config.h"
#include "core/tensor.h"
#include "golden/functional.h"

namespace accelgen::golden {

// Input ports of one cycle (clock excluded).
struct AttnInputs {
  bool rst_n = true;
  bool cfg_we = false;
  uint32_t cfg_addr = 0;
  uint64_t cfg_wdata = 0;  // raw bit pattern, CDW bits used
  bool k_valid = false;
  std::vector<int64_t> k_data;  // d signed elements (read only on a key beat)
  bool k_last = false;
  bool q_valid = false;
  std::vector<int64_t> q_data;  // d signed elements (read only on a query beat)
  uint32_t q_slot = 0;
  uint32_t q_keys = ~0u;  // keys visible to the query (0 .. q_keys-1, clamped to the set): default all
  bool s_ready = false;  // score engine alone: result stream ready
  // Unit top only (docs/softmax.md): V row on the key beat, output stream ready.
  std::vector<int64_t> k_vdata;  // dv signed elements (read only on a key beat)
  bool o_ready = false;
};

// Output ports of one cycle. When s_valid is false every s_* data field is 0.
struct AttnOutputs {
  uint64_t cfg_rdata = 0;  // raw CDW-bit pattern (theta sign-extended to CDW bits)
  bool k_ready = false, q_ready = false;
  bool s_valid = false, s_eoq = false;
  uint32_t s_key = 0;
  int64_t s_score = 0;
  uint32_t s_count = 0;
  bool s_empty = false;
  uint64_t s_steps = 0;
  uint64_t s_cycles = 0;
  bool s_rel = false;   // end beat, relative-threshold hardware only: the query's slot is relative
  int64_t s_delta = 0;  // ... and its theta or delta (the slot value, sign-extended)

  bool operator==(const AttnOutputs&) const = default;
};

// One line, every field; used by test failure messages.
std::ostream& operator<<(std::ostream& os, const AttnOutputs& o);

class AttnCycleModel {
 public:
  explicit AttnCycleModel(const core::AttentionConfig& cfg);

  AttnOutputs eval(const AttnInputs& in) const;  // combinational outputs this cycle (before the edge)
  void tick(const AttnInputs& in);               // the rising edge; in.rst_n == false: reset state

  // Observability for reports and tests (not ports), all about the current cycle.
  int active_lanes() const;                       // lanes holding a key (act_q)
  int stalled_lanes(const AttnInputs& in) const;  // active lanes that do not commit this cycle
  int busy_contexts() const;                      // queries being scored (busy_q[0] + busy_q[1])
  bool context_busy() const { return busy_contexts() > 0; }
  // For the unit model (golden/unit_model.h), which reads them as the RTL's internal wires do.
  uint64_t alpha_register() const { return s_.alpha; }  // alpha_q
  uint32_t key_write_index() const { return s_.kset_valid ? 0 : s_.k_count; }  // where the next key beat writes
  const core::AttentionConfig& config() const { return cfg_; }

 private:
  struct Lane {
    bool act = false;
    int ctx = 0;  // context of its key
    uint32_t key = 0;
    int step = 0;  // steps already done for this key
    // The next-key queue (docs/microarchitecture.md "Key issue"): keys issued ahead of time, oldest first,
    // at most key_queue of them (one next-key register by default).
    struct Next {
      int ctx = 0;
      uint32_t key = 0;
    };
    std::vector<Next> next;
  };
  // A score that survived its last step, on its way to the running maximum (relative hardware).
  struct Survivor {
    int ctx = 0;
    int64_t score = 0;
  };
  struct Slot {
    bool valid = false;
    int ctx = 0;
    uint32_t key = 0;
    int64_t score = 0;
  };
  // A threshold slot register: relative mode (relative-threshold hardware only) and theta or delta.
  struct SlotReg {
    bool rel = false;
    int64_t value = 0;  // sign-extended from TW bits
  };
  // A query context; its query row is represented by bounds_[x] (below), its bound table by `thr`, the
  // threshold the registered table tc_q[x] encodes (docs/microarchitecture.md "Relative thresholds").
  struct Context {
    bool busy = false;
    uint32_t next_key = 0;   // keys issued so far
    uint32_t limit = 0;      // visible keys: min(q_keys, Lk)
    uint64_t kept = 0, steps = 0;
    bool rel = false;        // relative slot: thr follows the running maximum
    int64_t value = 0;       // theta or delta
    bool rvalid = false;     // a score of this query has survived (rmax is meaningful)
    int64_t rmax = 0;        // largest surviving score so far
    int64_t thr = 0;         // the threshold of the bound table in use this cycle
  };
  // Every register except the two arrays below; small, so tick() builds the next state from a copy and every
  // read in the edge logic sees the values before the edge.
  struct State {
    uint64_t alpha = 0;
    std::vector<SlotReg> theta;  // per slot
    uint32_t k_count = 0;
    bool kset_valid = false;
    bool qb_valid = false;
    std::vector<int64_t> qb_data;
    SlotReg qb_theta;        // slot register read when the query was accepted
    uint32_t qb_keys = 0;
    Context ctx[2];
    int head = 0;         // the older context, whose results the output may send
    uint64_t cycles = 0;  // cycles with an active lane since the previous end-of-query beat
    std::vector<Lane> lanes;
    std::vector<Slot> slots;
    std::vector<Survivor> survivors;  // kept in the previous cycle (kp_q, rs_q), relative hardware
    AttnOutputs out;  // output register: s_* fields only (s_valid == ov_q)
  };
  // Combinational signals of one cycle (docs/microarchitecture.md "One cycle", items 1-7).
  struct Comb {
    bool k_fire = false, q_fire = false;
    bool out_load = false, eoq_fire = false, start = false;
    int target = 0;  // context the buffered query enters on start
    int grant = -1;  // lane whose slot is sent, or -1
    std::vector<bool> done, kept, commit, take;  // take: the lane loads a new key or idles
  };

  static void reset(State& s);
  Comb comb(const State& s, const AttnInputs& in) const;
  AttnOutputs outputs(const State& s, const AttnInputs& in) const;
  uint64_t cfg_read(const State& s, uint32_t addr) const;
  void cfg_write(State& n, const AttnInputs& in) const;
  void key_beat(State& n, const AttnInputs& in);
  void query_beat(State& n, const AttnInputs& in) const;
  void output_register(State& n, const Comb& c) const;
  void step_lanes(State& n, const Comb& c) const;
  void start_query(State& n, int target);
  void update_thresholds(State& n, const Comb& c) const;
  int64_t next_threshold(const Context& x) const;
  uint32_t issue_index(const Context& x, uint32_t issued) const;
  std::vector<int64_t> port_row(const std::vector<int64_t>& v, int width, const char* field) const;

  core::AttentionConfig cfg_;
  core::AttentionWidths w_;
  bool rel_hw_ = false;  // relative-threshold hardware (threshold_modes includes "relative", not dense)
  State s_;
  // Updated in place at the edge. k_mem_ is written only by a key beat and read only on start (k_ready needs
  // both contexts idle and an empty query buffer, so the two never share an edge). bounds_[x] stands for
  // cq_data_q[x]: written when a query enters context x (which then has no active lane and no full slot),
  // read only for lanes and slots of context x.
  core::IntMatrix k_mem_;                          // max_keys x d, not reset
  std::vector<std::vector<int64_t>> bounds_[2];    // U_1 .. U_wk per key of the set, per context
};

}  // namespace accelgen::golden
