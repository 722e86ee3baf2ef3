// ExtractTarGz on its own: what the observer sees, and host errors told apart from bad archives.

#include "artifacts/tar_extractor.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "artifacts/unique_fd.h"
#include "common/hash.h"
#include "unit/artifacts/cache_fixture.h"

namespace thaw::artifacts::testing {
namespace {

namespace fs = std::filesystem;

using TarExtractorTest = CacheTest;

UniqueFd OpenDir(const fs::path& p) {
  fs::create_directories(p);
  return UniqueFd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

TEST_F(TarExtractorTest, ObserverSeesEveryByteOfTheFile) {
  const fs::path archive =
      MakeArchive("m.tgz", {File("a", RandomBytes(100000)), Dir("d"), File("d/b", "x")});
  UniqueFd in(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd out = OpenDir(base_ / "out");
  std::string seen;
  Result<ExtractStats> r =
      ExtractTarGz(in.get(), out.get(), {}, [&](const char* d, size_t n) { seen.append(d, n); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes, 100001u);
  EXPECT_EQ(r->entries, 3u);
  EXPECT_EQ(Sha256Hex(seen), *Sha256File(archive));
  EXPECT_EQ(ReadFileBytes(base_ / "out" / "d" / "b"), "x");
}

TEST_F(TarExtractorTest, ReadFailureIsAnInternalError) {
  // read() on a directory fails with EISDIR: a host problem, not the archive's fault.
  UniqueFd not_a_file = OpenDir(base_ / "in");
  UniqueFd out = OpenDir(base_ / "out");
  Result<ExtractStats> r = ExtractTarGz(not_a_file.get(), out.get(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal) << r.status().ToString();
}

}  // namespace
}  // namespace thaw::artifacts::testing
