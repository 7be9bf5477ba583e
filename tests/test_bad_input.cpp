// The bad-input corpus: the built `accelgen` run on broken configs, workloads, thresholds files,
// options and output locations, one case per row of the table below. Every case must
//   - exit with status 2 (not 1, not a signal),
//   - print exactly one line on stderr, naming the field or file at fault,
//   - leave its directory exactly as it was before the run (no output, no temporary, no parents).
// Read-only output directories and a full disk are made with a tmpfs mounted in a private mount
// namespace when the test may mount (root here; chmod 0555 suffices for others), else skipped.
// Paths with spaces and shell metacharacters must work when the input is valid (CliPaths.*).
//
// Expected outcomes come from the contract in the README ("Bad input ... exits with status 2 and one
// line naming the field or file"), not from the tool. About 80 runs of ~20 ms each.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/npy.h"
#include "tests/test_support.h"

namespace accelgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test_support::read_bytes;
using test_support::TempDir;
using test_support::write_text;

const std::string kBin = ACCELGEN_BIN;
const fs::path kSource = ACCELGEN_SOURCE_DIR;
const std::string kConfig = (kSource / "configs/default.json").string();
const std::string kNmConfig = (kSource / "configs/nm/n2m4.json").string();

// ------------------------------------------------------------------ running the tool

// How a case's output directory is made unwritable, if at all.
enum class Mount {
  kNone,
  kReadOnly,  // {C}/ro is a read-only directory
  kFull,      // {C}/full is a 4 KiB tmpfs, already full
};

struct Outcome {
  bool ran = false;         // false: the mount could not be set up (skip)
  std::string how;          // "exit N" or "signal N"
  int status = -1;          // exit status, or -1 after a signal
  std::string out, err;     // stdout, stderr
  std::set<std::string> mounted_files;  // what the tmpfs held afterwards (Mount::kFull)
};

std::set<std::string> tree(const fs::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    names.insert(fs::relative(it->path(), dir).string() + (it->is_directory() ? "/" : ""));
  }
  return names;
}

// In the forked child: a private mount namespace with a tmpfs at `dir` (read-only, or 4 KiB and
// filled by the file "filler"). False if this process may not mount.
bool mount_tmpfs(const fs::path& dir, Mount m) {
  if (::unshare(CLONE_NEWNS) != 0) return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
  if (m == Mount::kReadOnly) return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_RDONLY, "size=64k") == 0;
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=4k") != 0) return false;
  std::ofstream filler(dir / "filler", std::ios::binary);
  const std::string page(8192, 'x');  // more than fits: the tmpfs ends up full
  filler.write(page.data(), static_cast<std::streamsize>(page.size()));
  return true;
}

// Runs accelgen with `args` in cwd `dir`, stdout and stderr to files outside `dir`. A forked helper
// sets up the mount (when asked), runs the tool, and records its end and the tmpfs's files before
// the namespace (and with it the tmpfs) goes away.
Outcome run(const fs::path& dir, const fs::path& logs, const std::vector<std::string>& args, Mount m,
            const fs::path& mount_dir) {
  const fs::path out = logs / "stdout", err = logs / "stderr", status = logs / "status",
                 listing = logs / "listing";
  for (const auto& p : {out, err, status, listing}) fs::remove(p);
  std::vector<std::string> argv = {kBin};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);

  const pid_t helper = ::fork();
  if (helper == 0) {
    std::ofstream st(status);
    if (m != Mount::kNone && !mount_tmpfs(mount_dir, m)) {
      st << "nomount\n";
      st.close();  // _exit does not flush
      ::_exit(0);
    }
    const pid_t tool = ::fork();
    if (tool == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0 || ::chdir(dir.c_str()) != 0) ::_exit(126);
      ::dup2(o, 1);
      ::dup2(e, 2);
      ::execv(cargs[0], cargs.data());
      ::_exit(127);
    }
    int ws = 0;
    ::waitpid(tool, &ws, 0);
    st << (WIFEXITED(ws) ? "exit " + std::to_string(WEXITSTATUS(ws)) : "signal " + std::to_string(WTERMSIG(ws)))
       << "\n";
    st.close();
    if (m == Mount::kFull) {
      std::ofstream ls(listing);
      for (const auto& n : tree(mount_dir)) ls << n << "\n";
      ls.close();
    }
    ::_exit(0);
  }
  int ws = 0;
  ::waitpid(helper, &ws, 0);
  Outcome r;
  std::istringstream st(read_bytes(status));
  std::string word;
  int value = -1;
  st >> word >> value;
  if (word == "nomount") return r;
  r.ran = true;
  r.how = word + " " + std::to_string(value);
  r.status = word == "exit" ? value : -1;
  r.out = read_bytes(out);
  r.err = read_bytes(err);
  std::istringstream ls(read_bytes(listing));
  for (std::string line; std::getline(ls, line);) r.mounted_files.insert(line);
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  return lines;
}

// ------------------------------------------------------------------ inputs

// A .npy file with the given header dict and data bytes (format 1.0, padded as numpy pads).
std::string npy(const std::string& dict, const std::string& data) {
  std::string header = dict;
  const size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  return bytes + header + data;
}

std::string int8_npy(int64_t rows, int64_t cols, int8_t value = 1) {
  return npy("{'descr': '|i1', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                 std::to_string(cols) + "), }",
             std::string(static_cast<size_t>(rows * cols), static_cast<char>(value)));
}

// A valid workload of configs/default.json (d = dv = 16, 8-bit elements): 4 queries, 8 keys.
void write_workload(const fs::path& dir) {
  fs::create_directories(dir);
  write_text(dir / "q.npy", int8_npy(4, 16, 3));
  write_text(dir / "k.npy", int8_npy(8, 16, -2));
  write_text(dir / "v.npy", int8_npy(8, 16, 5));
  write_text(dir / "params.json", R"({"theta": 0, "softmax_scale": 0.05, "slot": 0})");
}

// A valid N:M workload of configs/nm/n2m4.json: X [2, 8] and a 2:4-sparse W [8, 3].
void write_nm_workload(const fs::path& dir) {
  fs::create_directories(dir);
  write_text(dir / "x.npy", int8_npy(2, 8, 1));
  std::string w;
  for (int k = 0; k < 8; ++k) w += std::string(3, static_cast<char>(k % 4 < 2 ? 1 : 0));
  write_text(dir / "w.npy", npy("{'descr': '|i1', 'fortran_order': False, 'shape': (8, 3), }", w));
}

json default_config() { return json::parse(read_bytes(kConfig)); }

std::string thresholds_for_default(const json& entries) {
  const std::string hash = core::config_hash(core::load_attention_config(kConfig));
  return json{{"tool", "accelgen"}, {"config_hash", hash}, {"thresholds", entries}}.dump();
}

// ------------------------------------------------------------------ the cases

struct Case {
  std::string name;
  std::vector<std::string> args;  // {C}: the case directory (absolute); {CFG}, {NMCFG}: the configs
  std::string names;              // what the one line must contain ({C} expanded)
  std::function<void(const fs::path& c)> setup = [](const fs::path&) {};
  Mount mount = Mount::kNone;
};

// Case helpers: a config file c/cfg.json, a workload c/wl patched by `patch`.
std::function<void(const fs::path&)> config_file(const std::string& text) {
  return [text](const fs::path& c) { write_text(c / "cfg.json", text); };
}
std::function<void(const fs::path&)> config_with(const std::string& key, const json& value) {
  return [key, value](const fs::path& c) {
    json j = default_config();
    j[key] = value;
    write_text(c / "cfg.json", j.dump());
  };
}
std::function<void(const fs::path&)> workload_with(const std::function<void(const fs::path& wl)>& patch) {
  return [patch](const fs::path& c) {
    write_workload(c / "wl");
    patch(c / "wl");
  };
}
std::function<void(const fs::path&)> params(const std::string& text) {
  return workload_with([text](const fs::path& wl) { write_text(wl / "params.json", text); });
}
std::function<void(const fs::path&)> file(const std::string& name, const std::string& bytes) {
  return workload_with([name, bytes](const fs::path& wl) { write_text(wl / name, bytes); });
}
std::function<void(const fs::path&)> thresholds(const std::string& text) {
  return workload_with([text](const fs::path& c) { write_text(c.parent_path() / "t.json", text); });
}

const std::vector<std::string> kGenerate = {"generate", "--config", "{C}/cfg.json", "--out", "{C}/rtl"};
const std::vector<std::string> kModel = {"model", "--config", "{CFG}", "--workload", "{C}/wl"};
const std::vector<std::string> kModelT = {"model",         "--config",     "{CFG}",      "--workload", "{C}/wl",
                                          "--thresholds", "{C}/t.json", "--report", "{C}/r.json"};
const std::string kDescrI1 = "{'descr': '|i1', 'fortran_order': False, 'shape': ";

std::vector<Case> cases() {
  std::vector<Case> v;
  // ---- configs (generate)
  v.push_back({"ConfigEmptyFile", kGenerate, "{C}/cfg.json", config_file("")});
  v.push_back({"ConfigTruncatedJson", kGenerate, "{C}/cfg.json", config_file(R"({"d": 16, "lanes":)")});
  v.push_back({"ConfigNotAnObject", kGenerate, "config", config_file("[1, 2, 3]")});
  v.push_back({"ConfigBinaryGarbage", kGenerate, "{C}/cfg.json", config_file(std::string("\x00\xff\x93NUMPY", 8))});
  // Before nesting was bounded, quoting this "kind" in the error message overflowed the stack (SIGSEGV).
  v.push_back({"ConfigNestedAMillionDeep", kGenerate, "{C}/cfg.json",
               config_file("{\"kind\": " + std::string(1000000, '[') + std::string(1000000, ']') + "}")});
  v.push_back({"ConfigDAsString", kGenerate, "config.d", config_with("d", "16")});
  v.push_back({"ConfigDAsFloat", kGenerate, "config.d", config_with("d", 16.5)});
  v.push_back({"ConfigDHuge", kGenerate, "config.d", config_file(R"({"d": 99999999999999999999999})")});
  v.push_back({"ConfigDNegative", kGenerate, "config.d", config_with("d", -16)});
  v.push_back({"ConfigWqTooWide", kGenerate, "config.wq", config_with("wq", 64)});
  v.push_back({"ConfigDenseBaselineNotBool", kGenerate, "config.dense_baseline", config_with("dense_baseline", "yes")});
  v.push_back({"ConfigUnknownKind", kGenerate, "config.kind", config_with("kind", "transformer")});
  v.push_back({"ConfigBadThresholdMode", kGenerate, "config.threshold_modes",
               config_with("threshold_modes", json::array({"absolute", "fuzzy"}))});
  v.push_back({"ConfigNameWithShellMetacharacters", kGenerate, "config.name", config_with("name", "ag;rm -rf $HOME")});
  v.push_back({"ConfigThresholdSlotsZero", kGenerate, "config.threshold_slots", config_with("threshold_slots", 0)});
  v.push_back({"NmConfigGroupSize3", kGenerate, "config.m",
               config_file(R"({"kind": "nm_array", "n": 2, "m": 3})")});
  v.push_back({"NmConfigNAboveM", kGenerate, "config.n", config_file(R"({"kind": "nm_array", "n": 5, "m": 4})")});
  v.push_back({"NmConfigAttentionKey", kGenerate, "config.lanes",
               config_file(R"({"kind": "nm_array", "n": 2, "m": 4, "lanes": 4})")});
  // ---- workloads (model)
  v.push_back({"WorkloadQMissing", kModel, "q.npy", workload_with([](const fs::path& wl) { fs::remove(wl / "q.npy"); })});
  v.push_back({"WorkloadQIsADirectory", kModel, "q.npy", workload_with([](const fs::path& wl) {
                 fs::remove(wl / "q.npy");
                 fs::create_directory(wl / "q.npy");
               })});
  v.push_back({"NpyTruncatedData", kModel, "q.npy", file("q.npy", int8_npy(4, 16).substr(0, 64 + 30))});
  v.push_back({"NpyTruncatedHeader", kModel, "q.npy", file("q.npy", int8_npy(4, 16).substr(0, 20))});
  v.push_back({"NpyOnlyMagic", kModel, "q.npy", file("q.npy", "\x93NUMPY")});
  v.push_back({"NpyTextFile", kModel, "q.npy", file("q.npy", "q = [[1, 2], [3, 4]]\n")});
  v.push_back({"NpyFloatDtype", kModel, "q.npy",
               file("q.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 16), }", std::string(256, '\0')))});
  v.push_back({"NpyUnsignedDtype", kModel, "q.npy",
               file("q.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 16), }", std::string(64, '\1')))});
  v.push_back({"NpyHugeShape", kModel, "q.npy", file("q.npy", npy(kDescrI1 + "(4611686018427387904, 16), }", std::string(64, '\1')))});
  v.push_back({"NpyShapeProductOverflows", kModel, "q.npy",
               file("q.npy", npy(kDescrI1 + "(4294967296, 4294967297), }", std::string(64, '\1')))});
  v.push_back({"NpyNegativeShape", kModel, "q.npy", file("q.npy", npy(kDescrI1 + "(-4, 16), }", std::string(64, '\1')))});
  v.push_back({"NpyThreeDimensional", kModel, "q.npy", file("q.npy", npy(kDescrI1 + "(2, 2, 16), }", std::string(64, '\1')))});
  v.push_back({"NpyHeaderNotADict", kModel, "q.npy", file("q.npy", npy("[1, 2, 3]", ""))});
  v.push_back({"NpyElementOutsideWq", kModel, "q.npy",
               file("q.npy", npy("{'descr': '<i2', 'fortran_order': False, 'shape': (4, 16), }", std::string(128, '\x7f')))});
  v.push_back({"WorkloadKWrongHeadDim", kModel, "k.npy", file("k.npy", int8_npy(8, 15))});
  v.push_back({"WorkloadVFewerRowsThanK", kModel, "v.npy", file("v.npy", int8_npy(7, 16))});
  v.push_back({"WorkloadMoreKeysThanMaxKeys", kModel, "k.npy",
               workload_with([](const fs::path& wl) {
                 write_text(wl / "k.npy", int8_npy(65, 16));
                 write_text(wl / "v.npy", int8_npy(65, 16));
               })});
  v.push_back({"ParamsMissing", kModel, "params.json", workload_with([](const fs::path& wl) { fs::remove(wl / "params.json"); })});
  v.push_back({"ParamsSoftmaxScaleNaNLiteral", kModel, "params.json", params(R"({"theta": 0, "softmax_scale": NaN})")});
  v.push_back({"ParamsSoftmaxScaleInfinite", kModel, "params.json", params(R"({"theta": 0, "softmax_scale": 1e999})")});
  v.push_back({"ParamsSoftmaxScaleZero", kModel, "softmax_scale", params(R"({"theta": 0, "softmax_scale": 0})")});
  v.push_back({"ParamsSoftmaxScaleNegative", kModel, "softmax_scale", params(R"({"theta": 0, "softmax_scale": -0.5})")});
  v.push_back({"ParamsSoftmaxScaleString", kModel, "softmax_scale", params(R"({"theta": 0, "softmax_scale": "0.05"})")});
  v.push_back({"ParamsSoftmaxScaleNull", kModel, "softmax_scale", params(R"({"theta": 0, "softmax_scale": null})")});
  v.push_back({"ParamsThetaHuge", kModel, "theta", params(R"({"theta": 1e30, "softmax_scale": 0.05})")});
  v.push_back({"ParamsThetaBeyondRegister", kModel, "theta", params(R"({"theta": 18446744073709551615, "softmax_scale": 0.05})")});
  v.push_back({"ParamsSlotOutOfRange", kModel, "slot", params(R"({"theta": 0, "softmax_scale": 0.05, "slot": 4})")});
  v.push_back({"ParamsCausalOffsetNegative", kModel, "causal_offset",
               params(R"({"theta": 0, "softmax_scale": 0.05, "causal": true, "causal_offset": -1})")});
  v.push_back({"ParamsRelativeOnAbsoluteHardware", kModel, "threshold_mode",
               params(R"({"threshold_mode": "relative", "delta": 3, "softmax_scale": 0.05})")});
  v.push_back({"NmWorkloadWNotSparse",
               {"model", "--config", "{NMCFG}", "--workload", "{C}/nm", "--report", "{C}/r.json"},
               "w.npy",
               [](const fs::path& c) {
                 write_nm_workload(c / "nm");
                 write_text(c / "nm/w.npy", int8_npy(8, 3, 1));
               }});
  v.push_back({"NmWorkloadXMissing",
               {"model", "--config", "{NMCFG}", "--workload", "{C}/nm", "--report", "{C}/r.json"},
               "x.npy",
               [](const fs::path& c) {
                 write_nm_workload(c / "nm");
                 fs::remove(c / "nm/x.npy");
               }});
  // ---- thresholds files (model --thresholds)
  v.push_back({"ThresholdsMissing", kModelT, "{C}/t.json", workload_with([](const fs::path&) {})});
  v.push_back({"ThresholdsTruncated", kModelT, "{C}/t.json", thresholds(R"({"tool": "accelgen", "thresh)")});
  v.push_back({"ThresholdsWrongHash", kModelT, "config_hash",
               thresholds(R"({"config_hash": "0123456789abcdef", "thresholds": []})")});
  v.push_back({"ThresholdsThetaBeyondRegister", kModelT, "theta",
               thresholds(thresholds_for_default(json::array({{{"slot", 0}, {"theta", int64_t{1} << 40}}})))});
  v.push_back({"ThresholdsSlotOutOfRange", kModelT, "slot",
               thresholds(thresholds_for_default(json::array({{{"slot", 9}, {"theta", 1}}})))});
  v.push_back({"ThresholdsSlotTwice", kModelT, "slot",
               thresholds(thresholds_for_default(json::array({{{"slot", 0}, {"theta", 1}}, {{"slot", 0}, {"theta", 2}}})))});
  v.push_back({"ThresholdsRelativeOnAbsoluteHardware", kModelT, "mode",
               thresholds(thresholds_for_default(json::array({{{"slot", 0}, {"mode", "relative"}, {"delta", 1}}})))});
  v.push_back({"ThresholdsNoEntryForTheSlot", kModelT, "thresholds",
               thresholds(thresholds_for_default(json::array({{{"slot", 2}, {"theta", 1}}})))});
  v.push_back({"ThresholdsModeNestedAMillionDeep", kModelT, "{C}/t.json",  // SIGSEGV before nesting was bounded
               thresholds(R"({"config_hash": ")" + core::config_hash(core::load_attention_config(kConfig)) +
                          R"(", "thresholds": [{"slot": 0, "theta": 1, "mode": )" +
                          std::string(1000000, '[') + std::string(1000000, ']') + "}]}")});
  v.push_back({"ThresholdsThetaFloat", kModelT, "theta",
               thresholds(thresholds_for_default(json::array({{{"slot", 0}, {"theta", 1.5}}})))});
  // ---- options
  const std::vector<std::string> wl = {"workload", "--config", "{CFG}", "--out", "{C}/w"};
  auto with = [](std::vector<std::string> base, std::initializer_list<std::string> more) {
    base.insert(base.end(), more);
    return base;
  };
  v.push_back({"OptionLqZero", with(wl, {"--lq", "0"}), "--lq"});
  v.push_back({"OptionLqNotANumber", with(wl, {"--lq", "many"}), "--lq"});
  v.push_back({"OptionLkAboveMaxKeys", with(wl, {"--lk", "65"}), "--lk"});
  v.push_back({"OptionKindUnknown", with(wl, {"--kind", "uniform"}), "--kind"});
  v.push_back({"OptionValidProbAboveOne", with(kModel, {"--valid-prob", "1.5"}), "--valid-prob",
               workload_with([](const fs::path&) {})});
  v.push_back({"OptionFastWithResetAt", with(kModel, {"--fast", "--reset-at", "5"}), "--fast",
               workload_with([](const fs::path&) {})});
  v.push_back({"OptionCompressM3",
               {"compress", "--n", "1", "--m", "3", "--weights", "{C}/w.npy", "--out", "{C}/z"}, "m",
               [](const fs::path& c) { write_text(c / "w.npy", int8_npy(4, 2)); }});
  v.push_back({"OptionCompressPruneUnknown",
               {"compress", "--n", "2", "--m", "4", "--weights", "{C}/w.npy", "--out", "{C}/z", "--prune", "random"},
               "--prune", [](const fs::path& c) { write_text(c / "w.npy", int8_npy(4, 2)); }});
  v.push_back({"OptionCalibrateMaxErrorNaN",
               {"calibrate", "--config", "{CFG}", "--workload", "{C}/wl", "--max-error", "nan", "--out", "{C}/t.json"},
               "--max-error", workload_with([](const fs::path&) {})});
  v.push_back({"OptionCalibrateCvRuleUnknown",
               {"calibrate", "--config", "{CFG}", "--workload", "{C}/wl", "--max-error", "0.02", "--out", "{C}/t.json",
                "--cv-rule", "mean"},
               "--cv-rule", workload_with([](const fs::path&) {})});
  v.push_back({"OptionCalibrateCvLevelOne",
               {"calibrate", "--config", "{CFG}", "--workload", "{C}/wl", "--max-error", "0.02", "--out", "{C}/t.json",
                "--cv-level", "1"},
               "--cv-level", workload_with([](const fs::path&) {})});
  v.push_back({"OptionBenchTraceCvRuleUnknown", {"bench", "--trace-cv-rule", "mean"}, "--trace-cv-rule"});
  v.push_back({"OptionEvalThresholdsOnNmConfig",
               {"eval", "--config", "{NMCFG}", "--workload", "{C}/nm", "--thresholds", "{C}/t.json", "--no-area",
                "--json", "{C}/e.json"},
               "--thresholds", [](const fs::path& c) { write_nm_workload(c / "nm"); }});
  v.push_back({"OptionAreaMacroLibMissing",
               {"area", "--config", "{CFG}", "--macro-lib", "{C}/none.lib", "--json", "{C}/a.json"}, "--macro-lib"});
  v.push_back({"OptionAreaMacroLibWithoutRam",
               {"area", "--config", "{CFG}", "--macro-lib", "{C}/inv.lib", "--json", "{C}/a.json"}, "--macro-lib",
               [](const fs::path& c) { std::ofstream(c / "inv.lib") << "library (x) {\n  cell (inv) { area : 1; }\n}\n"; }});
  // ---- paths: metacharacters in a missing file's name, outputs below a file
  v.push_back({"PathWithShellMetacharactersMissing",
               {"generate", "--config", "{C}/a b;touch PWNED;$(touch PWNED)`touch PWNED`/c.json", "--out", "{C}/o"},
               "{C}/a b;touch PWNED;$(touch PWNED)`touch PWNED`/c.json"});
  v.push_back({"OutputBelowARegularFile", {"generate", "--config", "{CFG}", "--out", "{C}/f/rtl"}, "{C}/f",
               [](const fs::path& c) { write_text(c / "f", "a file\n"); }});
  v.push_back({"ReportBelowARegularFile", with(kModel, {"--report", "{C}/f/sub/r.json"}), "{C}/f",
               workload_with([](const fs::path& wl) { write_text(wl.parent_path() / "f", "a file\n"); })});
  v.push_back({"EvalJsonIsADirectory",
               {"eval", "--config", "{CFG}", "--workload", "{C}/wl", "--no-area", "--json", "{C}/wl"}, "{C}/wl",
               workload_with([](const fs::path&) {})});
  // ---- read-only output directory
  v.push_back({"ReadOnlyGenerateOut", {"generate", "--config", "{CFG}", "--out", "{C}/ro/rtl"}, "{C}/ro/rtl",
               nullptr, Mount::kReadOnly});
  v.push_back({"ReadOnlyWorkloadOut", {"workload", "--config", "{CFG}", "--out", "{C}/ro/w"}, "{C}/ro/w", nullptr,
               Mount::kReadOnly});
  v.push_back({"ReadOnlyModelReport", with(kModel, {"--report", "{C}/ro/r.json"}), "{C}/ro/r.json",
               workload_with([](const fs::path&) {}), Mount::kReadOnly});
  v.push_back({"ReadOnlyModelOutTensor", with(kModel, {"--report", "{C}/r.json", "--out-tensor", "{C}/ro/o.npy"}), "{C}/ro/o.npy",
               workload_with([](const fs::path&) {}), Mount::kReadOnly});
  v.push_back({"ReadOnlyEvalJson",
               {"eval", "--config", "{CFG}", "--workload", "{C}/wl", "--no-area", "--json", "{C}/ro/sub/e.json"},
               "{C}/ro/sub/e.json", workload_with([](const fs::path&) {}), Mount::kReadOnly});
  v.push_back({"ReadOnlyCompressOut",
               {"compress", "--n", "2", "--m", "4", "--weights", "{C}/w.npy", "--out", "{C}/ro/z"}, "{C}/ro/z",
               [](const fs::path& c) { write_text(c / "w.npy", int8_npy(4, 2, 0)); }, Mount::kReadOnly});
  // ---- full disk (a 4 KiB tmpfs, already full)
  v.push_back({"FullDiskGenerate", {"generate", "--config", "{CFG}", "--out", "{C}/full/rtl"}, "{C}/full/rtl",
               nullptr, Mount::kFull});
  v.push_back({"FullDiskWorkload", {"workload", "--config", "{CFG}", "--out", "{C}/full/w"}, "{C}/full/w", nullptr,
               Mount::kFull});
  v.push_back({"FullDiskModelReport", with(kModel, {"--report", "{C}/full/r.json"}), "{C}/full/r.json",
               workload_with([](const fs::path&) {}), Mount::kFull});
  v.push_back({"FullDiskEvalJson",
               {"eval", "--config", "{CFG}", "--workload", "{C}/wl", "--no-area", "--json", "{C}/full/e.json"},
               "{C}/full/e.json", workload_with([](const fs::path&) {}), Mount::kFull});
  return v;
}

std::string expand(std::string s, const fs::path& c) {
  const std::map<std::string, std::string> vars = {{"{C}", c.string()}, {"{CFG}", kConfig}, {"{NMCFG}", kNmConfig}};
  for (const auto& [key, value] : vars) {
    for (size_t p = s.find(key); p != std::string::npos; p = s.find(key, p + value.size())) s.replace(p, key.size(), value);
  }
  return s;
}

// gtest prints a failing parameter with this (instead of its bytes).
void PrintTo(const Case& k, std::ostream* os) { *os << k.name; }

class BadInput : public ::testing::TestWithParam<Case> {};

TEST_P(BadInput, ExitsTwoWithOneLineNamingTheFaultAndLeavesNothing) {
  const Case& k = GetParam();
  TempDir t("accelgen-bad");
  const fs::path c = t.path() / "case";
  const fs::path logs = t.path() / "logs";
  fs::create_directories(c);
  fs::create_directories(logs);
  if (k.setup) k.setup(c);
  fs::path mount_dir;
  if (k.mount != Mount::kNone) {
    mount_dir = c / (k.mount == Mount::kReadOnly ? "ro" : "full");
    fs::create_directories(mount_dir);
    if (k.mount == Mount::kReadOnly && ::geteuid() != 0) {
      fs::permissions(mount_dir, fs::perms::owner_read | fs::perms::owner_exec);  // enough without root
      mount_dir.clear();
    }
  }
  const std::set<std::string> before = tree(c);
  std::vector<std::string> args;
  for (const auto& a : k.args) args.push_back(expand(a, c));
  const Outcome r = run(c, logs, args, mount_dir.empty() ? Mount::kNone : k.mount, mount_dir);
  if (!mount_dir.empty()) fs::permissions(mount_dir, fs::perms::owner_all);
  if (!r.ran) GTEST_SKIP() << "cannot mount a tmpfs in a private mount namespace (needs root or CAP_SYS_ADMIN)";

  const std::string cmd = "reproduce: " + kBin + " " + [&] {
    std::string s;
    for (const auto& a : args) s += "'" + a + "' ";
    return s;
  }();
  EXPECT_EQ(r.how, "exit 2") << cmd << "\nstderr:\n" << r.err << "stdout:\n" << r.out;
  const std::vector<std::string> lines = lines_of(r.err);
  ASSERT_EQ(lines.size(), 1u) << cmd << "\nstderr:\n" << r.err;
  EXPECT_NE(lines[0].find(expand(k.names, c)), std::string::npos)
      << "the message does not name " << expand(k.names, c) << ":\n" << lines[0];
  EXPECT_EQ(tree(c), before) << "the run left files behind or removed some; " << cmd;
  if (k.mount == Mount::kFull) {
    EXPECT_EQ(r.mounted_files, std::set<std::string>{"filler"}) << "left on the full disk; " << cmd;
  }
  EXPECT_FALSE(fs::exists(c / "PWNED")) << "a shell ran part of a path";
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadInput, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

// ------------------------------------------------------------------ valid odd paths work

// A directory name with spaces, quotes and every shell metacharacter: the tool must use it as is.
const std::string kOddName = "dir with spaces 'q' \"dq\" $HOME ;|&<>*?[a] $(touch PWNED) `touch PWNED` #~!";

TEST(CliPaths, OddPathsWorkForEveryCommand) {
  TempDir t("accelgen-paths");
  const fs::path c = t.path() / "case";
  const fs::path logs = t.path() / "logs";
  const fs::path odd = c / kOddName;
  fs::create_directories(odd);
  fs::create_directories(logs);
  fs::copy_file(kConfig, odd / "cfg file.json");
  write_workload(odd / "wl dir");
  write_text(odd / "w eights.npy", int8_npy(4, 2, 0));
  const std::string cfg = (odd / "cfg file.json").string();
  const std::vector<std::vector<std::string>> runs = {
      {"generate", "--config", cfg, "--out", (odd / "rtl out").string()},
      {"workload", "--config", cfg, "--lq", "2", "--lk", "8", "--out", (odd / "gen wl").string()},
      {"model", "--config", cfg, "--workload", (odd / "wl dir").string(), "--report", (odd / "r e.json").string(),
       "--out-tensor", (odd / "o t.npy").string()},
      {"eval", "--config", cfg, "--workload", (odd / "gen wl").string(), "--no-area", "--json",
       (odd / "new dir" / "e v.json").string()},
      {"compress", "--n", "2", "--m", "4", "--weights", (odd / "w eights.npy").string(), "--out",
       (odd / "z out").string()},
  };
  for (const auto& args : runs) {
    const Outcome r = run(c, logs, args, Mount::kNone, {});
    EXPECT_EQ(r.how, "exit 0") << args[0] << ":\n" << r.err;
  }
  for (const char* out : {"rtl out/manifest.json", "gen wl/params.json", "r e.json", "o t.npy",
                          "new dir/e v.json", "z out/meta.json"}) {
    EXPECT_TRUE(fs::exists(odd / out)) << out;
  }
  EXPECT_FALSE(fs::exists(c / "PWNED")) << "a shell ran part of a path";
  EXPECT_FALSE(fs::exists(odd / "PWNED"));
}

}  // namespace
}  // namespace accelgen
