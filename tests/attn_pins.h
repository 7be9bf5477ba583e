// Pin-level stimulus helpers shared by the cycle-model tests (score engine and unit): one
// golden::AttnInputs per cycle, every input not named idle. `ready` drives both the score
// engine's s_ready_i and the unit's o_ready_i (each model reads only its own).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "golden/cycle_model.h"

namespace accelgen::test_support::pins {

inline golden::AttnInputs idle(bool ready = true) {
  golden::AttnInputs in;
  in.s_ready = ready;
  in.o_ready = ready;
  return in;
}
inline golden::AttnInputs reset_in() {
  golden::AttnInputs in = idle();
  in.rst_n = false;
  return in;
}
inline golden::AttnInputs with_cfg_write(golden::AttnInputs in, uint32_t addr, uint64_t data) {
  in.cfg_we = true;
  in.cfg_addr = addr;
  in.cfg_wdata = data;
  return in;
}
inline golden::AttnInputs cfg_write(uint32_t addr, uint64_t data) { return with_cfg_write(idle(), addr, data); }
// A key beat; `v` is the V row (unit only, may be empty for the score engine alone).
inline golden::AttnInputs key(std::vector<int64_t> k, std::vector<int64_t> v, bool last) {
  golden::AttnInputs in = idle();
  in.k_valid = true;
  in.k_data = std::move(k);
  in.k_vdata = std::move(v);
  in.k_last = last;
  return in;
}
inline golden::AttnInputs key(std::vector<int64_t> k, bool last) { return key(std::move(k), {}, last); }
inline golden::AttnInputs query(std::vector<int64_t> q, uint32_t slot = 0) {
  golden::AttnInputs in = idle();
  in.q_valid = true;
  in.q_data = std::move(q);
  in.q_slot = slot;
  return in;
}
// `base` followed by `n` idle cycles (ready = 1).
inline std::vector<golden::AttnInputs> then_idle(std::vector<golden::AttnInputs> base, int n) {
  base.insert(base.end(), static_cast<size_t>(n), idle());
  return base;
}

}  // namespace accelgen::test_support::pins
