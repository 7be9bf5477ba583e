// accelgen::cli — `accelgen compress`: a dense integer weight matrix (w.npy, [K, C]) to the
// compressed N:M form the array consumes (core/nm_compress.h, docs/nm_array.md), written as a
// directory with values.npy, indices.npy and meta.json. A matrix that is not N:M sparse is bad
// input (exit 2, naming the first offending group and column) unless --prune magnitude is given.
#include "cli/compress_cmd.h"

#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "core/nm_compress.h"
#include "core/npy.h"

namespace accelgen::cli {
namespace {

struct CompressArgs {
  int n = 0, m = 0;
  std::string weights, out, prune;
};

core::Prune parse_prune(const std::string& prune) {
  if (prune.empty()) return core::Prune::kNone;
  if (prune == "magnitude") return core::Prune::kMagnitude;
  throw core::InputError("--prune", fmt::format("\"{}\" is not a pruning method; allowed: magnitude",
                                                prune));
}

void cmd_compress(const CompressArgs& a) {
  core::check_nm_pattern(a.n, a.m, "--n", "--m");
  const core::Prune prune = parse_prune(a.prune);  // before reading a possibly large file
  const core::IntMatrix w = core::read_npy(a.weights);
  const core::NmCompressed c = core::compress(w, a.n, a.m, prune, a.weights);
  core::write_compressed(c, prune, a.out);
  const int64_t removed = core::count_nonzeros(w) - core::count_nonzeros(core::decompress(c));
  std::cout << fmt::format("compressed {} [K={}, C={}] to {}:{} ({} groups, {} slots, {} "
                           "nonzeros pruned) in {}\n",
                           a.weights, c.k, c.cols, c.n, c.m, c.groups(), c.values.size(), removed,
                           a.out);
}

}  // namespace

void add_compress_command(CLI::App& app) {
  auto a = std::make_shared<CompressArgs>();
  auto* c = app.add_subcommand("compress",
                               "compress a dense int weight matrix to N:M values + indices "
                               "(docs/nm_array.md)");
  c->add_option("--n", a->n, "nonzeros kept per group, 1..m")->required();
  c->add_option("--m", a->m, "group size along k: 1, 2, 4, 8 or 16")->required();
  c->add_option("--weights", a->weights, "dense weights, .npy of shape [K, C]")->required();
  c->add_option("--out", a->out, "output directory (values.npy, indices.npy, meta.json)")
      ->required();
  c->add_option("--prune", a->prune,
                "magnitude: prune each group to its n largest |w| (ties to the lower index) "
                "instead of rejecting a matrix that is not N:M sparse");
  c->callback([a] { cmd_compress(*a); });
}

}  // namespace accelgen::cli
