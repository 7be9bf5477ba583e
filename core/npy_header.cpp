// accelgen::core — the .npy prefix and header parser (see npy_header.h for the file layout).
//
// The header is parsed by a small tokenizer and a recursive-descent parser that accept exactly
// the subset of Python literal syntax numpy writes, so garbage is reported rather than guessed at.
#include "core/npy_header.h"

#include <charconv>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"

namespace accelgen::core::npy_internal {
namespace {

constexpr size_t kPrefixLenV2 = kMagic.size() + 2 + 4;  // magic, version, uint32 header length

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

uint64_t read_le(std::string_view bytes, size_t offset, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

}  // namespace

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

Header parse_header(std::string_view text, const std::string& name) {
  return HeaderParser(Tokenizer(text, name).run(), name).parse();
}

}  // namespace accelgen::core::npy_internal
