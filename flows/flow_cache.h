// accelgen::flows — the cache of tool results keyed by content hash: the per-config simulators
// (flows/simbuild.cpp) and the area/timing results (flows/area.cpp).
//
// An entry is the directory <root>/<name>-<key>, where the key hashes everything the result
// depends on (the caller decides what). It is filled once, by one process, and never modified:
// the filler works in a scratch directory next to it and renames that into place, under a lock,
// so concurrent runs (ctest -j) and interrupted runs never leave a half-written entry.
//
//   CacheEntry e(root, name, key);
//   if (<result in e.dir()>) use it;
//   e.lock();                       // waits for a concurrent filler of the same key
//   if (<result in e.dir()>) use it;
//   const auto tmp = e.scratch(".tmp-");  fill tmp;  e.publish(tmp);
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "flows/file_lock.h"

namespace accelgen::flows {

// $ACCELGEN_CACHE, else $XDG_CACHE_HOME/accelgen, else ~/.cache/accelgen.
std::filesystem::path default_cache_dir();

class CacheEntry {
 public:
  CacheEntry(const std::filesystem::path& root, const std::string& name, const std::string& key);

  const std::filesystem::path& root() const { return root_; }
  const std::filesystem::path& dir() const { return dir_; }  // <root>/<name>-<key>

  // Creates the root and takes the entry's lock (<root>/<name>-<key>.lock), held until the entry
  // object goes away. Throws std::filesystem::filesystem_error if the root cannot be created.
  void lock();

  // <root>/<prefix><name>-<key>-<pid>, not created. With the lock held, every other scratch
  // directory of this entry (<prefix><name>-<key>-*, left by a killed run) is removed first.
  std::filesystem::path scratch(const std::string& prefix) const;

  // Renames a filled scratch directory to dir(). If that fails (a concurrent run of the same key
  // published first) the scratch directory is removed and the other run's entry stays.
  void publish(const std::filesystem::path& scratch) const;

 private:
  std::filesystem::path root_;
  std::filesystem::path dir_;
  std::optional<FileLock> lock_;
};

}  // namespace accelgen::flows
