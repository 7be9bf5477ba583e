// accelgen::flows — an exclusive advisory lock on a file (flock(2)), held while the object lives.
//
// Guards a cache entry that one process fills while concurrent runs of the same key (ctest -j,
// several `accelgen eval`) wait and then find it filled. Used by the area cache (flows/area.cpp)
// and the per-config simulator builds (flows/simbuild.cpp).
#pragma once

#include <filesystem>

namespace accelgen::flows {

class FileLock {
 public:
  // Creates `path` if needed and waits for the lock. If the file cannot be opened there is no
  // lock: a cache without one only risks doing the same work twice.
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();  // closing the file releases the lock
  bool held() const { return fd_ >= 0; }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

}  // namespace accelgen::flows
