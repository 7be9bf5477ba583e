// Tests for core/npy.{h,cpp}: the .npy reader and writer.
//
// Expected values never come from the code under test: the fixtures below are the exact bytes
// numpy 1.24 writes (np.lib.format.write_array) for small arrays, typed out by hand, and expected
// matrices are written out element by element.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/npy.h"

namespace accelgen::core {
namespace {

constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

// Bytes from a list of values 0..255 (avoids "\x00..." literal pitfalls with embedded NULs and
// greedy hex escapes).
std::string B(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

// "\x93NUMPY", version 1.0, header length 118 (0x76): what numpy writes for every small 2-D array.
const std::string kPrefixV1 = B({0x93, 'N', 'U', 'M', 'P', 'Y', 0x01, 0x00, 0x76, 0x00});
// Same for versions 2.0 and 3.0, whose header length is a uint32: 116 (0x74) keeps the data at 128.
const std::string kPrefixV2 =
    B({0x93, 'N', 'U', 'M', 'P', 'Y', 0x02, 0x00, 0x74, 0x00, 0x00, 0x00});
const std::string kPrefixV3 =
    B({0x93, 'N', 'U', 'M', 'P', 'Y', 0x03, 0x00, 0x74, 0x00, 0x00, 0x00});

// np.array([[1,-2,3],[4,5,-6]], dtype=np.int16)
const std::string kInt16C =
    kPrefixV1 + "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }" +
    std::string(58, ' ') + "\n" +
    B({0x01, 0x00, 0xfe, 0xff, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0xfa, 0xff});

// np.asfortranarray(np.array([[1,-2,3],[4,5,-6]], dtype=np.int16)): data is column by column.
const std::string kInt16F =
    kPrefixV1 + "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3), }" +
    std::string(59, ' ') + "\n" +
    B({0x01, 0x00, 0x04, 0x00, 0xfe, 0xff, 0x05, 0x00, 0x03, 0x00, 0xfa, 0xff});

// np.array([[1,-2,3],[4,5,-6]], dtype='>i4')
const std::string kInt32BigEndian =
    kPrefixV1 + "{'descr': '>i4', 'fortran_order': False, 'shape': (2, 3), }" +
    std::string(58, ' ') + "\n" +
    B({0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x03,
       0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff, 0xff, 0xfa});

// np.array([[-128,127],[0,-1]], dtype=np.int8)
const std::string kInt8 = kPrefixV1 +
                          "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2), }" +
                          std::string(58, ' ') + "\n" + B({0x80, 0x7f, 0x00, 0xff});

// np.asfortranarray(np.array([[1,2],[-3,4],[5,-128]], dtype=np.int8))
const std::string kInt8F = kPrefixV1 +
                           "{'descr': '|i1', 'fortran_order': True, 'shape': (3, 2), }" +
                           std::string(59, ' ') + "\n" + B({0x01, 0xfd, 0x05, 0x02, 0x04, 0x80});

// np.asfortranarray(np.array([[1,2],[-3,4],[5,-32768]], dtype='>i2'))
const std::string kInt16BigEndianF =
    kPrefixV1 + "{'descr': '>i2', 'fortran_order': True, 'shape': (3, 2), }" +
    std::string(59, ' ') + "\n" +
    B({0x00, 0x01, 0xff, 0xfd, 0x00, 0x05, 0x00, 0x02, 0x00, 0x04, 0x80, 0x00});

// np.array([[-2**63, 2**63-1],[-1, 256]], dtype='>i8')
const std::string kInt64BigEndian =
    kPrefixV1 + "{'descr': '>i8', 'fortran_order': False, 'shape': (2, 2), }" +
    std::string(58, ' ') + "\n" +
    B({0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00});

// np.lib.format.write_array(f, np.array([[1,-2,3],[4,5,-6]], dtype='<i8'), version=(2, 0))
const std::string kInt64V2 =
    kPrefixV2 + "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }" +
    std::string(56, ' ') + "\n" +
    B({0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
       0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
       0x00, 0x00, 0x00, 0x00, 0xfa, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});

// np.array([7,-8,9], dtype='<i4'), versions 1.0 and 3.0
const std::string k1dV1 =
    kPrefixV1 + "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') +
    "\n" + B({0x07, 0x00, 0x00, 0x00, 0xf8, 0xff, 0xff, 0xff, 0x09, 0x00, 0x00, 0x00});
const std::string k1dV3 =
    kPrefixV3 + "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }" + std::string(58, ' ') +
    "\n" + B({0x07, 0x00, 0x00, 0x00, 0xf8, 0xff, 0xff, 0xff, 0x09, 0x00, 0x00, 0x00});

// np.zeros((0, 4), dtype=np.int64)
const std::string kEmptyInt64 = kPrefixV1 +
                                "{'descr': '<i8', 'fortran_order': False, 'shape': (0, 4), }" +
                                std::string(58, ' ') + "\n";

// np.array([[70000, -1]], dtype=np.int32)
const std::string kInt32Row =
    kPrefixV1 + "{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }" +
    std::string(58, ' ') + "\n" + B({0x70, 0x11, 0x01, 0x00, 0xff, 0xff, 0xff, 0xff});

// np.array([[-2**63, 2**63-1],[-1, 256]], dtype='<i8')
const std::string kInt64Little =
    kPrefixV1 + "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }" +
    std::string(58, ' ') + "\n" +
    B({0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0xff, 0xff, 0xff,
       0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
       0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});

// Builds a .npy from a header text and raw data, with no padding: for headers numpy would not
// write but a reader should still accept (or must reject).
std::string make_npy(const std::string& header, const std::string& data, int major = 1) {
  std::string out = B({0x93, 'N', 'U', 'M', 'P', 'Y', major, 0x00});
  const size_t len = header.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (major != 1) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + header + data;
}

// Six little-endian int16 values 1, -2, 3, 4, 5, -6.
const std::string kSixInt16 =
    B({0x01, 0x00, 0xfe, 0xff, 0x03, 0x00, 0x04, 0x00, 0x05, 0x00, 0xfa, 0xff});

IntMatrix matrix(int64_t rows, int64_t cols, std::initializer_list<int64_t> values) {
  IntMatrix m(rows, cols);
  EXPECT_EQ(static_cast<int64_t>(values.size()), rows * cols);
  int64_t k = 0;
  for (int64_t v : values) {
    m(k / cols, k % cols) = v;
    ++k;
  }
  return m;
}

void expect_matrix_eq(const IntMatrix& actual, const IntMatrix& expected) {
  ASSERT_EQ(actual.rows(), expected.rows());
  ASSERT_EQ(actual.cols(), expected.cols());
  for (int64_t r = 0; r < expected.rows(); ++r) {
    for (int64_t c = 0; c < expected.cols(); ++c) {
      EXPECT_EQ(actual(r, c), expected(r, c)) << "at (" << r << ", " << c << ")";
    }
  }
}

// The InputError message of `f`, or a test failure if it throws nothing.
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

// Parses `bytes` under a distinctive name and checks the rejection names the file and the problem.
void expect_rejected(const std::string& bytes, const std::string& word, bool allow_1d = false) {
  const std::string name = "input_under_test.npy";
  std::string where;
  const std::string message = error_of([&] {
    try {
      parse_npy(bytes, name, allow_1d);
    } catch (const InputError& e) {
      where = e.where();
      throw;
    }
  });
  EXPECT_EQ(where, name);
  EXPECT_NE(message.find(name), std::string::npos) << message;
  EXPECT_NE(message.find(word), std::string::npos) << "expected '" << word << "' in: " << message;
}

std::string temp_path(const std::string& leaf) {
  return (std::filesystem::path(::testing::TempDir()) / ("accelgen_npy_" + leaf)).string();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

// ---------------------------------------------------------------------------------------------
// Reading numpy's own bytes

TEST(NpyFixtures, HaveNumpysFileSizes) {
  // Guards the hand-typed fixtures themselves: these are the sizes of numpy's files.
  EXPECT_EQ(kInt16C.size(), 140u);
  EXPECT_EQ(kInt16F.size(), 140u);
  EXPECT_EQ(kInt32BigEndian.size(), 152u);
  EXPECT_EQ(kInt8.size(), 132u);
  EXPECT_EQ(kInt8F.size(), 134u);
  EXPECT_EQ(kInt16BigEndianF.size(), 140u);
  EXPECT_EQ(kInt64BigEndian.size(), 160u);
  EXPECT_EQ(kInt64V2.size(), 176u);
  EXPECT_EQ(k1dV1.size(), 140u);
  EXPECT_EQ(k1dV3.size(), 140u);
  EXPECT_EQ(kEmptyInt64.size(), 128u);
  EXPECT_EQ(kInt32Row.size(), 136u);
}

TEST(NpyRead, Int16COrder) {
  const IntMatrix m = parse_npy(kInt16C, "a.npy");
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  EXPECT_EQ(m(0, 0), 1);
  EXPECT_EQ(m(0, 1), -2);
  EXPECT_EQ(m(0, 2), 3);
  EXPECT_EQ(m(1, 0), 4);
  EXPECT_EQ(m(1, 1), 5);
  EXPECT_EQ(m(1, 2), -6);
}

TEST(NpyRead, Int16FortranOrder) {
  const IntMatrix m = parse_npy(kInt16F, "a.npy");
  ASSERT_EQ(m.rows(), 2);
  ASSERT_EQ(m.cols(), 3);
  EXPECT_EQ(m(0, 0), 1);
  EXPECT_EQ(m(0, 1), -2);
  EXPECT_EQ(m(0, 2), 3);
  EXPECT_EQ(m(1, 0), 4);
  EXPECT_EQ(m(1, 1), 5);
  EXPECT_EQ(m(1, 2), -6);
}

TEST(NpyRead, Int32BigEndian) {
  expect_matrix_eq(parse_npy(kInt32BigEndian, "a.npy"), matrix(2, 3, {1, -2, 3, 4, 5, -6}));
}

TEST(NpyRead, Int8Extremes) {
  expect_matrix_eq(parse_npy(kInt8, "a.npy"), matrix(2, 2, {-128, 127, 0, -1}));
}

TEST(NpyRead, Int8FortranOrder) {
  expect_matrix_eq(parse_npy(kInt8F, "a.npy"), matrix(3, 2, {1, 2, -3, 4, 5, -128}));
}

TEST(NpyRead, Int16BigEndianFortranOrder) {
  expect_matrix_eq(parse_npy(kInt16BigEndianF, "a.npy"), matrix(3, 2, {1, 2, -3, 4, 5, -32768}));
}

TEST(NpyRead, Int64BigEndianExtremes) {
  expect_matrix_eq(parse_npy(kInt64BigEndian, "a.npy"), matrix(2, 2, {kI64Min, kI64Max, -1, 256}));
}

TEST(NpyRead, Int64LittleEndianExtremes) {
  expect_matrix_eq(parse_npy(kInt64Little, "a.npy"), matrix(2, 2, {kI64Min, kI64Max, -1, 256}));
}

TEST(NpyRead, Int32Row) {
  expect_matrix_eq(parse_npy(kInt32Row, "a.npy"), matrix(1, 2, {70000, -1}));
}

TEST(NpyRead, Version2Header) {
  expect_matrix_eq(parse_npy(kInt64V2, "a.npy"), matrix(2, 3, {1, -2, 3, 4, 5, -6}));
}

TEST(NpyRead, OneDimensionalAsRowWhenAllowed) {
  expect_matrix_eq(parse_npy(k1dV1, "a.npy", /*allow_1d=*/true), matrix(1, 3, {7, -8, 9}));
  expect_matrix_eq(parse_npy(k1dV3, "a.npy", /*allow_1d=*/true), matrix(1, 3, {7, -8, 9}));
}

TEST(NpyRead, OneDimensionalRejectedByDefault) {
  expect_rejected(k1dV1, "1-D");
  expect_rejected(k1dV3, "1-D");
}

TEST(NpyRead, EmptyMatrix) {
  const IntMatrix m = parse_npy(kEmptyInt64, "a.npy");
  EXPECT_EQ(m.rows(), 0);
  EXPECT_EQ(m.cols(), 4);
}

TEST(NpyRead, FromDisk) {
  const std::string path = temp_path("read_from_disk.npy");
  write_file(path, kInt16F);
  expect_matrix_eq(read_npy(path), matrix(2, 3, {1, -2, 3, 4, 5, -6}));
  std::filesystem::remove(path);
}

// ---------------------------------------------------------------------------------------------
// Header tolerance: real-world formatting variants that must be accepted

TEST(NpyHeader, AcceptsFormattingVariants) {
  const IntMatrix expected = matrix(2, 3, {1, -2, 3, 4, 5, -6});
  const char* headers[] = {
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }",        // numpy, unpadded
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}",          // no trailing comma
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i2'}",          // other key order
      "{ 'descr' :'<i2' ,'fortran_order':False,'shape':( 2 ,3 , ) , }\n",   // odd spacing
      "{\"descr\": \"<i2\", \"fortran_order\": False, \"shape\": (2, 3)}",  // double quotes
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 3L), }  \n",  // Python 2 longs
      "\t{'descr':'<i2','fortran_order':False,'shape':(2,3)}\r\n",
  };
  for (const char* header : headers) {
    SCOPED_TRACE(header);
    expect_matrix_eq(parse_npy(make_npy(header, kSixInt16), "a.npy"), expected);
  }
}

TEST(NpyHeader, AcceptsAllSingleByteOrderMarks) {
  for (const char* descr : {"|i1", "<i1", ">i1"}) {
    SCOPED_TRACE(descr);
    const std::string header =
        std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (1, 3), }";
    expect_matrix_eq(parse_npy(make_npy(header, B({0xff, 0x80, 0x7f})), "a.npy"),
                     matrix(1, 3, {-1, -128, 127}));
  }
}

TEST(NpyHeader, AcceptsBigEndianInt16AndInt64) {
  expect_matrix_eq(parse_npy(make_npy("{'descr': '>i2', 'fortran_order': False, 'shape': (1, 2), }",
                                      B({0x80, 0x00, 0x01, 0x02})),
                             "a.npy"),
                   matrix(1, 2, {-32768, 258}));
  expect_matrix_eq(parse_npy(make_npy("{'descr': '>i8', 'fortran_order': False, 'shape': (1, 1), }",
                                      B({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe})),
                             "a.npy"),
                   matrix(1, 1, {-2}));
}

TEST(NpyHeader, AcceptsZeroColumnsAndFortranEmpty) {
  const IntMatrix a = parse_npy(
      make_npy("{'descr': '<i4', 'fortran_order': True, 'shape': (3, 0), }", ""), "a.npy");
  EXPECT_EQ(a.rows(), 3);
  EXPECT_EQ(a.cols(), 0);
  const IntMatrix b = parse_npy(
      make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (0, 0), }", ""), "a.npy");
  EXPECT_EQ(b.size(), 0);
}

TEST(NpyHeader, OneDimensionalEmptyWhenAllowed) {
  const IntMatrix m = parse_npy(
      make_npy("{'descr': '<i8', 'fortran_order': False, 'shape': (0,), }", ""), "a.npy", true);
  EXPECT_EQ(m.rows(), 1);
  EXPECT_EQ(m.cols(), 0);
}

// ---------------------------------------------------------------------------------------------
// Writing

TEST(NpyWrite, MatchesNumpyBytesInt16) {
  // np.array([[1,-2,300],[4,5,-600]], dtype=np.int16)
  const std::string expected =
      kPrefixV1 + "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), }" +
      std::string(58, ' ') + "\n" +
      B({0x01, 0x00, 0xfe, 0xff, 0x2c, 0x01, 0x04, 0x00, 0x05, 0x00, 0xa8, 0xfd});
  EXPECT_EQ(serialize_npy(matrix(2, 3, {1, -2, 300, 4, 5, -600})), expected);
}

TEST(NpyWrite, NarrowsInt16InputToInt8WhenValuesFit) {
  // Same values as kInt16C, but all fit in int8: np.array([[1,-2,3],[4,5,-6]], dtype=np.int8)
  const std::string expected =
      kPrefixV1 + "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 3), }" +
      std::string(58, ' ') + "\n" + B({0x01, 0xfe, 0x03, 0x04, 0x05, 0xfa});
  EXPECT_EQ(serialize_npy(parse_npy(kInt16C, "a.npy")), expected);
}

TEST(NpyWrite, MatchesNumpyBytesInt8) {
  EXPECT_EQ(serialize_npy(matrix(2, 2, {-128, 127, 0, -1})), kInt8);
}

TEST(NpyWrite, MatchesNumpyBytesInt32) {
  EXPECT_EQ(serialize_npy(matrix(1, 2, {70000, -1})), kInt32Row);
}

TEST(NpyWrite, MatchesNumpyBytesInt64) {
  EXPECT_EQ(serialize_npy(matrix(2, 2, {kI64Min, kI64Max, -1, 256})), kInt64Little);
}

TEST(NpyWrite, EmptyMatrixUsesInt8) {
  const std::string expected = kPrefixV1 +
                               "{'descr': '|i1', 'fortran_order': False, 'shape': (0, 4), }" +
                               std::string(58, ' ') + "\n";
  EXPECT_EQ(serialize_npy(IntMatrix(0, 4)), expected);
}

TEST(NpyWrite, ChoosesSmallestDtypeAtBoundaries) {
  struct Case {
    int64_t value;
    const char* descr;
    size_t item_size;
  };
  const Case cases[] = {
      {0, "'|i1'", 1},
      {127, "'|i1'", 1},
      {-128, "'|i1'", 1},
      {128, "'<i2'", 2},
      {-129, "'<i2'", 2},
      {32767, "'<i2'", 2},
      {-32768, "'<i2'", 2},
      {32768, "'<i4'", 4},
      {-32769, "'<i4'", 4},
      {2147483647, "'<i4'", 4},
      {-2147483648LL, "'<i4'", 4},
      {2147483648LL, "'<i8'", 8},
      {-2147483649LL, "'<i8'", 8},
      {kI64Max, "'<i8'", 8},
      {kI64Min, "'<i8'", 8},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    // Pair the value with a 0 so it is the extreme in one direction only.
    const std::string bytes = serialize_npy(matrix(1, 2, {0, c.value}));
    EXPECT_NE(bytes.find(std::string("'descr': ") + c.descr), std::string::npos);
    EXPECT_EQ(bytes.size(), 128 + 2 * c.item_size);
  }
}

TEST(NpyWrite, DataStartsAt64ByteBoundaryAfterNewline) {
  for (const IntMatrix& m : {IntMatrix(0, 0), IntMatrix(1, 1), IntMatrix(0, 123456789012LL),
                             IntMatrix(1234567, 0), IntMatrix(37, 250)}) {
    const std::string bytes = serialize_npy(IntMatrix::Zero(m.rows(), m.cols()));
    ASSERT_GE(bytes.size(), 10u);
    const size_t header_len =
        static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
    const size_t data_start = 10 + header_len;
    EXPECT_EQ(bytes.substr(0, 8), B({0x93, 'N', 'U', 'M', 'P', 'Y', 0x01, 0x00}));
    EXPECT_EQ(data_start % 64, 0u);
    ASSERT_LE(data_start, bytes.size());
    EXPECT_EQ(bytes[data_start - 1], '\n');
    EXPECT_EQ(bytes.size() - data_start, static_cast<size_t>(m.size()));  // all zeros -> int8
  }
}

TEST(NpyWrite, ToDiskAndBack) {
  const std::string path = temp_path("write_to_disk.npy");
  const IntMatrix m = matrix(2, 3, {kI64Min, 0, kI64Max, -7, 8, 9});
  write_npy(path, m);
  expect_matrix_eq(read_npy(path), m);
  std::filesystem::remove(path);
}

TEST(NpyWrite, UnwritablePathIsRejected) {
  const std::string path = temp_path("no_such_dir/sub/out.npy");
  const std::string message = error_of([&] { write_npy(path, IntMatrix::Zero(1, 1)); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("write"), std::string::npos) << message;
}

// ---------------------------------------------------------------------------------------------
// Round trips over random matrices of every dtype range

IntMatrix random_matrix(std::mt19937_64& rng, int64_t lo, int64_t hi) {
  std::uniform_int_distribution<int64_t> dim(0, 9);
  std::uniform_int_distribution<int64_t> value(lo, hi);
  IntMatrix m(dim(rng), 1 + dim(rng));
  for (int64_t k = 0; k < m.size(); ++k) m.data()[k] = value(rng);
  return m;
}

TEST(NpyRoundTrip, RandomMatricesOfEachRange) {
  struct Range {
    int64_t lo, hi;
    const char* descr;
  };
  const Range ranges[] = {
      {-128, 127, "'|i1'"},
      {-32768, 32767, "'<i2'"},
      {-2147483648LL, 2147483647LL, "'<i4'"},
      {kI64Min, kI64Max, "'<i8'"},
  };
  std::mt19937_64 rng(20240611);
  for (const Range& range : ranges) {
    for (int trial = 0; trial < 50; ++trial) {
      SCOPED_TRACE(std::string(range.descr) + " trial " + std::to_string(trial));
      IntMatrix m = random_matrix(rng, range.lo, range.hi);
      if (m.size() >= 2) {
        // Force both extremes in, so the dtype is exactly the one for this range.
        m.data()[0] = range.lo;
        m.data()[m.size() - 1] = range.hi;
      }
      const std::string bytes = serialize_npy(m);
      if (m.size() >= 2) {
        EXPECT_NE(bytes.find(range.descr), std::string::npos);
      }
      expect_matrix_eq(parse_npy(bytes, "round_trip.npy"), m);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rejections: each names the file and the problem

std::string header_with(const std::string& descr, const std::string& shape,
                        const std::string& order = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + order + ", 'shape': " + shape + ", }";
}

TEST(NpyReject, UnsupportedDtypes) {
  expect_rejected(make_npy(header_with("<f4", "(1, 1)"), B({0, 0, 0x80, 0x3f})), "dtype '<f4'");
  expect_rejected(make_npy(header_with("<f4", "(1, 1)"), B({0, 0, 0x80, 0x3f})),
                  "int8, int16, int32, int64");
  expect_rejected(make_npy(header_with("<f8", "(1, 1)"), std::string(8, '\0')), "floating");
  expect_rejected(make_npy(header_with("|u1", "(1, 1)"), B({1})), "unsigned");
  expect_rejected(make_npy(header_with("<u4", "(1, 1)"), B({1, 0, 0, 0})), "unsigned");
  expect_rejected(make_npy(header_with("|b1", "(1, 1)"), B({1})), "bool");
  expect_rejected(make_npy(header_with("|O", "(1, 1)"), std::string(8, '\0')), "object");
  expect_rejected(make_npy(header_with("<c8", "(1, 1)"), std::string(8, '\0')), "dtype");
  expect_rejected(make_npy(header_with("<i3", "(1, 1)"), B({1, 0, 0})), "dtype '<i3'");
  expect_rejected(make_npy(header_with("<i16", "(1, 1)"), std::string(16, '\0')), "dtype");
  expect_rejected(make_npy(header_with("=i4", "(1, 1)"), B({1, 0, 0, 0})), "dtype '=i4'");
  expect_rejected(make_npy(header_with("|i4", "(1, 1)"), B({1, 0, 0, 0})), "dtype '|i4'");
  expect_rejected(make_npy(header_with("i4", "(1, 1)"), B({1, 0, 0, 0})), "dtype");
  expect_rejected(make_npy(header_with("", "(1, 1)"), B({1, 0, 0, 0})), "dtype");
}

TEST(NpyReject, WrongNumberOfDimensions) {
  expect_rejected(make_npy(header_with("|i1", "(1, 2, 2)"), B({1, 2, 3, 4})), "3-D");
  expect_rejected(make_npy(header_with("|i1", "(1, 2, 2)"), B({1, 2, 3, 4})), "3-D",
                  /*allow_1d=*/true);
  expect_rejected(make_npy(header_with("|i1", "()"), B({1})), "0-d");
  expect_rejected(make_npy(header_with("|i1", "()"), B({1})), "0-d", /*allow_1d=*/true);
  expect_rejected(make_npy(header_with("|i1", "(4,)"), B({1, 2, 3, 4})), "1-D");
}

TEST(NpyReject, BadMagic) {
  std::string bytes = kInt16C;
  bytes[1] = 'X';
  expect_rejected(bytes, "magic");
  expect_rejected("", "magic");
  expect_rejected("\x93NUM", "magic");
  expect_rejected("PK\x03\x04 this is a zip file", "magic");
}

TEST(NpyReject, UnknownVersion) {
  for (const auto& [major, minor] :
       {std::pair{0, 0}, std::pair{4, 0}, std::pair{1, 1}, std::pair{2, 5}, std::pair{255, 0}}) {
    std::string bytes = kInt16C;
    bytes[6] = static_cast<char>(major);
    bytes[7] = static_cast<char>(minor);
    SCOPED_TRACE(std::to_string(major) + "." + std::to_string(minor));
    expect_rejected(bytes, "version " + std::to_string(major) + "." + std::to_string(minor));
  }
}

TEST(NpyReject, TruncatedData) {
  expect_rejected(kInt16C.substr(0, kInt16C.size() - 1), "truncated");
  expect_rejected(kInt16C.substr(0, 128), "truncated");  // header only
  expect_rejected(kInt64V2.substr(0, kInt64V2.size() - 8), "truncated");
}

TEST(NpyReject, TruncatedHeader) {
  expect_rejected(kInt16C.substr(0, 9), "truncated");    // inside the length field
  expect_rejected(kInt16C.substr(0, 60), "truncated");   // inside the header
  expect_rejected(kInt64V2.substr(0, 11), "truncated");  // inside a version 2 length field
}

TEST(NpyReject, TrailingData) {
  expect_rejected(kInt16C + B({0}), "trailing");
  expect_rejected(kEmptyInt64 + "junk", "trailing");
}

TEST(NpyReject, NegativeShape) {
  expect_rejected(make_npy(header_with("|i1", "(-1, 2)"), ""), "negative");
  expect_rejected(make_npy(header_with("|i1", "(2, -3)"), ""), "-3");
}

TEST(NpyReject, HugeShape) {
  expect_rejected(make_npy(header_with("<i8", "(4294967296, 4294967296)"), ""), "too large");
  expect_rejected(make_npy(header_with("<i8", "(99999999999999999999, 1)"), ""), "too large");
  // Fits in 64 bits of elements but not of bytes; must not allocate anything.
  expect_rejected(make_npy(header_with("<i8", "(4294967296, 1073741824)"), ""), "too large");
  // Plausible size whose data is simply missing.
  expect_rejected(make_npy(header_with("<i8", "(100000, 100000)"), ""), "truncated");
}

TEST(NpyReject, MalformedHeaders) {
  const char* headers[] = {
      "",
      "   \n",
      "{",
      "}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), ",       // no closing brace
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)} extra",  // garbage after dict
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}}",
      "{'descr': '<i2' 'fortran_order': False, 'shape': (2, 3)}",    // missing comma
      "{'descr': '<i2',, 'fortran_order': False, 'shape': (2, 3)}",  // double comma
      "{,'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}",
      "{descr: '<i2', 'fortran_order': False, 'shape': (2, 3)}",    // unquoted key
      "{'descr' '<i2', 'fortran_order': False, 'shape': (2, 3)}",   // missing colon
      "{'descr': '<i2', 'fortran_order': false, 'shape': (2, 3)}",  // not Python's False
      "{'descr': '<i2', 'fortran_order': 0, 'shape': (2, 3)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': [2, 3]}",  // list, not tuple
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2 3)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3,,)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2.0, 3)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3x)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (,)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': 6}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (6)}",  // int, not a tuple
      "{'descr': '<i2', 'fortran_order': False, 'shape': (-, 3)}",
      "{'descr': '<i2, 'fortran_order': False, 'shape': (2, 3)}",  // unbalanced quote
      "{'descr': '<i2\", 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<i\\x32', 'fortran_order': False, 'shape': (2, 3)}",       // escapes
      "{'descr': [('a', '<i2')], 'fortran_order': False, 'shape': (2, 3)}",  // structured dtype
      "{'descr': <i2, 'fortran_order': False, 'shape': (2, 3)}",
      "{'fortran_order': False, 'shape': (2, 3)}",  // missing descr
      "{'descr': '<i2', 'shape': (2, 3)}",          // missing fortran_order
      "{'descr': '<i2', 'fortran_order': False}",   // missing shape
      "{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}",  // duplicate
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",      // unknown key
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), 1: 2}",
      "{'descr': '<i2'; 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)} # comment",
      "\x01{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}",
      "{'descr': '<i2\x01', 'fortran_order': False, 'shape': (2, 3)}",  // control character
      "{'descr': '<i2\n', 'fortran_order': False, 'shape': (2, 3)}",
  };
  for (const char* header : headers) {
    SCOPED_TRACE(header);
    expect_rejected(make_npy(header, kSixInt16), "malformed header");
  }
}

TEST(NpyReject, MalformedHeaderMessagesAreSpecific) {
  expect_rejected(make_npy("{'descr': '<i2', 'fortran_order': False}", kSixInt16),
                  "missing key 'shape'");
  expect_rejected(
      make_npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", kSixInt16),
      "unknown key 'x'");
  expect_rejected(
      make_npy("{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (2, 3)}",
               kSixInt16),
      "duplicate key 'descr'");
  expect_rejected(make_npy("{'descr': '<i2', 'fortran_order': False, 'shape': (6)}", kSixInt16),
                  "(n,)");
}

TEST(NpyReject, HeaderLengthBeyondFile) {
  std::string bytes = kInt16C;
  bytes[8] = static_cast<char>(0xff);  // header length 0x00ff + data would need 255 bytes
  bytes[9] = static_cast<char>(0x00);
  expect_rejected(bytes, "truncated header");
  std::string v2 = kInt64V2;
  v2[11] = static_cast<char>(0x80);  // header length > 2 GiB
  expect_rejected(v2, "truncated header");
}

TEST(NpyReject, MissingFile) {
  const std::string path = temp_path("definitely_missing.npy");
  std::filesystem::remove(path);
  const std::string message = error_of([&] { read_npy(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;
}

TEST(NpyReject, Directory) {
  const std::string path = temp_path("a_directory.npy");
  std::filesystem::create_directories(path);
  const std::string message = error_of([&] { read_npy(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("directory"), std::string::npos) << message;
  std::filesystem::remove(path);
}

TEST(NpyReject, BadFileOnDiskNamesThePath) {
  const std::string path = temp_path("float_on_disk.npy");
  write_file(path, make_npy(header_with("<f4", "(1, 1)"), B({0, 0, 0x80, 0x3f})));
  const std::string message = error_of([&] { read_npy(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("dtype '<f4'"), std::string::npos) << message;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace accelgen::core
