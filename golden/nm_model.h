// accelgen::golden — golden models of the N:M structured-sparse MAC array.
//
// Owns: (1) the functional model of docs/semantics.md, Y = X * decompress(W) as an exact int64 Eigen
// product; (2) the cycle-accurate, pin-level model of docs/nm_array.md ("One cycle", "Reset") for
// `<name>_nm_top`: weight store, row-tile sequencer, x register, PE array, accumulators and output
// buffer; (3) the bit packing of the wide data ports (docs/nm_array.md "Ports"), so a Verilator
// testbench can drive and read the RTL's flat vectors from the same pin structs.
//
// Cycle protocol (as golden/cycle_model.h): eval(in) gives the outputs of the current cycle
// (registers + this cycle's inputs), tick(in) is the rising edge at the end of that cycle. A cycle
// with in.rst_n == false shows the reset state's outputs and leaves the reset state. The model is
// constructed in the reset state; like the RTL it should be reset before use.
//
// Input fields are interpreted as the port bits the RTL sees: each w value / x element is its low
// ww / wx bits sign-extended, each index its low IW bits. Data fields are read only on a beat.
//
// The PE arithmetic here multiplies slot by slot (the gather of the hardware); the functional
// model multiplies the dense matrix, so the two formulations check each other.
// May include: core/ and Eigen only.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "core/nm_compress.h"
#include "core/nm_config.h"
#include "core/tensor.h"

namespace accelgen::golden {

// ---------------------------------------------------------------------------- functional model

// Y = X * W, exact. Throws std::invalid_argument if the shapes do not chain.
core::IntMatrix nm_reference(const core::IntMatrix& x, const core::IntMatrix& w);
// Y = X * decompress(W) (docs/semantics.md, on the compressed form).
core::IntMatrix nm_functional(const core::IntMatrix& x, const core::NmCompressed& w);
// True if every sum of k products of wx-bit and ww-bit signed values fits in int64 (so the
// functional model is exact): k * 2^(wx+ww-2) <= 2^63 - 1. Holds for every legal config.
bool nm_int64_exact(int wx, int ww, int64_t k);

// --------------------------------------------------------------------------- pin-level model

// Input ports of one cycle (clock excluded).
struct NmInputs {
  bool rst_n = true;
  bool w_valid = false;
  std::vector<int64_t> w_values;    // cols * n: slot (c, s) at c*n + s
  std::vector<uint32_t> w_indices;  // cols * n: slot (c, s) at c*n + s (unused when IW == 0)
  bool w_last = false;
  bool x_valid = false;
  std::vector<int64_t> x_data;  // rows * KB: element (r, j) at r*KB + j
  bool x_last = false;
  bool y_ready = false;
};

// Output ports of one cycle. y_data is all 0 while y_valid is false (the RTL may show anything).
struct NmOutputs {
  bool w_ready = false, x_ready = false;
  bool y_valid = false, y_last = false;
  std::vector<int64_t> y_data;  // cols accumulators of one PE row

  bool operator==(const NmOutputs&) const = default;
};

std::ostream& operator<<(std::ostream& os, const NmOutputs& o);

class NmCycleModel {
 public:
  explicit NmCycleModel(const core::NmConfig& cfg);

  NmOutputs eval(const NmInputs& in) const;  // combinational outputs this cycle (before the edge)
  void tick(const NmInputs& in);             // the rising edge; in.rst_n == false: reset state

  // Observability (not ports), about the current cycle.
  bool mac() const;  // the x register is multiplied this cycle
  const core::NmConfig& config() const { return cfg_; }
  const core::NmWidths& widths() const { return w_; }

 private:
  struct WBeat {  // one weight store entry, already reduced to port bits
    std::vector<int64_t> values;
    std::vector<int> indices;
  };
  struct Comb {
    bool mac = false, w_ready = false, x_ready = false;
    bool w_fire = false, x_fire = false, x_end = false, y_fire = false;
  };

  void reset();
  Comb comb(const NmInputs& in) const;
  NmOutputs outputs(const NmInputs& in) const;
  std::vector<int64_t> pe_array() const;  // acc_d of docs/nm_array.md "One cycle" item 5
  void weight_beat(const NmInputs& in);
  void x_beat(const NmInputs& in, bool x_end);
  void output_beat();

  core::NmConfig cfg_;
  core::NmWidths w_;
  // Registers, named as in docs/nm_array.md "State".
  std::vector<WBeat> wmem_;  // D entries, not reset
  int wcount_ = 0;
  bool wset_ = false;
  int xg_ = 0;
  bool xb_valid_ = false;
  std::vector<int64_t> xb_data_;  // rows * KB, not reset
  int xb_group_ = 0;
  bool xb_last_ = false;
  std::vector<int64_t> acc_;  // rows * cols, (r, c) at r*cols + c, not reset
  bool ob_valid_ = false;
  int ob_row_ = 0;
  std::vector<int64_t> obuf_;  // rows * cols, not reset
};

// ------------------------------------------------------------------------------- port packing
// Flat port vectors as 32-bit words, word 0 holding bits [31:0] (Verilator's WData order),
// packed exactly as docs/nm_array.md "Ports" says. Fields are truncated to their widths.

std::vector<uint32_t> pack_w_data(const core::NmConfig& c, const NmInputs& in);
std::vector<uint32_t> pack_x_data(const core::NmConfig& c, const NmInputs& in);
std::vector<uint32_t> pack_y_data(const core::NmConfig& c, const std::vector<int64_t>& y);
// Inverse of the packing: sign-extended fields.
std::vector<int64_t> unpack_y_data(const core::NmConfig& c, const std::vector<uint32_t>& words);

}  // namespace accelgen::golden
