// The pure decisions of `thaw deploy`: image aliases, model paths, names, request bodies.

#include "cli/deploy.h"

#include <gtest/gtest.h>

#include "common/time_format.h"

namespace thaw::cli {
namespace {

TEST(ResolveImage, XgboostAliasUsesTheRegionsRegistry) {
  auto image = ResolveImage("xgboost:1.7-1", "us-east-1");
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(*image, "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1");
  EXPECT_EQ(*ResolveImage("xgboost:1.7-1", "eu-west-1"),
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1");
  EXPECT_EQ(*ResolveImage("xgboost", "us-west-2"),
            "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1");
}

TEST(ResolveImage, SklearnAliasAddsProcessorAndPython) {
  EXPECT_EQ(*ResolveImage("sklearn:1.2-1", "us-east-1"),
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3");
  EXPECT_EQ(*ResolveImage("sklearn", "us-east-1"),
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3");
  EXPECT_EQ(*ResolveImage("sklearn:1.2-1-cpu-py3", "us-east-1"),
            "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3");
}

TEST(ResolveImage, ChinaRegionsUseTheCnDomain) {
  EXPECT_EQ(*ResolveImage("xgboost:1.7-1", "cn-north-1"),
            "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1");
}

TEST(ResolveImage, FullUrisPassThrough) {
  const char* uri = "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-xgboost:1.7-1";
  EXPECT_EQ(*ResolveImage(uri, "us-east-1"), uri);
  EXPECT_EQ(*ResolveImage("registry.local/x:1", "nowhere-1"), "registry.local/x:1");
}

TEST(ResolveImage, RefusesUnknownAliasesAndRegions) {
  auto unknown = ResolveImage("pytorch:2.0", "us-east-1");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("xgboost:1.7-1"), std::string::npos);
  EXPECT_FALSE(ResolveImage("xgboost:", "us-east-1").ok());
  auto region = ResolveImage("xgboost:1.7-1", "mars-north-1");
  ASSERT_FALSE(region.ok());
  EXPECT_NE(region.status().message().find("mars-north-1"), std::string::npos);
}

TEST(ResolveModelUrl, MakesLocalPathsAbsolute) {
  EXPECT_EQ(*ResolveModelUrl("model.tar.gz", "/home/u/work"), "/home/u/work/model.tar.gz");
  EXPECT_EQ(*ResolveModelUrl("./out/../m/model.tar.gz", "/home/u"), "/home/u/m/model.tar.gz");
  EXPECT_EQ(*ResolveModelUrl("/abs//dir/./model.tar.gz", "/ignored"), "/abs/dir/model.tar.gz");
}

TEST(ResolveModelUrl, PassesS3AndFileUrlsThrough) {
  EXPECT_EQ(*ResolveModelUrl("s3://bucket/key/model.tar.gz", "/x"), "s3://bucket/key/model.tar.gz");
  EXPECT_EQ(*ResolveModelUrl("file:///data/model.tar.gz", "/x"), "file:///data/model.tar.gz");
}

TEST(ResolveModelUrl, RefusesOtherSchemesAndEmpty) {
  EXPECT_FALSE(ResolveModelUrl("", "/x").ok());
  EXPECT_FALSE(ResolveModelUrl("https://example.com/model.tar.gz", "/x").ok());
  EXPECT_FALSE(ResolveModelUrl("gs://b/k", "/x").ok());
}

TEST(ParseEnv, SplitsAtTheFirstEquals) {
  auto env = ParseEnv({"A=1", "B=x=y", "C=", "A=2"});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(*env, (std::map<std::string, std::string>{{"A", "2"}, {"B", "x=y"}, {"C", ""}}));
  EXPECT_FALSE(ParseEnv({"NOVALUE"}).ok());
  EXPECT_FALSE(ParseEnv({"=v"}).ok());
}

TEST(VersionedName, AppendsUtcTimestampWithinSixtyThreeChars) {
  WallTime t = *ParseIso8601("2026-03-04T05:06:07.890Z");
  EXPECT_EQ(VersionedName("my-ep", t), "my-ep-20260304050607");
  std::string long_name(60, 'a');
  long_name[47] = '-';  // the cut lands on a hyphen, which must not end the base
  std::string versioned = VersionedName(long_name, t);
  EXPECT_LE(versioned.size(), 63u);
  EXPECT_EQ(versioned, std::string(47, 'a') + "-20260304050607");
}

ClientOptions DeployOptions() {
  ClientOptions o;
  o.name = "ep1";
  o.model = "models/xgb.tar.gz";
  o.image = "xgboost:1.7-1";
  o.region = "us-east-2";
  o.account_id = "111122223333";
  o.memory = 3072;
  o.max_concurrency = 7;
  return o;
}

TEST(MakeDeploySpec, ResolvesEverything) {
  WallTime t = *ParseIso8601("2026-01-02T03:04:05Z");
  auto spec = MakeDeploySpec(DeployOptions(), "/srv", t);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->endpoint_name, "ep1");
  EXPECT_EQ(spec->model_name, "ep1-20260102030405");
  EXPECT_EQ(spec->config_name, "ep1-20260102030405");
  EXPECT_EQ(spec->image, "257758044811.dkr.ecr.us-east-2.amazonaws.com/sagemaker-xgboost:1.7-1");
  EXPECT_EQ(spec->model_url, "/srv/models/xgb.tar.gz");
  EXPECT_EQ(spec->execution_role_arn, "arn:aws:iam::111122223333:role/thaw");
}

TEST(MakeDeploySpec, RejectsBadInput) {
  WallTime t = *ParseIso8601("2026-01-02T03:04:05Z");
  ClientOptions o = DeployOptions();
  o.account_id = "12345";
  EXPECT_FALSE(MakeDeploySpec(o, "/", t).ok());
  o = DeployOptions();
  o.provisioned = 8;
  EXPECT_FALSE(MakeDeploySpec(o, "/", t).ok());
  o = DeployOptions();
  o.env = {"oops"};
  EXPECT_FALSE(MakeDeploySpec(o, "/", t).ok());
}

DeploySpec Spec() {
  DeploySpec s;
  s.endpoint_name = "ep1";
  s.model_name = s.config_name = "ep1-20260102030405";
  s.image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1";
  s.model_url = "/srv/model.tar.gz";
  s.execution_role_arn = "arn:aws:iam::123456789012:role/thaw";
  s.memory_mb = 2048;
  s.max_concurrency = 5;
  return s;
}

TEST(RequestBodies, CreateModel) {
  DeploySpec s = Spec();
  EXPECT_EQ(CreateModelRequest(s), nlohmann::json::parse(R"({
    "ModelName": "ep1-20260102030405",
    "ExecutionRoleArn": "arn:aws:iam::123456789012:role/thaw",
    "PrimaryContainer": {
      "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
      "ModelDataUrl": "/srv/model.tar.gz"}})"));
  s.env = {{"SAGEMAKER_PROGRAM", "inference.py"}};
  EXPECT_EQ(CreateModelRequest(s)["PrimaryContainer"]["Environment"],
            nlohmann::json::parse(R"({"SAGEMAKER_PROGRAM": "inference.py"})"));
}

TEST(RequestBodies, CreateEndpointConfigHasOneServerlessVariant) {
  DeploySpec s = Spec();
  EXPECT_EQ(CreateEndpointConfigRequest(s), nlohmann::json::parse(R"({
    "EndpointConfigName": "ep1-20260102030405",
    "ProductionVariants": [{
      "VariantName": "AllTraffic", "ModelName": "ep1-20260102030405",
      "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}]})"));
  s.provisioned = 2;
  EXPECT_EQ(CreateEndpointConfigRequest(
                s)["ProductionVariants"][0]["ServerlessConfig"]["ProvisionedConcurrency"],
            2);
}

TEST(RequestBodies, CreateAndUpdateEndpoint) {
  nlohmann::json want = nlohmann::json::parse(
      R"({"EndpointName": "ep1", "EndpointConfigName": "ep1-20260102030405"})");
  EXPECT_EQ(CreateEndpointRequest(Spec()), want);
  EXPECT_EQ(UpdateEndpointRequest(Spec()), want);
}

TEST(IsEndpointMissing, OnlyTheCouldNotFoundValidationException) {
  EXPECT_TRUE(IsEndpointMissing(
      {400, "ValidationException", "Could not find endpoint \"arn:aws:sagemaker:...\"."}));
  EXPECT_FALSE(IsEndpointMissing({400, "ValidationException", "1 validation error detected"}));
  EXPECT_FALSE(IsEndpointMissing({500, "InternalFailure", "Could not find the disk"}));
  EXPECT_FALSE(IsEndpointMissing({0, "", "cannot connect"}));
}

}  // namespace
}  // namespace thaw::cli
