// accelgen::core — validated configuration of the N:M structured-sparse MAC array.
//
// A config JSON with "kind": "nm_array" describes the array of docs/nm_array.md; fields, ranges
// and derived widths are documented there and in docs/config.md. Like AttentionConfig, it is parsed
// and validated once; the generator, the golden model and the testbench read only this value type.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/tensor.h"

namespace accelgen::core {

struct NmConfig {
  std::string name = "nm";      // module-name prefix of the generated RTL
  int rows = 4;                 // PE rows (activation rows per row tile)
  int cols = 4;                 // PE columns (output columns per column tile)
  int wx = 8;                   // activation width (signed)
  int ww = 8;                   // weight width (signed)
  int n = 2;                    // nonzeros per group = multipliers per PE
  int m = 4;                    // group size: 1, 2, 4, 8 or 16
  int max_k = 256;              // largest reduction length the weight store holds
  bool dense_baseline = false;  // no indices: n consecutive k per beat, same multipliers
  std::string memory = "flops";  // storage in the area flow: "flops" or "macro" (docs/memory.md)

  bool operator==(const NmConfig&) const = default;
};

// Widths and sizes derived from an NmConfig (docs/nm_array.md "Derived widths").
struct NmWidths {
  int kb;     // k per beat: m, or n in the dense baseline
  int iw;     // index bits per slot: clog2(m), 0 in the dense baseline
  int sw;     // weight slot width: ww + iw
  int depth;  // D: weight store beats, ceil(max_k / kb)
  int diw;    // group index width: max(1, clog2(D))
  int dcw;    // group count width: clog2(D + 1)
  int64_t products;  // T: products summed into one accumulator per row tile, D * n
  int aw;     // accumulator width: wx + ww - 1 + clog2(T + 1)
  int riw;    // output row index width: max(1, clog2(rows))
  int wbw;    // w beat width: cols * n * sw
  int xbw;    // x beat width: rows * kb * wx
  int ybw;    // y beat width: cols * aw
};

NmWidths nm_widths(const NmConfig& c);

// "attention" (also when "kind" is absent) or "nm_array"; anything else is an
// InputError("config.kind", ...). A non-object is an InputError("config", ...).
std::string config_kind(const nlohmann::json& j);

// Parse and validate; "kind" must be "nm_array". Throws InputError naming "config.<key>" and the
// allowed range.
NmConfig parse_nm_config(const nlohmann::json& j);
NmConfig load_nm_config(const std::string& path);

// Canonical JSON (every field, sorted keys) and its hash: same config, same hash.
nlohmann::json to_json(const NmConfig& c);
std::string config_hash(const NmConfig& c);

// Checks the operands of a GEMM Y = X * W on the array: X [R, K] and W [K, C] non-empty, the same
// K, K <= max_k, every X element in the wx-bit and every W element in the ww-bit signed range.
// Throws InputError naming x_name / w_name and the allowed range. (N:M sparsity of W is checked by
// compress().)
void check_gemm_operands(const NmConfig& c, const IntMatrix& x, const IntMatrix& w,
                         const std::string& x_name = "x.npy", const std::string& w_name = "w.npy");

// True for the group sizes the array supports (1, 2, 4, 8, 16).
bool nm_group_size_supported(int m);

}  // namespace accelgen::core
