#include "flows/flow_cache.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>

namespace accelgen::flows {

namespace fs = std::filesystem;

fs::path default_cache_dir() {
  if (const char* env = std::getenv("ACCELGEN_CACHE"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "accelgen";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache/accelgen";
  return fs::temp_directory_path() / "accelgen-cache";
}

CacheEntry::CacheEntry(const fs::path& root, const std::string& name, const std::string& key)
    : root_(root), dir_(root / fmt::format("{}-{}", name, key)) {}

void CacheEntry::lock() {
  fs::create_directories(root_);
  lock_.emplace(root_ / (dir_.filename().string() + ".lock"));
}

fs::path CacheEntry::scratch(const std::string& prefix) const {
  const fs::path tmp = root_ / fmt::format("{}{}-{}", prefix, dir_.filename().string(), ::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (lock_ && lock_->held()) {
    // Only the lock holder fills this entry, so any other scratch directory of it is a dead run's.
    const std::string stale = fmt::format("{}{}-", prefix, dir_.filename().string());
    for (const auto& e : fs::directory_iterator(root_, ec)) {
      if (e.path().filename().string().rfind(stale, 0) == 0) fs::remove_all(e.path(), ec);
    }
  }
  return tmp;
}

void CacheEntry::publish(const fs::path& scratch) const {
  std::error_code ec;
  fs::rename(scratch, dir_, ec);
  if (ec) fs::remove_all(scratch, ec);
}

}  // namespace accelgen::flows
