// The energy estimate (issue 11, docs/energy.md): OpenSTA's report_power parsed from recorded
// output, run on a hand-written netlist whose numbers follow from the liberty by hand, the input
// activity measured from per-cycle pin values, and the `energy` object of `accelgen eval --energy`.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "cli/eval.h"
#include "core/config.h"
#include "core/workload.h"
#include "flows/activity.h"
#include "flows/area.h"
#include "flows/power.h"
#include "tests/test_support.h"

namespace fs = std::filesystem;
using namespace accelgen;
using accelgen::test_support::TempDir;

namespace {

const fs::path kSrc = ACCELGEN_SOURCE_DIR;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << p;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The hand-written netlist tests/data/opensta/power_tiny.v: a_i -> INVX1 -> DFFPOSX1 -> INVX1 -> y_o.
flows::PowerResult tiny_power(double activity, const std::string& pin = "a_i") {
  flows::AreaResult a;
  a.top = "tiny";
  a.liberty_path = flows::default_liberty_path().string();
  a.sdc_path = flows::default_sdc_path().string();
  flows::InputActivity act;
  act.pins.push_back({pin, activity, 0.5});
  return flows::estimate_power(kSrc / "tests/data/opensta/power_tiny.v", a, act, flows::PowerOptions{});
}

// `accelgen eval --energy` of the smallest unit (one lane, one key, 1-element rows) on 4 gaussian
// queries, with its memories in `memory` mode; everything in `dir`.
nlohmann::json tiny_unit_energy_record(const TempDir& dir, const std::string& memory) {
  core::AttentionConfig c;
  c.name = memory == "macro" ? "pm" : "pe";
  c.d = c.dv = 1;
  c.wq = c.wk = c.wv = 2;
  c.lanes = c.max_keys = c.threshold_slots = 1;
  c.alpha_mant_bits = 13;
  c.memory = memory;
  const fs::path cfg = dir.path() / "unit.json";
  std::ofstream(cfg) << core::to_json(c).dump();
  core::write_workload(core::make_workload(c, "gaussian", 4, 1, 5), (dir.path() / "wl").string());
  cli::EvalOptions o;
  o.config = cfg.string();
  o.workload = (dir.path() / "wl").string();
  o.area_cache = (dir.path() / "cache").string();
  o.energy = true;
  return cli::evaluate(o);
}

}  // namespace

// Numbers read off tests/data/opensta/power_report_small.txt by hand.
TEST(Power, ParsesRecordedReport) {
  const flows::PowerReport p = flows::parse_power_report(read(kSrc / "tests/data/opensta/power_report_small.txt"));
  EXPECT_DOUBLE_EQ(p.internal_w, 4.387019e-02);
  EXPECT_DOUBLE_EQ(p.switching_w, 1.803523e-04);
  EXPECT_DOUBLE_EQ(p.leakage_w, 1.480197e-06);
  EXPECT_DOUBLE_EQ(p.total_w, 4.405202e-02);
  EXPECT_DOUBLE_EQ(p.sequential_w, 4.378751e-02);
  EXPECT_DOUBLE_EQ(p.combinational_w, 2.645727e-04);
  EXPECT_DOUBLE_EQ(p.macro_w, 0.0);
  EXPECT_THROW(flows::parse_power_report("Sequential 1 2 3 4 50%\nTotal 1 2 3 4 100%\n"), std::runtime_error);
  EXPECT_THROW(flows::parse_power_report(""), std::runtime_error);
}

// Energy per cycle: (internal + switching) x T_sdc + leakage x T_run, W x ns = nJ, by hand.
TEST(Power, EnergyPerCycleByHand) {
  flows::PowerReport p;
  p.internal_w = 1e-3;
  p.switching_w = 2e-3;
  p.leakage_w = 1e-6;
  // 3 mW x 10 ns = 30 pJ; 1 uW x 20 ns = 0.02 pJ.
  EXPECT_NEAR(flows::energy_per_cycle_pj(p, 10.0, 20.0), 30.02, 1e-9);
}

// Memory macros' energy by hand: 2 instances, reads 10 x 2 pJ + writes 4 x 3 pJ + 100 cycles x
// 2 instances x 1.5 pJ = 20 + 12 + 300 = 332 pJ.
TEST(Power, MacroMemoryEnergyByHand) {
  flows::AreaResult a;
  a.memory_mode = "macro";
  flows::MemoryArea m;
  m.module = "u_mem_key";
  m.role = "key";
  m.instances = 2;
  m.read_pj = 2;
  m.write_pj = 3;
  m.idle_pj_per_cycle = 1.5;
  a.memories.push_back(m);
  const flows::MemoryEnergy e = flows::macro_memory_energy(a, {{"key", {10, 4}}}, 100);
  ASSERT_TRUE(e.available) << e.note;
  EXPECT_DOUBLE_EQ(e.total_pj, 332);
  ASSERT_EQ(e.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(e.rows[0].access_pj, 32);
  EXPECT_DOUBLE_EQ(e.rows[0].idle_pj, 300);
  // No count for the role, no energy data, or flops mode: not available, with the reason.
  EXPECT_FALSE(flows::macro_memory_energy(a, {{"value", {1, 1}}}, 100).available);
  a.memories[0].read_pj = -1;
  const flows::MemoryEnergy unknown = flows::macro_memory_energy(a, {{"key", {10, 4}}}, 100);
  EXPECT_FALSE(unknown.available);
  EXPECT_NE(unknown.note.find("u_mem_key"), std::string::npos) << unknown.note;
  a.memory_mode = "flops";
  EXPECT_FALSE(flows::macro_memory_energy(a, {{"key", {10, 4}}}, 100).available);
}

// Memory accesses of a causal 3-query, 4-key workload (offset 0: 1, 2 and 3 visible keys) with the
// per-query survivors of a run given by hand: kept 1, 2, 1 and filtered 0, 0, 1 -> 5 survivors.
TEST(Power, AttentionMemoryTrafficByHand) {
  core::AttentionWorkload w;
  w.q = core::IntMatrix::Zero(3, 2);
  w.k = core::IntMatrix::Zero(4, 2);
  w.v = core::IntMatrix::Zero(4, 2);
  w.params.causal = true;
  w.params.causal_offset = 0;
  tb::RunResult run;
  run.queries.resize(3);
  run.queries[0].count = 1;
  run.queries[1].count = 2;
  run.queries[2].count = 1;
  run.queries[2].filtered = 1;
  const flows::MemoryTraffic t = flows::attention_memory_traffic(w, run);
  EXPECT_EQ(t.at("key").reads, 6u);  // 1 + 2 + 3 visible pairs
  EXPECT_EQ(t.at("key").writes, 4u);
  EXPECT_EQ(t.at("value").reads, 5u);
  EXPECT_EQ(t.at("value").writes, 4u);
  EXPECT_EQ(t.at("collect").reads, 5u);
  EXPECT_EQ(t.at("collect").writes, 5u);
  w.params.causal = false;  // every key visible to every query
  EXPECT_EQ(flows::attention_memory_traffic(w, run).at("key").reads, 12u);
}

// OpenSTA on the tiny netlist, every figure from the OSU018 liberty by hand (1.8 V, 10 ns clock):
// - leakage: 2 x INVX1 0.0221741 nW + DFFPOSX1 0.160725 nW = 0.2050732 nW, whatever the activity;
// - switching = 1/2 C V^2 x toggles per second on each driven net: n1 (INVX1 -> DFF D, 0.00882947 pF)
//   and q (DFF Q -> INVX1 A, 0.00932456 pF; the register passes the toggle rate on); y_o has no
//   load. At 0.2 toggles/cycle: 0.5 x 0.01815403e-12 x 1.8^2 x 0.2 x 1e8 = 5.881906e-7 W;
// - with a_i still, only the clock toggles: no switching, no combinational internal power;
// - dynamic power is linear in the input's toggle rate.
TEST(Power, HandCheckedTinyNetlist) {
  const flows::PowerResult still = tiny_power(0.0), p2 = tiny_power(0.2), p4 = tiny_power(0.4);
  ASSERT_TRUE(still.available) << still.note;
  ASSERT_TRUE(p2.available) << p2.note;
  ASSERT_TRUE(p4.available) << p4.note;
  EXPECT_DOUBLE_EQ(p2.clock_period_ns, 10.0);
  for (const auto* p : {&still, &p2, &p4}) EXPECT_NEAR(p->report.leakage_w, 2.050732e-10, 1e-16);
  EXPECT_NEAR(p2.report.switching_w, 0.5 * 0.01815403e-12 * 1.8 * 1.8 * 0.2 * 1e8, 1e-3 * 5.88e-7);
  EXPECT_EQ(still.report.switching_w, 0.0);
  EXPECT_GT(still.report.sequential_w, 0.0);  // the flop's clock pin
  EXPECT_NEAR(still.report.combinational_w, still.report.leakage_w - 1.60725e-10, 1e-16);  // the inverters' leakage
  auto dynamic = [](const flows::PowerResult& p) { return p.report.internal_w + p.report.switching_w; };
  EXPECT_GT(dynamic(p2), dynamic(still));
  EXPECT_NEAR(dynamic(p4) - dynamic(still), 2 * (dynamic(p2) - dynamic(still)), 1e-6 * dynamic(p4));

  // An activity for a port the netlist does not have is an error, not a silent zero.
  const flows::PowerResult bad = tiny_power(0.2, "no_such_port");
  EXPECT_FALSE(bad.available);
  EXPECT_NE(bad.note.find("no_such_port"), std::string::npos) << bad.note;
  // No netlist: unavailable with a reason.
  flows::AreaResult a;
  EXPECT_FALSE(flows::estimate_power("", a, {}, {}).available);
}

// Toggle rates and duties from per-cycle values, by hand: a = 0,1,1,0 (2 toggles in 4 cycles, 1
// half the time); b (3 bits) = 0,5,7,7: bit0 0,1,1,1; bit1 0,0,1,1; bit2 0,1,1,1.
TEST(Activity, FromVectorsByHand) {
  const flows::InputActivity a =
      flows::activity_from_vectors({"a", "b"}, {1, 3}, {{"0", "0"}, {"1", "5"}, {"1", "7"}, {"0", "7"}});
  ASSERT_EQ(a.pins.size(), 4u);
  EXPECT_EQ(a.cycles, 4);
  EXPECT_EQ(a.pins[0].pin, "a");
  EXPECT_DOUBLE_EQ(a.pins[0].activity, 0.5);
  EXPECT_DOUBLE_EQ(a.pins[0].duty, 0.5);
  EXPECT_EQ(a.pins[1].pin, "b[0]");
  EXPECT_DOUBLE_EQ(a.pins[1].activity, 0.25);
  EXPECT_DOUBLE_EQ(a.pins[1].duty, 0.75);
  EXPECT_EQ(a.pins[2].pin, "b[1]");
  EXPECT_DOUBLE_EQ(a.pins[2].activity, 0.25);
  EXPECT_DOUBLE_EQ(a.pins[2].duty, 0.5);
  EXPECT_EQ(a.pins[3].pin, "b[2]");
  EXPECT_DOUBLE_EQ(a.pins[3].duty, 0.75);
  EXPECT_DOUBLE_EQ(a.mean_activity, (0.5 + 0.25 * 3) / 4);
  EXPECT_THROW(flows::activity_from_vectors({"a"}, {1}, {{"g"}}), std::runtime_error);
}

// On the unit: one row per input bit (the clock excluded), reset released once, and key data held
// between key beats: a key bit can change at most once per key beat (the testbench's garbage on idle
// cycles would change it on almost every cycle).
TEST(Activity, UnitInputsHoldDataBetweenBeats) {
  core::AttentionConfig c;
  c.name = "pa";
  c.d = c.dv = 2;
  c.wq = c.wk = c.wv = 4;
  c.lanes = 2;
  c.max_keys = 8;
  const int lk = 8, lq = 4;
  const core::AttentionWorkload w = core::make_workload(c, "gaussian", lq, lk, 3);
  const flows::InputActivity a = flows::measure_unit_input_activity(c, w);
  ASSERT_GT(a.cycles, lk + lq);
  int k_bits = 0;
  bool have_reset = false;
  for (const auto& p : a.pins) {
    EXPECT_GE(p.activity, 0.0) << p.pin;
    EXPECT_LE(p.activity, 1.0) << p.pin;
    EXPECT_NE(p.pin, "clk_i");
    if (p.pin == "rst_ni") {
      have_reset = true;
      EXPECT_NEAR(p.activity * static_cast<double>(a.cycles), 1.0, 1e-9);  // low at the start, then high
    }
    if (p.pin.rfind("k_data_i[", 0) == 0) {
      ++k_bits;
      EXPECT_LE(p.activity * static_cast<double>(a.cycles), lk + 1e-9) << p.pin;
    }
  }
  EXPECT_TRUE(have_reset);
  EXPECT_EQ(k_bits, c.d * c.wk);
}

// `accelgen eval --energy` on a tiny unit: the unit and its dense baseline, their ratio, and the
// record's own figures tied together by the formula of docs/energy.md. Two small syntheses with
// OpenSTA (measured 350 s at load average 13-19 on the 2 cores; not measured idle).
TEST(EvalEnergy, RecordFields) {
  TempDir dir;
  const nlohmann::json rec = tiny_unit_energy_record(dir, "flops");
  ASSERT_TRUE(rec["feasible"].get<bool>()) << rec.dump(2);
  ASSERT_TRUE(rec.contains("energy")) << rec.dump(2);
  const auto& e = rec["energy"];
  ASSERT_TRUE(e["unit"]["available"].get<bool>()) << e.dump(2);
  ASSERT_TRUE(e["dense"]["available"].get<bool>()) << e.dump(2);
  const auto& u = e["unit"];
  EXPECT_EQ(u["cycles"], rec["cycles"]["total"]);
  EXPECT_EQ(u["queries"].get<int>(), 4);
  EXPECT_DOUBLE_EQ(u["fmax_mhz"].get<double>(), rec["fmax_mhz"].get<double>());
  const auto& pw = u["power_w_at_sdc_clock"];
  const double expect = u["cycles"].get<double>() *
                        ((pw["internal"].get<double>() + pw["switching"].get<double>()) * u["sdc_period_ns"].get<double>() +
                         pw["leakage"].get<double>() * 1000.0 / u["fmax_mhz"].get<double>()) *
                        1000.0 / 4.0;
  EXPECT_NEAR(u["pj_per_query"].get<double>(), expect, 1e-9 * expect);
  EXPECT_GT(u["pj_per_query"].get<double>(), 0.0);
  EXPECT_NEAR(e["ratio"].get<double>(), u["pj_per_query"].get<double>() / e["dense"]["pj_per_query"].get<double>(), 1e-12);
  EXPECT_TRUE(u["memory"].is_null());  // flops mode: the memories are in the netlist
  EXPECT_DOUBLE_EQ(u["netlist_pj_per_query"].get<double>(), u["pj_per_query"].get<double>());
  EXPECT_GT(u["input_activity"]["pins"].get<int>(), 0);
}

// The same tiny unit in "memory": "macro" mode: report_power sees only the logic, and each memory's
// energy follows from the SRAM model (docs/memory.md "Energy": read 0.144773, write 0.108832, idle
// 0.180119 pJ per bit of width, by hand from the published macro) and its accesses on the workload:
// 4 queries x 1 visible key. Two small syntheses without memories (black boxes).
TEST(EvalEnergy, MacroModeAddsEachMemorysAccessesAndCycles) {
  TempDir dir;
  const nlohmann::json rec = tiny_unit_energy_record(dir, "macro");
  ASSERT_TRUE(rec["feasible"].get<bool>()) << rec.dump(2);
  const auto& u = rec["energy"]["unit"];
  ASSERT_TRUE(u["available"].get<bool>()) << u.dump(2);
  const auto& mem = u["memory"];
  ASSERT_TRUE(mem["available"].get<bool>()) << mem.dump(2);
  const double cycles = u["cycles"].get<double>();
  const uint64_t kept = rec["attention"]["kept"].get<uint64_t>();  // absolute thresholds: nothing filtered
  // role -> (reads, writes, word width in bits, instances)
  struct Expect {
    uint64_t reads, writes;
    int width, instances;
  };
  const std::map<std::string, Expect> expect = {
      {"key", {4, 1, 2, 1}},               // d x wk = 2 bits, one bank
      {"value", {kept, 1, 2, 1}},          // dv x wv = 2 bits
      {"collect", {kept, kept, 0, 2}}};    // width from the manifest below
  double total = 0;
  ASSERT_EQ(mem["memories"].size(), 3u) << mem.dump(2);
  for (const auto& r : mem["memories"]) {
    const std::string role = r["role"].get<std::string>();
    ASSERT_TRUE(expect.count(role)) << role;
    const Expect& x = expect.at(role);
    EXPECT_EQ(r["reads"].get<uint64_t>(), x.reads) << role;
    EXPECT_EQ(r["writes"].get<uint64_t>(), x.writes) << role;
    EXPECT_EQ(r["instances"].get<int>(), x.instances) << role;
    double width = x.width;
    if (role == "collect") {  // the collect entry's width is the generator's business: take the area record's
      for (const auto& m : rec["area"]["memory"]["memories"])
        if (m["role"] == "collect") width = m["width"].get<double>();
    }
    EXPECT_NEAR(r["read_pj"].get<double>(), 0.144773 * width, 1e-4) << role;
    EXPECT_NEAR(r["write_pj"].get<double>(), 0.108832 * width, 1e-4) << role;
    EXPECT_NEAR(r["idle_pj_per_cycle"].get<double>(), 0.180119 * width, 1e-4) << role;
    total += x.reads * 0.144773 * width + x.writes * 0.108832 * width + cycles * x.instances * 0.180119 * width;
  }
  EXPECT_NEAR(mem["pj_per_query"].get<double>(), total / 4, 1e-3 * total);
  EXPECT_NEAR(u["pj_per_query"].get<double>(), u["netlist_pj_per_query"].get<double>() + total / 4, 1e-3 * total);
  EXPECT_TRUE(rec["energy"]["dense"]["available"].get<bool>()) << rec["energy"]["dense"].dump(2);
}
