// Helpers shared by the test suites: scratch directories, InputError capture, file I/O, small
// matrices, the regression config list and RTL mutation for sensitivity tests.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <sstream>
#include <fstream>
#include <iterator>
#include <functional>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"
#include "core/workload.h"
#include "flows/subprocess.h"
#include "gen/generator.h"

namespace accelgen::test_support {

// A fresh directory under the system temp dir, named after the running test, removed afterwards.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "accelgen-test") {
    static int counter = 0;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (prefix + "-" + std::string(info ? info->name() : "none") + "-" +
             std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `f`, expects a core::InputError and returns its message (empty string if none was thrown).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const core::InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected InputError, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected InputError, nothing was thrown";
  return "";
}

inline bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream os(p, std::ios::binary);
  os << text;
  ASSERT_TRUE(os.good()) << p;
}

// An integer matrix written row by row: rows({{1, 2}, {3, 4}}).
inline core::IntMatrix rows(std::initializer_list<std::initializer_list<int64_t>> r) {
  const Eigen::Index n = static_cast<Eigen::Index>(r.size());
  const Eigen::Index d = n == 0 ? 0 : static_cast<Eigen::Index>(r.begin()->size());
  core::IntMatrix m(n, d);
  Eigen::Index i = 0;
  for (const auto& row : r) {
    Eigen::Index t = 0;
    for (int64_t v : row) m(i, t++) = v;
    ++i;
  }
  return m;
}

// A random [k, c] matrix with at most `n` nonzeros in every column of every group of m rows (some
// groups fewer, some none), values from the whole `bits`-wide signed range, extremes often.
inline core::IntMatrix random_nm_sparse(std::mt19937_64& rng, int64_t k, int64_t c, int n, int m,
                                        int bits) {
  const int64_t lo = -(int64_t{1} << (bits - 1)), hi = (int64_t{1} << (bits - 1)) - 1;
  std::uniform_int_distribution<int64_t> value(lo, hi);
  core::IntMatrix w = core::IntMatrix::Zero(k, c);
  for (int64_t g = 0; g * m < k; ++g) {
    for (int64_t col = 0; col < c; ++col) {
      const int rows_here = static_cast<int>(std::min<int64_t>(m, k - g * m));
      std::vector<int> pos(static_cast<size_t>(rows_here));
      for (int i = 0; i < rows_here; ++i) pos[static_cast<size_t>(i)] = i;
      std::shuffle(pos.begin(), pos.end(), rng);
      const int nz = static_cast<int>(rng() % static_cast<uint64_t>(std::min(n, rows_here) + 1));
      for (int i = 0; i < nz; ++i) {
        const int64_t v = rng() % 4 == 0 ? (rng() % 2 ? lo : hi) : value(rng);
        w(g * m + pos[static_cast<size_t>(i)], col) = v == 0 ? 1 : v;
      }
    }
  }
  return w;
}

// Names (file stems) of configs/regression/*.json, sorted.
// The ports a generated module declares, as (name, direction is input, width). Widths are written
// with the module's header parameters ("[HeadDim*KWidth-1:0]"): the values come from its
// `parameter integer X = v` lines, and a width is a product of names and numbers (the only form
// the generator emits), so this reads the Verilog text on its own, not the generator's tables.
struct DeclaredPort {
  std::string name;
  bool input;
  int64_t width;
  bool operator==(const DeclaredPort&) const = default;
};

inline std::vector<DeclaredPort> declared_ports(const std::string& verilog) {
  std::map<std::string, int64_t> params;
  std::vector<DeclaredPort> ports;
  std::istringstream in(verilog);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find("//"));
    std::istringstream l(line);
    std::string first, second, tok;
    if (!(l >> first >> second)) continue;
    if (first == "parameter" && second == "integer") {
      std::string eq;
      int64_t v = 0;
      if (l >> tok >> eq >> v) params[tok] = v;
      continue;
    }
    if ((first != "input" && first != "output") || second != "wire" || !(l >> tok)) continue;
    int64_t width = 1;
    if (tok.front() == '[') {
      const std::string expr = tok.substr(1, tok.find("-1:0]") - 1);
      width = 1;
      std::istringstream factors(expr);
      for (std::string f; std::getline(factors, f, '*');) {
        const bool number = !f.empty() && std::isdigit(static_cast<unsigned char>(f[0]));
        if (!number && !params.count(f)) ADD_FAILURE() << "width names an undeclared parameter: " << f;
        width *= number ? std::stoll(f) : params[f];
      }
      if (tok.find("-1:0]") == std::string::npos) ADD_FAILURE() << "unexpected range: " << tok;
      l >> tok;
    }
    if (tok.back() == ',') tok.pop_back();
    ports.push_back({tok, first == "input", width});
  }
  return ports;
}

inline std::vector<std::string> regression_configs(const std::filesystem::path& source_dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(source_dir / "configs/regression")) {
    if (e.path().extension() == ".json") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A regression config by name (configs/regression/<name>.json under `source_dir`).
inline core::AttentionConfig regression_config(const std::filesystem::path& source_dir, const std::string& name) {
  return core::load_attention_config((source_dir / "configs/regression" / (name + ".json")).string());
}

// A fresh scratch directory <binary_dir>/test-scratch/<group>/<test>, kept afterwards so that a failure can be
// rerun by hand.
inline std::filesystem::path fresh_scratch(const std::filesystem::path& binary_dir, const std::string& group,
                                           const std::string& test) {
  const std::filesystem::path d = binary_dir / "test-scratch" / group / test;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// `accelgen` as a user runs it: the binary next to this test binary's directory (build/tests/x ->
// build/accelgen; empty when it has not been built), run with an argument vector (no shell), stdout and
// stderr captured in <t>/cli.log.
struct CliRun {
  int status;
  std::string output;
};

inline std::filesystem::path accelgen_binary() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const std::filesystem::path bin = self.parent_path().parent_path() / "accelgen";
  return std::filesystem::exists(bin) ? bin : std::filesystem::path();
}

inline CliRun run_accelgen(const TempDir& t, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {accelgen_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::filesystem::path log = t.path() / "cli.log";
  const flows::ProcessResult r = flows::run_process(argv, "", log, 600);
  return {r.exit_code, read_bytes(log)};
}

// The workload as a causal decoder head: key j visible to query i iff j <= i + offset.
inline core::AttentionWorkload causal(core::AttentionWorkload w, int64_t offset) {
  w.params.causal = true;
  w.params.causal_offset = offset;
  return w;
}

// The workload with a relative threshold: delta is the `quantile` of the gaps M_i - s_ij over the visible
// keys (0: only the maxima are kept, 1: nothing is dropped), computed here from the exact scores.
inline core::AttentionWorkload relative(core::AttentionWorkload w, double quantile) {
  const core::IntMatrix s = w.q * w.k.transpose();
  std::vector<int64_t> gaps;
  for (Eigen::Index i = 0; i < s.rows(); ++i) {
    const Eigen::Index n = core::visible_keys(w.params, i, s.cols());
    if (n == 0) continue;
    const int64_t m = s.row(i).head(n).maxCoeff();
    for (Eigen::Index j = 0; j < n; ++j) gaps.push_back(m - s(i, j));
  }
  std::sort(gaps.begin(), gaps.end());
  w.params.mode = core::ThresholdMode::relative;
  w.params.delta = gaps.empty() ? 0 : gaps[static_cast<size_t>(quantile * static_cast<double>(gaps.size() - 1))];
  return w;
}

// Replaces `good` by `bad` in the generated file `file` (sensitivity tests break the RTL on
// purpose). Returns false if the file or the text is not there, so a test notices a template change.
inline bool mutate_file(gen::Outputs& outputs, const std::string& file, const std::string& good,
                        const std::string& bad) {
  for (auto& f : outputs.files) {
    const size_t at = f.content.find(good);
    if (f.name == file && at != std::string::npos) {
      f.content.replace(at, good.size(), bad);
      return true;
    }
  }
  return false;
}

// X-state sweep (docs/verification.md "X-state"): runs the per-config simulator `argv` (without
// --report) once with every register starting at zero (+verilator+rand+reset+0) and once per seed
// from random power-up state (+verilator+rand+reset+2 +verilator+seed+N). Every run must pass and
// every random-state report must equal the zero-state report byte for byte: same results, same
// cycles. Returns "" or what failed, with the command that reproduces it.
inline std::string xstate_sweep(const std::vector<std::string>& argv, const std::filesystem::path& dir,
                                const std::string& label, std::initializer_list<int> seeds = {1, 2, 3}) {
  auto run = [&](const std::string& tag, const std::vector<std::string>& x, std::string& report) {
    std::vector<std::string> a = argv;
    const std::filesystem::path out = dir / (label + "_" + tag + ".json");
    a.insert(a.end(), {"--report", out.string()});
    a.insert(a.end(), x.begin(), x.end());
    std::string cmd;
    for (const std::string& s : a) cmd += " " + s;
    const std::filesystem::path log = dir / (label + "_" + tag + ".log");
    const flows::ProcessResult r = flows::run_process(a, "", log, 600);
    if (r.exit_code != 0) return label + " " + tag + " failed:\n" + read_bytes(log) + "reproduce:" + cmd + "\n";
    report = read_bytes(out);
    return std::string();
  };
  std::string zero;
  if (std::string e = run("x0", {"+verilator+rand+reset+0"}, zero); !e.empty()) return e;
  for (const int seed : seeds) {
    const std::string tag = "xrand" + std::to_string(seed);
    std::string got;
    if (std::string e = run(tag, {"+verilator+rand+reset+2", "+verilator+seed+" + std::to_string(seed)}, got);
        !e.empty()) {
      return e;
    }
    if (got != zero) {
      return label + ": the report from random power-up state (seed " + std::to_string(seed) +
             ") differs from the zero-state report: " + (dir / (label + "_" + tag + ".json")).string() +
             " vs " + (dir / (label + "_x0.json")).string() + "\n";
    }
  }
  return "";
}

}  // namespace accelgen::test_support
