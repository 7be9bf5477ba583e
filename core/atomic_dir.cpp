#include "core/atomic_dir.h"

#include <unistd.h>

#include "core/error.h"

namespace accelgen::core {

namespace fs = std::filesystem;

void write_dir_atomically(const fs::path& requested, const std::string& marker,
                          const std::function<void(const fs::path& tmp)>& fill) {
  // "dir/" has an empty file name; normalize so the temporary is a sibling, never a child.
  fs::path out = requested.lexically_normal();
  if (out.filename().empty()) out = out.parent_path();
  if (out.empty() || out == "." || out == "..") {
    throw InputError(requested.string(), "not a usable output directory name");
  }
  std::error_code ec;
  if (fs::exists(out) && (!fs::is_directory(out) ||
                          (!fs::is_empty(out, ec) && !fs::exists(out / marker)))) {
    throw InputError(out.string(), "exists and is not an output of this kind (no " + marker +
                                       "); choose a new or empty directory");
  }
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  fs::create_directories(parent, ec);
  // The pid keeps two concurrent writers of the same directory from sharing a temporary.
  const fs::path tmp =
      parent / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec)) {
    throw InputError(out.string(), "cannot create output directory: " + ec.message());
  }
  try {
    fill(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  fs::remove_all(out, ec);
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove_all(tmp, ec);
    throw InputError(out.string(), "cannot move output into place");
  }
}

}  // namespace accelgen::core
