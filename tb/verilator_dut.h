// accelgen::tb — the Verilated attention unit (`<name>_attn_top`) behind the Dut interface.
//
// Compiled once per config (by `accelgen sim`, gen/cli/simbuild.cpp) together with the generated
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
#include "verilated.h"
#include "verilated_fst_c.h"

namespace accelgen::tb {

// Port widths come from the generated params header (namespace accelgen_params), which the
// simulator build force-includes.
template <class Top>
class VerilatorDut : public Dut {
 public:
  VerilatorDut(uint64_t seed, const std::string& fst_path) : ctx_(std::make_unique<VerilatedContext>()) {
    // Random power-up state and random X resolution, reproducible from the run's seed.
    ctx_->randReset(2);
    ctx_->randSeed(static_cast<int>(seed & 0x7fffffff));
    ctx_->traceEverOn(!fst_path.empty());
    top_ = std::make_unique<Top>(ctx_.get());
    if (!fst_path.empty()) {
      fst_ = std::make_unique<VerilatedFstC>();
      top_->trace(fst_.get(), 99);
      fst_->open(fst_path.c_str());
    }
    // Every input driven and settled before the first edge; reset released, so that the
    // testbench's first reset cycle is a real falling edge of rst_ni.
    top_->clk_i = 0;
    top_->rst_ni = 1;
    top_->cfg_we_i = 0;
    top_->k_valid_i = 0;
    top_->q_valid_i = 0;
    top_->o_ready_i = 0;
    top_->eval();
  }
  ~VerilatorDut() override {
    if (fst_) fst_->close();
    top_->final();
  }

  golden::UnitOutputs eval(const golden::AttnInputs& in) override {
    Top& t = *top_;
    t.clk_i = 0;
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
    t.o_ready_i = in.o_ready;
    t.eval();
    dump(2 * cycle_);

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
    }
    return o;
  }

  void tick() override {
    top_->clk_i = 1;
    top_->eval();
    dump(2 * cycle_ + 1);
    ++cycle_;
  }

 private:
  void dump(uint64_t time) {
    if (fst_) fst_->dump(time);
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
  std::unique_ptr<VerilatedFstC> fst_;
  uint64_t cycle_ = 0;
};

}  // namespace accelgen::tb
