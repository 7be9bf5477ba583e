// accelgen::cli — `accelgen eval`: one design point, one machine-readable record (docs/semantics.md),
// for design-space search: config (flat parameters), hash, tool versions, feasible + reason, area
// and timing (Yosys/OpenSTA, cached by hash), cycles and attention statistics from the golden
// cycle model, latency in ns. `--verify` also runs the Verilated RTL and fails if any number
// differs. An invalid config still yields a record (`feasible: false` and the validation message).
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/workload.h"
#include <nlohmann/json.hpp>

namespace accelgen::cli {

struct EvalOptions {
  std::string config, workload, thresholds, liberty, json_out;
  std::vector<std::string> macro_libs;  // --macro-lib: SRAM macros for "memory": "macro" (docs/memory.md)
  bool verify = false;
  bool area = true;  // --no-area: skip synthesis (cycles only)
  std::string area_cache;  // area cache root; empty: the default (bench uses a fresh one for a cold eval)
  bool energy = false;  // --energy: pJ/query of the unit and its dense baseline (docs/energy.md)
};

// Energy per query of an attention config and of its dense baseline on one workload (the `energy`
// object of eval records and of the bench, docs/energy.md): synthesis (cached), the fast model's
// cycles, input activity from the pin-level model, OpenSTA report_power, and in "macro" memory mode
// the macros' energy from the run's memory accesses (`macro_libs` as for `accelgen area`). Never
// throws for a tool problem: `available` false with a `note`.
nlohmann::json attention_energy(const core::AttentionConfig& c, const core::AttentionWorkload& w,
                                const std::string& liberty, const std::string& area_cache,
                                const std::vector<std::string>& macro_libs = {});

// Builds the record; throws core::InputError only for a bad workload or thresholds file (the
// config is part of the design point: its errors go into the record).
nlohmann::json evaluate(const EvalOptions& o);

void add_eval_command(CLI::App& app);

}  // namespace accelgen::cli
