#include "auth/client_signing.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "fakes/temp_dir.h"

namespace thaw::auth {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// AWS's documented example "GET Object" (Amazon S3 API Reference, "Signature Calculations for
// the Authorization Header: Transferring Payload in a Single Chunk"): the first 10 bytes of
// examplebucket/test.txt.
TEST(SignedAuthorization, ReproducesAwsS3GetObjectExample) {
  Credential key{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", "t"};
  RequestView get{"GET", "/test.txt", {}, ""};
  get.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                 {"range", "bytes=0-9"},
                 {"x-amz-content-sha256", kEmptyPayloadHash},
                 {"x-amz-date", "20130524T000000Z"}};
  EXPECT_EQ(SignedAuthorization(key, "us-east-1", "s3", "20130524T000000Z", get),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SignedAuthorization, TheVerifierAcceptsWhatTheSignerSigns) {
  Credential key{"AKIDEXAMPLE", "secret/with+chars", "", "default"};
  const auto now = std::chrono::system_clock::from_time_t(1700000000);
  const std::string date = AmzDate(now);
  RequestView get{"GET", "/bucket/models/a%20b%2Bc.tar.gz", {}, ""};
  get.headers = {{"host", "127.0.0.1:4568"},
                 {"x-amz-content-sha256", kEmptyPayloadHash},
                 {"x-amz-date", date}};
  const std::string authorization = SignedAuthorization(key, "eu-west-1", "s3", date, get);
  get.headers.emplace_back("authorization", authorization);
  const Verdict verdict = Verify(get, {key}, now, VerifyOptions{});
  EXPECT_TRUE(verdict.ok()) << verdict.message;
}

TEST(FindCredentials, EnvironmentFirstThenTheNamedProfile) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "credentials").string();
  std::ofstream(file) << "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s1\n"
                         "[remote]\naws_access_key_id = AKREMOTE\naws_secret_access_key = s2\n";
  auto from_env = FindCredentials(FakeEnv({{"AWS_ACCESS_KEY_ID", "AKENV"},
                                           {"AWS_SECRET_ACCESS_KEY", "s0"},
                                           {"AWS_SESSION_TOKEN", "tok"},
                                           {"AWS_SHARED_CREDENTIALS_FILE", file}}),
                                  "remote");
  ASSERT_TRUE(from_env.ok() && from_env->has_value());
  EXPECT_EQ((*from_env)->access_key, "AKENV");
  EXPECT_EQ((*from_env)->session_token, "tok");

  auto named = FindCredentials(
      FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "default"}}), "remote");
  ASSERT_TRUE(named.ok() && named->has_value());
  EXPECT_EQ((*named)->access_key, "AKREMOTE");

  auto from_aws_profile =
      FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "remote"}}));
  ASSERT_TRUE(from_aws_profile.ok() && from_aws_profile->has_value());
  EXPECT_EQ((*from_aws_profile)->access_key, "AKREMOTE");

  auto missing = FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}}), "nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

// Real AWS clients accept one key id in two profiles with different secrets (a rotated key, a
// copy-pasted profile): the profile asked for decides.
TEST(FindCredentials, SameKeyIdInTwoProfilesTakesTheOneAskedFor) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "credentials").string();
  std::ofstream(file) << "[default]\naws_access_key_id = AKSAME\naws_secret_access_key = old\n"
                         "[rotated]\naws_access_key_id = AKSAME\naws_secret_access_key = new\n";
  auto rotated = FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}}), "rotated");
  ASSERT_TRUE(rotated.ok()) << rotated.status().message();
  ASSERT_TRUE(rotated->has_value());
  EXPECT_EQ((*rotated)->secret_key, "new");
  auto fallback = FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}}));
  ASSERT_TRUE(fallback.ok() && fallback->has_value());
  EXPECT_EQ((*fallback)->secret_key, "old");
}

TEST(FindRegion, EnvironmentThenConfigProfileThenUsEast1) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "config").string();
  std::ofstream(file)
      << "[default]\nregion = eu-west-1\n\n[profile remote]\n  region=ap-south-1 \n";
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_REGION", "us-west-2"}, {"AWS_CONFIG_FILE", file}})),
            "us-west-2");
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_DEFAULT_REGION", "ca-central-1"}})), "ca-central-1");
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_CONFIG_FILE", file}})), "eu-west-1");
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_CONFIG_FILE", file}}), "remote"), "ap-south-1");
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_CONFIG_FILE", file}, {"AWS_PROFILE", "remote"}})),
            "ap-south-1");
  EXPECT_EQ(FindRegion(FakeEnv({{"AWS_CONFIG_FILE", file}}), "other"), "us-east-1");
  EXPECT_EQ(FindRegion(FakeEnv({})), "us-east-1");
}

}  // namespace
}  // namespace thaw::auth
