// Hostile archives: every one is refused with a message a person can act on, and leaves nothing
// behind, in the cache or outside it.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "unit/artifacts/cache_fixture.h"

namespace thaw::artifacts::testing {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k20GiB = 20ll << 30;

using ExtractSecurityTest = CacheTest;

TEST_F(ExtractSecurityTest, RefusesTarSlip) {
  ExpectRefused(MakeArchive("slip.tgz", {File("ok", "fine"), File("../../evil", "x")}),
                "archive entry \"../../evil\" escapes the model directory");
}

TEST_F(ExtractSecurityTest, RefusesDotDotInsideAName) {
  ExpectRefused(MakeArchive("slip.tgz", {File("a/../../../evil", "x")}),
                "archive entry \"a/../../../evil\" escapes the model directory");
}

TEST_F(ExtractSecurityTest, RefusesAbsolutePath) {
  // Aim inside the sandbox so that a broken check would leave evidence, not damage.
  const std::string target = (sandbox_ / "abs-evil").string();
  ExpectRefused(MakeArchive("abs.tgz", {File(target, "x")}),
                "archive entry \"" + target + "\" has an absolute path");
}

TEST_F(ExtractSecurityTest, RefusesSymlinkThatEscapes) {
  ExpectRefused(MakeArchive("link.tgz", {Symlink("link", "../../etc/passwd")}),
                "archive entry \"link\" is a symbolic link that points outside the model "
                "directory (target \"../../etc/passwd\")");
}

TEST_F(ExtractSecurityTest, RefusesSymlinkThatEscapesFromASubdirectory) {
  ExpectRefused(MakeArchive("link.tgz", {Symlink("a/b/link", "../../../evil")}),
                "is a symbolic link that points outside the model directory");
}

TEST_F(ExtractSecurityTest, RefusesSymlinkToAbsolutePath) {
  ExpectRefused(MakeArchive("link.tgz", {Symlink("passwd", "/etc/passwd")}),
                "archive entry \"passwd\" is a symbolic link that points outside the model "
                "directory");
}

TEST_F(ExtractSecurityTest, RefusesSymlinkClimbingThroughAnotherLink) {
  // "here" -> "." is harmless, but "here/.." is the cache root's parent, not the model dir.
  ExpectRefused(MakeArchive("link.tgz", {Symlink("here", "."), Symlink("up", "here/..")}),
                "archive entry \"up\" is a symbolic link whose target \"here/..\" has \"..\" "
                "after a name");
}

TEST_F(ExtractSecurityTest, RefusesWritingThroughASymlink) {
  ExpectRefused(MakeArchive("link.tgz", {Dir("sub"), Symlink("dir", "sub"), File("dir/evil", "x")}),
                "archive entry \"dir/evil\" lies under \"dir\", which is not a directory");
}

TEST_F(ExtractSecurityTest, RefusesReplacingADirectoryWithASymlink) {
  ExpectRefused(MakeArchive("link.tgz", {File("d/x", "1"), Symlink("d", ".")}),
                "archive entry \"d\" appears more than once in the archive");
}

TEST_F(ExtractSecurityTest, RefusesDuplicateFiles) {
  ExpectRefused(MakeArchive("dup.tgz", {File("model", "1"), File("./model", "2")}),
                "archive entry \"./model\" appears more than once in the archive");
}

TEST_F(ExtractSecurityTest, RefusesHardLinkThatEscapes) {
  ExpectRefused(MakeArchive("hard.tgz", {Hardlink("h", "../../etc/passwd")}),
                "archive entry \"h\" is a hard link outside the model directory (target "
                "\"../../etc/passwd\")");
}

TEST_F(ExtractSecurityTest, RefusesHardLinkToAbsolutePath) {
  ExpectRefused(MakeArchive("hard.tgz", {Hardlink("h", "/etc/passwd")}),
                "archive entry \"h\" is a hard link outside the model directory");
}

TEST_F(ExtractSecurityTest, RefusesHardLinkToSomethingNotExtractedBefore) {
  ExpectRefused(MakeArchive("hard.tgz", {Hardlink("h", "later"), File("later", "x")}),
                "archive entry \"h\" is a hard link to \"later\", which is not a regular file "
                "earlier in the archive");
  ExpectRefused(MakeArchive("hard2.tgz", {Symlink("l", "x"), Hardlink("h", "l")}),
                "is not a regular file earlier in the archive");
}

TEST_F(ExtractSecurityTest, RefusesDeviceFifoAndRootAsFile) {
  ExpectRefused(MakeArchive("dev.tgz", {File("ok", "x"), CharDevice("dev")}),
                "archive entry \"dev\" is a device file");
  ExpectRefused(MakeArchive("fifo.tgz", {Fifo("pipe")}), "archive entry \"pipe\" is a FIFO");
  ExpectRefused(MakeArchive("root.tgz", {File(".", "x")}),
                "archive entry \".\" names the model directory itself but is not a directory");
}

TEST_F(ExtractSecurityTest, RefusesSparseEntryOf20GiBQuickly) {
  const fs::path archive = MakeArchive("sparse.tgz", {SparseFile("big", "head", k20GiB)});
  EXPECT_LT(fs::file_size(archive), 4096u);  // a few hundred bytes that claim 20 GiB
  const auto start = std::chrono::steady_clock::now();
  ExpectRefused(archive, "the archive expands past the 10737418240-byte limit");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(ExtractSecurityTest, RefusesSparseEntryPastATinyLimit) {
  ExtractLimits tiny;
  tiny.max_total_bytes = 1 << 20;
  ExpectRefused(MakeArchive("sparse.tgz", {SparseFile("big", "head", 2 << 20)}),
                "the archive expands past the 1048576-byte limit", tiny);
}

TEST_F(ExtractSecurityTest, RefusesFilesThatTogetherPassTheLimit) {
  ExtractLimits tiny;
  tiny.max_total_bytes = 100000;
  ExpectRefused(
      MakeArchive("two.tgz", {File("a", RandomBytes(60000)), File("b", RandomBytes(60000))}),
      "the archive expands past the 100000-byte limit", tiny);
}

TEST_F(ExtractSecurityTest, RefusesHeaderThatDeclares20GiBWithLittleData) {
  // GNU base-256 size field; the archive carries 10 bytes of it.
  const std::string tar =
      UstarHeader("big", k20GiB, '0') + PadToBlock("0123456789") + EndOfArchive();
  WriteGzip(ArchivePath("liar.tgz"), tar);
  ExpectRefused(ArchivePath("liar.tgz"), "the archive expands past the 10737418240-byte limit");
  ExtractLimits tiny;
  tiny.max_total_bytes = 4096;
  ExpectRefused(ArchivePath("liar.tgz"), "the archive expands past the 4096-byte limit", tiny);
  // With room for 20 GiB the header passes, the data runs out, and no 20 GiB file is made.
  ExtractLimits huge;
  huge.max_total_bytes = 100ull << 30;
  ExpectRefused(ArchivePath("liar.tgz"), "the archive is truncated or corrupt", huge);
}

TEST_F(ExtractSecurityTest, RefusesSparseMapReachingPastTheDeclaredSize) {
  // libarchive hands out a block at offset 30e9 for an entry of 100 bytes.
  const std::string tar = PaxHeader({"GNU.sparse.size=100", "GNU.sparse.numblocks=2",
                                     "GNU.sparse.map=0,10,30000000000,10"}) +
                          UstarHeader("s", 20, '0') + PadToBlock(std::string(20, 'a')) +
                          EndOfArchive();
  WriteGzip(ArchivePath("sparse-lie.tgz"), tar);
  ExtractLimits huge;
  huge.max_total_bytes = 100ull << 30;
  ExpectRefused(ArchivePath("sparse-lie.tgz"),
                "archive entry \"s\" holds data past the size its header declares", huge);
}

TEST_F(ExtractSecurityTest, RefusesTooManyEntries) {
  ExtractLimits few;
  few.max_entries = 3;
  ExpectRefused(
      MakeArchive("many.tgz", {File("a", ""), File("b", ""), File("c", ""), File("d", "")}),
      "the archive has more than 3 entries", few);
  // Headers count even when they create nothing ("./" is the model directory itself).
  ExpectRefused(MakeArchive("dots.tgz", {Dir("./"), Dir("./"), Dir("./"), Dir("./")}),
                "the archive has more than 3 entries", few);
  // Implicit parent directories are objects too.
  ExpectRefused(MakeArchive("deep.tgz", {File("a/b/c/d", "")}),
                "the archive has more than 3 entries", few);
}

TEST_F(ExtractSecurityTest, RefusesTruncatedGzip) {
  const fs::path good =
      MakeArchive("good.tgz", {File("a", RandomBytes(50000, 1)), File("b", RandomBytes(50000, 2)),
                               File("c", RandomBytes(50000, 3))});
  const std::string bytes = ReadFileBytes(good);
  WriteFileBytes(ArchivePath("half.tgz"), bytes.substr(0, bytes.size() / 2));
  ExpectRefused(ArchivePath("half.tgz"),
                "the archive is truncated or corrupt: truncated gzip input");
  WriteFileBytes(ArchivePath("tail.tgz"), bytes.substr(0, bytes.size() - 6));
  ExpectRefused(ArchivePath("tail.tgz"), "the archive is truncated or corrupt");
}

TEST_F(ExtractSecurityTest, RefusesWhatIsNotAGzipTar) {
  WriteFileBytes(ArchivePath("model.tar.gz"), "this is plain text, not an archive\n");
  ExpectRefused(ArchivePath("model.tar.gz"), "the file is not a gzip-compressed tar archive");
  WriteFileBytes(ArchivePath("empty.tar.gz"), "");
  ExpectRefused(ArchivePath("empty.tar.gz"), "the file is not a gzip-compressed tar archive");
  WriteTar(ArchivePath("plain.tar"), {File("xgboost-model", "x")}, /*gzip=*/false);
  ExpectRefused(ArchivePath("plain.tar"), "the file is not a gzip-compressed tar archive");
  WriteGzip(ArchivePath("text.gz"), "plain text inside gzip, long enough to not be a header\n");
  ExpectRefused(ArchivePath("text.gz"),
                "the file is not a gzip-compressed tar archive (the gzip data does not hold a tar "
                "archive)");
  WriteFileBytes(ArchivePath("bad.gz"),
                 std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage", 17));
  ExpectRefused(ArchivePath("bad.gz"), "the archive is truncated or corrupt");
}

TEST_F(ExtractSecurityTest, RefusesOverlongNames) {
  ExpectRefused(MakeArchive("long.tgz", {File(std::string(300, 'n'), "x")}),
                "has a path component longer than 255 bytes");
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "d/";
  ExpectRefused(MakeArchive("deep.tgz", {File(deep + "f", "x")}),
                "nested more than 64 directories");
}

}  // namespace
}  // namespace thaw::artifacts::testing
