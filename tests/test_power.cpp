// The energy estimate (issue 11, docs/energy.md): OpenSTA's report_power parsed from recorded
// output, run on a hand-written netlist whose numbers follow from the liberty by hand, the input
// activity measured from per-cycle pin values, and the `energy` object of `accelgen eval --energy`.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
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
  EXPECT_EQ(flows::macro_access_energy_pj(flows::AreaResult{}), 0.0);  // the macro-mode hook, unused today
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
  core::AttentionConfig c;  // the smallest unit: one lane, one key, 1-element rows
  c.name = "pe";
  c.d = c.dv = 1;
  c.wq = c.wk = c.wv = 2;
  c.lanes = c.max_keys = c.threshold_slots = 1;
  c.alpha_mant_bits = 13;
  const fs::path cfg = dir.path() / "pe.json";
  std::ofstream(cfg) << core::to_json(c).dump();
  core::write_workload(core::make_workload(c, "gaussian", 4, 1, 5), (dir.path() / "wl").string());
  cli::EvalOptions o;
  o.config = cfg.string();
  o.workload = (dir.path() / "wl").string();
  o.area_cache = (dir.path() / "cache").string();
  o.energy = true;
  const nlohmann::json rec = cli::evaluate(o);
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
  EXPECT_TRUE(u["memory_access_pj"].is_null());
  EXPECT_GT(u["input_activity"]["pins"].get<int>(), 0);
}
