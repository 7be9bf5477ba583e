// accelgen::core — error type shared by every layer.
//
// Every user-facing failure (bad config, bad workload, missing file) is an InputError carrying the
// field or file it is about and the allowed range; the CLI prints it on one line and exits with 2.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace accelgen::core {

class InputError : public std::runtime_error {
 public:
  // `where` names the field (e.g. "config.lanes") or file; `what` says what is wrong and what is allowed.
  InputError(std::string where, const std::string& what)
      : std::runtime_error(where + ": " + what), where_(std::move(where)), detail_(what) {}
  const std::string& where() const { return where_; }
  const std::string& detail() const { return detail_; }  // the message without `where`

 private:
  std::string where_;
  std::string detail_;
};

}  // namespace accelgen::core
