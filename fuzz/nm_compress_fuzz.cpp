// Fuzz target: N:M compression (core/nm_compress.cpp). The first byte picks the path:
//   even: compress a dense matrix. Bytes 1..5 give n, m (one of 1, 2, 4, 8, 16, or an unsupported
//         value), K, C (1..16 each; 0 for an empty matrix) and the prune mode; the rest are the
//         elements (int8, or int64 with extremes when the mode byte says so). Accepted: the form
//         validates, decompresses to W without pruning, and with magnitude pruning to an n:m-sparse
//         matrix whose every nonzero is W's element there.
//   odd:  read a compressed directory's parts (compressed_from_parts): two length bytes split the
//         rest into meta.json text, values.npy bytes and indices.npy bytes. Accepted: decompresses.
// Rejections must be core::InputError.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/config.h"
#include "core/error.h"
#include "core/nm_compress.h"
#include "core/npy.h"
#include "fuzz/fuzz_support.h"

using namespace accelgen;

namespace {

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  int64_t int64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | byte();
    return static_cast<int64_t>(v);
  }
  std::string take(size_t n) {
    n = std::min(n, size_ - pos_);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string rest() { return take(size_ - pos_); }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

int pattern_value(uint8_t b) {
  static const int kValues[] = {1, 2, 4, 8, 16, 3, 0, -1};
  return kValues[b % 8];
}

void compress_dense(Bytes& in) {
  const int n = pattern_value(in.byte());
  const int m = pattern_value(in.byte());
  const int64_t k = in.byte() % 17;
  const int64_t cols = in.byte() % 17;
  const uint8_t mode = in.byte();
  const core::Prune prune = (mode & 1) ? core::Prune::kMagnitude : core::Prune::kNone;
  const bool wide = (mode & 2) != 0;
  core::IntMatrix w = core::IntMatrix::Zero(k, cols);
  for (int64_t i = 0; i < k; ++i) {
    for (int64_t c = 0; c < cols; ++c) {
      if (!wide) {
        w(i, c) = static_cast<int8_t>(in.byte());
        continue;
      }
      const uint8_t kind = in.byte();
      w(i, c) = kind == 0xff ? std::numeric_limits<int64_t>::min()
              : kind == 0xfe ? std::numeric_limits<int64_t>::max()
              : kind >= 0x80 ? in.int64()
                             : 0;
    }
  }
  const core::NmCompressed z = core::compress(w, n, m, prune, "w.npy");
  core::validate_compressed(z, "fuzz");
  const core::IntMatrix back = core::decompress(z);
  FUZZ_CHECK(back.rows() == k && back.cols() == cols);
  if (prune == core::Prune::kNone) {
    FUZZ_CHECK(back == w);
  } else {
    FUZZ_CHECK(!core::first_nm_violation(back, n, m).has_value());
    for (int64_t i = 0; i < k; ++i)
      for (int64_t c = 0; c < cols; ++c) FUZZ_CHECK(back(i, c) == 0 || back(i, c) == w(i, c));
  }
}

void read_parts(Bytes& in) {
  const size_t meta_len = in.byte();
  const size_t values_len = in.byte() * size_t{4};
  const std::string meta_text = in.take(meta_len);
  const std::string values_bytes = in.take(values_len);
  const std::string indices_bytes = in.rest();
  const nlohmann::json meta = core::parse_json_text(meta_text, "meta.json");
  const core::NpyArray values = core::parse_npy_array(values_bytes, "values.npy");
  const core::NpyArray indices = core::parse_npy_array(indices_bytes, "indices.npy");
  const core::NmCompressed z =
      core::compressed_from_parts(meta, "meta.json", {values, "values.npy"}, {indices, "indices.npy"}, "fuzz");
  const core::IntMatrix w = core::decompress(z);
  FUZZ_CHECK(w.rows() == z.k && w.cols() == z.cols);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  try {
    if ((in.byte() & 1) == 0) {
      compress_dense(in);
    } else {
      read_parts(in);
    }
  } catch (const core::InputError&) {
  }
  return 0;
}
