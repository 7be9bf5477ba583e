// accelgen::core — write a whole output directory or file, or nothing.
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
// Missing parent directories of `out` are created, and removed again if the write fails.
void write_dir_atomically(const std::filesystem::path& out, const std::string& marker,
                          const std::function<void(const std::filesystem::path& tmp)>& fill);

// Writes `bytes` to a temporary sibling of `path` (".<name>.tmp-<pid>") and renames it over `path`.
// Missing parent directories are created. On any failure (a parent that is a file, no permission, a
// full disk) nothing stays behind, neither the temporary nor the parents made, and InputError(path,
// "cannot write: <reason>") is thrown; an existing `path` is then unchanged.
void write_file_atomically(const std::filesystem::path& path, const std::string& bytes);

// Writes `bytes` to `path` and checks the result after closing (a full disk shows only then).
// InputError(`name`, "cannot write: <reason>") on failure; the caller removes the partial file
// (it writes into a temporary directory or through write_file_atomically).
void write_file_checked(const std::filesystem::path& path, const std::string& bytes, const std::string& name);

}  // namespace accelgen::core
