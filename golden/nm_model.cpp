// accelgen::golden — models of docs/nm_array.md, see nm_model.h.
// May include: core/ and Eigen only.
#include "golden/nm_model.h"

#include <ostream>
#include <stdexcept>
#include <string>

#include "core/config.h"

namespace accelgen::golden {
namespace {

uint64_t mask(int bits) { return bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

// The low `bits` of v read as a two's-complement number.
int64_t sign_extend(uint64_t v, int bits) {
  v &= mask(bits);
  if (bits < 64 && ((v >> (bits - 1)) & 1) != 0) {
    return static_cast<int64_t>(v) - static_cast<int64_t>(uint64_t{1} << bits);
  }
  return static_cast<int64_t>(v);
}

void check_size(const char* field, size_t got, size_t want) {
  if (got != want) {
    throw std::invalid_argument(std::string("NmInputs.") + field + " has " + std::to_string(got) +
                                " elements, the port holds " + std::to_string(want));
  }
}

// Bit `offset + i` of the flat vector is bit i of `value`, for i < width.
void put_bits(std::vector<uint32_t>& words, int offset, int width, uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const int bit = offset + i;
    if ((value >> i) & 1) words[static_cast<size_t>(bit / 32)] |= uint32_t{1} << (bit % 32);
  }
}

uint64_t get_bits(const std::vector<uint32_t>& words, int offset, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    const int bit = offset + i;
    v |= static_cast<uint64_t>((words[static_cast<size_t>(bit / 32)] >> (bit % 32)) & 1) << i;
  }
  return v;
}

std::vector<uint32_t> zero_words(int bits) { return std::vector<uint32_t>((bits + 31) / 32, 0); }

}  // namespace

// ---------------------------------------------------------------------------- functional model

core::IntMatrix nm_reference(const core::IntMatrix& x, const core::IntMatrix& w) {
  if (x.cols() != w.rows()) {
    throw std::invalid_argument("nm_reference: X has " + std::to_string(x.cols()) +
                                " columns, W has " + std::to_string(w.rows()) + " rows");
  }
  return x * w;
}

core::IntMatrix nm_functional(const core::IntMatrix& x, const core::NmCompressed& w) {
  return nm_reference(x, core::decompress(w));
}

bool nm_int64_exact(int wx, int ww, int64_t k) {
  // k * 2^(wx+ww-2) <= 2^63 - 1  <=>  k < 2^(63 - (wx+ww-2)) (the left side is a multiple of 2).
  const int shift = 63 - (wx + ww - 2);
  return shift > 0 && (shift >= 63 || k < (int64_t{1} << shift));
}

// --------------------------------------------------------------------------- pin-level model

std::ostream& operator<<(std::ostream& os, const NmOutputs& o) {
  os << "{w_ready=" << o.w_ready << " x_ready=" << o.x_ready << " y_valid=" << o.y_valid
     << " y_last=" << o.y_last << " y_data=[";
  for (size_t c = 0; c < o.y_data.size(); ++c) os << (c ? " " : "") << o.y_data[c];
  return os << "]}";
}

NmCycleModel::NmCycleModel(const core::NmConfig& cfg)
    : cfg_(cfg), w_(core::nm_widths(cfg)) {
  const size_t pes = static_cast<size_t>(cfg_.rows * cfg_.cols);
  const size_t slots = static_cast<size_t>(cfg_.cols * cfg_.n);
  wmem_.assign(static_cast<size_t>(w_.depth), WBeat{std::vector<int64_t>(slots, 0),
                                                    std::vector<int>(slots, 0)});
  xb_data_.assign(static_cast<size_t>(cfg_.rows * w_.kb), 0);
  acc_.assign(pes, 0);
  obuf_.assign(pes, 0);
  reset();
}

// Clears the registers docs/nm_array.md "State" says are reset; data registers keep their value.
void NmCycleModel::reset() {
  wcount_ = 0;
  wset_ = false;
  xg_ = 0;
  xb_valid_ = false;
  xb_group_ = 0;
  xb_last_ = false;
  ob_valid_ = false;
  ob_row_ = 0;
}

NmCycleModel::Comb NmCycleModel::comb(const NmInputs& in) const {
  Comb c;
  c.mac = mac();
  c.w_ready = !xb_valid_ && xg_ == 0;
  c.w_fire = in.w_valid && c.w_ready;
  c.x_ready = wset_ && (!xb_valid_ || c.mac) && !c.w_fire;
  c.x_fire = in.x_valid && c.x_ready;
  c.x_end = in.x_last || xg_ == wcount_ - 1;
  c.y_fire = ob_valid_ && in.y_ready;
  return c;
}

NmOutputs NmCycleModel::outputs(const NmInputs& in) const {
  const Comb c = comb(in);
  NmOutputs o;
  o.w_ready = c.w_ready;
  o.x_ready = c.x_ready;
  o.y_valid = ob_valid_;
  o.y_last = ob_valid_ && ob_row_ == cfg_.rows - 1;
  o.y_data.assign(static_cast<size_t>(cfg_.cols), 0);
  if (ob_valid_) {
    for (int col = 0; col < cfg_.cols; ++col) {
      o.y_data[static_cast<size_t>(col)] = obuf_[static_cast<size_t>(ob_row_ * cfg_.cols + col)];
    }
  }
  return o;
}

NmOutputs NmCycleModel::eval(const NmInputs& in) const {
  if (in.rst_n) return outputs(in);
  NmCycleModel r = *this;  // reset shows in the same cycle (asynchronous)
  r.reset();
  return r.outputs(in);
}

// The last group of a row tile waits for the output buffer as registered (no ready-to-ready path).
bool NmCycleModel::mac() const { return xb_valid_ && (!xb_last_ || !ob_valid_); }

std::vector<int64_t> NmCycleModel::pe_array() const {
  const WBeat& b = wmem_[static_cast<size_t>(xb_group_)];
  std::vector<int64_t> acc_d(acc_.size());
  for (int r = 0; r < cfg_.rows; ++r) {
    for (int col = 0; col < cfg_.cols; ++col) {
      int64_t sum = 0;
      for (int s = 0; s < cfg_.n; ++s) {
        const auto slot = static_cast<size_t>(col * cfg_.n + s);
        const int idx = cfg_.dense_baseline ? s : b.indices[slot];  // the m:1 multiplexer
        sum += b.values[slot] * xb_data_[static_cast<size_t>(r * w_.kb + idx)];
      }
      const auto pe = static_cast<size_t>(r * cfg_.cols + col);
      acc_d[pe] = (xb_group_ == 0 ? 0 : acc_[pe]) + sum;  // the first group overwrites
    }
  }
  return acc_d;
}

void NmCycleModel::weight_beat(const NmInputs& in) {
  const size_t slots = static_cast<size_t>(cfg_.cols * cfg_.n);
  check_size("w_values", in.w_values.size(), slots);
  if (w_.iw > 0) check_size("w_indices", in.w_indices.size(), slots);
  const int i = wset_ ? 0 : wcount_;  // a beat after a complete set starts a new set
  WBeat& e = wmem_[static_cast<size_t>(i)];
  for (size_t s = 0; s < slots; ++s) {
    e.values[s] = sign_extend(static_cast<uint64_t>(in.w_values[s]), cfg_.ww);
    e.indices[s] = w_.iw > 0 ? static_cast<int>(in.w_indices[s] & mask(w_.iw)) : 0;
  }
  wcount_ = i + 1;
  wset_ = in.w_last || i + 1 == w_.depth;
}

void NmCycleModel::x_beat(const NmInputs& in, bool x_end) {
  check_size("x_data", in.x_data.size(), xb_data_.size());
  for (size_t e = 0; e < xb_data_.size(); ++e) {
    xb_data_[e] = sign_extend(static_cast<uint64_t>(in.x_data[e]), cfg_.wx);
  }
  xb_valid_ = true;
  xb_group_ = xg_;
  xb_last_ = x_end;
  xg_ = x_end ? 0 : xg_ + 1;
}

void NmCycleModel::output_beat() {
  if (ob_row_ == cfg_.rows - 1) {
    ob_valid_ = false;
    ob_row_ = 0;
  } else {
    ++ob_row_;
  }
}

void NmCycleModel::tick(const NmInputs& in) {
  if (!in.rst_n) {
    reset();
    return;
  }
  const Comb c = comb(in);
  // Order matters only for reads of pre-edge values: the y drain and a capture never share an
  // edge (a capture needs !ob_valid_q); the PE array reads xb_* and wmem before they are written.
  if (c.y_fire) output_beat();
  if (c.mac) {
    const bool capture = xb_last_;
    acc_ = pe_array();
    if (capture) {
      obuf_ = acc_;
      ob_valid_ = true;
      ob_row_ = 0;
    }
  }
  if (c.x_fire) {
    x_beat(in, c.x_end);
  } else if (c.mac) {
    xb_valid_ = false;
  }
  if (c.w_fire) weight_beat(in);
}

// ------------------------------------------------------------------------------- port packing

std::vector<uint32_t> pack_w_data(const core::NmConfig& c, const NmInputs& in) {
  const core::NmWidths w = core::nm_widths(c);
  const size_t slots = static_cast<size_t>(c.cols * c.n);
  check_size("w_values", in.w_values.size(), slots);
  if (w.iw > 0) check_size("w_indices", in.w_indices.size(), slots);
  std::vector<uint32_t> words = zero_words(w.wbw);
  for (size_t slot = 0; slot < slots; ++slot) {
    const int base = static_cast<int>(slot) * w.sw;
    put_bits(words, base, c.ww, static_cast<uint64_t>(in.w_values[slot]));
    if (w.iw > 0) put_bits(words, base + c.ww, w.iw, in.w_indices[slot]);
  }
  return words;
}

std::vector<uint32_t> pack_x_data(const core::NmConfig& c, const NmInputs& in) {
  const core::NmWidths w = core::nm_widths(c);
  check_size("x_data", in.x_data.size(), static_cast<size_t>(c.rows * w.kb));
  std::vector<uint32_t> words = zero_words(w.xbw);
  for (size_t e = 0; e < in.x_data.size(); ++e) {
    put_bits(words, static_cast<int>(e) * c.wx, c.wx, static_cast<uint64_t>(in.x_data[e]));
  }
  return words;
}

std::vector<uint32_t> pack_y_data(const core::NmConfig& c, const std::vector<int64_t>& y) {
  const core::NmWidths w = core::nm_widths(c);
  check_size("y_data", y.size(), static_cast<size_t>(c.cols));
  std::vector<uint32_t> words = zero_words(w.ybw);
  for (size_t col = 0; col < y.size(); ++col) {
    put_bits(words, static_cast<int>(col) * w.aw, w.aw, static_cast<uint64_t>(y[col]));
  }
  return words;
}

std::vector<int64_t> unpack_y_data(const core::NmConfig& c, const std::vector<uint32_t>& words) {
  const core::NmWidths w = core::nm_widths(c);
  check_size("y_data words", words.size(), static_cast<size_t>((w.ybw + 31) / 32));
  std::vector<int64_t> y(static_cast<size_t>(c.cols));
  for (int col = 0; col < c.cols; ++col) {
    y[static_cast<size_t>(col)] = sign_extend(get_bits(words, col * w.aw, w.aw), w.aw);
  }
  return y;
}

}  // namespace accelgen::golden
