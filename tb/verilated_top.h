// accelgen::tb — one Verilated top with its context, optional FST waveform and the two-phase clock
// every harness uses (inputs applied and settled with clk_i low, then the rising edge). Shared by
// the attention unit's and the N:M array's Dut adapters (tb/verilator_dut.h, tb/nm_verilator_dut.h).
// May include: Verilator's runtime.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tb/xstate_args.h"
#include "verilated.h"
#include "verilated_fst_c.h"

namespace accelgen::tb {

template <class Top>
class VerilatedTop {
 public:
  // Random power-up state and random X resolution, reproducible from the run's seed, unless the
  // command line chose otherwise (+verilator+rand+reset+N, +verilator+seed+N: tb/xstate_args.h).
  // `idle_inputs` drives every valid/ready input to 0 before the first evaluation; clk_i starts low
  // and rst_ni released, so that the testbench's first reset cycle is a real falling edge of rst_ni.
  // A simulation-only check of the RTL that fails calls $stop: not fatal here, assertion_failed()
  // tells the lock-step loop, which reports it like a mismatch (cycle, waveform, reproduce line).
  template <class InitInputs>
  VerilatedTop(uint64_t seed, const std::string& fst_path, InitInputs idle_inputs)
      : ctx_(std::make_unique<VerilatedContext>()) {
    const XStateArgs& x = xstate_args();
    ctx_->randReset(x.rand_reset);
    ctx_->randSeed(x.seed ? static_cast<int>(*x.seed) : static_cast<int>(seed & 0x7fffffff));
    ctx_->fatalOnError(false);
    ctx_->traceEverOn(!fst_path.empty());
    top_ = std::make_unique<Top>(ctx_.get());
    if (!fst_path.empty()) {
      fst_ = std::make_unique<VerilatedFstC>();
      top_->trace(fst_.get(), 99);
      fst_->open(fst_path.c_str());
    }
    top_->clk_i = 0;
    top_->rst_ni = 1;
    idle_inputs(*top_);
    top_->eval();
  }
  ~VerilatedTop() {
    if (fst_) fst_->close();
    top_->final();
  }
  VerilatedTop(const VerilatedTop&) = delete;
  VerilatedTop& operator=(const VerilatedTop&) = delete;

  Top& top() { return *top_; }

  // An RTL assertion ($stop in a `ifndef SYNTHESIS block) has fired since construction.
  bool assertion_failed() const { return ctx_->gotError() || ctx_->gotFinish(); }

  // The low phase of this cycle: the caller has set the inputs; settle and dump (time 2 * cycle).
  // $time in the RTL (unit 1 ns, precision 1 ps) is the dump time: an assertion at the edge of
  // cycle c prints 2c + 1.
  void settle_low() {
    ctx_->time(kPsPerNs * 2 * cycle_);
    top_->clk_i = 0;
    top_->eval();
    dump(2 * cycle_);
  }
  // The rising edge at the end of the cycle (time 2 * cycle + 1), then the next cycle.
  void rising_edge() {
    ctx_->time(kPsPerNs * (2 * cycle_ + 1));
    top_->clk_i = 1;
    top_->eval();
    dump(2 * cycle_ + 1);
    ++cycle_;
  }

 private:
  static constexpr uint64_t kPsPerNs = 1000;  // Verilator's time counts the RTL's precision (ps)

  void dump(uint64_t time) {
    if (fst_) fst_->dump(time);
  }

  std::unique_ptr<VerilatedContext> ctx_;
  std::unique_ptr<Top> top_;
  std::unique_ptr<VerilatedFstC> fst_;
  uint64_t cycle_ = 0;
};

}  // namespace accelgen::tb
