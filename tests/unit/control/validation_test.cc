#include "control/validation.h"

#include <gtest/gtest.h>

#include "control/request_shapes.h"

namespace thaw::control {
namespace {

json Config(json serverless) {
  return {
      {"EndpointConfigName", "cfg"},
      {"ProductionVariants",
       {{{"VariantName", "AllTraffic"}, {"ModelName", "m"}, {"ServerlessConfig", serverless}}}}};
}

std::string Message(const Result<json>& r) { return r.status().message(); }

TEST(Validation, CoralMessageForOneViolation) {
  auto r = CheckCreateEndpointConfig(Config({{"MemorySizeInMB", 8192}, {"MaxConcurrency", 5}}));
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(Message(r),
            "1 validation error detected: Value '8192' at "
            "'productionVariants.1.member.serverlessConfig.memorySizeInMB' failed to satisfy "
            "constraint: Member must have value less than or equal to 6144");
}

TEST(Validation, SeveralViolationsAreCountedAndJoined) {
  auto r = CheckCreateEndpointConfig(Config({{"MemorySizeInMB", 512}, {"MaxConcurrency", 500}}));
  EXPECT_EQ(Message(r).rfind("2 validation errors detected: ", 0), 0u) << Message(r);
  EXPECT_NE(Message(r).find("; Value '500' at "), std::string::npos);
}

TEST(Validation, MemoryMustBeAWholeGigabyte) {
  auto r = CheckCreateEndpointConfig(Config({{"MemorySizeInMB", 1500}, {"MaxConcurrency", 5}}));
  EXPECT_NE(Message(r).find("Member must satisfy enum value set: [1024, 2048, 3072, 4096, 5120, "
                            "6144]"),
            std::string::npos);
  for (int mb : {1024, 2048, 3072, 4096, 5120, 6144}) {
    EXPECT_TRUE(
        CheckCreateEndpointConfig(Config({{"MemorySizeInMB", mb}, {"MaxConcurrency", 1}})).ok());
  }
}

TEST(Validation, ProvisionedConcurrencyIsBoundedByMax) {
  EXPECT_TRUE(
      CheckCreateEndpointConfig(
          Config({{"MemorySizeInMB", 2048}, {"MaxConcurrency", 5}, {"ProvisionedConcurrency", 5}}))
          .ok());
  auto r = CheckCreateEndpointConfig(
      Config({{"MemorySizeInMB", 2048}, {"MaxConcurrency", 5}, {"ProvisionedConcurrency", 6}}));
  EXPECT_FALSE(r.ok());
}

TEST(Validation, WrongTypeIsSerializationError) {
  auto r = CheckCreateEndpointConfig(Config({{"MemorySizeInMB", "2048"}, {"MaxConcurrency", 5}}));
  EXPECT_EQ(r.status().code(), Code::kSerialization);
  json bad = {{"EndpointConfigName", "cfg"}, {"ProductionVariants", "oops"}};
  EXPECT_EQ(CheckCreateEndpointConfig(bad).status().code(), Code::kSerialization);
}

TEST(Validation, VariantKinds) {
  json both = Config({{"MemorySizeInMB", 2048}, {"MaxConcurrency", 5}});
  both["ProductionVariants"][0]["InstanceType"] = "ml.m5.large";
  both["ProductionVariants"][0]["InitialInstanceCount"] = 1;
  EXPECT_NE(Message(CheckCreateEndpointConfig(both)).find("both"), std::string::npos);

  json neither = Config({});
  neither["ProductionVariants"][0].erase("ServerlessConfig");
  EXPECT_NE(Message(CheckCreateEndpointConfig(neither)).find("one of ['InstanceType', "),
            std::string::npos);

  json instance = neither;
  instance["ProductionVariants"][0]["InstanceType"] = "ml.m5.large";
  instance["ProductionVariants"][0]["InitialInstanceCount"] = 2;
  auto ok = CheckCreateEndpointConfig(instance);
  ASSERT_TRUE(ok.ok()) << Message(ok);
  EXPECT_EQ((*ok)["ProductionVariants"][0]["InitialVariantWeight"], 1.0);

  json two = Config({{"MemorySizeInMB", 2048}, {"MaxConcurrency", 5}});
  two["ProductionVariants"].push_back(two["ProductionVariants"][0]);
  two["ProductionVariants"][1]["VariantName"] = "Other";
  EXPECT_NE(Message(CheckCreateEndpointConfig(two)).find("exactly one"), std::string::npos);
}

TEST(Validation, NamePatterns) {
  json m = {{"ModelName", "-bad"}, {"PrimaryContainer", {{"Image", "x"}}}};
  auto r = CheckCreateModel(m);
  EXPECT_NE(Message(r).find("Member must satisfy regular expression pattern: "
                            "^[a-zA-Z0-9](-*[a-zA-Z0-9])*"),
            std::string::npos);
  m["ModelName"] = std::string(64, 'a');
  EXPECT_NE(Message(CheckCreateModel(m)).find("length less than or equal to 63"),
            std::string::npos);
  m["ModelName"] = "good-name-1";
  auto ok = CheckCreateModel(m);
  ASSERT_TRUE(ok.ok()) << Message(ok);
  EXPECT_EQ((*ok)["PrimaryContainer"]["Mode"], "SingleModel");
  // A huge name is refused without running the regex on it.
  m["ModelName"] = std::string(1 << 20, 'a');
  EXPECT_FALSE(CheckCreateModel(m).ok());
}

TEST(Validation, ModelNeedsExactlyOneContainerForm) {
  json none = {{"ModelName", "m"}};
  EXPECT_FALSE(CheckCreateModel(none).ok());
  json both = {{"ModelName", "m"},
               {"PrimaryContainer", {{"Image", "x"}}},
               {"Containers", {{{"Image", "x"}}}}};
  EXPECT_FALSE(CheckCreateModel(both).ok());
  json role = {{"ModelName", "m"},
               {"PrimaryContainer", {{"Image", "x"}}},
               {"ExecutionRoleArn", "not-an-arn-at-all-xxxxxxx"}};
  EXPECT_NE(Message(CheckCreateModel(role)).find("executionRoleArn"), std::string::npos);
  json env = {{"ModelName", "m"},
              {"PrimaryContainer", {{"Image", "x"}, {"Environment", {{"1BAD", "v"}}}}}};
  EXPECT_FALSE(CheckCreateModel(env).ok());
}

TEST(Validation, MissingRequiredMember) {
  auto r = CheckCreateModel(json::object());
  EXPECT_NE(Message(r).find("Value null at 'modelName' failed to satisfy constraint: Member must "
                            "not be null"),
            std::string::npos);
}

TEST(ParseBody, AcceptsObjectsOnly) {
  EXPECT_TRUE(ParseBody("").ok());
  EXPECT_TRUE(ParseBody("{}").ok());
  EXPECT_EQ(ParseBody("[1]").status().code(), Code::kSerialization);
  EXPECT_EQ(ParseBody("{not json").status().code(), Code::kSerialization);
  EXPECT_EQ(ParseBody("\"\xff\"").status().code(), Code::kSerialization);
}

}  // namespace
}  // namespace thaw::control
