// core::write_file_atomically and write_dir_atomically on failure: nothing stays behind (no
// temporary, no parent directory made for the output), and the error names the output.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/atomic_dir.h"
#include "core/error.h"
#include "tests/test_support.h"

namespace accelgen::core {
namespace {

namespace fs = std::filesystem;
using test_support::error_of;
using test_support::has;
using test_support::read_bytes;
using test_support::TempDir;
using test_support::write_text;

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.path().empty() ? 0 : 1;
  return n;
}

TEST(AtomicWrite, WritesTheFileAndItsMissingParents) {
  TempDir t;
  write_file_atomically(t.path() / "a/b/r.json", "{}\n");
  EXPECT_EQ(read_bytes(t.path() / "a/b/r.json"), "{}\n");
  write_file_atomically(t.path() / "a/b/r.json", "[]\n");  // replaces
  EXPECT_EQ(read_bytes(t.path() / "a/b/r.json"), "[]\n");
  EXPECT_EQ(entries(t.path()), 3u);  // a, a/b, a/b/r.json: no temporary
}

TEST(AtomicWrite, AParentThatIsAFileFailsNamingTheOutputAndLeavesNothing) {
  TempDir t;
  write_text(t.path() / "f", "x");
  const std::string msg = error_of([&] { write_file_atomically(t.path() / "f/x/r.json", "{}"); });
  EXPECT_TRUE(has(msg, (t.path() / "f/x/r.json").string())) << msg;
  EXPECT_TRUE(has(msg, "cannot create directory")) << msg;
  EXPECT_TRUE(has(error_of([&] { write_file_atomically(t.path() / "f/r.json", "{}"); }), "cannot"));
  EXPECT_EQ(entries(t.path()), 1u);  // only f
}

TEST(AtomicWrite, ADirectoryIsNotAFileName) {
  TempDir t;
  EXPECT_TRUE(has(error_of([&] { write_file_atomically(t.path(), "{}"); }), "is a directory"));
}

TEST(AtomicDir, AFailedFillRemovesTheParentsItMade) {
  TempDir t;
  const std::string msg = error_of([&] {
    write_dir_atomically(t.path() / "p/q/out", "m", [](const fs::path& tmp) {
      write_file_checked(tmp / "m", "1", "m");
      throw InputError("fill", "failed on purpose");
    });
  });
  EXPECT_TRUE(has(msg, "failed on purpose")) << msg;
  EXPECT_FALSE(fs::exists(t.path() / "p"));
}

}  // namespace
}  // namespace accelgen::core
