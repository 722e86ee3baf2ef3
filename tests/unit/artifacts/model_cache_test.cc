// Well-formed archives: what lands on disk, and that the same bytes extract once.

#include "artifacts/model_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <thread>
#include <vector>

#include "common/hash.h"
#include "unit/artifacts/cache_fixture.h"

namespace thaw::artifacts::testing {
namespace {

namespace fs = std::filesystem;

using ModelCacheTest = CacheTest;

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

ino_t InodeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

TEST_F(ModelCacheTest, ExtractsFilesAtTheArchiveRoot) {
  // The layout of thaw's own model.tar.gz files: no directory entries, no "./".
  const std::string model = RandomBytes(3000);
  const fs::path archive = MakeArchive(
      "model.tar.gz", {File("xgboost-model", model), File("code/inference.py", "print(1)\n")});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->digest, *Sha256File(archive));
  EXPECT_EQ(r->dir, CacheRoot() / r->digest);
  EXPECT_EQ(r->bytes, model.size() + 9);
  EXPECT_EQ(ReadFileBytes(r->dir / "xgboost-model"), model);
  EXPECT_EQ(ReadFileBytes(r->dir / "code/inference.py"), "print(1)\n");
  EXPECT_EQ(ListTree(CacheRoot()), (std::vector<std::string>{r->digest, r->digest + "/code",
                                                             r->digest + "/code/inference.py",
                                                             r->digest + "/xgboost-model"}));
  EXPECT_EQ(ModeOf(r->dir), 0755u);
  EXPECT_EQ(ModeOf(r->dir / "code"), 0755u);
  EXPECT_EQ(cache.extractions(), 1u);
}

TEST_F(ModelCacheTest, ExtractsDotSlashNamesWithDirectoryEntries) {
  // The layout of real SageMaker tarballs (GNU tar run as "tar czf model.tar.gz .").
  const fs::path archive =
      MakeArchive("sm.tar.gz",
                  {Dir("./"), File("./xgboost-model", "booster"), Dir("./code/"),
                   File("./code/inference.py", "x", 0755), File("./code/requirements.txt", "")},
                  TarFormat::kGnu);
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ListTree(r->dir), (std::vector<std::string>{"code", "code/inference.py",
                                                        "code/requirements.txt", "xgboost-model"}));
  EXPECT_EQ(ReadFileBytes(r->dir / "xgboost-model"), "booster");
  EXPECT_EQ(ModeOf(r->dir / "code/inference.py"), 0755u);
  EXPECT_EQ(ModeOf(r->dir / "code/requirements.txt"), 0644u);
  EXPECT_EQ(r->bytes, 8u);
}

TEST_F(ModelCacheTest, NormalizesModes) {
  const fs::path archive = MakeArchive(
      "modes.tgz", {File("suid", "x", 04755), File("private", "x", 0600), File("open", "x", 0666)},
      TarFormat::kUstar);
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ModeOf(r->dir / "suid"), 0755u);
  EXPECT_EQ(ModeOf(r->dir / "private"), 0644u);
  EXPECT_EQ(ModeOf(r->dir / "open"), 0644u);
}

TEST_F(ModelCacheTest, KeepsLinksThatStayInside) {
  const fs::path archive = MakeArchive(
      "links.tgz", {File("data/model.bin", "weights"), Symlink("model", "data/model.bin"),
                    Symlink("data/self", "../data/model.bin"), Symlink("top", "."),
                    Symlink("dangling", "not/there"), Hardlink("copy", "data/model.bin")});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fs::read_symlink(r->dir / "model"), "data/model.bin");
  EXPECT_EQ(ReadFileBytes(r->dir / "model"), "weights");
  EXPECT_EQ(ReadFileBytes(r->dir / "data/self"), "weights");
  EXPECT_EQ(InodeOf(r->dir / "copy"), InodeOf(r->dir / "data/model.bin"));
  EXPECT_EQ(r->bytes, 7u);  // the hard link adds nothing
}

TEST_F(ModelCacheTest, ExtractsSparseFileWithinTheLimit) {
  const fs::path archive = MakeArchive("sparse.tgz", {SparseFile("s", "head", 1 << 20)});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(fs::file_size(r->dir / "s"), 1u << 20);
  EXPECT_EQ(ReadFileBytes(r->dir / "s").substr(0, 5), std::string("head\0", 5));
  EXPECT_EQ(r->bytes, 1u << 20);
}

TEST_F(ModelCacheTest, ExtractsUtf8Names) {
  const fs::path archive =
      MakeArchive("utf8.tgz", {File("mod\xc3\xa8le/\xe6\xa8\xa1\xe5\x9e\x8b", "x")});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadFileBytes(r->dir / "mod\xc3\xa8le/\xe6\xa8\xa1\xe5\x9e\x8b"), "x");
}

TEST_F(ModelCacheTest, ExtractsAnArchiveWithoutEntries) {
  const fs::path archive = MakeArchive("empty.tgz", {});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ListTree(r->dir), std::vector<std::string>{});
  EXPECT_EQ(r->bytes, 0u);
}

TEST_F(ModelCacheTest, SecondMaterializeReusesTheDirectory) {
  const fs::path archive = MakeArchive("m.tgz", {File("xgboost-model", "booster")});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> first = cache.Materialize(archive);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const ino_t inode = InodeOf(first->dir / "xgboost-model");
  WriteFileBytes(first->dir / "marker", "left by the test");

  Result<CachedModel> second = cache.Materialize(archive);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->dir, first->dir);
  EXPECT_EQ(second->bytes, first->bytes);
  EXPECT_EQ(InodeOf(second->dir / "xgboost-model"), inode);
  EXPECT_TRUE(fs::exists(second->dir / "marker"));  // not re-extracted
  EXPECT_EQ(cache.extractions(), 1u);
}

TEST_F(ModelCacheTest, IdenticalArchivesAtDifferentPathsShareADirectory) {
  const fs::path a = MakeArchive("a.tgz", {File("xgboost-model", "booster")});
  const fs::path b = ArchivePath("copy-of-a.tgz");
  fs::copy_file(a, b);
  const fs::path other = MakeArchive("other.tgz", {File("xgboost-model", "another booster")});
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> ra = cache.Materialize(a);
  Result<CachedModel> rb = cache.Materialize(b);
  Result<CachedModel> ro = cache.Materialize(other);
  ASSERT_TRUE(ra.ok() && rb.ok() && ro.ok());
  EXPECT_EQ(ra->dir, rb->dir);
  EXPECT_NE(ra->dir, ro->dir);
  EXPECT_EQ(cache.extractions(), 2u);
}

TEST_F(ModelCacheTest, ConcurrentMaterializeExtractsOnce) {
  std::vector<TestEntry> entries;
  entries.reserve(50);
  for (int i = 0; i < 50; ++i) {
    entries.push_back(File("f" + std::to_string(i), RandomBytes(2000, i)));
  }
  const fs::path archive = MakeArchive("m.tgz", entries);
  ModelCache cache(CacheRoot(), {});
  std::vector<std::optional<Result<CachedModel>>> results(8);
  std::vector<std::thread> threads;
  threads.reserve(results.size());
  for (auto& slot : results) {
    threads.emplace_back([&cache, &archive, &slot] { slot.emplace(cache.Materialize(archive)); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) {
    ASSERT_TRUE(r->ok()) << r->status().ToString();
    EXPECT_EQ((*r)->dir, (*results[0])->dir);
  }
  EXPECT_EQ(cache.extractions(), 1u);
  EXPECT_EQ(ListTree(CacheRoot()).size(), 51u);  // the digest dir and its files; no .tmp-
}

TEST_F(ModelCacheTest, ANewCacheObjectFindsEarlierExtractions) {
  const fs::path archive =
      MakeArchive("m.tgz", {File("a", "12345"), File("b", "678"), Hardlink("c", "a")});
  CachedModel first;
  {
    ModelCache cache(CacheRoot(), {});
    Result<CachedModel> r = cache.Materialize(archive);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    first = *r;
  }
  ModelCache restarted(CacheRoot(), {});
  Result<CachedModel> r = restarted.Materialize(archive);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dir, first.dir);
  EXPECT_EQ(r->bytes, 8u);
  EXPECT_EQ(restarted.extractions(), 0u);
}

TEST_F(ModelCacheTest, MissingArchiveIsNotFound) {
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(ArchivePath("nope.tar.gz"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
}

TEST_F(ModelCacheTest, DirectoryIsNotAnArchive) {
  ModelCache cache(CacheRoot(), {});
  Result<CachedModel> r = cache.Materialize(sandbox_ / "archives");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("is not a regular file"), std::string::npos);
}

TEST_F(ModelCacheTest, RemoveLeftoversDeletesOnlyTemporaryDirectories) {
  const fs::path archive = MakeArchive("m.tgz", {File("xgboost-model", "booster")});
  ModelCache cache(CacheRoot(), {});
  EXPECT_TRUE(cache.RemoveLeftovers().ok());  // no root yet
  Result<CachedModel> r = cache.Materialize(archive);
  ASSERT_TRUE(r.ok());
  fs::create_directories(CacheRoot() / ".tmp-0123456789abcdef" / "sub");
  WriteFileBytes(CacheRoot() / ".tmp-0123456789abcdef" / "sub" / "f", "x");
  ASSERT_TRUE(cache.RemoveLeftovers().ok());
  EXPECT_EQ(ListTree(CacheRoot()),
            (std::vector<std::string>{r->digest, r->digest + "/xgboost-model"}));
}

}  // namespace
}  // namespace thaw::artifacts::testing
