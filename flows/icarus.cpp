#include "flows/icarus.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "flows/subprocess.h"
#include "flows/templates.h"
#include "gen/plan.h"
#include "gen/template.h"

namespace accelgen::tb {

namespace fs = std::filesystem;

namespace {

constexpr const char* kTbModule = "icarus_tb";
constexpr const char* kTbFile = "icarus_tb.v";
constexpr const char* kVvpFile = "tb.vvp";

uint64_t low_bits(uint64_t v, int width) {
  return width >= 64 ? v : v & ((uint64_t{1} << width) - 1);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string range(int width) { return width == 1 ? "" : fmt::format("[{}:0] ", width - 1); }

// The parts separated by `sep`. Lines for a template hole that stands alone on its line are joined
// with "\n" (no final newline); a command line for the reproduce line with " ".
std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i == 0 ? "" : sep) + parts[i];
  return s;
}

// The testbench lines that count the signals `counted` (ReplayTop::counted), per template hole.
struct CounterLines {
  std::vector<std::string> decls, start, count, report;
};

CounterLines counter_lines(const std::vector<std::string>& counted) {
  CounterLines c;
  for (size_t i = 0; i < counted.size(); ++i) {
    // A hierarchical name below the DUT; iverilog rejects one that names nothing.
    const std::string signal = "dut." + counted[i];
    const std::string one = fmt::format("count_one_{}", i), unknown = fmt::format("count_unknown_{}", i);
    c.decls.push_back(fmt::format("  integer {}, {};  // {}", one, unknown, signal));
    c.start.push_back(fmt::format("    {} = 0;\n    {} = 0;", one, unknown));
    // Sampled with the inputs settled, just before the edge that sees these values.
    c.count.push_back(fmt::format("          if (reset_seen && {1} === 1'b1) {0} = {0} + 1;", one, signal));
    c.count.push_back(fmt::format("          if (reset_seen && {1} !== 1'b1 && {1} !== 1'b0) {0} = {0} + 1;",
                                  unknown, signal));
    c.report.push_back(fmt::format("    $display(\"COUNT {} %0d %0d\", {}, {});", counted[i], one, unknown));
  }
  return c;
}

}  // namespace

// ---------------------------------------------------------------- Bits

Bits::Bits(int width) : width_(width), words_(static_cast<size_t>((width + 63) / 64), 0) {
  if (width < 1) throw std::invalid_argument("Bits: width must be >= 1");
}

void Bits::put(int lsb, int width, uint64_t value) {
  if (lsb < 0 || width < 0 || width > 64 || lsb + width > width_) {
    throw std::out_of_range(fmt::format("Bits::put [{} +: {}] outside {} bits", lsb, width, width_));
  }
  value = low_bits(value, width);
  for (int done = 0; done < width;) {
    const int bit = lsb + done;
    const int n = std::min(width - done, 64 - bit % 64);
    const uint64_t mask = n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
    uint64_t& word = words_[static_cast<size_t>(bit / 64)];
    word = (word & ~(mask << (bit % 64))) | (((value >> done) & mask) << (bit % 64));
    done += n;
  }
}

std::string Bits::hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  const int digits = (width_ + 3) / 4;
  std::string s(static_cast<size_t>(digits), '0');
  for (int d = 0; d < digits; ++d) {
    const int bit = 4 * d;  // digit d (from the least significant end) holds bits [bit +: 4]
    const uint64_t nibble = (words_[static_cast<size_t>(bit / 64)] >> (bit % 64)) & 0xf;
    s[static_cast<size_t>(digits - 1 - d)] = kDigits[nibble];
  }
  return s;
}

// ---------------------------------------------------------------- testbench text

std::string replay_testbench(const ReplayTop& top) {
  std::vector<const ReplayPort*> inputs, outputs;
  for (const auto& p : top.ports) (p.input ? inputs : outputs).push_back(&p);
  for (size_t i = 0; i < top.ports.size(); ++i) {
    if (top.ports[i].input != (i < inputs.size())) {
      throw std::invalid_argument("replay_testbench: every input column must come before the outputs");
    }
  }
  bool has_reset = false;
  for (const auto* p : inputs) has_reset |= p->name == top.reset && p->width == 1;
  if (!has_reset) throw std::invalid_argument("replay_testbench: no 1-bit reset column " + top.reset);
  for (const auto* p : outputs) {
    if (p->qualifier.empty()) continue;
    bool found = false;
    for (const auto* q : outputs) found |= q->name == p->qualifier && q->width == 1 && q->qualifier.empty();
    if (!found) throw std::invalid_argument("replay_testbench: bad qualifier " + p->qualifier);
  }

  // The per-port lines of flows/icarus_tb.v.in's list holes, one entry per line.
  std::vector<std::string> input_regs, output_wires, input_vector_regs, output_vector_regs,
      port_connections, input_start_values, apply_inputs, output_checks;
  std::string columns, scan_format, scan_targets;
  for (const auto* p : inputs) {
    columns += " " + p->name;
    input_regs.push_back(fmt::format("  reg  {}{};", range(p->width), p->name));
    input_vector_regs.push_back(fmt::format("  reg  {}v_{};", range(p->width), p->name));
    input_start_values.push_back(
        fmt::format("    {} = {}'d{};", p->name, p->width, p->name == top.reset ? 1 : 0));
    apply_inputs.push_back(fmt::format("        {0} = v_{0};", p->name));
    scan_format += scan_format.empty() ? "%h" : " %h";
    scan_targets += ", v_" + p->name;
  }
  columns += " |";
  const std::string check(flows::template_text("icarus_tb_check"));
  for (const auto* p : outputs) {
    columns += " " + p->name;
    output_wires.push_back(fmt::format("  wire {}{};", range(p->width), p->name));
    output_vector_regs.push_back(fmt::format("  reg  {}e_{};", range(p->width), p->name));
    scan_format += " %h";
    scan_targets += ", e_" + p->name;
    const std::string condition =
        p->qualifier.empty() ? "" : fmt::format("e_{} === 1'b1 && ", p->qualifier);
    std::string lines = gen::fill(check, {{"port", p->name}, {"condition", condition}});
    if (!lines.empty() && lines.back() == '\n') lines.pop_back();
    output_checks.push_back(lines);
  }
  const CounterLines counters = counter_lines(top.counted);
  for (size_t i = 0; i < top.ports.size(); ++i) {
    port_connections.push_back(
        fmt::format("    .{0}({0}){1}", top.ports[i].name, i + 1 < top.ports.size() ? "," : ""));
  }
  return gen::fill(std::string(flows::template_text("icarus_tb")),
                   {{"dut_module", top.module},
                    {"tb_module", kTbModule},
                    {"clock", top.clock},
                    {"reset", top.reset},
                    {"columns", columns},
                    {"column_count", std::to_string(top.ports.size())},
                    {"input_regs", join(input_regs, "\n")},
                    {"output_wires", join(output_wires, "\n")},
                    {"input_vector_regs", join(input_vector_regs, "\n")},
                    {"output_vector_regs", join(output_vector_regs, "\n")},
                    {"port_connections", join(port_connections, "\n")},
                    {"input_start_values", join(input_start_values, "\n")},
                    {"scan_format", scan_format},
                    {"scan_targets", scan_targets},
                    {"apply_inputs", join(apply_inputs, "\n")},
                    {"output_checks", join(output_checks, "\n")},
                    {"counter_decls", join(counters.decls, "\n")},
                    {"counter_start", join(counters.start, "\n")},
                    {"count_edges", join(counters.count, "\n")},
                    {"counter_reports", join(counters.report, "\n")}});
}

// ---------------------------------------------------------------- compile and run

IcarusResult run_icarus_replay(const std::string& tb_text, const std::vector<gen::GeneratedFile>& rtl,
                               const fs::path& vector_file, int64_t cycles_expected,
                               const fs::path& work) {
  IcarusResult r;
  fs::create_directories(work);
  std::ofstream(work / kTbFile, std::ios::binary) << tb_text;
  std::vector<std::string> compile = {"iverilog", "-g2005", "-Wall", "-Wno-timescale",
                                      "-o", kVvpFile, "-s", kTbModule, kTbFile};
  for (const auto& f : rtl) {
    std::ofstream(work / f.name, std::ios::binary) << f.content;
    compile.push_back(f.name);
  }
  const std::vector<std::string> run = {"vvp", "-n", kVvpFile,
                                        "+vectors=" + fs::absolute(vector_file).string()};
  const std::string repro = fmt::format("reproduce: cd {} && {} && {} +vcd\n", work.string(),
                                        join(compile, " "), join(run, " "));

  const flows::ProcessResult c = flows::run_process(compile, work, work / "iverilog.log", 300);
  const std::string clog = read_text(work / "iverilog.log");
  if (!c.started || c.exit_code != 0 || !clog.empty()) {
    // Clean means exit 0 and nothing printed: the RTL passes `iverilog -g2005 -Wall`, so any
    // warning comes from the testbench and is a bug in it.
    r.log = fmt::format("iverilog failed (exit {}{}):\n{}{}", c.exit_code,
                        c.timed_out ? ", timed out" : "", clog, repro);
    return r;
  }

  const flows::ProcessResult v = flows::run_process(run, work, work / "vvp.log", 1800);
  const std::string vlog = read_text(work / "vvp.log");
  r.log = vlog;

  std::istringstream lines(vlog);
  bool summary = false;
  int64_t mismatches = -1;
  static const std::regex kMismatch(R"(^MISMATCH cycle (\d+) signal (\S+) expected (\S+) got (\S+)\s*$)");
  static const std::regex kSummary(R"(^icarus: (\d+) cycles checked, (\d+) mismatches\s*$)");
  static const std::regex kXState(R"(^XSTATE cycle (\d+) signal (\S+) got (\S+)\s*$)");
  // An RTL assertion (docs/verification.md "Assertions"): it prints $time in ns (the RTL's
  // `timescale 1ns / 1ps); the rising edge of cycle N is at 10 N + 9 ns.
  static const std::regex kAssertion(R"(^ASSERTION FAILED at time (\d+) in (\S+): (.*)$)");
  static const std::regex kCount(R"(^COUNT (\S+) (\d+) (\d+)\s*$)");
  for (std::string l; std::getline(lines, l);) {
    std::smatch m;
    if (!r.mismatch && std::regex_match(l, m, kMismatch)) {
      r.mismatch = Mismatch{std::stoll(m[1]), m[2], m[3], m[4]};
    } else if (!r.mismatch && std::regex_match(l, m, kXState)) {
      r.mismatch = Mismatch{std::stoll(m[1]), m[2], "no X or Z bit", m[3]};
    } else if (!r.mismatch && std::regex_match(l, m, kAssertion)) {
      r.mismatch = Mismatch{(std::stoll(m[1]) - 9) / 10, "assertion " + m[2].str(), "no failed assertion", m[3]};
    } else if (std::regex_match(l, m, kCount)) {
      r.counts[m[1]] = EdgeCount{std::stoll(m[2]), std::stoll(m[3])};
    } else if (std::regex_match(l, m, kSummary)) {
      summary = true;
      r.cycles_checked = std::stoll(m[1]);
      mismatches = std::stoll(m[2]);
    }
  }
  r.passed = v.started && v.exit_code == 0 && !v.timed_out && summary && mismatches == 0 &&
             !r.mismatch && r.cycles_checked == cycles_expected;
  if (!r.passed) {
    if (!v.started || v.exit_code != 0 || v.timed_out) {
      r.log += fmt::format("vvp exit {}{}\n", v.exit_code, v.timed_out ? " (timed out)" : "");
    }
    if (!summary) r.log += "no summary line from the testbench\n";
    if (summary && mismatches == 0 && r.cycles_checked != cycles_expected) {
      r.log += fmt::format("{} cycles checked, {} recorded\n", r.cycles_checked, cycles_expected);
    }
    r.log += repro;
  }
  return r;
}

std::vector<gen::GeneratedFile> rtl_sources(const gen::Outputs& o) {
  std::vector<gen::GeneratedFile> files;
  for (const std::string& name : o.rtl_files) {
    bool found = false;
    for (const auto& f : o.files) {
      if (f.name == name) {
        files.push_back(f);
        found = true;
      }
    }
    if (!found) throw std::logic_error("rtl_sources: RTL file " + name + " not in the outputs");
  }
  return files;
}

// ---------------------------------------------------------------- the attention unit

ReplayTop unit_top_replay(const core::AttentionConfig& cfg) {
  const gen::Outputs o = gen::generate(cfg);
  ReplayTop top{o.top, "clk_i", "rst_ni", {}};
  const std::vector<gen::Port> ports = gen::unit_top_ports(cfg);
  for (const bool input : {true, false}) {
    for (const gen::Port& p : ports) {
      if (p.input != input || p.name == top.clock) continue;
      const bool data = !p.input && p.name.rfind("o_", 0) == 0 && p.name != "o_valid_o";
      top.ports.push_back({p.name, p.width, p.input, data ? "o_valid_o" : ""});
    }
  }
  for (const MemoryInstance& m : unit_memory_instances(cfg)) {
    top.counted.push_back(m.path + ".re_i");
    top.counted.push_back(m.path + ".we_i");
  }
  return top;
}

std::vector<MemoryInstance> unit_memory_instances(const core::AttentionConfig& cfg) {
  std::vector<MemoryInstance> all;
  for (const gen::MemoryPlan& m : gen::plan_attention(cfg).design.memories) {
    // The instances of each role as the templates name them.
    std::vector<std::string> paths;
    if (m.role == "key") {
      // gen/rtl/key_store.v.in: one memory per bank in the generate loop gen_bank (also for one bank).
      for (int b = 0; b < core::key_banks(cfg); ++b) {
        paths.push_back(fmt::format("u_score.u_key_store.gen_bank[{}].u_mem", b));
      }
    } else if (m.role == "value") {
      paths = {"u_value_store.u_mem"};
    } else if (m.role == "collect") {
      paths = {"u_softmax_v.u_cb0", "u_softmax_v.u_cb1"};
    }
    if (static_cast<int>(paths.size()) != m.instances) {
      throw std::logic_error(fmt::format("unit_memory_instances: {} instances of {} in the plan, {} known here",
                                         m.instances, m.module, paths.size()));
    }
    for (const std::string& p : paths) all.push_back({m.role, p});
  }
  return all;
}

flows::MemoryTraffic rtl_memory_traffic(const core::AttentionConfig& cfg, const IcarusResult& replay) {
  auto edges = [&](const std::string& signal) -> uint64_t {
    const auto it = replay.counts.find(signal);
    if (it == replay.counts.end()) throw std::runtime_error("rtl_memory_traffic: no count of " + signal);
    if (it->second.unknown != 0) {
      throw std::runtime_error(fmt::format("rtl_memory_traffic: {} was X or Z at {} edges after reset", signal,
                                           it->second.unknown));
    }
    return static_cast<uint64_t>(it->second.ones);
  };
  flows::MemoryTraffic traffic;
  for (const MemoryInstance& m : unit_memory_instances(cfg)) {
    flows::RoleTraffic& t = traffic[m.role];
    t.reads += edges(m.path + ".re_i");
    t.writes += edges(m.path + ".we_i");
  }
  return traffic;
}

std::string unit_vector_line(const core::AttentionConfig& cfg, const ReplayTop& top,
                             const golden::AttnInputs& in, const golden::UnitOutputs& e) {
  const int ow = core::widths(cfg).ow;
  std::string s;
  for (const ReplayPort& p : top.ports) {
    Bits b(p.width);
    auto scalar = [&](uint64_t v) { b.put(0, p.width, v); };
    auto row = [&](const std::vector<int64_t>& v, int w) {
      for (size_t t = 0; t < v.size() && static_cast<int>(t + 1) * w <= p.width; ++t) {
        b.put(static_cast<int>(t) * w, w, static_cast<uint64_t>(v[t]));
      }
    };
    const std::string& n = p.name;
    if (n == "rst_ni") scalar(in.rst_n);
    else if (n == "cfg_we_i") scalar(in.cfg_we);
    else if (n == "cfg_addr_i") scalar(in.cfg_addr);
    else if (n == "cfg_wdata_i") scalar(in.cfg_wdata);
    else if (n == "k_valid_i") scalar(in.k_valid);
    else if (n == "k_data_i") row(in.k_data, cfg.wk);
    else if (n == "k_vdata_i") row(in.k_vdata, cfg.wv);
    else if (n == "k_last_i") scalar(in.k_last);
    else if (n == "q_valid_i") scalar(in.q_valid);
    else if (n == "q_data_i") row(in.q_data, cfg.wq);
    else if (n == "q_slot_i") scalar(in.q_slot);
    else if (n == "q_keys_i") scalar(in.q_keys);
    else if (n == "o_ready_i") scalar(in.o_ready);
    else if (n == "cfg_rdata_o") scalar(e.cfg_rdata);
    else if (n == "k_ready_o") scalar(e.k_ready);
    else if (n == "q_ready_o") scalar(e.q_ready);
    else if (n == "o_valid_o") scalar(e.o_valid);
    else if (n == "o_data_o") row(e.o_data, ow);
    else if (n == "o_empty_o") scalar(e.o_empty);
    else if (n == "o_count_o") scalar(e.o_count);
    else if (n == "o_steps_o") scalar(e.o_steps);
    else if (n == "o_cycles_o") scalar(e.o_cycles);
    else if (n == "o_bcycles_o") scalar(e.o_bcycles);
    else if (n == "o_filtered_o") scalar(e.o_filtered);
    else throw std::logic_error("unit_vector_line: no value for port " + n);
    if (!s.empty()) s += ' ';
    s += b.hex();
  }
  return s;
}

RecordedVectors record_unit_vectors(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                                     const StimulusOptions& stim, const fs::path& path) {
  const ReplayTop top = unit_top_replay(cfg);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  RecordedVectors rec;
  rec.model = run_attention(cfg, w, stim, nullptr, -1,
                            [&](int64_t, const golden::AttnInputs& in, const golden::UnitOutputs& e) {
                              out << unit_vector_line(cfg, top, in, e) << '\n';
                              ++rec.cycles;
                            });
  out.close();
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return rec;
}

IcarusResult icarus_crosscheck(const gen::Outputs& rtl, const core::AttentionConfig& cfg,
                               const core::AttentionWorkload& w, const StimulusOptions& stim,
                               const fs::path& work) {
  fs::remove_all(work);
  fs::create_directories(work);
  const fs::path vectors = work / "vectors.txt";
  const RecordedVectors rec = record_unit_vectors(cfg, w, stim, vectors);
  const std::string what = fmt::format(
      "icarus cross-check of {} (seed {}, valid-prob {}, ready-prob {}, reset-at {}): {} cycles "
      "recorded in {}\n",
      rtl.top, stim.seed, stim.valid_prob, stim.ready_prob, stim.reset_at, rec.cycles,
      vectors.string());
  if (!rec.model.ok()) {
    IcarusResult r;
    r.log = what + "the golden model's run itself failed: " +
            (rec.model.timed_out ? std::string("timed out") : rec.model.functional_error) + "\n";
    return r;
  }
  const std::vector<gen::GeneratedFile> files = rtl_sources(rtl);
  ReplayTop top = unit_top_replay(cfg);
  top.module = rtl.top;
  IcarusResult r = run_icarus_replay(replay_testbench(top), files, vectors, rec.cycles, work);
  r.log = what + r.log;
  return r;
}

IcarusResult icarus_crosscheck(const core::AttentionConfig& cfg, const core::AttentionWorkload& w,
                               const StimulusOptions& stim, const fs::path& work) {
  return icarus_crosscheck(gen::generate(cfg), cfg, w, stim, work);
}

}  // namespace accelgen::tb
