// Tests for core/nm_compress.{h,cpp} and the N-D .npy arrays it writes: the canonical compressed
// form (docs/nm_array.md "Compressed weight layout"), the error naming the first offending
// (group, column), magnitude pruning, round trips through memory and through files.
//
// Expected arrays of the small cases are worked out by hand from the canonical slot rule; the
// random round trips (seeded loops that print their seed) check the laws: decompress(compress(W))
// == W, compress is deterministic, slot indices are the nonzeros plus the smallest free indices,
// and pruning keeps the n largest |w| with ties to the lower index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/nm_compress.h"
#include "core/npy.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

using accelgen::test_support::error_of;
using accelgen::test_support::random_nm_sparse;
using accelgen::test_support::has;
using accelgen::test_support::read_bytes;
using accelgen::test_support::rows;
using TempDir = accelgen::test_support::TempDir;

constexpr std::pair<int, int> kPatterns[] = {{1, 2}, {1, 4}, {2, 4}, {2, 8}, {4, 8},
                                             {4, 4}, {1, 1}, {3, 8}, {8, 16}, {16, 16}};

// ------------------------------------------------------------------------------ hand-made cases

TEST(NmCompressCanonical, PaddingSlotsTakeTheSmallestFreeIndicesInOrder) {
  // 2:4, one column, group [0, 0, 5, 0]: nonzero {2}, smallest free index 0 -> indices [0, 2].
  const NmCompressed c = compress(rows({{0}, {0}, {5}, {0}}), 2, 4, Prune::kNone);
  EXPECT_EQ(c.indices, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(c.values, (std::vector<int64_t>{0, 5}));
}

TEST(NmCompressCanonical, TwoGroupsTwoColumnsByHand) {
  // W [8, 2], 2:4. Groups: g0 rows 0..3, g1 rows 4..7. Layout [G][C][n].
  const IntMatrix w = rows({{0, 1}, {3, 0}, {0, 0}, {-4, 2},    // g0: c0 {1:3, 3:-4}, c1 {0:1, 3:2}
                            {0, 0}, {0, 0}, {0, 0}, {0, -7}});  // g1: c0 none, c1 {3:-7}
  const NmCompressed c = compress(w, 2, 4, Prune::kNone);
  EXPECT_EQ(c.groups(), 2);
  //                                      g0c0    g0c1    g1c0    g1c1
  EXPECT_EQ(c.indices, (std::vector<int64_t>{1, 3, 0, 3, 0, 1, 0, 3}));
  EXPECT_EQ(c.values, (std::vector<int64_t>{3, -4, 1, 2, 0, 0, 0, -7}));
  EXPECT_EQ(decompress(c), w);
}

TEST(NmCompressCanonical, AllZeroWeightsGiveIndicesZeroToNMinusOne) {
  const NmCompressed c = compress(IntMatrix::Zero(8, 3), 4, 8, Prune::kNone);
  for (int64_t g = 0; g < c.groups(); ++g) {
    for (int64_t col = 0; col < 3; ++col) {
      for (int s = 0; s < 4; ++s) {
        EXPECT_EQ(c.indices[c.at(g, col, s)], s);
        EXPECT_EQ(c.values[c.at(g, col, s)], 0);
      }
    }
  }
  EXPECT_EQ(decompress(c), IntMatrix::Zero(8, 3));
}

TEST(NmCompressCanonical, KNotAMultipleOfMPadsTheLastGroup) {
  // K = 5, 2:4: G = 2; the last group has one real row (k = 4). Its value 9 sits at index 0 and
  // the padding slot takes index 1, which stands for the padding row k = 5 (value 0).
  const IntMatrix w = rows({{1}, {0}, {0}, {2}, {9}});
  const NmCompressed c = compress(w, 2, 4, Prune::kNone);
  EXPECT_EQ(c.groups(), 2);
  EXPECT_EQ(c.indices, (std::vector<int64_t>{0, 3, 0, 1}));
  EXPECT_EQ(c.values, (std::vector<int64_t>{1, 2, 9, 0}));
  EXPECT_EQ(decompress(c), w);
}

TEST(NmCompressCanonical, DenseMMPatternKeepsEveryEntry) {
  const IntMatrix w = rows({{1, -2}, {3, 4}, {-5, 6}, {7, -8}});
  const NmCompressed c = compress(w, 4, 4, Prune::kNone);
  EXPECT_EQ(c.indices, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(c.values, (std::vector<int64_t>{1, 3, -5, 7, -2, 4, 6, -8}));
}

// --------------------------------------------------------------------------------------- errors

TEST(NmCompressErrors, NamesTheFirstOffendingGroupAndColumnGroupMajor) {
  // Violations at (group 1, column 0) and (group 0, column 2); group-major order finds (0, 2).
  IntMatrix w = IntMatrix::Zero(8, 3);
  w(4, 0) = w(5, 0) = w(6, 0) = 1;  // group 1, column 0: 3 nonzeros
  w(0, 2) = w(1, 2) = w(3, 2) = -1; // group 0, column 2: 3 nonzeros
  const std::string msg = error_of([&] { compress(w, 2, 4, Prune::kNone, "w.npy"); });
  EXPECT_EQ(msg, "w.npy: group 0, column 2 has 3 nonzeros, 2:4 allows at most 2");
  const auto v = first_nm_violation(w, 2, 4);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->group, 0);
  EXPECT_EQ(v->column, 2);
  EXPECT_EQ(v->nonzeros, 3);
}

TEST(NmCompressErrors, FewerThanNNonzerosIsNotAnError) {
  EXPECT_FALSE(first_nm_violation(rows({{0}, {0}, {1}, {0}, {0}, {0}, {0}, {0}}), 2, 8));
}

TEST(NmCompressErrors, BadPatternsAndEmptyMatricesAreRejected) {
  EXPECT_TRUE(has(error_of([] { compress(IntMatrix::Zero(4, 1), 2, 3, Prune::kNone); }),
                  "allowed 1, 2, 4, 8, 16"));
  EXPECT_TRUE(has(error_of([] { compress(IntMatrix::Zero(4, 1), 5, 4, Prune::kNone); }),
                  "[1, 4]"));
  EXPECT_TRUE(has(error_of([] { compress(IntMatrix::Zero(0, 1), 2, 4, Prune::kNone); }),
                  "empty"));
  EXPECT_TRUE(has(error_of([] { compress(IntMatrix::Zero(4, 0), 2, 4, Prune::kNone); }),
                  "empty"));
}

TEST(NmCompressErrors, ValidateRejectsMalformedForms) {
  NmCompressed c = compress(rows({{1}, {0}, {0}, {2}, {9}}), 2, 4, Prune::kNone);
  NmCompressed bad = c;
  bad.indices[1] = bad.indices[0];  // not strictly increasing
  EXPECT_TRUE(has(error_of([&] { validate_compressed(bad, "t"); }), "group 0, column 0"));
  bad = c;
  bad.indices[1] = 4;  // out of [0, m)
  EXPECT_TRUE(has(error_of([&] { validate_compressed(bad, "t"); }), "[0, 3]"));
  bad = c;
  bad.values[3] = 5;  // slot pointing at padding row k = 5 >= K holds a nonzero
  EXPECT_TRUE(has(error_of([&] { decompress(bad); }), "padding row 5"));
  bad = c;
  bad.values.pop_back();
  EXPECT_TRUE(has(error_of([&] { validate_compressed(bad, "t"); }), "[G, C, n] = [2, 1, 2]"));
}

// -------------------------------------------------------------------------------------- pruning

TEST(NmCompressPrune, KeepsTheLargestMagnitudesTiesToTheLowerIndex) {
  // Column 0, 2:4: |3| ties at rows 0, 1, 3 -> rows 0 and 1. Column 1, 1:4 would keep -7.
  const IntMatrix w = rows({{3, -7}, {-3, 2}, {1, 6}, {3, 1}});
  EXPECT_EQ(decompress(compress(w, 2, 4, Prune::kMagnitude)),
            rows({{3, -7}, {-3, 0}, {0, 6}, {0, 0}}));
  EXPECT_EQ(decompress(compress(w, 1, 4, Prune::kMagnitude)),
            rows({{3, -7}, {0, 0}, {0, 0}, {0, 0}}));
}

TEST(NmCompressPrune, MostNegativeInt64HasTheLargestMagnitude) {
  const int64_t lo = std::numeric_limits<int64_t>::min();
  const IntMatrix w = rows({{std::numeric_limits<int64_t>::max()}, {lo}});
  EXPECT_EQ(decompress(compress(w, 1, 2, Prune::kMagnitude)), rows({{0}, {lo}}));
}

TEST(NmCompressPrune, ASparseMatrixIsLeftAlone) {
  const IntMatrix w = rows({{0}, {4}, {0}, {-1}, {0}, {0}, {0}, {0}});
  EXPECT_EQ(compress(w, 2, 4, Prune::kMagnitude), compress(w, 2, 4, Prune::kNone));
}

// ---------------------------------------------------------------------------- random round trips

TEST(NmCompressRandom, CompressThenDecompressIsIdentity) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto [n, m] = kPatterns[seed % std::size(kPatterns)];
    const int64_t k = 1 + static_cast<int64_t>(rng() % 40);
    const int64_t c = 1 + static_cast<int64_t>(rng() % 6);
    const IntMatrix w = random_nm_sparse(rng, k, c, n, m, 2 + static_cast<int>(rng() % 15));
    const NmCompressed a = compress(w, n, m, Prune::kNone);
    ASSERT_EQ(decompress(a), w) << n << ":" << m << " K=" << k << " C=" << c;
    EXPECT_EQ(compress(w, n, m, Prune::kNone), a);  // deterministic
    EXPECT_EQ(compress(w, n, m, Prune::kMagnitude), a);  // nothing to prune
  }
}

TEST(NmCompressRandom, SlotIndicesAreTheNonzerosPlusTheSmallestFreeIndices) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto [n, m] = kPatterns[seed % std::size(kPatterns)];
    const int64_t k = 1 + static_cast<int64_t>(rng() % 33), cols = 1 + static_cast<int64_t>(rng() % 4);
    const IntMatrix w = random_nm_sparse(rng, k, cols, n, m, 8);
    const NmCompressed c = compress(w, n, m, Prune::kNone);
    for (int64_t g = 0; g < c.groups(); ++g) {
      for (int64_t col = 0; col < cols; ++col) {
        std::vector<int64_t> expected;  // the rule written independently: nonzeros first...
        for (int i = 0; i < m && g * m + i < k; ++i) {
          if (w(g * m + i, col) != 0) expected.push_back(i);
        }
        for (int i = 0; static_cast<int>(expected.size()) < n; ++i) {  // ...then free indices
          if (std::count(expected.begin(), expected.end(), i) == 0) expected.push_back(i);
        }
        std::sort(expected.begin(), expected.end());
        const auto first = c.indices.begin() + static_cast<std::ptrdiff_t>(c.at(g, col, 0));
        EXPECT_EQ(std::vector<int64_t>(first, first + n), expected) << "group " << g << " col " << col;
      }
    }
  }
}

TEST(NmCompressRandom, PruningKeepsTheNLargestMagnitudesPerGroup) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto [n, m] = kPatterns[seed % std::size(kPatterns)];
    const int64_t k = 1 + static_cast<int64_t>(rng() % 40), cols = 1 + static_cast<int64_t>(rng() % 4);
    IntMatrix w(k, cols);
    for (int64_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<int64_t>(rng() % 9) - 4;
    const IntMatrix p = decompress(compress(w, n, m, Prune::kMagnitude));
    EXPECT_FALSE(first_nm_violation(p, n, m).has_value());
    for (int64_t g = 0; g * m < k; ++g) {
      for (int64_t col = 0; col < cols; ++col) {
        std::vector<int64_t> kept_mag, dropped_mag;
        int64_t last_kept_tie = -1, first_dropped_tie = m;
        for (int i = 0; i < m && g * m + i < k; ++i) {
          const int64_t orig = w(g * m + i, col), now = p(g * m + i, col);
          ASSERT_TRUE(now == orig || now == 0);
          if (orig == 0) continue;
          (now != 0 ? kept_mag : dropped_mag).push_back(std::abs(orig));
        }
        const int nz = static_cast<int>(kept_mag.size() + dropped_mag.size());
        EXPECT_EQ(static_cast<int>(kept_mag.size()), std::min(n, nz));
        if (kept_mag.empty() || dropped_mag.empty()) continue;
        const int64_t min_kept = *std::min_element(kept_mag.begin(), kept_mag.end());
        EXPECT_LE(*std::max_element(dropped_mag.begin(), dropped_mag.end()), min_kept);
        // Ties at the boundary magnitude: every kept one has a lower index than every dropped one.
        for (int i = 0; i < m && g * m + i < k; ++i) {
          if (std::abs(w(g * m + i, col)) != min_kept) continue;
          if (p(g * m + i, col) != 0) last_kept_tie = i;
          else if (first_dropped_tie == m) first_dropped_tie = i;
        }
        EXPECT_LT(last_kept_tie, first_dropped_tie) << "group " << g << " col " << col;
      }
    }
  }
}

// ------------------------------------------------------------------------------------ directory

TEST(NmCompressFiles, WriteThenReadIsIdentityAndShapesAreGCN) {
  TempDir t;
  const IntMatrix w = rows({{1, 0}, {0, 3}, {2, 0}, {0, 0}, {7, -8}});
  const NmCompressed c = compress(w, 2, 4, Prune::kNone);
  const std::string dir = (t.path() / "c").string();
  write_compressed(c, Prune::kNone, dir);
  EXPECT_EQ(read_compressed(dir), c);
  EXPECT_EQ(read_npy_array(dir + "/values.npy").shape, (std::vector<int64_t>{2, 2, 2}));
  EXPECT_EQ(read_npy_array(dir + "/indices.npy").shape, (std::vector<int64_t>{2, 2, 2}));
  const auto meta = nlohmann::json::parse(read_bytes(t.path() / "c" / "meta.json"));
  EXPECT_EQ(meta.at("k"), 5);
  EXPECT_EQ(meta.at("cols"), 2);
  EXPECT_EQ(meta.at("groups"), 2);
  EXPECT_EQ(meta.at("index_bits"), 2);
  EXPECT_EQ(meta.at("prune"), "none");
}

TEST(NmCompressFiles, ReadRejectsAForeignIndexFileNamingIt) {
  TempDir t;
  const std::string dir = (t.path() / "c").string();
  write_compressed(compress(rows({{1}, {0}, {0}, {2}}), 2, 4, Prune::kNone), Prune::kNone, dir);
  write_npy_array(dir + "/indices.npy", NpyArray{{1, 1, 2}, {3, 1}});  // decreasing
  EXPECT_TRUE(has(error_of([&] { read_compressed(dir); }), "increasing"));
  write_npy_array(dir + "/indices.npy", NpyArray{{1, 2}, {0, 3}});  // wrong rank
  EXPECT_TRUE(has(error_of([&] { read_compressed(dir); }), "indices.npy: shape must be"));
  std::filesystem::remove(dir + "/meta.json");
  EXPECT_TRUE(has(error_of([&] { read_compressed(dir); }), "meta.json"));
}

TEST(NmCompressFiles, RefusesToReplaceAnUnrelatedDirectory) {
  TempDir t;
  test_support::write_text(t.path() / "notes.txt", "keep me");
  const std::string msg = error_of([&] {
    write_compressed(compress(IntMatrix::Zero(2, 1), 1, 2, Prune::kNone), Prune::kNone,
                     t.path().string());
  });
  EXPECT_TRUE(has(msg, "meta.json")) << msg;
  EXPECT_TRUE(std::filesystem::exists(t.path() / "notes.txt"));
}

// --------------------------------------------------------------------------- N-D .npy arrays

TEST(NpyArrayND, ThreeDimensionalRoundTripAndHeaderBytes) {
  const NpyArray a{{2, 3, 1}, {1, -2, 3, -4, 5, -128}};
  const std::string bytes = serialize_npy_array(a);
  // Header as numpy >= 1.24 writes it: dict, 21 - len("2") growth spaces, padding to 128 bytes.
  const std::string dict = "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3, 1), }";
  ASSERT_EQ(bytes.size(), 128u + 6u);
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[127], '\n');
  EXPECT_EQ(bytes.substr(10 + dict.size(), 117 - dict.size()), std::string(117 - dict.size(), ' '));
  EXPECT_EQ(static_cast<unsigned char>(bytes[133]), 0x80);  // -128 as int8
  EXPECT_EQ(parse_npy_array(bytes, "a.npy"), a);
}

TEST(NpyArrayND, FortranOrderIsReorderedToCOrder) {
  // shape (2, 2, 2), Fortran order: the first index varies fastest.
  std::string header = "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 2, 2), }";
  header.append(64 * 2 - 10 - header.size() - 1, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                      '\0' + header;
  // Fortran sequence of a[i][j][k] = 100i + 10j + k: a000, a100, a010, a110, a001, a101, ...
  for (int f = 0; f < 8; ++f) {
    const int i = f % 2, j = (f / 2) % 2, k = f / 4;
    const int v = 100 * i + 10 * j + k;
    bytes += static_cast<char>(v & 0xff);
    bytes += static_cast<char>(v >> 8);
  }
  const NpyArray a = parse_npy_array(bytes, "f.npy");
  EXPECT_EQ(a.data, (std::vector<int64_t>{0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(NpyArrayND, MatrixWritersAreUnchangedByTheGeneralHeader) {
  // A 2-D array written through either API gives the same bytes.
  const IntMatrix m = rows({{1, 2, 3}, {4, 5, 300}});
  EXPECT_EQ(serialize_npy(m), serialize_npy_array(NpyArray{{2, 3}, {1, 2, 3, 4, 5, 300}}));
}

TEST(NpyArrayND, TruncatedThreeDimensionalDataIsRejected) {
  std::string bytes = serialize_npy_array(NpyArray{{1, 2, 2}, {1, 2, 3, 4}});
  bytes.pop_back();
  EXPECT_TRUE(has(error_of([&] { parse_npy_array(bytes, "t.npy"); }), "truncated data"));
}

// meta.json may claim any size: K = 2^63 - 1 made G = ceil(K / m) overflow int64 (undefined
// behaviour, found while writing fuzz/nm_compress_fuzz.cpp); sizes are bounded before any arithmetic.
TEST(NmCompressedParts, HugeSizesInMetaAreRejectedNamingTheFile) {
  const NpyArray empty{{0, 1, 2}, {}};
  for (const auto& [k, cols] : std::vector<std::pair<int64_t, int64_t>>{
           {std::numeric_limits<int64_t>::max(), 1}, {1, std::numeric_limits<int64_t>::max()},
           {int64_t{1} << 40, int64_t{1} << 40}, {0, 1}}) {
    const nlohmann::json meta = {{"format", "accelgen-nm-compressed"}, {"n", 2}, {"m", 4}, {"k", k}, {"cols", cols}};
    const std::string msg = error_of(
        [&] { compressed_from_parts(meta, "d/meta.json", {empty, "d/values.npy"}, {empty, "d/indices.npy"}, "d"); });
    EXPECT_TRUE(has(msg, "d/meta.json")) << msg;
    EXPECT_TRUE(has(msg, "allowed k >= 1")) << msg;
  }
}

TEST(NmCompressedParts, ValidPartsGiveTheFormAndWrongShapesNameTheArray) {
  const nlohmann::json meta = {{"format", "accelgen-nm-compressed"}, {"n", 1}, {"m", 2}, {"k", 3}, {"cols", 1}};
  const NpyArray values{{2, 1, 1}, {7, -3}};
  const NpyArray indices{{2, 1, 1}, {1, 0}};
  const NmCompressed c = compressed_from_parts(meta, "m", {values, "v"}, {indices, "i"}, "d");
  EXPECT_EQ(decompress(c), rows({{0}, {7}, {-3}}));
  const NpyArray wrong{{1, 1, 1}, {0}};
  EXPECT_TRUE(has(error_of([&] { compressed_from_parts(meta, "m", {values, "v"}, {wrong, "i"}, "d"); }), "i: shape"));
}

}  // namespace
}  // namespace accelgen::core
