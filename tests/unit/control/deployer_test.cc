// Deployer::Prepare with model data on a remote S3 store: what the endpoint's FailureReason says
// when the download or the archive fails (the cause texts themselves: s3_fetcher_test.cc).
#include "control/deployer.h"

#include <gtest/gtest.h>

#include "artifacts/s3_url.h"
#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"
#include "unit/cli/canned_server.h"

namespace thaw::control {
namespace {

using cli::testing::CannedResponse;
using cli::testing::CannedServer;
using nlohmann::json;

constexpr char kXgbImage[] = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1";

json Snapshot(const std::string& url) {
  return {
      {"EndpointConfig",
       {{"ProductionVariants", {{{"VariantName", "AllTraffic"}, {"ModelName", "m"}}}}}},
      {"Models", {{"m", {{"PrimaryContainer", {{"Image", kXgbImage}, {"ModelDataUrl", url}}}}}}}};
}

class RemoteDeployerTest : public ::testing::Test {
 protected:
  Deployer Make(const std::string& endpoint) {
    artifacts::S3FetcherOptions o;
    o.endpoint = *artifacts::ParseS3Endpoint(endpoint);
    o.credential = {"AKIDEXAMPLE", "secret", "", "test"};
    o.retry.max_attempts = 1;
    auto fetcher = std::make_shared<artifacts::S3Fetcher>(std::move(o), clock_,
                                                          [](std::chrono::milliseconds) {});
    return Deployer(DeployerOptions{dir_.path() / "s3", fetcher}, cache_, clock_);
  }

  size_t CacheEntries() {
    size_t n = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(cache_.root(), ec), end; !ec && it != end;
         it.increment(ec)) {
      ++n;
    }
    return n;
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  artifacts::ModelCache cache_{dir_.path() / "cache", artifacts::ExtractLimits{}};
};

TEST_F(RemoteDeployerTest, MissingObjectIsADownloadFailure) {
  CannedServer server({{404,
                        "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                        "exist.</Message></Error>",
                        {{"Content-Type", "application/xml"}}}});
  Deployer deployer = Make(server.url());
  auto prepared = deployer.Prepare(Snapshot("s3://models/xgb/model.tar.gz"));
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().message(),
            "Failed to download model data from URL \"s3://models/xgb/model.tar.gz\". NoSuchKey: "
            "The specified key does not exist. (bucket \"models\", key \"xgb/model.tar.gz\" at " +
                server.url() + "). Please ensure that there is an object located at the URL.");
  EXPECT_EQ(server.Requests().at(0).target, "/models/xgb/model.tar.gz");
}

TEST_F(RemoteDeployerTest, DownloadedBytesThatAreNoArchiveAreAnExtractionFailure) {
  CannedServer server({{200, "not a tar.gz", {}}});
  Deployer deployer = Make(server.url());
  auto prepared = deployer.Prepare(Snapshot("s3://models/xgb/model.tar.gz"));
  ASSERT_FALSE(prepared.ok());
  EXPECT_TRUE(prepared.status().message().starts_with(
      "Failed to extract model data archive from URL \"s3://models/xgb/model.tar.gz\"."))
      << prepared.status().message();
  EXPECT_EQ(CacheEntries(), 0u);  // neither the download nor a half extraction stays
}

TEST(EmbeddedDeployerTest, WithoutAnEndpointS3UrlsNameTheEmbeddedStore) {
  testing::TempDir dir;
  testing::FakeClock clock;
  artifacts::ModelCache cache(dir.path() / "cache", artifacts::ExtractLimits{});
  Deployer deployer(DeployerOptions{dir.path() / "s3", nullptr}, cache, clock);
  auto prepared = deployer.Prepare(Snapshot("s3://models/xgb/model.tar.gz"));
  ASSERT_FALSE(prepared.ok());
  EXPECT_TRUE(prepared.status().message().starts_with(
      "Failed to download model data from URL \"s3://models/xgb/model.tar.gz\". model data "
      "\"s3://models/xgb/model.tar.gz\" does not exist (looked for"))
      << prepared.status().message();
}

}  // namespace
}  // namespace thaw::control
