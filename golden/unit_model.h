// accelgen::golden — cycle-accurate, pin-level model of the whole attention unit `<name>_attn_top`:
// the score engine (AttnCycleModel, unchanged) feeding the softmax/xV back-end through the internal
// result stream, plus the value store and the overlap gate (docs/softmax.md, "Microarchitecture and
// cycle contract"). The back-end part schedules work per the contract but takes its arithmetic from
// golden/softmax.h (exp_fixed, exact sums, an integer division), not from the RTL's datapath, so the
// Verilator comparison checks the RTL's restoring divider and pipeline against independent arithmetic.
//
// Cycle protocol as AttnCycleModel: eval(in) gives this cycle's outputs, tick(in) is the rising edge;
// in.rst_n == false shows and enters the reset state. in.s_ready is ignored (the result stream is internal);
// in.k_vdata (dv elements, each truncated to wv bits and sign-extended as the port does) and in.o_ready are
// the unit's own inputs.
//
// May include: core/, Eigen and golden/ only.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "core/config.h"
#include "golden/cycle_model.h"

namespace accelgen::golden {

// Output ports of the unit in one cycle. When o_valid is false every o_* field is 0 (o_data: dv zeros).
struct UnitOutputs {
  uint64_t cfg_rdata = 0;
  bool k_ready = false, q_ready = false;
  bool o_valid = false;
  std::vector<int64_t> o_data;  // dv signed elements, units of 2^-out_frac_bits
  bool o_empty = false;
  uint32_t o_count = 0;
  uint64_t o_steps = 0;
  uint64_t o_cycles = 0;
  uint64_t o_bcycles = 0;
  uint32_t o_filtered = 0;  // relative-threshold hardware: survivors dropped below M_i - delta (else 0)

  bool operator==(const UnitOutputs&) const = default;
};

// One line, every field; used by test failure messages.
std::ostream& operator<<(std::ostream& os, const UnitOutputs& o);

class UnitCycleModel {
 public:
  explicit UnitCycleModel(const core::AttentionConfig& cfg);
  ~UnitCycleModel();
  UnitCycleModel(UnitCycleModel&&) noexcept;
  UnitCycleModel& operator=(UnitCycleModel&&) noexcept;

  UnitOutputs eval(const AttnInputs& in) const;  // combinational outputs this cycle (before the edge)
  void tick(const AttnInputs& in);               // the rising edge; in.rst_n == false: reset state

  // Observability for reports and tests (not ports).
  const AttnCycleModel& score_engine() const;
  bool backend_busy() const;   // back-end state is not IDLE
  int closed_buffers() const;  // collect buffers holding a complete, unprocessed query (0..2)
  const core::AttentionConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accelgen::golden
