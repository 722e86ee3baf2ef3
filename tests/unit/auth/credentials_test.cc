#include "auth/credentials.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "fakes/temp_dir.h"

namespace thaw::auth {
namespace {

TEST(Credentials, ParsesProfilesAndSkipsIncompleteOnes) {
  auto keys = ParseCredentials(
      "# comment\n; another\n[default]\naws_access_key_id = AKIA1\n"
      "aws_secret_access_key=secret one \n\n[profile ci]\naws_access_key_id = AKIA2\n"
      "aws_secret_access_key = s2\naws_session_token = tok\n[half]\naws_access_key_id = AKIA3\n");
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].access_key, "AKIA1");
  EXPECT_EQ((*keys)[0].secret_key, "secret one");
  EXPECT_EQ((*keys)[0].profile, "default");
  EXPECT_EQ((*keys)[1].profile, "ci");
  EXPECT_EQ((*keys)[1].session_token, "tok");
}

TEST(Credentials, MalformedLinesAreNamed) {
  auto no_eq = ParseCredentials("[default]\naws_access_key_id AKIA\n");
  ASSERT_FALSE(no_eq.ok());
  EXPECT_NE(no_eq.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ParseCredentials("aws_access_key_id = A\n").ok());
  EXPECT_FALSE(ParseCredentials("[default\n").ok());
}

// A client's file may name one key in two profiles; thaw's own key list may not.
TEST(Credentials, SameKeyIdInTwoProfilesParsesButIsNoServerKeyList) {
  auto keys = ParseCredentials(
      "[a]\naws_access_key_id=A\naws_secret_access_key=1\n"
      "[b]\naws_access_key_id=A\naws_secret_access_key=2\n");
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[1].secret_key, "2");
  Status distinct = CheckDistinctKeys(*keys);
  EXPECT_FALSE(distinct.ok());
  EXPECT_NE(distinct.message().find("[a] and [b]"), std::string::npos) << distinct.message();
  // The same key with the same secret twice is no ambiguity.
  auto same = ParseCredentials(
      "[a]\naws_access_key_id=A\naws_secret_access_key=1\n"
      "[b]\naws_access_key_id=A\naws_secret_access_key=1\n");
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(CheckDistinctKeys(*same).ok());

  testing::TempDir dir;
  const auto path = dir.path() / "credentials";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  const std::string text =
      "[a]\naws_access_key_id=A\naws_secret_access_key=1\n"
      "[b]\naws_access_key_id=A\naws_secret_access_key=2\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  EXPECT_FALSE(LoadOrCreateCredentials(path).ok());
}

TEST(Credentials, CreatesAPrivateFileOnceThenReadsIt) {
  testing::TempDir dir;
  auto path = dir.path() / "credentials";
  auto first = LoadOrCreateCredentials(path);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->created);
  ASSERT_EQ(first->keys.size(), 1u);
  EXPECT_EQ(first->keys[0].access_key.size(), 20u);
  EXPECT_EQ(first->keys[0].access_key.rfind("AKIA", 0), 0u);
  EXPECT_EQ(first->keys[0].secret_key.size(), 40u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto second = LoadOrCreateCredentials(path);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->keys[0].secret_key, first->keys[0].secret_key);

  chmod(path.c_str(), 0644);
  auto shared = LoadOrCreateCredentials(path);
  ASSERT_FALSE(shared.ok());
  EXPECT_NE(shared.status().message().find("chmod 600"), std::string::npos);
}

TEST(Credentials, AFileWithoutKeysIsRefused) {
  testing::TempDir dir;
  auto path = dir.path() / "credentials";
  std::ofstream(path) << "[default]\n";
  chmod(path.c_str(), 0600);
  EXPECT_FALSE(LoadOrCreateCredentials(path).ok());
}

}  // namespace
}  // namespace thaw::auth
