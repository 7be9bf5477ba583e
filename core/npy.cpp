// accelgen::core — NumPy .npy reading and writing for integer matrices (see npy.h).
//
// Layout of a .npy file: the magic "\x93NUMPY", a major and a minor version byte, the header length
// (uint16 little-endian for 1.0, uint32 for 2.0 and 3.0), the header (a Python dict literal padded
// with spaces and ended by '\n'), then the raw array data.
// The header is parsed by a small tokenizer and a recursive-descent parser that accept exactly
// the subset of Python literal syntax numpy writes, so garbage is reported rather than guessed at.
#include "core/npy.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace accelgen::core {
namespace {

constexpr std::string_view kMagic{"\x93NUMPY", 6};
constexpr size_t kPrefixLenV1 = kMagic.size() + 2 + 2;  // magic, version, uint16 header length
constexpr size_t kPrefixLenV2 = kMagic.size() + 2 + 4;  // magic, version, uint32 header length
constexpr size_t kDataAlignment = 64;                   // numpy's ARRAY_ALIGN

constexpr const char* kAllowedDtypes = "allowed: int8, int16, int32, int64, little or big endian";
constexpr const char* kAllowedHeader =
    "allowed: a dict like {'descr': '<i4', 'fortran_order': False, 'shape': (3, 4), }";

// ---------------------------------------------------------------------------------------------
// Header tokenizer

enum class TokenKind {
  LBrace,
  RBrace,
  LParen,
  RParen,
  Colon,
  Comma,
  String,
  Integer,
  Identifier,
  End
};

struct Token {
  TokenKind kind;
  std::string text;  // string contents (without quotes), integer digits, or identifier
  size_t offset;     // position in the header text, for error messages
};

[[noreturn]] void fail_header(const std::string& name, const std::string& problem) {
  throw InputError(name, "malformed header: " + problem + " (" + kAllowedHeader + ")");
}

std::string describe_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

class Tokenizer {
 public:
  Tokenizer(std::string_view text, const std::string& name) : text_(text), name_(name) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (true) {
      while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
      if (pos_ == text_.size()) break;
      tokens.push_back(next_token());
    }
    tokens.push_back({TokenKind::End, "", pos_});
    return tokens;
  }

 private:
  Token next_token() {
    const size_t start = pos_;
    const char c = text_[pos_];
    switch (c) {
      case '{':
        ++pos_;
        return {TokenKind::LBrace, "{", start};
      case '}':
        ++pos_;
        return {TokenKind::RBrace, "}", start};
      case '(':
        ++pos_;
        return {TokenKind::LParen, "(", start};
      case ')':
        ++pos_;
        return {TokenKind::RParen, ")", start};
      case ':':
        ++pos_;
        return {TokenKind::Colon, ":", start};
      case ',':
        ++pos_;
        return {TokenKind::Comma, ",", start};
      case '\'':
      case '"':
        return string_token();
      default:
        break;
    }
    if (is_digit(c) || c == '-') return integer_token();
    if (is_ident_start(c)) return identifier_token();
    fail_header(name_, "unexpected " + describe_char(c) + " at offset " + std::to_string(start));
  }

  // Python string literal without escapes: numpy never writes escapes or control characters in
  // the keys or descr we accept, so they are errors rather than half-interpreted (and never end
  // up echoed raw in a message).
  Token string_token() {
    const size_t start = pos_;
    const char quote = text_[pos_++];
    std::string contents;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      const char c = text_[pos_];
      if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == '\x7f') {
        fail_header(name_, "unsupported " + describe_char(c) + " inside string at offset " +
                               std::to_string(pos_));
      }
      contents += c;
      ++pos_;
    }
    if (pos_ == text_.size()) {
      fail_header(name_, "unterminated string starting at offset " + std::to_string(start));
    }
    ++pos_;  // closing quote
    return {TokenKind::String, contents, start};
  }

  // Decimal integer, optionally negative (so a negative dimension gets a precise message), with
  // an optional Python 2 'L' suffix that old numpy versions wrote for long shapes.
  Token integer_token() {
    const size_t start = pos_;
    std::string digits;
    if (text_[pos_] == '-') digits += text_[pos_++];
    while (pos_ < text_.size() && is_digit(text_[pos_])) digits += text_[pos_++];
    if (digits.empty() || digits == "-") {
      fail_header(name_, "'-' not followed by digits at offset " + std::to_string(start));
    }
    if (pos_ < text_.size() && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;
    if (pos_ < text_.size() && (is_ident_start(text_[pos_]) || is_digit(text_[pos_]))) {
      fail_header(name_, "bad number at offset " + std::to_string(start));
    }
    return {TokenKind::Integer, digits, start};
  }

  Token identifier_token() {
    const size_t start = pos_;
    std::string word;
    while (pos_ < text_.size() && (is_ident_start(text_[pos_]) || is_digit(text_[pos_]))) {
      word += text_[pos_++];
    }
    return {TokenKind::Identifier, word, start};
  }

  std::string_view text_;
  const std::string& name_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Header parser

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

std::string describe_token(const Token& t) {
  switch (t.kind) {
    case TokenKind::End:
      return "end of header";
    case TokenKind::String:
      return "string '" + t.text + "'";
    case TokenKind::Integer:
      return "number " + t.text;
    case TokenKind::Identifier:
      return "name " + t.text;
    default:
      return "'" + t.text + "'";
  }
}

class HeaderParser {
 public:
  HeaderParser(std::vector<Token> tokens, const std::string& name)
      : tokens_(std::move(tokens)), name_(name) {}

  // dict := '{' [ entry (',' entry)* [','] ] '}' END
  Header parse() {
    Header header;
    bool seen_descr = false, seen_fortran = false, seen_shape = false;
    expect(TokenKind::LBrace, "'{'");
    while (peek().kind != TokenKind::RBrace) {
      const Token key = expect(TokenKind::String, "a quoted key or '}'");
      expect(TokenKind::Colon, "':'");
      if (key.text == "descr") {
        mark_seen(seen_descr, key);
        header.descr = expect(TokenKind::String, "a dtype string such as '<i4' for 'descr'").text;
      } else if (key.text == "fortran_order") {
        mark_seen(seen_fortran, key);
        header.fortran_order = parse_bool();
      } else if (key.text == "shape") {
        mark_seen(seen_shape, key);
        header.shape = parse_shape();
      } else {
        fail("unknown key '" + key.text +
             "' (only 'descr', 'fortran_order' and 'shape' may appear)");
      }
      if (peek().kind == TokenKind::Comma) {
        next();
      } else if (peek().kind != TokenKind::RBrace) {
        fail_at(peek(), "',' or '}'");
      }
    }
    next();  // '}'
    expect(TokenKind::End, "end of header after '}'");
    if (!seen_descr) fail("missing key 'descr'");
    if (!seen_fortran) fail("missing key 'fortran_order'");
    if (!seen_shape) fail("missing key 'shape'");
    return header;
  }

 private:
  const Token& peek() const { return tokens_[index_]; }
  const Token& next() {
    const Token& t = tokens_[index_];
    if (t.kind != TokenKind::End) ++index_;  // End is sticky so peek() never runs off the vector
    return t;
  }

  const Token& expect(TokenKind kind, const std::string& wanted) {
    if (peek().kind != kind) fail_at(peek(), wanted);
    return next();
  }

  [[noreturn]] void fail(const std::string& problem) const { fail_header(name_, problem); }
  [[noreturn]] void fail_at(const Token& got, const std::string& wanted) const {
    fail("expected " + wanted + " but found " + describe_token(got) + " at offset " +
         std::to_string(got.offset));
  }

  void mark_seen(bool& seen, const Token& key) const {
    if (seen) fail("duplicate key '" + key.text + "' at offset " + std::to_string(key.offset));
    seen = true;
  }

  bool parse_bool() {
    const Token& t = expect(TokenKind::Identifier, "True or False for 'fortran_order'");
    if (t.text == "True") return true;
    if (t.text == "False") return false;
    fail_at(t, "True or False for 'fortran_order'");
  }

  // shape := '(' ')' | '(' dim ',' ')' | '(' dim (',' dim)+ [','] ')'
  // "(3)" is rejected because in Python it is the integer 3, not a tuple.
  std::vector<int64_t> parse_shape() {
    expect(TokenKind::LParen, "a tuple such as (3, 4) for 'shape'");
    std::vector<int64_t> dims;
    if (peek().kind == TokenKind::RParen) {
      next();
      return dims;
    }
    while (true) {
      dims.push_back(parse_dim());
      if (peek().kind == TokenKind::RParen) {
        if (dims.size() == 1)
          fail("shape (" + std::to_string(dims[0]) +
               ") is not a tuple; a 1-D shape is written (n,)");
        next();
        return dims;
      }
      expect(TokenKind::Comma, "',' or ')' in 'shape'");
      if (peek().kind == TokenKind::RParen) {
        next();
        return dims;
      }
    }
  }

  int64_t parse_dim() {
    const Token& t = expect(TokenKind::Integer, "a non-negative integer in 'shape'");
    const bool negative = t.text.front() == '-';
    const std::string_view digits = std::string_view(t.text).substr(negative ? 1 : 0);
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
      throw InputError(name_,
                       "shape element " + t.text + " is too large (allowed: at most 2^63-1)");
    }
    // Python reads "-0" as 0, so only a non-zero value with a sign is negative.
    if (negative && value != 0) {
      throw InputError(name_,
                       "negative shape element " + t.text + " (allowed: non-negative integers)");
    }
    return value;
  }

  std::vector<Token> tokens_;
  const std::string& name_;
  size_t index_ = 0;
};

// ---------------------------------------------------------------------------------------------
// dtype, shape and data

struct DType {
  size_t item_size;  // bytes per element: 1, 2, 4 or 8
  bool big_endian;
};

std::string describe_kind(char kind) {
  switch (kind) {
    case 'u':
      return " (unsigned integer)";
    case 'f':
      return " (floating point)";
    case 'c':
      return " (complex)";
    case 'b':
      return " (bool)";
    case 'O':
      return " (object)";
    case 'S':
    case 'U':
      return " (string)";
    default:
      return "";
  }
}

// Accepts '<iN', '>iN' and, for single bytes where order is meaningless, '|i1'.
DType parse_dtype(const std::string& descr, const std::string& name) {
  const auto reject = [&]() -> DType {
    const char kind = descr.size() >= 2 ? descr[1] : '?';
    throw InputError(name, "dtype '" + descr + "'" + describe_kind(kind) + " is not supported (" +
                               kAllowedDtypes + ")");
  };
  if (descr.size() != 3 || descr[1] != 'i') return reject();
  const char order = descr[0];
  const char size = descr[2];
  if (size != '1' && size != '2' && size != '4' && size != '8') return reject();
  if (order == '|' && size == '1') return {1, false};
  if (order != '<' && order != '>')
    return reject();  // '=' and '|' would depend on the writer's host
  return {static_cast<size_t>(size - '0'), order == '>'};
}

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() == 1) text += ",";
  return text + ")";
}

struct MatrixShape {
  int64_t rows;
  int64_t cols;
};

MatrixShape matrix_shape(const std::vector<int64_t>& shape, bool allow_1d,
                         const std::string& name) {
  if (shape.size() == 2) return {shape[0], shape[1]};
  if (shape.size() == 1 && allow_1d) return {1, shape[0]};
  const std::string allowed = allow_1d ? "allowed: 2-D arrays, or 1-D arrays read as one row"
                                       : "allowed: 2-D arrays of shape (rows, cols)";
  const std::string dims = shape.empty() ? "0-d (scalar)" : std::to_string(shape.size()) + "-D";
  throw InputError(name, dims + " array with shape " + describe_shape(shape) +
                             " is not supported (" + allowed + ")");
}

// Number of data bytes the header promises, or nullopt if it does not fit in 64 bits.
std::optional<uint64_t> expected_data_bytes(const std::vector<int64_t>& shape, size_t item_size) {
  uint64_t count = 1;
  for (const int64_t d : shape) {
    const auto dim = static_cast<uint64_t>(d);
    if (dim == 0) return 0;
    if (count > UINT64_MAX / dim) return std::nullopt;
    count *= dim;
  }
  if (count > UINT64_MAX / item_size) return std::nullopt;
  return count * item_size;
}

int64_t decode_element(const unsigned char* p, const DType& dtype) {
  uint64_t bits = 0;
  for (size_t i = 0; i < dtype.item_size; ++i) {
    const size_t index = dtype.big_endian ? i : dtype.item_size - 1 - i;  // most significant first
    bits = (bits << 8) | p[index];
  }
  // Move the element's sign bit to bit 63, then shift back arithmetically (defined in C++20).
  const int unused = static_cast<int>(64 - 8 * dtype.item_size);
  return static_cast<int64_t>(bits << unused) >> unused;
}

// Decodes the data into C order. In Fortran order the first index varies fastest.
std::vector<int64_t> decode_data(std::string_view data, const DType& dtype,
                                 const std::vector<int64_t>& shape, bool fortran_order) {
  const size_t count = data.size() / dtype.item_size;
  std::vector<int64_t> out(count);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::vector<size_t> idx(shape.size());
  for (size_t f = 0; f < count; ++f, p += dtype.item_size) {
    size_t c_index = f;
    if (fortran_order) {
      size_t rest = f, stride = 1;
      c_index = 0;
      for (size_t a = 0; a < shape.size(); ++a) {
        idx[a] = rest % static_cast<size_t>(shape[a]);
        rest /= static_cast<size_t>(shape[a]);
      }
      for (size_t a = shape.size(); a-- > 0;) {
        c_index += idx[a] * stride;
        stride *= static_cast<size_t>(shape[a]);
      }
    }
    out[c_index] = decode_element(p, dtype);
  }
  return out;
}

uint64_t read_le(std::string_view bytes, size_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

struct Prefix {
  size_t header_offset;
  size_t header_len;
};

// Validates magic and version and locates the header text.
Prefix parse_prefix(std::string_view bytes, const std::string& name) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    throw InputError(name, "bad magic: not a .npy file (allowed: files starting with \\x93NUMPY)");
  }
  if (bytes.size() < kPrefixLenV1) {
    throw InputError(
        name, "truncated header: file ends inside the .npy prefix (allowed: a complete .npy file)");
  }
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if (minor != 0 || major < 1 || major > 3) {
    throw InputError(name, "unsupported .npy format version " + std::to_string(major) + "." +
                               std::to_string(minor) + " (allowed: 1.0, 2.0, 3.0)");
  }
  const size_t prefix_len = major == 1 ? kPrefixLenV1 : kPrefixLenV2;
  if (bytes.size() < prefix_len) {
    throw InputError(
        name, "truncated header: file ends inside the .npy prefix (allowed: a complete .npy file)");
  }
  const size_t header_len = read_le(bytes, 8, prefix_len - 8);
  if (bytes.size() - prefix_len < header_len) {
    throw InputError(name, "truncated header: header length " + std::to_string(header_len) +
                               " exceeds the " + std::to_string(bytes.size() - prefix_len) +
                               " bytes left in the file (allowed: a complete .npy file)");
  }
  return {prefix_len, header_len};
}

// ---------------------------------------------------------------------------------------------
// Writing

std::string header_for(const std::vector<int64_t>& shape, size_t item_size) {
  const std::string descr = item_size == 1 ? "|i1" : "<i" + std::to_string(item_size);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " +
                       describe_shape(shape) + ", }";
  // numpy >= 1.24 appends 21 - digits(shape[0]) spaces so the leading dimension can grow in
  // place; then, like numpy, pad with at least one space so the data starts at a multiple of 64.
  if (!shape.empty()) header.append(21 - std::to_string(shape[0]).size(), ' ');
  const size_t unpadded = kPrefixLenV1 + header.size() + 1;  // +1 for the final '\n'
  header.append(kDataAlignment - unpadded % kDataAlignment, ' ');
  header += '\n';
  return header;
}

size_t smallest_item_size(const int64_t* data, size_t count) {
  if (count == 0) return 1;
  const auto [lo, hi] = std::minmax_element(data, data + count);
  for (size_t bytes : {1, 2, 4}) {
    const int64_t max = (int64_t{1} << (8 * bytes - 1)) - 1;
    if (*lo >= -max - 1 && *hi <= max) return bytes;
  }
  return 8;
}

// Validated header and data of a .npy file; `check_shape` may reject the shape (before the data
// length is checked, so a wrong rank is reported as such even if the data is also short).
struct Parsed {
  Header header;
  std::vector<int64_t> data;  // C order
};

Parsed parse_any(const std::string& bytes, const std::string& name,
                 const std::function<void(const std::vector<int64_t>&)>& check_shape) {
  const std::string_view all(bytes);
  const Prefix prefix = parse_prefix(all, name);
  const std::string_view header_text = all.substr(prefix.header_offset, prefix.header_len);
  Header header = HeaderParser(Tokenizer(header_text, name).run(), name).parse();

  const DType dtype = parse_dtype(header.descr, name);
  check_shape(header.shape);
  const std::string_view data = all.substr(prefix.header_offset + prefix.header_len);
  const std::optional<uint64_t> expected = expected_data_bytes(header.shape, dtype.item_size);
  if (!expected) {
    throw InputError(name, "shape " + describe_shape(header.shape) +
                               " is too large (allowed: at most 2^64 data bytes)");
  }
  if (data.size() != *expected) {
    const std::string problem = data.size() < *expected ? "truncated data" : "trailing data";
    throw InputError(name, problem + ": shape " + describe_shape(header.shape) + " of '" +
                               header.descr + "' needs exactly " + std::to_string(*expected) +
                               " data bytes, found " + std::to_string(data.size()));
  }
  std::vector<int64_t> values = decode_data(data, dtype, header.shape, header.fortran_order);
  return {std::move(header), std::move(values)};
}

std::string serialize(const std::vector<int64_t>& shape, const int64_t* data, size_t count) {
  const size_t item_size = smallest_item_size(data, count);
  const std::string header = header_for(shape, item_size);
  std::string out;
  out.reserve(kPrefixLenV1 + header.size() + count * item_size);
  out += kMagic;
  out += '\x01';  // version 1.0
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);  // uint16 little-endian header length
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (size_t k = 0; k < count; ++k) {
    // Two's complement little-endian, independent of the host's byte order.
    const auto bits = static_cast<uint64_t>(data[k]);
    for (size_t i = 0; i < item_size; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return out;
}

std::string read_file_bytes(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(path, "is a directory (allowed: a readable .npy file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InputError(path, std::string("cannot open file: ") + std::strerror(errno) +
                               " (allowed: a readable .npy file)");
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path, "cannot read file (allowed: a readable .npy file)");
  return bytes;
}

void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw InputError(path, std::string("cannot write file: ") + std::strerror(errno) +
                               " (allowed: a writable path in an existing directory)");
  }
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out)
    throw InputError(path,
                     "cannot write file: write failed (allowed: a writable path with free space)");
}

}  // namespace

IntMatrix parse_npy(const std::string& bytes, const std::string& name, bool allow_1d) {
  MatrixShape shape{};
  const Parsed p = parse_any(bytes, name, [&](const std::vector<int64_t>& dims) {
    shape = matrix_shape(dims, allow_1d, name);
  });
  IntMatrix m(shape.rows, shape.cols);
  std::copy(p.data.begin(), p.data.end(), m.data());  // both row-major (C order)
  return m;
}

std::string serialize_npy(const IntMatrix& m) {
  return serialize({m.rows(), m.cols()}, m.data(), static_cast<size_t>(m.size()));
}

IntMatrix read_npy(const std::string& path, bool allow_1d) {
  return parse_npy(read_file_bytes(path), path, allow_1d);
}

void write_npy(const std::string& path, const IntMatrix& m) {
  write_file_bytes(path, serialize_npy(m));
}

NpyArray parse_npy_array(const std::string& bytes, const std::string& name) {
  Parsed p = parse_any(bytes, name, [](const std::vector<int64_t>&) {});
  return {std::move(p.header.shape), std::move(p.data)};
}

std::string serialize_npy_array(const NpyArray& a) {
  uint64_t count = 1;
  for (const int64_t d : a.shape) count *= static_cast<uint64_t>(d);
  if (count != a.data.size()) {
    throw std::invalid_argument("serialize_npy_array: shape does not match the data length");
  }
  return serialize(a.shape, a.data.data(), a.data.size());
}

NpyArray read_npy_array(const std::string& path) {
  return parse_npy_array(read_file_bytes(path), path);
}

void write_npy_array(const std::string& path, const NpyArray& a) {
  write_file_bytes(path, serialize_npy_array(a));
}

}  // namespace accelgen::core
