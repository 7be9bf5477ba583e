// accelgen::tb — the Verilated attention unit (`<name>_attn_top`) behind the Dut interface.
//
// Compiled once per config (by `accelgen sim`, flows/simbuild.cpp) together with the generated
// params header, which is the only place the testbench learns port widths from. Verilator's port
// types change with width (CData/SData/IData/QData/VlWide); pack()/unpack() hide that.
// May include: tb/, golden/, Verilator's runtime, the generated params header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "tb/port_bits.h"
#include "tb/run.h"
#include "tb/verilated_top.h"

namespace accelgen::tb {

// Port widths come from the generated params header (namespace accelgen_params), which the
// simulator build force-includes.
template <class Top>
class VerilatorDut : public Dut {
 public:
  VerilatorDut(uint64_t seed, const std::string& fst_path)
      : vt_(seed, fst_path, [](Top& t) {
              t.cfg_we_i = 0;
              t.k_valid_i = 0;
              t.q_valid_i = 0;
              t.o_ready_i = 0;
            }) {}

  golden::UnitOutputs eval(const golden::AttnInputs& in) override {
    Top& t = vt_.top();
    t.rst_ni = in.rst_n;
    t.cfg_we_i = in.cfg_we;
    put_bits(t.cfg_addr_i, 0, accelgen_params::kCfgAddrWidth, in.cfg_addr);
    put_bits(t.cfg_wdata_i, 0, accelgen_params::kCfgDataWidth, in.cfg_wdata);
    t.k_valid_i = in.k_valid;
    pack_row(t.k_data_i, in.k_data, accelgen_params::kKWidth);
    pack_row(t.k_vdata_i, in.k_vdata, accelgen_params::kVWidth);
    t.k_last_i = in.k_last;
    t.q_valid_i = in.q_valid;
    pack_row(t.q_data_i, in.q_data, accelgen_params::kQWidth);
    if constexpr (requires { t.q_slot_i; }) put_bits(t.q_slot_i, 0, accelgen_params::kSlotWidth, in.q_slot);
    put_bits(t.q_keys_i, 0, accelgen_params::kKeyCountWidth, in.q_keys);
    t.o_ready_i = in.o_ready;
    vt_.settle_low();

    golden::UnitOutputs o;
    o.cfg_rdata = get_bits(t.cfg_rdata_o, 0, accelgen_params::kCfgDataWidth);
    o.k_ready = t.k_ready_o;
    o.q_ready = t.q_ready_o;
    o.o_valid = t.o_valid_o;
    o.o_data.assign(static_cast<size_t>(accelgen_params::kDv), 0);
    if (o.o_valid) {
      constexpr int ow = static_cast<int>(accelgen_params::kOutWidth);
      for (size_t c = 0; c < o.o_data.size(); ++c) {
        o.o_data[c] = sign_extend(get_bits(t.o_data_o, static_cast<int>(c) * ow, ow), ow);
      }
      o.o_empty = t.o_empty_o;
      o.o_count = static_cast<uint32_t>(get_bits(t.o_count_o, 0, accelgen_params::kKeyCountWidth));
      o.o_steps = get_bits(t.o_steps_o, 0, accelgen_params::kStepsWidth);
      o.o_cycles = get_bits(t.o_cycles_o, 0, accelgen_params::kCyclesWidth);
      o.o_bcycles = get_bits(t.o_bcycles_o, 0, accelgen_params::kCyclesWidth);
      if constexpr (requires { t.o_filtered_o; }) {
        o.o_filtered = static_cast<uint32_t>(get_bits(t.o_filtered_o, 0, accelgen_params::kKeyCountWidth));
      }
    }
    return o;
  }

  void tick() override { vt_.rising_edge(); }
  bool assertion_failed() const override { return vt_.assertion_failed(); }

 private:
  VerilatedTop<Top> vt_;
};

}  // namespace accelgen::tb
