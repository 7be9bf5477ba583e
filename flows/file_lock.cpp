#include "flows/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace accelgen::flows {

FileLock::FileLock(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
  if (fd_ >= 0) ::flock(fd_, LOCK_EX);
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace accelgen::flows
