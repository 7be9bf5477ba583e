#include "core/atomic_dir.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace accelgen::core {

namespace fs = std::filesystem;

namespace {

// Creates the missing directories of `dir` and, unless keep() is called, removes them again (the
// outermost one created, with anything in it) when it goes out of scope: a failed write leaves no
// empty parents behind.
class CreatedParents {
 public:
  explicit CreatedParents(const fs::path& dir, const fs::path& named) {
    if (dir.empty()) return;
    std::error_code ec;
    for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
      top_ = p;
      if (p == p.parent_path()) break;
    }
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      remove_made();
      throw InputError(named.string(), fmt_cannot_create(dir, ec));
    }
  }
  ~CreatedParents() { remove_made(); }
  CreatedParents(const CreatedParents&) = delete;
  CreatedParents& operator=(const CreatedParents&) = delete;
  void keep() { top_.clear(); }

 private:
  static std::string fmt_cannot_create(const fs::path& dir, const std::error_code& ec) {
    return "cannot create directory " + dir.string() + ": " +
           (ec ? ec.message() : std::string("a file of that name exists"));
  }
  void remove_made() {
    std::error_code ec;
    if (!top_.empty()) fs::remove_all(top_, ec);
    top_.clear();
  }
  fs::path top_;  // outermost directory this object created ("" if none)
};

}  // namespace

void write_file_checked(const fs::path& path, const std::string& bytes, const std::string& name) {
  errno = 0;
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  if (!os) throw InputError(name, std::string("cannot write: ") + std::strerror(errno != 0 ? errno : EIO));
  os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  os.close();  // buffered data reaches the disk only now
  if (!os) {
    throw InputError(name, std::string("cannot write: ") +
                               (errno != 0 ? std::strerror(errno) : "write failed (disk full?)"));
  }
}

void write_file_atomically(const fs::path& path, const std::string& bytes) {
  std::error_code ec;
  if (path.filename().empty() || fs::is_directory(path, ec)) {
    throw InputError(path.string(), "is a directory; expected a file name");
  }
  CreatedParents parents(path.parent_path(), path);
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
  try {
    write_file_checked(tmp, bytes, path.string());
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw InputError(path.string(), "cannot write: " + ec.message());
  }
  parents.keep();
}

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
  CreatedParents parents(out.parent_path(), out);
  // The pid keeps two concurrent writers of the same directory from sharing a temporary.
  const fs::path tmp =
      parent / ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec)) {
    throw InputError(out.string(), "cannot create output directory: " + ec.message());
  }
  try {
    fill(tmp);
  } catch (const InputError& e) {
    fs::remove_all(tmp, ec);
    // A file that could not be written is named by its final path, not the temporary's.
    const std::string t = tmp.string();
    if (e.where().rfind(t, 0) == 0) throw InputError(out.string() + e.where().substr(t.size()), e.detail());
    throw;
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
  parents.keep();
}

}  // namespace accelgen::core
