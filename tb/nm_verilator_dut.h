// accelgen::tb — the Verilated N:M array (`<name>_nm_top`) behind the NmDut interface.
//
// Compiled once per config by the simulator build (flows/simbuild.cpp) with the generated params
// header force-included: port widths reach the testbench only through it. Fields are packed with
// tb/port_bits.h exactly as docs/nm_array.md "Ports" says; put_bits truncates every field to its
// width, which is how the pins see the driver's random bits on idle data inputs.
// May include: tb/, golden/, Verilator's runtime, the generated params header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tb/nm_run.h"
#include "tb/port_bits.h"
#include "tb/verilated_top.h"

namespace accelgen::tb {

template <class Top>
class VerilatorNmDut : public NmDut {
 public:
  VerilatorNmDut(uint64_t seed, const std::string& fst_path)
      : vt_(seed, fst_path, [](Top& t) {
              t.w_valid_i = 0;
              t.x_valid_i = 0;
              t.y_ready_i = 0;
            }) {}

  golden::NmOutputs eval(const golden::NmInputs& in) override {
    Top& t = vt_.top();
    t.rst_ni = in.rst_n;
    t.w_valid_i = in.w_valid;
    pack_weights(t, in);
    t.w_last_i = in.w_last;
    t.x_valid_i = in.x_valid;
    pack_row(t.x_data_i, in.x_data, static_cast<int>(accelgen_params::kXWidth));
    t.x_last_i = in.x_last;
    t.y_ready_i = in.y_ready;
    vt_.settle_low();

    golden::NmOutputs o;
    o.w_ready = t.w_ready_o;
    o.x_ready = t.x_ready_o;
    o.y_valid = t.y_valid_o;
    o.y_last = t.y_last_o;
    o.y_data.assign(static_cast<size_t>(accelgen_params::kCols), 0);
    if (o.y_valid) {  // the model shows 0 while y_valid_o is low, the RTL anything
      constexpr int aw = static_cast<int>(accelgen_params::kAccWidth);
      for (size_t c = 0; c < o.y_data.size(); ++c) {
        o.y_data[c] = sign_extend(get_bits(t.y_data_o, static_cast<int>(c) * aw, aw), aw);
      }
    }
    return o;
  }

  void tick() override { vt_.rising_edge(); }
  bool assertion_failed() const override { return vt_.assertion_failed(); }

 private:
  // Slot (c, s) at [(c*n + s)*SW +: SW]: value in the low ww bits, index (if any) above.
  static void pack_weights(Top& t, const golden::NmInputs& in) {
    constexpr int sw = static_cast<int>(accelgen_params::kSlotWidth);
    constexpr int ww = static_cast<int>(accelgen_params::kWWidth);
    constexpr int iw = static_cast<int>(accelgen_params::kIndexWidth);
    for (size_t i = 0; i < in.w_values.size(); ++i) {
      const int lsb = static_cast<int>(i) * sw;
      put_bits(t.w_data_i, lsb, ww, static_cast<uint64_t>(in.w_values[i]));
      if constexpr (iw > 0) put_bits(t.w_data_i, lsb + ww, iw, in.w_indices.at(i));
    }
  }

  VerilatedTop<Top> vt_;
};

}  // namespace accelgen::tb
