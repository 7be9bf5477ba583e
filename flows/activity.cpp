#include "flows/activity.h"

#include <stdexcept>

#include <fmt/format.h>

#include "flows/icarus.h"
#include "tb/run.h"

namespace accelgen::flows {

namespace {

// Bit i (0 = least significant) of an MSB-first hex string.
bool hex_bit(const std::string& hex, int i) {
  const int digit = static_cast<int>(hex.size()) - 1 - i / 4;
  if (digit < 0) return false;
  const char c = hex[static_cast<size_t>(digit)];
  const int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
  if (v < 0) throw std::runtime_error("activity: not a hex digit in '" + hex + "'");
  return ((v >> (i % 4)) & 1) != 0;
}

// What a real sender drives: data qualified by a valid (or write enable) keeps its last value while
// the qualifier is low, instead of the testbench's garbage.
golden::AttnInputs held_inputs(const golden::AttnInputs& in, const golden::AttnInputs& last) {
  golden::AttnInputs h = in;
  if (!in.k_valid) {
    h.k_data = last.k_data;
    h.k_vdata = last.k_vdata;
    h.k_last = last.k_last;
  }
  if (!in.q_valid) {
    h.q_data = last.q_data;
    h.q_slot = last.q_slot;
    h.q_keys = last.q_keys;
  }
  if (!in.cfg_we) {
    h.cfg_addr = last.cfg_addr;
    h.cfg_wdata = last.cfg_wdata;
  }
  return h;
}

}  // namespace

InputActivity activity_from_vectors(const std::vector<std::string>& names, const std::vector<int>& widths,
                                    const std::vector<std::vector<std::string>>& values) {
  InputActivity a;
  a.cycles = static_cast<int64_t>(values.size());
  for (size_t p = 0; p < names.size(); ++p) {
    for (int b = 0; b < widths[p]; ++b) {
      int64_t toggles = 0, ones = 0;
      for (size_t c = 0; c < values.size(); ++c) {
        const bool v = hex_bit(values[c].at(p), b);
        ones += v;
        if (c > 0 && v != hex_bit(values[c - 1].at(p), b)) ++toggles;
      }
      const double n = static_cast<double>(std::max<int64_t>(1, a.cycles));
      a.pins.push_back({widths[p] == 1 ? names[p] : names[p] + "[" + std::to_string(b) + "]",
                        static_cast<double>(toggles) / n, static_cast<double>(ones) / n});
    }
  }
  double sum = 0;
  for (const auto& p : a.pins) sum += p.activity;
  a.mean_activity = a.pins.empty() ? 0 : sum / static_cast<double>(a.pins.size());
  return a;
}

InputActivity measure_unit_input_activity(const core::AttentionConfig& cfg, const core::AttentionWorkload& w) {
  tb::ReplayTop inputs = tb::unit_top_replay(cfg);
  std::erase_if(inputs.ports, [](const tb::ReplayPort& p) { return !p.input; });
  std::vector<std::string> names;
  std::vector<int> widths;
  for (const auto& p : inputs.ports) {
    names.push_back(p.name);
    widths.push_back(p.width);
  }
  std::vector<std::vector<std::string>> values;
  golden::AttnInputs last;
  const golden::UnitOutputs no_outputs;
  const tb::RunResult r = tb::run_attention(
      cfg, w, {1, 1.0, 1.0, -1}, nullptr, -1,
      [&](int64_t, const golden::AttnInputs& in, const golden::UnitOutputs&) {
        last = held_inputs(in, last);
        std::vector<std::string> row;
        std::string line = tb::unit_vector_line(cfg, inputs, last, no_outputs);
        size_t start = 0;
        for (size_t i = 0; i <= line.size(); ++i) {
          if (i == line.size() || line[i] == ' ') {
            row.push_back(line.substr(start, i - start));
            start = i + 1;
          }
        }
        values.push_back(std::move(row));
      });
  if (!r.ok()) throw std::runtime_error("activity: the golden model run failed: " + r.functional_error);
  return activity_from_vectors(names, widths, values);
}

MemoryTraffic attention_memory_traffic(const core::AttentionWorkload& w, const tb::RunResult& run) {
  const uint64_t keys = static_cast<uint64_t>(w.k.rows());
  uint64_t visible = 0;
  for (int64_t i = 0; i < w.q.rows(); ++i) visible += static_cast<uint64_t>(core::visible_keys(w.params, i, w.k.rows()));
  uint64_t survivors = 0;
  for (const tb::QueryResult& q : run.queries) survivors += q.count + q.filtered;
  return {{"key", {visible, keys}}, {"value", {survivors, keys}}, {"collect", {survivors, survivors}}};
}

std::string describe(const MemoryTraffic& t) {
  std::string s;
  for (const auto& [role, rw] : t) s += fmt::format("{}{} {}/{}", s.empty() ? "" : " ", role, rw.reads, rw.writes);
  return s;
}

}  // namespace accelgen::flows
