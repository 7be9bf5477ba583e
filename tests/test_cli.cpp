// Tests of the accelgen command-line tool as a user runs it: the built binary in a child process.
//
// Checked: exit statuses (0 ok, 1 run failure, 2 bad input), one-line error messages naming the
// field or file, no partial outputs, deterministic generation, and the model report. Expected
// values come from docs/microarchitecture.md worked out by hand (port list and widths of the
// default config) or are recomputed here from the workload files (kept scores from q * k^T).
// `sim` and `lint` are not run here: they need Verilator and minutes (tests/test_regression.cpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/nm_compress.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "flows/subprocess.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

using accelgen::test_support::has;
using accelgen::test_support::read_bytes;
using accelgen::test_support::write_text;

using accelgen::test_support::error_of;
using TempDir = accelgen::test_support::TempDir;

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kBin = ACCELGEN_BIN;
const fs::path kSource = ACCELGEN_SOURCE_DIR;
const std::string kDefaultConfig = (kSource / "configs" / "default.json").string();




std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  return lines;
}


struct CliRun {
  int status;
  std::string output;  // stdout and stderr together
};

// Runs `accelgen args...`; output is captured in a log file outside every directory under test.
CliRun accelgen(const std::vector<std::string>& args) {
  static int counter = 0;
  const fs::path log = fs::temp_directory_path() / ("accelgen-test-cli-log-" +
                                                    std::to_string(::getpid()) + "-" +
                                                    std::to_string(counter++) + ".txt");
  std::vector<std::string> argv = {kBin};
  argv.insert(argv.end(), args.begin(), args.end());
  const flows::ProcessResult r = flows::run_process(argv, "", log, 120);
  EXPECT_TRUE(r.started) << "could not run " << kBin;
  EXPECT_FALSE(r.timed_out) << "accelgen timed out";
  CliRun out{r.exit_code, read_bytes(log)};
  std::error_code ec;
  fs::remove(log, ec);
  return out;
}

std::string describe(const CliRun& r) {
  return "exit status " + std::to_string(r.status) + ", output:\n" + r.output;
}

// An input error: status 2 and exactly one line of output, which contains every `parts`.
void expect_input_error(const CliRun& r, const std::vector<std::string>& parts) {
  EXPECT_EQ(r.status, 2) << describe(r);
  const std::vector<std::string> lines = lines_of(r.output);
  EXPECT_EQ(lines.size(), 1u) << "expected a one-line message: " << describe(r);
  for (const std::string& p : parts) EXPECT_TRUE(has(r.output, p)) << p << " not in: " << r.output;
}

fs::path write_config(const fs::path& dir, const std::string& name, const json& j) {
  const fs::path p = dir / name;
  write_text(p, j.dump(2));
  return p;
}

// ----------------------------------------------------------------------------------- basics

TEST(CliBasics, VersionPrintsTheProjectVersion) {
  const CliRun r = accelgen({"--version"});
  EXPECT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(has(r.output, "0.1.0")) << r.output;
}

TEST(CliBasics, HelpExitsZero) {
  const CliRun r = accelgen({"--help"});
  EXPECT_EQ(r.status, 0) << describe(r);
  for (const char* sub : {"generate", "workload", "sim", "model", "lint"})
    EXPECT_TRUE(has(r.output, sub)) << sub << " missing from --help: " << r.output;
}

TEST(CliBasics, NoSubcommandIsBadInput) {
  EXPECT_EQ(accelgen({}).status, 2);
}

TEST(CliBasics, UnknownSubcommandIsBadInput) {
  EXPECT_EQ(accelgen({"synthesize", "--config", kDefaultConfig}).status, 2);
}

TEST(CliBasics, MissingRequiredOptionIsBadInput) {
  TempDir t;
  {
    const CliRun r = accelgen({"generate", "--config", kDefaultConfig});
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_TRUE(has(r.output, "--out")) << r.output;
  }
  {
    const CliRun r = accelgen({"generate", "--out", (t.path() / "rtl").string()});
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_TRUE(has(r.output, "--config")) << r.output;
    EXPECT_FALSE(fs::exists(t.path() / "rtl"));
  }
  {
    const CliRun r = accelgen({"model", "--config", kDefaultConfig});
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_TRUE(has(r.output, "--workload")) << r.output;
  }
  {
    const CliRun r = accelgen({"workload", "--config", kDefaultConfig});
    EXPECT_EQ(r.status, 2) << describe(r);
    EXPECT_TRUE(has(r.output, "--out")) << r.output;
  }
}

TEST(CliBasics, UnknownOptionIsBadInput) {
  TempDir t;
  const CliRun r = accelgen({"generate", "--config", kDefaultConfig, "--out",
                          (t.path() / "rtl").string(), "--fast"});
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_FALSE(fs::exists(t.path() / "rtl"));
}

TEST(CliBasics, NonNumericOptionValueIsBadInput) {
  TempDir t;
  const CliRun r = accelgen({"workload", "--config", kDefaultConfig, "--lq", "many", "--out",
                          (t.path() / "w").string()});
  EXPECT_EQ(r.status, 2) << describe(r);
  EXPECT_TRUE(has(r.output, "--lq")) << r.output;
  EXPECT_FALSE(fs::exists(t.path() / "w"));
}

// --------------------------------------------------------------------------------- generate

// Ports of the unit top <name>_attn_top for the default config (d=dv=16, wq=wk=wv=8, max_keys=64,
// threshold_slots=4, alpha_mant_bits 16, out_frac_bits 2), from the port tables of docs/microarchitecture.md
// and docs/softmax.md: SW = 8+8+4 = 20, TW = 22, AW = 16+6 = 22, CDW = 22, CAW = clog2(5) = 3, KCW =
// clog2(65) = 7, STW = clog2(513) = 10, SLW = 2, CYW = 32, d*wk = d*wq = dv*wv = 128,
// OW = wv + F_o + 1 = 11, dv*OW = 176.
const std::vector<std::pair<std::string, int>> kDefaultPorts = {
    {"clk_i", 1},        {"rst_ni", 1},       {"cfg_we_i", 1},   {"cfg_addr_i", 3},
    {"cfg_wdata_i", 22}, {"cfg_rdata_o", 22}, {"k_valid_i", 1},  {"k_ready_o", 1},
    {"k_data_i", 128},   {"k_vdata_i", 128},  {"k_last_i", 1},   {"q_valid_i", 1},
    {"q_ready_o", 1},    {"q_data_i", 128},   {"q_slot_i", 2},   {"q_keys_i", 7},   {"o_valid_o", 1},
    {"o_ready_i", 1},    {"o_data_o", 176},   {"o_empty_o", 1},  {"o_count_o", 7},
    {"o_steps_o", 10},   {"o_cycles_o", 32},  {"o_bcycles_o", 32},
};

TEST(CliGenerate, WritesFilelistManifestRtlAndHeader) {
  TempDir t;
  const fs::path out = t.path() / "rtl";
  const CliRun r = accelgen({"generate", "--config", kDefaultConfig, "--out", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);

  const std::set<std::string> names = entries(out);
  EXPECT_TRUE(names.contains("files.f"));
  EXPECT_TRUE(names.contains("manifest.json"));
  EXPECT_TRUE(names.contains("ag_params.h"));

  // files.f: one .v per line, every one present, the top module last; no other .v in the dir.
  const std::vector<std::string> files = lines_of(read_bytes(out / "files.f"));
  ASSERT_FALSE(files.empty());
  EXPECT_EQ(files.back(), "ag_attn_top.v");
  std::set<std::string> listed;
  for (const std::string& f : files) {
    EXPECT_TRUE(f.ends_with(".v")) << f;
    EXPECT_TRUE(fs::is_regular_file(out / f)) << f;
    EXPECT_TRUE(listed.insert(f).second) << f << " listed twice";
    const std::string module = f.substr(0, f.size() - 2);
    EXPECT_TRUE(has(read_bytes(out / f), "module " + module)) << f << " does not define " << module;
  }
  for (const std::string& n : names) {
    if (n.ends_with(".v")) {
      EXPECT_TRUE(listed.contains(n)) << n << " not in files.f";
    }
  }
  for (const char* m : {"ag_cfg_regs.v", "ag_key_store.v", "ag_bound_table.v", "ag_bs_lane.v", "ag_score_top.v",
                        "ag_value_store.v", "ag_exp2.v", "ag_softmax_v.v", "ag_mem_key.v", "ag_mem_value.v",
                        "ag_mem_collect.v"})
    EXPECT_TRUE(listed.contains(m)) << m;

  const json m = json::parse(read_bytes(out / "manifest.json"));
  EXPECT_EQ(m.at("top"), "ag_attn_top");
  const std::string hash = m.at("config_hash").get<std::string>();
  EXPECT_EQ(hash.size(), 16u) << hash;
  EXPECT_EQ(m.at("files").get<std::vector<std::string>>(), files);
  EXPECT_EQ(m.at("config"), json::parse(read_bytes(kDefaultConfig)));
  EXPECT_EQ(m.at("params_header"), "ag_params.h");
  // docs/memory.md: the value store is max_keys x dv*wv = 64 x 128; the collect buffers two
  // max_keys x (KeyIndexWidth + ScoreWidth) = 64 x (6 + 8 + 8 + clog2(16)) = 64 x 26.
  std::map<std::string, json> mems;
  for (const auto& mem : m.at("memories")) mems[mem.at("role").get<std::string>()] = mem;
  ASSERT_TRUE(mems.contains("value") && mems.contains("collect") && mems.contains("key")) << m.at("memories");
  EXPECT_EQ(mems["value"], json({{"module", "ag_mem_value"}, {"role", "value"}, {"depth", 64}, {"width", 128},
                                 {"bits", 8192}, {"instances", 1}}));
  EXPECT_EQ(mems["collect"], json({{"module", "ag_mem_collect"}, {"role", "collect"}, {"depth", 64}, {"width", 26},
                                   {"bits", 1664}, {"instances", 2}}));

  // The same hash wherever the config is identified.
  EXPECT_TRUE(has(read_bytes(out / "ag_params.h"), hash));
  EXPECT_TRUE(has(read_bytes(out / "ag_attn_top.v"), hash));
  EXPECT_TRUE(has(read_bytes(out / "ag_softmax_v.v"), hash));
  EXPECT_TRUE(has(r.output, hash)) << r.output;

  const json& ports = m.at("ports");
  ASSERT_TRUE(ports.is_array());
  ASSERT_EQ(ports.size(), kDefaultPorts.size()) << ports.dump();
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string& name = kDefaultPorts[i].first;
    SCOPED_TRACE(name);
    EXPECT_EQ(ports[i].at("name"), name);
    EXPECT_EQ(ports[i].at("width"), kDefaultPorts[i].second);
    EXPECT_EQ(ports[i].at("direction"), name.ends_with("_o") ? "output" : "input");
    // Data ports whose elements are two's complement (docs/formats.md).
    const bool is_signed = name == "k_data_i" || name == "k_vdata_i" || name == "q_data_i" || name == "o_data_o";
    EXPECT_EQ(ports[i].at("signed"), is_signed);
  }

  // Nothing next to the output: no temporary directory left behind.
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"rtl"}));
}

TEST(CliGenerate, IsByteIdenticalAcrossRuns) {
  TempDir t;
  const fs::path a = t.path() / "a", b = t.path() / "b";
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", a.string()}).status, 0);
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", b.string()}).status, 0);
  ASSERT_EQ(entries(a), entries(b));
  std::map<std::string, std::string> first;
  for (const std::string& n : entries(a)) {
    first[n] = read_bytes(a / n);
    EXPECT_EQ(first[n], read_bytes(b / n)) << n << " differs between two runs";
  }
  // Regenerating over a previous output replaces it with the same bytes.
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", a.string()}).status, 0);
  ASSERT_EQ(entries(a).size(), first.size());
  for (const auto& [n, bytes] : first) EXPECT_EQ(read_bytes(a / n), bytes) << n;
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"a", "b"}));
}

TEST(CliGenerate, SameConfigWithReorderedKeysGivesIdenticalFiles) {
  TempDir t;
  const json j = json::parse(read_bytes(kDefaultConfig));
  // Keys written in reverse order of the checked-in file.
  std::string text = "{";
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  for (auto k = keys.rbegin(); k != keys.rend(); ++k)
    text += (text.size() > 1 ? ", " : "") + json(*k).dump() + ": " + j.at(*k).dump();
  text += "}";
  write_text(t.path() / "reordered.json", text);
  const fs::path a = t.path() / "a", b = t.path() / "b";
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", a.string()}).status, 0);
  ASSERT_EQ(accelgen({"generate", "--config", (t.path() / "reordered.json").string(), "--out",
                      b.string()})
                .status,
            0);
  for (const std::string& n : entries(a)) EXPECT_EQ(read_bytes(a / n), read_bytes(b / n)) << n;
}

TEST(CliGenerate, DenseBaselineHasNoSlotPortAndNoBoundTable) {
  TempDir t;
  json j = json::parse(read_bytes(kDefaultConfig));
  j["name"] = "dn";
  j["dense_baseline"] = true;
  const fs::path cfg = write_config(t.path(), "dense.json", j);
  const fs::path out = t.path() / "rtl";
  const CliRun r = accelgen({"generate", "--config", cfg.string(), "--out", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json m = json::parse(read_bytes(out / "manifest.json"));
  EXPECT_EQ(m.at("top"), "dn_attn_top");
  std::set<std::string> ports;
  for (const json& p : m.at("ports")) ports.insert(p.at("name").get<std::string>());
  EXPECT_FALSE(ports.contains("q_slot_i"));
  EXPECT_TRUE(ports.contains("q_data_i"));
  for (const json& p : m.at("ports")) {
    if (p.at("name") == "cfg_addr_i") {
      EXPECT_EQ(p.at("width"), 1);  // only address 0 is mapped
    }
  }
  EXPECT_FALSE(fs::exists(out / "dn_bound_table.v"));
  EXPECT_TRUE(fs::exists(out / "dn_params.h"));
  EXPECT_TRUE(fs::exists(out / "dn_attn_top.v"));
}

// A failing `generate` with a bad config: status 2, one line naming `parts`, no --out directory
// and nothing at all in its (existing, empty) parent.
void expect_generate_rejects(const json& config, const std::vector<std::string>& parts) {
  TempDir t;
  fs::create_directories(t.path() / "in");
  fs::create_directories(t.path() / "outs");
  const fs::path cfg = write_config(t.path() / "in", "bad.json", config);
  const fs::path out = t.path() / "outs" / "rtl";
  const CliRun r = accelgen({"generate", "--config", cfg.string(), "--out", out.string()});
  expect_input_error(r, parts);
  EXPECT_FALSE(fs::exists(out)) << "partial output left behind";
  EXPECT_TRUE(entries(t.path() / "outs").empty()) << "something left in the output's parent";
}

TEST(CliGenerate, RejectsUnknownConfigKey) {
  json j = json::parse(read_bytes(kDefaultConfig));
  j["lane"] = 4;
  expect_generate_rejects(j, {"config.lane", "unknown"});
}

TEST(CliGenerate, RejectsOutOfRangeValues) {
  for (const auto& [key, value, range] :
       std::vector<std::tuple<std::string, int, std::string>>{{"lanes", 65, "[1, 64]"},
                                                              {"d", 0, "[1, 256]"},
                                                              {"wk", 17, "[2, 16]"},
                                                              {"max_keys", 4097, "[1, 4096]"}}) {
    SCOPED_TRACE(key);
    json j = json::parse(read_bytes(kDefaultConfig));
    j[key] = value;
    expect_generate_rejects(j, {"config." + key, range, std::to_string(value)});
  }
}

TEST(CliGenerate, RejectsLanesAboveMaxKeys) {
  json j = json::parse(read_bytes(kDefaultConfig));
  j["lanes"] = 8;
  j["max_keys"] = 5;
  expect_generate_rejects(j, {"config.lanes", "[1, 5]"});
}

TEST(CliGenerate, RejectsIllegalName) {
  json j = json::parse(read_bytes(kDefaultConfig));
  j["name"] = "Bad-Name";
  expect_generate_rejects(j, {"config.name"});
}

TEST(CliGenerate, RejectsMissingConfigFileNamingIt) {
  TempDir t;
  const fs::path cfg = t.path() / "nope.json";
  const fs::path out = t.path() / "rtl";
  const CliRun r = accelgen({"generate", "--config", cfg.string(), "--out", out.string()});
  expect_input_error(r, {cfg.string()});
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliGenerate, RejectsInvalidJsonNamingTheFile) {
  TempDir t;
  const fs::path cfg = t.path() / "broken.json";
  write_text(cfg, "{\"d\": 16,");
  const fs::path out = t.path() / "rtl";
  const CliRun r = accelgen({"generate", "--config", cfg.string(), "--out", out.string()});
  expect_input_error(r, {cfg.string()});
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliGenerate, RejectsADirectoryAsConfigNamingIt) {
  TempDir t;
  fs::create_directories(t.path() / "cfgdir");
  const fs::path out = t.path() / "rtl";
  const CliRun r =
      accelgen({"generate", "--config", (t.path() / "cfgdir").string(), "--out", out.string()});
  expect_input_error(r, {(t.path() / "cfgdir").string()});
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliGenerate, RefusesToOverwriteAnUnrelatedDirectory) {
  TempDir t;
  const fs::path out = t.path() / "mine";
  fs::create_directories(out);
  write_text(out / "thesis.tex", "\\documentclass{article}\n");
  const CliRun r = accelgen({"generate", "--config", kDefaultConfig, "--out", out.string()});
  expect_input_error(r, {out.string()});
  EXPECT_EQ(entries(out), (std::set<std::string>{"thesis.tex"}));
  EXPECT_EQ(read_bytes(out / "thesis.tex"), "\\documentclass{article}\n");
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"mine"}));
}

TEST(CliGenerate, AcceptsOutWithTrailingSlash) {
  TempDir t;
  const std::string out = (t.path() / "rtl").string() + "/";
  const CliRun r = accelgen({"generate", "--config", kDefaultConfig, "--out", out});
  EXPECT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(fs::exists(t.path() / "rtl" / "manifest.json"));
}

TEST(CliGenerate, RegeneratingWithTrailingSlashKeepsThePreviousOutputOnFailure) {
  // Whatever happens, an existing output must never end up deleted with nothing in its place.
  TempDir t;
  const fs::path out = t.path() / "rtl";
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", out.string()}).status, 0);
  const CliRun r = accelgen({"generate", "--config", kDefaultConfig, "--out", out.string() + "/"});
  EXPECT_TRUE(fs::exists(out / "manifest.json")) << describe(r);
  EXPECT_EQ(r.status, 0) << describe(r);
}

// --------------------------------------------------------------------------------- workload

TEST(CliWorkload, WritesAWorkloadDirectory) {
  TempDir t;
  const fs::path out = t.path() / "w";
  const CliRun r = accelgen({"workload", "--config", kDefaultConfig, "--lq", "5", "--lk", "12",
                          "--seed", "3", "--out", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(entries(out), (std::set<std::string>{"params.json", "q.npy", "k.npy", "v.npy"}));
  const core::IntMatrix q = core::read_npy((out / "q.npy").string());
  const core::IntMatrix k = core::read_npy((out / "k.npy").string());
  const core::IntMatrix v = core::read_npy((out / "v.npy").string());
  EXPECT_EQ(q.rows(), 5);
  EXPECT_EQ(q.cols(), 16);
  EXPECT_EQ(k.rows(), 12);
  EXPECT_EQ(k.cols(), 16);
  EXPECT_EQ(v.rows(), 12);
  EXPECT_EQ(v.cols(), 16);
  const json p = json::parse(read_bytes(out / "params.json"));
  EXPECT_TRUE(p.at("theta").is_number_integer());
  EXPECT_GT(p.at("softmax_scale").get<double>(), 0.0);
  EXPECT_EQ(entries(t.path()), (std::set<std::string>{"w"}));
}

TEST(CliWorkload, SameSeedGivesIdenticalFiles) {
  TempDir t;
  for (const char* d : {"a", "b"}) {
    ASSERT_EQ(accelgen({"workload", "--config", kDefaultConfig, "--kind", "peaky", "--seed", "9",
                        "--out", (t.path() / d).string()})
                  .status,
              0);
  }
  for (const char* f : {"q.npy", "k.npy", "v.npy", "params.json"})
    EXPECT_EQ(read_bytes(t.path() / "a" / f), read_bytes(t.path() / "b" / f)) << f;
}

TEST(CliWorkload, RejectsLkAboveMaxKeys) {
  TempDir t;
  const fs::path out = t.path() / "w";
  const CliRun r = accelgen({"workload", "--config", kDefaultConfig, "--lk", "65", "--out",
                          out.string()});
  expect_input_error(r, {"--lk", "65", "64"});
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(entries(t.path()).empty());
}

TEST(CliWorkload, RejectsZeroQueries) {
  TempDir t;
  const fs::path out = t.path() / "w";
  const CliRun r =
      accelgen({"workload", "--config", kDefaultConfig, "--lq", "0", "--out", out.string()});
  expect_input_error(r, {"--lq"});
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliWorkload, RejectsUnknownKind) {
  TempDir t;
  const fs::path out = t.path() / "w";
  const CliRun r = accelgen({"workload", "--config", kDefaultConfig, "--kind", "uniform", "--out",
                          out.string()});
  expect_input_error(r, {"--kind", "uniform", "gaussian", "peaky"});
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliWorkload, RejectsBadConfig) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "bad.json", json{{"wq", 1}});
  const fs::path out = t.path() / "w";
  const CliRun r = accelgen({"workload", "--config", cfg.string(), "--out", out.string()});
  expect_input_error(r, {"config.wq", "[2, 16]"});
  EXPECT_FALSE(fs::exists(out));
}

// ------------------------------------------------------------------------------------ model

// Writes a workload with the CLI; returns its directory.
fs::path cli_workload(const fs::path& dir, const std::string& config, const std::string& kind,
                      int lq, int lk, int seed) {
  const fs::path out = dir / ("wl-" + kind + "-" + std::to_string(seed));
  const CliRun r = accelgen({"workload", "--config", config, "--kind", kind, "--lq",
                          std::to_string(lq), "--lk", std::to_string(lk), "--seed",
                          std::to_string(seed), "--out", out.string()});
  EXPECT_EQ(r.status, 0) << describe(r);
  return out;
}

struct Expected {
  uint64_t kept = 0;
  int empty_rows = 0;
};

// Kept pairs (s_ij >= theta) and queries with none kept, recomputed from the files.
Expected expected_from_files(const fs::path& wl) {
  const core::IntMatrix q = core::read_npy((wl / "q.npy").string());
  const core::IntMatrix k = core::read_npy((wl / "k.npy").string());
  const int64_t theta = json::parse(read_bytes(wl / "params.json")).at("theta").get<int64_t>();
  Expected e;
  for (Eigen::Index i = 0; i < q.rows(); ++i) {
    int kept_row = 0;
    for (Eigen::Index j = 0; j < k.rows(); ++j) {
      int64_t s = 0;
      for (Eigen::Index t = 0; t < q.cols(); ++t) s += q(i, t) * k(j, t);
      if (s >= theta) ++kept_row;
    }
    e.kept += static_cast<uint64_t>(kept_row);
    if (kept_row == 0) ++e.empty_rows;
  }
  return e;
}

TEST(CliModel, WritesAReportForAGoodWorkload) {
  TempDir t;
  const int lq = 12, lk = 40, wk = 8, lanes = 4;  // default config: wk = 8, lanes = 4
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", lq, lk, 5);
  const fs::path report = t.path() / "reports" / "model.json";
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string(),
                          "--report", report.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  ASSERT_TRUE(fs::exists(report));
  const json j = json::parse(read_bytes(report));

  for (const char* f : {"bit_steps", "kept", "pruned", "empty_rows", "lane_utilization",
                        "config_hash"})
    EXPECT_TRUE(j.contains(f)) << f << " missing from " << j.dump();
  ASSERT_TRUE(j.contains("cycles") && j["cycles"].contains("total")) << j.dump();

  const Expected e = expected_from_files(wl);
  EXPECT_EQ(j.at("kept").get<uint64_t>(), e.kept);
  EXPECT_EQ(j.at("pruned").get<uint64_t>(), uint64_t{lq} * lk - e.kept);
  EXPECT_EQ(j.at("empty_rows").get<int>(), e.empty_rows);
  // Every score costs between 1 and wk bit steps.
  const uint64_t steps = j.at("bit_steps").get<uint64_t>();
  EXPECT_GE(steps, uint64_t{lq} * lk);
  EXPECT_LE(steps, uint64_t{lq} * lk * wk);
  // The gaussian workload prunes about 75% of the scores, which must save bit steps.
  EXPECT_LT(steps, uint64_t{lq} * lk * wk);
  const double util = j.at("lane_utilization").get<double>();
  EXPECT_GT(util, 0.0);
  EXPECT_LE(util, 1.0);
  // At least steps / lanes score-phase cycles are needed, and the total includes setup.
  const int64_t total = j.at("cycles").at("total").get<int64_t>();
  EXPECT_GE(total, static_cast<int64_t>(steps / lanes));

  // The report's hash is the one `generate` puts in the manifest for the same config.
  const fs::path rtl = t.path() / "rtl";
  ASSERT_EQ(accelgen({"generate", "--config", kDefaultConfig, "--out", rtl.string()}).status, 0);
  EXPECT_EQ(j.at("config_hash"), json::parse(read_bytes(rtl / "manifest.json")).at("config_hash"));
}

TEST(CliModel, DenseBaselineKeepsEveryScoreAtFullCost) {
  TempDir t;
  json c = json::parse(read_bytes(kDefaultConfig));
  c["dense_baseline"] = true;
  const fs::path cfg = write_config(t.path(), "dense.json", c);
  const int lq = 4, lk = 10, wk = 8;
  const fs::path wl = cli_workload(t.path(), cfg.string(), "peaky", lq, lk, 2);
  const fs::path report = t.path() / "report.json";
  const CliRun r = accelgen({"model", "--config", cfg.string(), "--workload", wl.string(),
                          "--report", report.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json j = json::parse(read_bytes(report));
  EXPECT_EQ(j.at("kept").get<uint64_t>(), uint64_t{lq} * lk);
  EXPECT_EQ(j.at("pruned").get<uint64_t>(), 0u);
  EXPECT_EQ(j.at("empty_rows").get<int>(), 0);
  EXPECT_EQ(j.at("bit_steps").get<uint64_t>(), uint64_t{lq} * lk * wk);
}

// --out-tensor: O as an int64 .npy, one row per query; the report's softmax/xV fields. With the
// output always ready, each query's back-end cycles are n + 2 (ACC) + QB (DIV) + 1 (DONE), QB =
// wv + F_o = 10 for the default config, and 1 for a query with every key pruned (docs/softmax.md).
TEST(CliModel, OutTensorHoldsOneRowPerQueryAndBackEndCycles) {
  TempDir t;
  const int lq = 9, lk = 30, dv = 16, fo = 2, wv = 8;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "peaky", lq, lk, 4);
  const fs::path report = t.path() / "r.json";
  const fs::path o_path = t.path() / "out" / "o.npy";
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string(), "--report",
                             report.string(), "--out-tensor", o_path.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const core::IntMatrix o = core::read_npy(o_path.string());
  ASSERT_EQ(o.rows(), lq);
  ASSERT_EQ(o.cols(), dv);
  EXPECT_LE(o.cwiseAbs().maxCoeff(), int64_t{1} << (wv - 1 + fo));
  const json j = json::parse(read_bytes(report));
  EXPECT_EQ(j.at("output_format").at("frac_bits"), fo);
  EXPECT_EQ(j.at("output_format").at("width"), wv + fo + 1);
  const auto kept = j.at("per_query").at("kept").get<std::vector<int>>();
  const auto bcyc = j.at("per_query").at("softmax_v_cycles").get<std::vector<int>>();
  ASSERT_EQ(bcyc.size(), static_cast<size_t>(lq));
  int64_t sum = 0;
  for (int i = 0; i < lq; ++i) {
    EXPECT_EQ(bcyc[static_cast<size_t>(i)], kept[static_cast<size_t>(i)] == 0 ? 1 : kept[static_cast<size_t>(i)] + 13)
        << "query " << i;
    if (kept[static_cast<size_t>(i)] == 0) {
      EXPECT_TRUE((o.row(i).array() == 0).all()) << "empty query " << i << " must give a zero row";
    }
    sum += bcyc[static_cast<size_t>(i)];
  }
  EXPECT_EQ(j.at("cycles").at("softmax_v_phase").get<int64_t>(), sum);
  EXPECT_FALSE(fs::exists(o_path.string() + ".tmp"));
}

// --fast: the event-driven model's report has the same numbers as the pin-level model's at full
// rate; with non-full-rate stimulus it is refused (status 2, naming --fast).
TEST(CliModel, FastModelGivesTheSameReportNumbers) {
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 7, 33, 8);
  const fs::path slow = t.path() / "slow.json", fast = t.path() / "fast.json";
  ASSERT_EQ(accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string(), "--report", slow.string(),
                      "--out-tensor", (t.path() / "o_slow.npy").string()})
                .status,
            0);
  const CliRun r = accelgen({"model", "--fast", "--config", kDefaultConfig, "--workload", wl.string(), "--report",
                             fast.string(), "--out-tensor", (t.path() / "o_fast.npy").string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  json a = json::parse(read_bytes(slow)), b = json::parse(read_bytes(fast));
  EXPECT_EQ(b.at("simulator"), "golden-fast-model");
  a.erase("simulator");
  b.erase("simulator");
  EXPECT_EQ(a, b);
  EXPECT_EQ(read_bytes(t.path() / "o_slow.npy"), read_bytes(t.path() / "o_fast.npy"));
  const CliRun bad = accelgen({"model", "--fast", "--ready-prob", "0.5", "--config", kDefaultConfig, "--workload",
                               wl.string()});
  EXPECT_EQ(bad.status, 2) << describe(bad);
  EXPECT_TRUE(has(bad.output, "--fast")) << bad.output;
}

// Several --workload directories: one run without a reset, each workload its own key set, loaded
// once the previous workload's queries are in. Totals are the parts' sums (kept recomputed from the
// files), O holds A's rows then B's, each equal to that workload's own run. Params that differ,
// --fast and --thresholds with several workloads are bad input (status 2).
TEST(CliModel, SeveralWorkloadsRunBackToBackOneKeySetEach) {
  TempDir t;
  const fs::path a = cli_workload(t.path(), kDefaultConfig, "gaussian", 5, 40, 11);
  const fs::path b = cli_workload(t.path(), kDefaultConfig, "peaky", 3, 17, 12);
  fs::copy_file(a / "params.json", b / "params.json", fs::copy_options::overwrite_existing);
  auto run = [&](const std::vector<fs::path>& dirs, const std::string& name) {
    std::vector<std::string> args = {"model", "--config", kDefaultConfig, "--valid-prob", "0.6", "--ready-prob",
                                     "0.4", "--report", (t.path() / (name + ".json")).string(), "--out-tensor",
                                     (t.path() / (name + ".npy")).string()};
    for (const fs::path& d : dirs) args.insert(args.end(), {"--workload", d.string()});
    const CliRun r = accelgen(args);
    EXPECT_EQ(r.status, 0) << describe(r);
    return std::make_pair(json::parse(read_bytes(t.path() / (name + ".json"))),
                          core::read_npy((t.path() / (name + ".npy")).string()));
  };
  const auto [ja, oa] = run({a}, "a");
  const auto [jb, ob] = run({b}, "b");
  const auto [jab, oab] = run({a, b}, "ab");
  EXPECT_EQ(jab.at("workload").at("lq"), 8);
  EXPECT_EQ(jab.at("workload").at("lk"), 57);
  ASSERT_EQ(jab.at("workload").at("key_sets").size(), 2u);
  EXPECT_EQ(jab.at("workload").at("key_sets")[1].at("lk"), 17);
  EXPECT_EQ(jab.at("workload").at("key_sets")[1].at("dir"), b.string());
  EXPECT_EQ(jab.at("kept").get<uint64_t>(), expected_from_files(a).kept + expected_from_files(b).kept);
  EXPECT_EQ(jab.at("bit_steps").get<uint64_t>(), ja.at("bit_steps").get<uint64_t>() + jb.at("bit_steps").get<uint64_t>());
  ASSERT_EQ(oab.rows(), 8);
  EXPECT_EQ(oab.topRows(5), oa);
  EXPECT_EQ(oab.bottomRows(3), ob);

  json params = json::parse(read_bytes(b / "params.json"));
  params["theta"] = params["theta"].get<int64_t>() + 1;
  write_text(b / "params.json", params.dump());
  expect_input_error(accelgen({"model", "--config", kDefaultConfig, "--workload", a.string(), "--workload", b.string()}),
                     {(b / "params.json").string(), "differs"});
  expect_input_error(
      accelgen({"model", "--fast", "--config", kDefaultConfig, "--workload", a.string(), "--workload", a.string()}),
      {"--fast"});
}

TEST(CliModel, RunsWithoutAReportFile) {
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 3, 7, 1);
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string()});
  EXPECT_EQ(r.status, 0) << describe(r);
  EXPECT_FALSE(r.output.empty());
}

TEST(CliModel, RejectsShapeMismatchNamingTheFile) {
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 4, 10, 1);
  // v.npy with 9 rows for 10 keys.
  core::write_npy((wl / "v.npy").string(), core::IntMatrix::Zero(9, 16));
  const fs::path report = t.path() / "report.json";
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string(),
                          "--report", report.string()});
  expect_input_error(r, {(wl / "v.npy").string(), "9", "10"});
  EXPECT_FALSE(fs::exists(report)) << "report written for a rejected workload";
}

TEST(CliModel, RejectsQWithWrongHeadDimension) {
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 4, 10, 1);
  core::write_npy((wl / "q.npy").string(), core::IntMatrix::Zero(4, 15));
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string()});
  expect_input_error(r, {(wl / "q.npy").string(), "d = 16"});
}

TEST(CliModel, RejectsElementOutsideTheBitWidth) {
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 4, 10, 1);
  core::IntMatrix k = core::read_npy((wl / "k.npy").string());
  k(3, 5) = 128;  // wk = 8 allows [-128, 127]
  core::write_npy((wl / "k.npy").string(), k);
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string()});
  expect_input_error(r, {(wl / "k.npy").string(), "[3][5]", "128", "[-128, 127]"});
}

TEST(CliModel, RejectsMissingWorkloadDirectory) {
  TempDir t;
  const fs::path wl = t.path() / "nowhere";
  const CliRun r = accelgen({"model", "--config", kDefaultConfig, "--workload", wl.string()});
  expect_input_error(r, {wl.string()});
}

TEST(CliModel, RejectsWorkloadForADifferentConfig) {
  // A workload made for max_keys = 64 with 40 keys, run against a config with max_keys = 32.
  TempDir t;
  const fs::path wl = cli_workload(t.path(), kDefaultConfig, "gaussian", 2, 40, 1);
  json c = json::parse(read_bytes(kDefaultConfig));
  c["max_keys"] = 32;
  const fs::path cfg = write_config(t.path(), "small.json", c);
  const CliRun r = accelgen({"model", "--config", cfg.string(), "--workload", wl.string()});
  expect_input_error(r, {(wl / "k.npy").string(), "max_keys = 32"});
}


// ----------------------------------------------------------------------------------- eval

// Kept scores of a workload directory, counted here from the .npy files (not by accelgen).
int64_t kept_in(const fs::path& wdir) {
  const core::IntMatrix q = core::read_npy((wdir / "q.npy").string());
  const core::IntMatrix k = core::read_npy((wdir / "k.npy").string());
  std::ifstream in(wdir / "params.json");
  const int64_t theta = json::parse(in)["theta"].get<int64_t>();
  const core::IntMatrix s = q * k.transpose();
  return (s.array() >= theta).count();
}

TEST(CliEval, RecordHasCyclesAndStatisticsOfTheWorkload) {
  TempDir t;
  const fs::path w = t.path() / "w";
  ASSERT_EQ(accelgen({"workload", "--config", kDefaultConfig, "--lq", "5", "--lk", "40", "--out", w.string()}).status, 0);
  const fs::path out = t.path() / "rec.json";
  const CliRun r = accelgen({"eval", "--config", kDefaultConfig, "--workload", w.string(), "--no-area",
                             "--json", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  std::ifstream in(out);
  const json rec = json::parse(in);
  EXPECT_TRUE(rec["feasible"].get<bool>());
  EXPECT_EQ(rec["config"]["lanes"], 4);  // flat parameters a search can use directly
  EXPECT_EQ(rec["attention"]["kept"].get<int64_t>(), kept_in(w));
  EXPECT_EQ(rec["attention"]["kept"].get<int64_t>() + rec["attention"]["pruned"].get<int64_t>(), 5 * 40);
  EXPECT_EQ(rec["attention"]["dense_bit_steps"].get<int64_t>(), 5 * 40 * 8);
  // Every score costs 1..wk steps; utilization is a fraction.
  EXPECT_GE(rec["attention"]["bit_steps"].get<int64_t>(), 5 * 40);
  EXPECT_GT(rec["attention"]["lane_utilization"].get<double>(), 0.0);
  EXPECT_LE(rec["attention"]["lane_utilization"].get<double>(), 1.0);
  EXPECT_GE(rec["cycles"]["total"].get<int64_t>(), rec["cycles"]["score_phase"].get<int64_t>());
  EXPECT_FALSE(rec.contains("area"));
}

TEST(CliEval, InvalidConfigGivesAnInfeasibleRecordAndStatusZero) {
  TempDir t;
  const fs::path w = t.path() / "w";
  ASSERT_EQ(accelgen({"workload", "--config", kDefaultConfig, "--lq", "2", "--lk", "8", "--out", w.string()}).status, 0);
  const fs::path bad = write_config(t.path(), "bad.json", json{{"lanes", 0}});
  const fs::path out = t.path() / "rec.json";
  const CliRun r = accelgen({"eval", "--config", bad.string(), "--workload", w.string(), "--json", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  std::ifstream in(out);
  const json rec = json::parse(in);
  EXPECT_FALSE(rec["feasible"].get<bool>());
  EXPECT_TRUE(has(rec["reason"].get<std::string>(), "config.lanes")) << rec.dump();
  EXPECT_EQ(rec["config"]["lanes"], 0);
  // Without --json the same point is bad input on the command line.
  expect_input_error(accelgen({"eval", "--config", bad.string(), "--workload", w.string()}), {"config.lanes"});
}

// --energy needs synthesis; both are checked before any work (no synthesis here).
TEST(CliEval, EnergyNeedsSynthesis) {
  TempDir t;
  const fs::path w = t.path() / "w";
  ASSERT_EQ(accelgen({"workload", "--config", kDefaultConfig, "--lq", "2", "--lk", "8", "--out", w.string()}).status, 0);
  expect_input_error(accelgen({"eval", "--config", kDefaultConfig, "--workload", w.string(), "--energy", "--no-area"}),
                     {"--energy", "--no-area"});
}

TEST(CliEval, AreaAndTimingGiveLatencyFromFmax) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "tiny.json",
                                    json{{"name", "evt"}, {"d", 2}, {"wq", 3}, {"wk", 3}, {"lanes", 1},
                                         {"max_keys", 4}, {"threshold_slots", 1}});
  const fs::path w = t.path() / "w";
  ASSERT_EQ(accelgen({"workload", "--config", cfg.string(), "--lq", "3", "--lk", "4", "--out", w.string()}).status, 0);
  const fs::path out = t.path() / "rec.json";
  const CliRun r = accelgen({"eval", "--config", cfg.string(), "--workload", w.string(), "--json", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  std::ifstream in(out);
  const json rec = json::parse(in);
  ASSERT_TRUE(rec["feasible"].get<bool>()) << rec.dump(2);
  EXPECT_GT(rec["area"]["area_um2"].get<double>(), 0.0);
  EXPECT_GT(rec["area"]["flops"].get<int>(), 0);
  const double fmax = rec["fmax_mhz"].get<double>();
  ASSERT_GT(fmax, 0.0);
  EXPECT_NEAR(rec["latency_ns"].get<double>(), rec["cycles"]["total"].get<double>() * 1000.0 / fmax, 1e-6);
}

// ------------------------------------------------------------------------------ compress (N:M)

// W [6, 2], 2:4 sparse: G = 2 groups; the second group has 2 real rows (k = 4, 5).
core::IntMatrix nm_weights() {
  return test_support::rows({{0, 1}, {3, 0}, {0, 0}, {-4, 2}, {5, 0}, {0, -6}});
}

std::vector<std::string> compress_args(const fs::path& w, const fs::path& out, int n, int m) {
  return {"compress", "--n", std::to_string(n), "--m", std::to_string(m), "--weights", w.string(),
          "--out", out.string()};
}

TEST(CliCompress, WritesValuesIndicesAndMetaThatDecompressToTheInput) {
  TempDir t;
  core::write_npy((t.path() / "w.npy").string(), nm_weights());
  const CliRun r = accelgen(compress_args(t.path() / "w.npy", t.path() / "c", 2, 4));
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_EQ(entries(t.path() / "c"), (std::set<std::string>{"indices.npy", "meta.json", "values.npy"}));
  const core::NmCompressed c = core::read_compressed((t.path() / "c").string());
  EXPECT_EQ(core::decompress(c), nm_weights());
  // Canonical slots of the first group, column 0 ([0, 3, 0, -4]): indices 1, 3.
  EXPECT_EQ(c.indices[c.at(0, 0, 0)], 1);
  EXPECT_EQ(c.indices[c.at(0, 0, 1)], 3);
  const json meta = json::parse(read_bytes(t.path() / "c" / "meta.json"));
  EXPECT_EQ(meta.at("groups"), 2);
  EXPECT_EQ(meta.at("prune"), "none");
}

TEST(CliCompress, IsByteIdenticalAcrossRuns) {
  TempDir t;
  core::write_npy((t.path() / "w.npy").string(), nm_weights());
  ASSERT_EQ(accelgen(compress_args(t.path() / "w.npy", t.path() / "a", 2, 4)).status, 0);
  ASSERT_EQ(accelgen(compress_args(t.path() / "w.npy", t.path() / "b", 2, 4)).status, 0);
  for (const char* f : {"values.npy", "indices.npy", "meta.json"}) {
    EXPECT_EQ(read_bytes(t.path() / "a" / f), read_bytes(t.path() / "b" / f)) << f;
  }
}

TEST(CliCompress, RejectsAMatrixThatIsNotNMSparseNamingGroupAndColumn) {
  TempDir t;
  const fs::path w = t.path() / "w.npy";
  core::write_npy(w.string(), nm_weights());
  // 1:4: group 0, column 0 holds 3 and -4 (2 nonzeros) and comes first in group-major order.
  const CliRun r = accelgen(compress_args(w, t.path() / "c", 1, 4));
  expect_input_error(r, {w.string(), "group 0, column 0 has 2 nonzeros, 1:4 allows at most 1"});
  EXPECT_FALSE(fs::exists(t.path() / "c"));
}

TEST(CliCompress, PruneMagnitudeMakesItSparse) {
  TempDir t;
  const fs::path w = t.path() / "w.npy";
  core::write_npy(w.string(), nm_weights());
  std::vector<std::string> args = compress_args(w, t.path() / "c", 1, 4);
  args.insert(args.end(), {"--prune", "magnitude"});
  const CliRun r = accelgen(args);
  ASSERT_EQ(r.status, 0) << describe(r);
  EXPECT_TRUE(has(r.output, "2 nonzeros pruned")) << r.output;  // 3 (col 0) and 1 (col 1)
  const core::IntMatrix p = core::decompress(core::read_compressed((t.path() / "c").string()));
  EXPECT_EQ(p, test_support::rows({{0, 0}, {0, 0}, {0, 0}, {-4, 2}, {5, 0}, {0, -6}}));
  EXPECT_EQ(json::parse(read_bytes(t.path() / "c" / "meta.json")).at("prune"), "magnitude");
}

TEST(CliCompress, BadOptionsAreOneLineErrorsNamingTheOptionAndRange) {
  TempDir t;
  const fs::path w = t.path() / "w.npy";
  core::write_npy(w.string(), nm_weights());
  expect_input_error(accelgen(compress_args(w, t.path() / "c", 1, 3)), {"--m", "1, 2, 4, 8, 16"});
  expect_input_error(accelgen(compress_args(w, t.path() / "c", 5, 4)), {"--n", "[1, 4]"});
  std::vector<std::string> args = compress_args(w, t.path() / "c", 2, 4);
  args.insert(args.end(), {"--prune", "random"});
  expect_input_error(accelgen(args), {"--prune", "magnitude"});
  const fs::path missing = t.path() / "none.npy";
  expect_input_error(accelgen(compress_args(missing, t.path() / "c", 2, 4)), {missing.string()});
  EXPECT_FALSE(fs::exists(t.path() / "c"));
}

TEST(CliCompress, RefusesToOverwriteAnUnrelatedDirectory) {
  TempDir t;
  core::write_npy((t.path() / "w.npy").string(), nm_weights());
  fs::create_directories(t.path() / "keep");
  write_text(t.path() / "keep" / "notes.txt", "mine");
  expect_input_error(accelgen(compress_args(t.path() / "w.npy", t.path() / "keep", 2, 4)),
                     {"meta.json"});
  EXPECT_TRUE(fs::exists(t.path() / "keep" / "notes.txt"));
}

}  // namespace
}  // namespace accelgen

// --------------------------------------------------------------------------------- N:M configs
// The same commands dispatch on the config's "kind".

namespace accelgen {
namespace {

const json kNmSmall = {{"kind", "nm_array"}, {"name", "nmc"}, {"rows", 2}, {"cols", 3}, {"wx", 5},
                       {"ww", 4}, {"n", 2}, {"m", 4}, {"max_k", 12}};

// X [5, 10] x W [10, 7]: partial row and column tiles (2 x 3 PEs), K not a multiple of m = 4.
fs::path nm_workload(const fs::path& dir, const fs::path& cfg) {
  const fs::path wl = dir / "nmw";
  const CliRun r = accelgen({"workload", "--config", cfg.string(), "--x-rows", "5", "--k", "10", "--w-cols", "7",
                             "--seed", "3", "--out", wl.string()});
  EXPECT_EQ(r.status, 0) << describe(r);
  return wl;
}

TEST(CliNm, GenerateWritesTheArrayTopAndManifest) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "nm.json", kNmSmall);
  const fs::path out = t.path() / "rtl";
  const CliRun r = accelgen({"generate", "--config", cfg.string(), "--out", out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json m = json::parse(read_bytes(out / "manifest.json"));
  EXPECT_EQ(m.at("top"), "nmc_nm_top");
  EXPECT_EQ(m.at("config").at("kind"), "nm_array");
  EXPECT_EQ(lines_of(read_bytes(out / "files.f")).back(), "nmc_nm_top.v");
  EXPECT_TRUE(has(r.output, m.at("config_hash").get<std::string>())) << r.output;
}

// The model's Y equals X * W computed here from the files, and the report's MAC counts follow the
// tiling: effective MACs = R * K * C (dense-equivalent).
TEST(CliNm, ModelWritesYEqualToTheProductAndAReport) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "nm.json", kNmSmall);
  const fs::path wl = nm_workload(t.path(), cfg);
  const fs::path report = t.path() / "r.json", y = t.path() / "y.npy";
  const CliRun r = accelgen({"model", "--config", cfg.string(), "--workload", wl.string(), "--report",
                             report.string(), "--out-tensor", y.string(), "--ready-prob", "0.6"});
  ASSERT_EQ(r.status, 0) << describe(r);
  const core::IntMatrix x = core::read_npy((wl / "x.npy").string()), w = core::read_npy((wl / "w.npy").string());
  ASSERT_EQ(x.rows(), 5);
  ASSERT_EQ(w.cols(), 7);
  const core::IntMatrix expected = x * w;
  EXPECT_EQ(core::read_npy(y.string()), expected);
  const json j = json::parse(read_bytes(report));
  EXPECT_EQ(j.at("effective_macs").get<int64_t>(), 5 * 10 * 7);
  EXPECT_GT(j.at("cycles").at("total").get<int64_t>(), 0);
  EXPECT_EQ(j.at("config_hash").get<std::string>().size(), 16u);
}

TEST(CliNm, SimMatchesTheModelReport) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "nm.json", kNmSmall);
  const fs::path wl = nm_workload(t.path(), cfg);
  const fs::path sim = t.path() / "sim.json", model = t.path() / "model.json";
  const CliRun s = accelgen({"sim", "--config", cfg.string(), "--workload", wl.string(), "--report", sim.string(),
                             "--seed", "4", "--valid-prob", "0.7", "--ready-prob", "0.5"});
  ASSERT_EQ(s.status, 0) << describe(s);
  ASSERT_EQ(accelgen({"model", "--config", cfg.string(), "--workload", wl.string(), "--report", model.string(),
                      "--seed", "4", "--valid-prob", "0.7", "--ready-prob", "0.5"})
                .status,
            0);
  json a = json::parse(read_bytes(sim)), b = json::parse(read_bytes(model));
  for (json* j : {&a, &b}) {
    j->erase("simulator");
    j->erase("tool_version");
    (*j)["workload"].erase("dir");
  }
  EXPECT_EQ(a, b);
}

TEST(CliNm, EvalRecordHasArrayStatistics) {
  TempDir t;
  const fs::path cfg = write_config(t.path(), "nm.json", kNmSmall);
  const fs::path wl = nm_workload(t.path(), cfg);
  const fs::path out = t.path() / "rec.json";
  const CliRun r = accelgen({"eval", "--no-area", "--config", cfg.string(), "--workload", wl.string(), "--json",
                             out.string()});
  ASSERT_EQ(r.status, 0) << describe(r);
  const json rec = json::parse(read_bytes(out));
  ASSERT_TRUE(rec.at("feasible").get<bool>()) << rec.dump(2);
  EXPECT_EQ(rec.at("array").at("effective_macs").get<int64_t>(), 5 * 10 * 7);
  EXPECT_GT(rec.at("array").at("pe_utilization").get<double>(), 0.0);
  EXPECT_LE(rec.at("array").at("pe_utilization").get<double>(), 1.0);
  EXPECT_EQ(rec.at("config").at("kind"), "nm_array");

  // --verify: the Verilated array must give the same numbers.
  const CliRun v = accelgen({"eval", "--no-area", "--verify", "--config", cfg.string(), "--workload", wl.string(),
                             "--json", out.string()});
  ASSERT_EQ(v.status, 0) << describe(v);
  EXPECT_TRUE(json::parse(read_bytes(out)).at("verified").get<bool>());
}

TEST(CliNm, BadInputIsOneLineStatusTwo) {
  TempDir t;
  json bad = kNmSmall;
  bad["m"] = 3;
  const fs::path cfg = write_config(t.path(), "bad.json", bad);
  const CliRun g = accelgen({"generate", "--config", cfg.string(), "--out", (t.path() / "o").string()});
  EXPECT_EQ(g.status, 2) << describe(g);
  EXPECT_TRUE(has(g.output, "config.m")) << g.output;
  EXPECT_FALSE(fs::exists(t.path() / "o"));

  const fs::path good = write_config(t.path(), "nm.json", kNmSmall);
  const fs::path wl = nm_workload(t.path(), good);
  const CliRun th = accelgen({"model", "--config", good.string(), "--workload", wl.string(), "--thresholds", "x.json"});
  EXPECT_EQ(th.status, 2) << describe(th);
  EXPECT_TRUE(has(th.output, "--thresholds")) << th.output;
  // A workload for another shape: K above max_k = 12.
  const CliRun big = accelgen({"workload", "--config", good.string(), "--x-rows", "2", "--k", "13", "--w-cols", "2",
                               "--out", (t.path() / "big").string()});
  EXPECT_EQ(big.status, 2) << describe(big);
  EXPECT_FALSE(fs::exists(t.path() / "big"));
  // Options of the other block's workload are refused, naming the option.
  const CliRun lq = accelgen({"workload", "--config", good.string(), "--lq", "4", "--out", (t.path() / "lq").string()});
  EXPECT_EQ(lq.status, 2) << describe(lq);
  EXPECT_TRUE(has(lq.output, "--lq")) << lq.output;
  EXPECT_FALSE(fs::exists(t.path() / "lq"));
  const CliRun kk = accelgen({"workload", "--config", kDefaultConfig, "--k", "4", "--out", (t.path() / "kk").string()});
  EXPECT_EQ(kk.status, 2) << describe(kk);
  EXPECT_TRUE(has(kk.output, "--k")) << kk.output;
  EXPECT_FALSE(fs::exists(t.path() / "kk"));
}

}  // namespace
}  // namespace accelgen
