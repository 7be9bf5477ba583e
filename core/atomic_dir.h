// accelgen::core — write a whole output directory or nothing.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace accelgen::core {

// Calls fill(tmp) on a fresh temporary sibling of `out`, then renames it to `out`. If fill throws,
// the temporary is removed and the exception propagates: no half-written output is ever left.
// An existing `out` is replaced only if it is empty or contains `marker` (a file every output of
// this kind has, e.g. manifest.json), so a typo cannot wipe an unrelated directory; otherwise
// InputError.
void write_dir_atomically(const std::filesystem::path& out, const std::string& marker,
                          const std::function<void(const std::filesystem::path& tmp)>& fill);

}  // namespace accelgen::core
