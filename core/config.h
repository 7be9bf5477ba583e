// accelgen::core — validated configuration value types.
//
// A config JSON file is parsed and validated once into one of these value types; every other part of
// the project (generator, golden model, testbench, CLI) reads only these. Field names, ranges and the
// meaning of each parameter are documented in docs/config.md.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace accelgen::core {

// Parameters of the bit-serial attention score engine (docs/microarchitecture.md).
struct AttentionConfig {
  std::string name = "ag";      // module-name prefix of the generated RTL
  int d = 16;                   // head dimension
  int dv = 16;                  // V row length
  int wq = 8;                   // Q element width (signed)
  int wk = 8;                   // K element width (signed)
  int wv = 8;                   // V element width (signed)
  int lanes = 4;                // parallel bit-serial score lanes
  int key_banks = 0;            // key store banks (keys read per cycle); 0: derived (key_banks())
  // Keys each lane holds issued ahead of the key in progress (its next-key queue): 1 or 2. With 2 a lane whose
  // key ends after one step finds the next key's row already there (docs/microarchitecture.md "Key issue").
  int key_queue = 1;
  int max_keys = 64;            // keys held on chip
  int threshold_slots = 4;      // (layer, head) threshold registers
  int alpha_mant_bits = 16;     // softmax scale register: mantissa bits (alpha = mant * 2^-shift)
  bool dense_baseline = false;  // termination and pruning off
  int out_frac_bits = 2;        // fraction bits of the attention output O (docs/softmax.md F_o)
  int exp_lut_bits = 0;         // exp table index bits L (2^L + 1 entries); 0: derived (docs/softmax.md)
  bool overlap_backend = true;  // score the next query while the back-end finishes the current one
  // Threshold modes the hardware supports ("threshold_modes" in JSON): absolute only (false), or absolute
  // and relative (true: each slot register holds a mode bit and theta or delta; docs/semantics.md).
  bool relative_thresholds = false;
  // Storage arrays in the area/timing/energy flow: "flops" (synthesized) or "macro" (SRAM macros,
  // docs/memory.md). The generated RTL is the same in both modes.
  std::string memory = "flops";

  bool operator==(const AttentionConfig&) const = default;
};

// The softmax scale register (docs/semantics.md "Softmax and output"): alpha = mant * 2^-shift with an
// alpha_mant_bits-bit unsigned mantissa and a kAlphaShiftBits-bit unsigned shift; register value
// (shift << alpha_mant_bits) | mant.
inline constexpr int kAlphaShiftBits = 6;

// Widths derived from an AttentionConfig; the RTL computes the same values as localparams.
struct AttentionWidths {
  int sw;   // score
  int tw;   // theta register
  int bw;   // bound table entry
  int aw;   // alpha register: alpha_mant_bits + kAlphaShiftBits
  int cdw;  // config data
  int caw;  // config address
  int kiw;  // key index
  int kcw;  // key count
  int stw;  // steps per query
  int slw;  // slot index
  int cyw;  // score-phase cycle counter (saturating)
  // Softmax/xV back-end (docs/softmax.md).
  int ef;  // E: fraction bits of the exponentials
  int lb;  // L: exp table index bits (the table has 2^L + 1 entries)
  int xf;  // F: fraction bits of the exponent x = alpha * (max - s) (wv + out_frac_bits + 4)
  int xw;  // exponent x: F + clog2(E + 2) bits, saturating (an integer part > E gives e = 0)
  int ow;  // output element O: signed, out_frac_bits fraction bits
  int zw;  // sum of exponentials Z (unsigned)
  int qb;  // quotient bits of the normalization (= divider cycles)
};

// ceil(log2(x)) for x >= 1 (clog2(1) == 0), as Verilog's $clog2.
int clog2(uint64_t x);

AttentionWidths widths(const AttentionConfig& c);

// The key store's banks: key_banks, or for 0 the derived value (docs/config.md).
int key_banks(const AttentionConfig& c);

// Inclusive range of a signed `bits`-wide integer.
int64_t signed_min(int bits);
int64_t signed_max(int bits);

// Parse and validate; throws InputError naming the field ("config.<key>") and the allowed range.
AttentionConfig parse_attention_config(const nlohmann::json& j);
AttentionConfig load_attention_config(const std::string& path);

// Reads a JSON file; a missing file, a directory or invalid JSON is an InputError naming the path.
nlohmann::json read_json_file(const std::string& path, const std::string& what);

// Parses JSON text; invalid JSON or nesting deeper than kMaxJsonDepth is an InputError naming `where`.
inline constexpr int kMaxJsonDepth = 64;
nlohmann::json parse_json_text(const std::string& text, const std::string& where);

// Canonical JSON (every field but key_queue at its default 1, fixed key order) and its hash: same
// config, same hash.
nlohmann::json to_json(const AttentionConfig& c);
// to_json with every field written, also those to_json leaves out at their default (key_queue): for
// reports that list the fields, such as `accelgen space`. Not hashed.
nlohmann::json all_fields_json(const AttentionConfig& c);
std::string config_hash(const AttentionConfig& c);
// The canonical "threshold_modes" list of a config.
nlohmann::json threshold_modes_json(bool relative);

}  // namespace accelgen::core
