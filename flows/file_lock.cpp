#include "flows/file_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace accelgen::flows {

// O_CLOEXEC: a tool started while the lock is held must not inherit it, or the lock would outlive
// this process for as long as that tool runs.
FileLock::FileLock(const std::filesystem::path& path)
    : fd_(::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
  if (fd_ >= 0) {
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(fd_);
        fd_ = -1;
        break;
      }
    }
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace accelgen::flows
