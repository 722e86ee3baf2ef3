#include "artifacts/entry_path.h"

#include <gtest/gtest.h>

#include <string>

namespace thaw::artifacts {
namespace {

EntryPath P(std::initializer_list<const char*> parts) {
  return EntryPath(parts.begin(), parts.end());
}

TEST(NormalizeEntryPathTest, AcceptsPlainAndDotSlashNames) {
  EXPECT_EQ(*NormalizeEntryPath("xgboost-model"), P({"xgboost-model"}));
  EXPECT_EQ(*NormalizeEntryPath("./xgboost-model"), P({"xgboost-model"}));
  EXPECT_EQ(*NormalizeEntryPath(".//code/./inference.py"), P({"code", "inference.py"}));
  EXPECT_EQ(*NormalizeEntryPath("code/"), P({"code"}));
  EXPECT_EQ(*NormalizeEntryPath("..."), P({"..."}));
  EXPECT_EQ(*NormalizeEntryPath("..data"), P({"..data"}));
  EXPECT_EQ(*NormalizeEntryPath("./"), EntryPath{});
  EXPECT_EQ(*NormalizeEntryPath("."), EntryPath{});
}

TEST(NormalizeEntryPathTest, RefusesNamesThatLeave) {
  EXPECT_EQ(NormalizeEntryPath("../x").status().message(),
            "archive entry \"../x\" escapes the model directory");
  EXPECT_FALSE(NormalizeEntryPath("a/../b").ok());
  EXPECT_FALSE(NormalizeEntryPath("a/..").ok());
  EXPECT_EQ(NormalizeEntryPath("/etc/x").status().message(),
            "archive entry \"/etc/x\" has an absolute path");
  EXPECT_FALSE(NormalizeEntryPath("//x").ok());
  EXPECT_EQ(NormalizeEntryPath("").status().code(), Code::kInvalidArgument);
}

TEST(NormalizeEntryPathTest, RefusesOverlongNames) {
  EXPECT_FALSE(NormalizeEntryPath(std::string(256, 'a')).ok());
  EXPECT_TRUE(NormalizeEntryPath(std::string(255, 'a')).ok());
  EXPECT_FALSE(NormalizeEntryPath(std::string(kMaxEntryNameBytes + 1, 'a')).ok());
  std::string deep;
  for (size_t i = 0; i < kMaxEntryDepth; ++i) deep += "d/";
  EXPECT_TRUE(NormalizeEntryPath(deep).ok());
  EXPECT_FALSE(NormalizeEntryPath(deep + "x").ok());
}

TEST(ResolveSymlinkTargetTest, ResolvesRelativeToTheLinkDirectory) {
  EXPECT_EQ(*ResolveSymlinkTarget("l", P({"l"}), "model"), P({"model"}));
  EXPECT_EQ(*ResolveSymlinkTarget("l", P({"l"}), "."), EntryPath{});
  EXPECT_EQ(*ResolveSymlinkTarget("a/b/l", P({"a", "b", "l"}), "../../x/y"), P({"x", "y"}));
  EXPECT_EQ(*ResolveSymlinkTarget("a/l", P({"a", "l"}), ".."), EntryPath{});
  EXPECT_EQ(*ResolveSymlinkTarget("a/l", P({"a", "l"}), "./../c/./d/"), P({"c", "d"}));
}

TEST(ResolveSymlinkTargetTest, RefusesTargetsThatLeave) {
  EXPECT_EQ(ResolveSymlinkTarget("l", P({"l"}), "../../etc/passwd").status().message(),
            "archive entry \"l\" is a symbolic link that points outside the model directory "
            "(target \"../../etc/passwd\")");
  EXPECT_FALSE(ResolveSymlinkTarget("l", P({"l"}), "..").ok());
  EXPECT_FALSE(ResolveSymlinkTarget("a/l", P({"a", "l"}), "../..").ok());
  EXPECT_FALSE(ResolveSymlinkTarget("l", P({"l"}), "/etc/passwd").ok());
  EXPECT_FALSE(ResolveSymlinkTarget("l", P({"l"}), "").ok());
  // Lexically inside, but "e" may be a link: "e/.." is not necessarily the link's directory.
  EXPECT_FALSE(ResolveSymlinkTarget("l", P({"l"}), "e/..").ok());
  EXPECT_FALSE(ResolveSymlinkTarget("a/l", P({"a", "l"}), "../a/../x").ok());
}

TEST(QuoteEntryNameTest, EscapesWhatAMessageCannotCarry) {
  EXPECT_EQ(QuoteEntryName("a b"), "\"a b\"");
  EXPECT_EQ(QuoteEntryName("q\"\\"), "\"q\\\"\\\\\"");
  EXPECT_EQ(QuoteEntryName("nl\n\x01"), "\"nl\\x0a\\x01\"");
  EXPECT_EQ(QuoteEntryName("\xc3\xa8"), "\"\\xc3\\xa8\"");
  const std::string q = QuoteEntryName(std::string(1000, 'x'));
  EXPECT_LT(q.size(), 210u);
  EXPECT_EQ(q.substr(q.size() - 4), "...\"");
}

TEST(JoinEntryPathTest, Joins) {
  EXPECT_EQ(JoinEntryPath(P({"a", "b"})), "a/b");
  EXPECT_EQ(JoinEntryPath({}), ".");
}

}  // namespace
}  // namespace thaw::artifacts
