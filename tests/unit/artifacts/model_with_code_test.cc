#include "artifacts/model_with_code.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "unit/artifacts/cache_fixture.h"

namespace thaw::artifacts {
namespace {

namespace fs = std::filesystem;
using testing::File;

std::string Read(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ClassifySubmitDirectoryTest, ByTheValueAlone) {
  EXPECT_EQ(ClassifySubmitDirectory("", false), CodeLocation::kInModel);
  EXPECT_EQ(ClassifySubmitDirectory("/opt/ml/model", false), CodeLocation::kInModel);
  EXPECT_EQ(ClassifySubmitDirectory("/opt/ml/model/code", false), CodeLocation::kInModel);
  EXPECT_EQ(ClassifySubmitDirectory("s3://b/p/sourcedir.tar.gz", false), CodeLocation::kArchive);
  EXPECT_EQ(ClassifySubmitDirectory("file:///srv/sourcedir.tar.gz", false), CodeLocation::kArchive);
  EXPECT_EQ(ClassifySubmitDirectory("/srv/sourcedir.tar.gz", false), CodeLocation::kArchive);
  EXPECT_EQ(ClassifySubmitDirectory("/srv/code", true), CodeLocation::kDirectory);
  // A sibling of the mount point is a host path like any other.
  EXPECT_EQ(ClassifySubmitDirectory("/opt/ml/modelx", true), CodeLocation::kDirectory);
  EXPECT_EQ(ClassifySubmitDirectory("code", true), CodeLocation::kInvalid);
  EXPECT_EQ(ClassifySubmitDirectory("https://example.com/code.tar.gz", false),
            CodeLocation::kInvalid);
}

class ModelWithCodeTest : public testing::CacheTest {};

TEST_F(ModelWithCodeTest, CodeJoinsTheModelUnderCodeReplacingTheArchivesOwn) {
  ModelCache cache(CacheRoot(), ExtractLimits{});
  auto model = cache.Materialize(
      MakeArchive("model.tar.gz", {File("model.joblib", "weights"), File("code/old.py", "stale")}));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto code = cache.Materialize(MakeArchive("sourcedir.tar.gz", {File("inference.py", "new")}));
  ASSERT_TRUE(code.ok());

  auto both = AddCode(cache, *model, code->dir, code->digest, true);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(Read(both->dir / "model.joblib"), "weights");
  EXPECT_EQ(Read(both->dir / "code" / "inference.py"), "new");
  EXPECT_FALSE(fs::exists(both->dir / "code" / "old.py"));
  // The sources are untouched, and the same pair maps to the same directory.
  EXPECT_TRUE(fs::exists(model->dir / "code" / "old.py"));
  auto again = AddCode(cache, *model, code->dir, code->digest, true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->dir, both->dir);
  EXPECT_NE(both->digest, model->digest);
}

TEST_F(ModelWithCodeTest, HostDirectoryIsCopiedAndDigestFollowsItsContent) {
  ModelCache cache(CacheRoot(), ExtractLimits{});
  auto model = cache.Materialize(MakeArchive("model.tar.gz", {File("model.joblib", "w")}));
  ASSERT_TRUE(model.ok());
  const fs::path src = ArchivePath("src");
  fs::create_directories(src / "lib");
  std::ofstream(src / "inference.py") << "v1";
  std::ofstream(src / "lib" / "helper.py") << "h";
  auto d1 = TreeDigest(src);
  ASSERT_TRUE(d1.ok());
  auto both = AddCode(cache, *model, src, *d1, false);
  ASSERT_TRUE(both.ok()) << both.status().ToString();
  EXPECT_EQ(Read(both->dir / "code" / "lib" / "helper.py"), "h");

  // Editing the host directory later changes neither the deployed copy nor an equal digest.
  std::ofstream(src / "inference.py") << "v2";
  EXPECT_EQ(Read(both->dir / "code" / "inference.py"), "v1");
  auto d2 = TreeDigest(src);
  ASSERT_TRUE(d2.ok());
  EXPECT_NE(*d1, *d2);
  auto renamed = TreeDigest(src);
  fs::rename(src / "lib" / "helper.py", src / "lib" / "helper2.py");
  EXPECT_NE(*TreeDigest(src), *renamed);
}

}  // namespace
}  // namespace thaw::artifacts
