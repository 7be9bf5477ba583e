// accelgen::tb — cross-check on a second simulator: the recorded stimulus of the attention unit
// `<name>_attn_top` replayed on Icarus Verilog.
//
// The golden cycle model runs the workload through the stimulus driver (the same loop as `accelgen
// sim`, tb/run.h); an observer records, for every cycle, the input ports and the model's outputs
// into a text vector file, one line per cycle, one hex field per port. Because the Verilator runs
// prove the model equal to the RTL cycle by cycle, these are also Verilator's outputs. A
// Verilog-2005 testbench replays the file on the same generated RTL under Icarus and compares every
// output on every cycle (the o_* data fields only while o_valid_o is expected 1), stopping at the
// first difference with
//   MISMATCH cycle N signal S expected 'hE got 'hG
// and always ending with the summary line
//   icarus: N cycles checked, M mismatches
// From the first reset cycle on, an X or Z bit on an output (a payload output while its valid is
// expected 1) stops it first with
//   XSTATE cycle N signal S got 'hG
// and a simulation-only check inside the RTL that fails prints
//   ASSERTION FAILED at time T in INSTANCE: SIGNAL: WHAT
// (T = 10 N + 9 ns, the edge of cycle N) and stops the replay (docs/verification.md). Both are
// parsed into IcarusResult::mismatch.
//
// The testbench is the template flows/icarus_tb.v.in (one output's check:
// flows/icarus_tb_check.v.in), embedded at build time and filled with gen::fill; only the per-port
// declarations and lists are made here. The replay part is generic (a top, its clock, its
// active-low reset and a list of port columns), so other tops can reuse it; the unit's columns come
// from gen::unit_top_ports.
//
// Recording the vectors is testbench work (tb/run.h's observer), but the columns come from the
// generator's port list, so it lives here with the replay: tb/ includes neither gen/ nor flows/.
// Lives in the accelgen_flows library (flows/): it needs gen::generate and cli::run_process.
// May include: core/, golden/, tb/, gen/, flows/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/workload.h"
#include "flows/activity.h"
#include "gen/generator.h"
#include "golden/cycle_model.h"
#include "tb/run.h"
#include "tb/stimulus.h"

namespace accelgen::tb {

// Rising edges at which a counted 1-bit signal (ReplayTop::counted) was 1, and at which it was X or
// Z, from the first reset cycle on.
struct EdgeCount {
  int64_t ones = 0;
  int64_t unknown = 0;
  bool operator==(const EdgeCount&) const = default;
};

struct IcarusResult {
  bool passed = false;
  int64_t cycles_checked = 0;        // from the testbench's summary line
  std::string log;                   // what happened, the tools' output and how to reproduce it
  std::optional<Mismatch> mismatch;  // the testbench's MISMATCH line, parsed (values in hex)
  std::map<std::string, EdgeCount> counts;  // the testbench's COUNT lines, by counted signal
};

// Runs the workload with the golden model, records the vectors, and replays them on Icarus with the
// config's generated RTL, in `work` (replaced; it keeps the RTL, testbench, vectors and logs).
IcarusResult icarus_crosscheck(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                               const StimulusOptions& stim, const std::filesystem::path& work);
// The same with already generated (possibly hand-modified) RTL: tests use it to prove that a broken
// design is caught.
IcarusResult icarus_crosscheck(const gen::Outputs& rtl, const core::AttentionConfig& cfg,
                               const core::AttentionWorkload& w, const StimulusOptions& stim,
                               const std::filesystem::path& work);

// ---------------------------------------------------------------- generic replay pieces

// One column of the vector file: an input port driven from it, or an output port compared with it.
struct ReplayPort {
  std::string name;
  int width = 1;
  bool input = true;
  std::string qualifier;  // outputs: compared only on cycles whose expected `qualifier` output is 1
};

struct ReplayTop {
  std::string module;   // the DUT's module name
  std::string clock;    // driven by the testbench, not a column
  std::string reset;    // an active-low asynchronous reset input column; held at 1 before cycle 0
  std::vector<ReplayPort> ports;  // the columns, in file order: every input first, then every output
  // 1-bit signals inside the DUT, as hierarchical names below its instance ("u_a.u_b.we_i"),
  // counted at every rising edge (IcarusResult::counts). Observation only: the RTL is not touched.
  std::vector<std::string> counted = {};
};

// A fixed-width bit vector, written as hex (most significant digit first, ceil(width/4) digits).
class Bits {
 public:
  explicit Bits(int width);
  void put(int lsb, int width, uint64_t value);  // value's low `width` bits at [lsb +: width]
  std::string hex() const;
  int width() const { return width_; }

 private:
  int width_;
  std::vector<uint64_t> words_;
};

// The Verilog-2005 testbench (module `icarus_tb`) for `top`, flows/icarus_tb.v.in filled in. It
// reads the vector file named by the plusarg +vectors=PATH (default "vectors.txt"); +vcd dumps
// icarus_tb.vcd. Per cycle (10 ns): the inputs are applied with the clock low, the outputs compared
// 4 ns later, the counted signals sampled, then the rising edge. At the end it prints
// `COUNT <signal> <ones> <unknown>` per counted signal. Throws std::invalid_argument for a `top` it
// cannot replay.
std::string replay_testbench(const ReplayTop& top);

// The RTL files of generated outputs, in compile order.
std::vector<gen::GeneratedFile> rtl_sources(const gen::Outputs& o);

// Compiles `tb_text` with the RTL files (written into `work` in the given order) and runs it on
// `vector_file` (cycles_expected lines). `passed` needs a clean compile, the summary line with
// 0 mismatches and cycles_checked == cycles_expected.
IcarusResult run_icarus_replay(const std::string& tb_text, const std::vector<gen::GeneratedFile>& rtl,
                               const std::filesystem::path& vector_file, int64_t cycles_expected,
                               const std::filesystem::path& work);

// ---------------------------------------------------------------- the unit's columns

// `<name>_attn_top`'s columns from gen::unit_top_ports (clock excluded, o_* data qualified by
// o_valid_o); counted: the read and write enables (re_i, we_i) of every memory instance
// (unit_memory_instances), so every replay of the unit counts its memories' accesses.
ReplayTop unit_top_replay(const core::AttentionConfig& cfg);

// One memory instance of the unit (an instance of a generated `<name>_mem_<role>` module).
struct MemoryInstance {
  std::string role;  // gen::MemoryPlan::role: key, value, collect
  std::string path;  // hierarchical instance name below `<name>_attn_top`
};

// Every memory instance of the unit: the key store's banks, the value store, both collect buffers.
// The instance names are the templates' (gen/rtl/key_store.v.in, value_store.v.in, softmax_v.v.in,
// attn_top.v.in); the count per role is checked against the design plan's memory list, so a bank
// or buffer the list has but this function misses throws std::logic_error, and a renamed instance
// fails the testbench's compile.
std::vector<MemoryInstance> unit_memory_instances(const core::AttentionConfig& cfg);

// Word reads and writes per memory role, counted in the RTL: the rising edges at which re_i (reads)
// and we_i (writes) of each instance were 1 in a replay of the unit (summed over the role's
// instances). Throws std::runtime_error if the replay has no count for an instance's enable or saw
// an enable X or Z after reset (the counts would mean nothing).
flows::MemoryTraffic rtl_memory_traffic(const core::AttentionConfig& cfg, const IcarusResult& replay);

// One line of the vector file: the fields of `top`'s columns, space-separated, no newline.
std::string unit_vector_line(const core::AttentionConfig& cfg, const ReplayTop& top,
                             const golden::AttnInputs& in, const golden::UnitOutputs& expected);

struct RecordedVectors {
  RunResult model;  // the golden model's run (must be ok() for the vectors to mean anything)
  int64_t cycles = 0;
};

// Runs the workload on the golden model alone and writes one line per simulated cycle to `path`.
RecordedVectors record_unit_vectors(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                                     const StimulusOptions& stim, const std::filesystem::path& path);

}  // namespace accelgen::tb
