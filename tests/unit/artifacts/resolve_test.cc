#include "artifacts/resolve.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace thaw::artifacts {
namespace {

namespace fs = std::filesystem;

class ResolveLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "thaw-resolve-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    s3_root_ = base_ / "s3";
    Touch(base_ / "models" / "model.tar.gz");
    Touch(base_ / "models" / "with space.tar.gz");
    Touch(s3_root_ / "bucket" / "xgb" / "v1" / "output" / "model.tar.gz");
    Touch(base_ / "outside.tar.gz");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  static void Touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << "x";
  }
  void ExpectInvalid(const std::string& url, const std::string& needle) {
    Result<fs::path> r = ResolveLocal(url, s3_root_);
    ASSERT_FALSE(r.ok()) << url << " resolved to " << *r;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << url;
    EXPECT_NE(r.status().message().find(needle), std::string::npos)
        << url << ": " << r.status().message();
  }

  fs::path base_;
  fs::path s3_root_;
};

TEST_F(ResolveLocalTest, AbsolutePath) {
  const fs::path p = base_ / "models" / "model.tar.gz";
  Result<fs::path> r = ResolveLocal(p.string(), s3_root_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, p);
}

TEST_F(ResolveLocalTest, FileUrl) {
  const fs::path p = base_ / "models" / "model.tar.gz";
  EXPECT_EQ(*ResolveLocal("file://" + p.string(), s3_root_), p);
  EXPECT_EQ(*ResolveLocal("file://localhost" + p.string(), s3_root_), p);
  const std::string spaced = (base_ / "models").string() + "/with%20space.tar.gz";
  EXPECT_EQ(*ResolveLocal("file://" + spaced, s3_root_), base_ / "models" / "with space.tar.gz");
  ExpectInvalid("file://otherhost" + p.string(), "must name a local absolute path");
  ExpectInvalid("file://" + (base_ / "models").string() + "/bad%zz", "invalid %-escape");
}

TEST_F(ResolveLocalTest, S3UrlWithNestedKey) {
  Result<fs::path> r = ResolveLocal("s3://bucket/xgb/v1/output/model.tar.gz", s3_root_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, s3_root_ / "bucket" / "xgb" / "v1" / "output" / "model.tar.gz");
}

TEST_F(ResolveLocalTest, S3KeyCannotEscape) {
  ExpectInvalid("s3://bucket/../outside.tar.gz", "has an empty, \".\" or \"..\" segment");
  ExpectInvalid("s3://bucket/xgb/../../../outside.tar.gz", "segment");
  ExpectInvalid("s3://bucket//etc/passwd", "segment");
  ExpectInvalid("s3://bucket/./xgb/v1/output/model.tar.gz", "segment");
  ExpectInvalid("s3://bucket/xgb/v1/output/", "segment");
  ExpectInvalid("s3://bucket", "has no object key");
  ExpectInvalid("s3://bucket/", "has no object key");
}

TEST_F(ResolveLocalTest, S3BucketMustBeAPlainName) {
  ExpectInvalid("s3:///model.tar.gz", "has no bucket name");
  ExpectInvalid("s3://../outside.tar.gz", "invalid bucket name");
  ExpectInvalid("s3://./bucket/xgb/v1/output/model.tar.gz", "invalid bucket name");
  ExpectInvalid("s3://buc\\ket/k", "invalid bucket name");
}

TEST_F(ResolveLocalTest, UnsupportedSchemes) {
  ExpectInvalid("https://bucket.s3.amazonaws.com/model.tar.gz",
                "https:// model data URLs are not supported; use s3://, file:// or an absolute "
                "path");
  ExpectInvalid("http://example.com/model.tar.gz", "http:// model data URLs are not supported");
  ExpectInvalid("gs://bucket/model.tar.gz", "gs:// model data URLs are not supported");
  ExpectInvalid("model.tar.gz", "is neither an absolute path nor a URL");
  ExpectInvalid("", "is empty");
  ExpectInvalid(std::string("/a\0b", 4), "NUL");
}

TEST_F(ResolveLocalTest, MissingFileIsNotFound) {
  Result<fs::path> r = ResolveLocal((base_ / "missing.tar.gz").string(), s3_root_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("does not exist"), std::string::npos);
  Result<fs::path> s3 = ResolveLocal("s3://bucket/no/such/key.tar.gz", s3_root_);
  ASSERT_FALSE(s3.ok());
  EXPECT_EQ(s3.status().code(), Code::kNotFound);
  EXPECT_NE(s3.status().message().find("does not exist"), std::string::npos);
}

TEST_F(ResolveLocalTest, DirectoryIsNotAModel) {
  ExpectInvalid((base_ / "models").string(), "is a directory");
}

}  // namespace
}  // namespace thaw::artifacts
