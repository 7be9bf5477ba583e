// accelgen::flows — small text helpers shared by the tool-output parsers and the flows: whole-file
// reads and writes with the file named in the error, trimming, and strict number parsing.
#pragma once

#include <filesystem>
#include <string>

namespace accelgen::flows {

// Throws std::runtime_error "cannot read <path>" / "cannot write <path>".
std::string read_text(const std::filesystem::path& p);
void write_text(const std::filesystem::path& p, const std::string& text);

std::string trim(const std::string& s);  // without leading and trailing blanks and line ends
bool starts_with(const std::string& s, const std::string& prefix);

// The whole of `s` as a finite number; else std::runtime_error "<what>: not a number: '<s>'".
double parse_double(const std::string& s, const std::string& what);

}  // namespace accelgen::flows
