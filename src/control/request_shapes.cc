#include "control/request_shapes.h"

#include <fmt/format.h>

#include <set>

#include "common/arn.h"
#include "control/validation.h"

namespace thaw::control {
namespace {

using nlohmann::json;

const StringRule& ImageRule() {
  static const std::regex re(R"([\S]+)");
  static const StringRule rule{0, 255, &re, "[\\S]+"};
  return rule;
}

const StringRule& RoleArnRule() {
  static const std::regex re(R"(arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+)");
  static const StringRule rule{20, 2048, &re,
                               "^arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+$"};
  return rule;
}

const StringRule& EnvKeyRule() {
  static const std::regex re("[a-zA-Z_][a-zA-Z0-9_]*");
  static const StringRule rule{0, 1024, &re, "[a-zA-Z_][a-zA-Z0-9_]*"};
  return rule;
}

const StringRule& InstanceTypeRule() {
  static const std::regex re(R"(ml\.[a-z0-9]+\.[a-z0-9]+)");
  static const StringRule rule{0, 64, &re, "ml.<family>.<size>"};
  return rule;
}

void CheckContainer(Field& c) {
  c.String("ContainerHostname", false, Patterns::ResourceName());
  c.String("Image", true, ImageRule());
  c.String("ModelDataUrl", false, {0, 1024});
  c.Enum("Mode", false, {"SingleModel", "MultiModel"});
  c.String("ModelPackageName", false, {1, 176});
  c.String("InferenceSpecificationName", false, {1, 63});
  if (auto ic = c.Object("ImageConfig", false)) {
    ic->Enum("RepositoryAccessMode", true, {"Platform", "Vpc"});
  }
  if (auto env = c.StringMap("Environment", 100)) {
    Validator& v = c.validator();
    for (const auto& [k, val] : *env) {
      json probe = {{"k", k}};
      Field key_field(probe, v, c.PathOf("Environment"));
      key_field.String("k", false, EnvKeyRule());
      if (val.size() > 1024) {
        v.Violation(c.PathOf("Environment") + "." + k, "'...'",
                    "Member must have length less than or equal to 1024");
      }
    }
  }
}

// Defaults AWS shows in DescribeModel.
void FillContainerDefaults(json& c) {
  if (!c.contains("Mode")) c["Mode"] = "SingleModel";
  if (!c.contains("Environment")) c["Environment"] = json::object();
}

}  // namespace

void CheckTags(Field& body) {
  auto tags = body.List("Tags", false, 0, 50);
  if (!tags) return;
  for (Field& t : *tags) {
    t.String("Key", true, {1, 128});
    t.String("Value", true, {0, 256});
  }
}

Result<json> CheckCreateModel(const json& body) {
  Validator v;
  Field f(body, v);
  f.String("ModelName", true, Patterns::ModelName());
  f.String("ExecutionRoleArn", false, RoleArnRule());
  auto primary = f.Object("PrimaryContainer", false);
  auto containers = f.List("Containers", false, 0, 15);
  if (primary) CheckContainer(*primary);
  if (containers) {
    for (Field& c : *containers) CheckContainer(c);
  }
  if (auto iec = f.Object("InferenceExecutionConfig", false)) {
    iec->Enum("Mode", true, {"Serial", "Direct"});
  }
  f.Bool("EnableNetworkIsolation");
  if (auto vpc = f.Object("VpcConfig", false)) {
    vpc->List("SecurityGroupIds", true, 1, 5);
    vpc->List("Subnets", true, 1, 16);
  }
  CheckTags(f);
  if (v.ok()) {
    bool has_primary = primary.has_value();
    bool has_list = containers.has_value() && !containers->empty();
    if (has_primary == has_list) {
      v.Fail(InvalidArgument(has_primary
                                 ? "Specify either PrimaryContainer or Containers, not both."
                                 : "Either PrimaryContainer or Containers must be specified."));
    }
  }
  THAW_RETURN_IF_ERROR(v.status());

  json doc = body;
  if (doc.contains("PrimaryContainer")) FillContainerDefaults(doc["PrimaryContainer"]);
  if (doc.contains("Containers")) {
    for (json& c : doc["Containers"]) FillContainerDefaults(c);
  }
  return doc;
}

bool IsServerless(const json& config_doc) {
  for (const json& pv : config_doc.value("ProductionVariants", json::array())) {
    if (pv.contains("ServerlessConfig")) return true;
  }
  return false;
}

Result<json> CheckCreateEndpointConfig(const json& body) {
  Validator v;
  Field f(body, v);
  f.String("EndpointConfigName", true, Patterns::ResourceName());
  f.String("KmsKeyId", false, {0, 2048});
  auto variants = f.List("ProductionVariants", true, 1, 10);
  CheckTags(f);
  size_t serverless = 0, instance = 0;
  std::set<std::string> names;
  if (variants) {
    for (Field& pv : *variants) {
      auto name = pv.String("VariantName", true, Patterns::ResourceName());
      pv.String("ModelName", true, Patterns::ModelName());
      auto count = pv.Int("InitialInstanceCount", false, 1, 1000);
      auto type = pv.String("InstanceType", false, InstanceTypeRule());
      pv.Double("InitialVariantWeight", false, 0.0);
      auto sc = pv.Object("ServerlessConfig", false);
      if (sc) {
        auto memory = sc->Int("MemorySizeInMB", true, 1024, 6144);
        if (memory && *memory % 1024 != 0) {
          v.Violation(sc->PathOf("MemorySizeInMB"), fmt::format("'{}'", *memory),
                      "Member must satisfy enum value set: [1024, 2048, 3072, 4096, 5120, 6144]");
        }
        auto max_conc = sc->Int("MaxConcurrency", true, 1, 200);
        auto prov = sc->Int("ProvisionedConcurrency", false, 1, 200);
        if (max_conc && prov && *prov > *max_conc) {
          v.Violation(sc->PathOf("ProvisionedConcurrency"), fmt::format("'{}'", *prov),
                      fmt::format("Member must have value less than or equal to MaxConcurrency "
                                  "({})",
                                  *max_conc));
        }
      }
      bool has_instance = pv.Has("InstanceType") || pv.Has("InitialInstanceCount");
      if (!v.ok()) continue;
      std::string shown = name.value_or("?");
      if (name && !names.insert(ToLower(*name)).second) {
        v.Fail(InvalidArgument(fmt::format(
            "The production variant name {} is used more than once. Variant names must be unique.",
            shown)));
      }
      if (sc && has_instance) {
        v.Fail(InvalidArgument(
            fmt::format("Production variant {} specifies both ServerlessConfig and InstanceType/"
                        "InitialInstanceCount. A variant is either serverless or instance-based.",
                        shown)));
      } else if (!sc && !has_instance) {
        v.Fail(InvalidArgument(
            fmt::format("Invalid Keys for ProductionVariant {}: expected it to contain one of "
                        "['InstanceType', 'ServerlessConfig'].",
                        shown)));
      } else if (!sc && (!type || !count)) {
        v.Fail(InvalidArgument(fmt::format(
            "Production variant {} must specify both InstanceType and InitialInstanceCount.",
            shown)));
      }
      (sc ? serverless : instance) += 1;
    }
  }
  if (v.ok() && serverless > 0) {
    if (instance > 0) {
      v.Fail(InvalidArgument(
          "An endpoint configuration cannot mix serverless and instance-based production "
          "variants."));
    } else if (serverless > 1) {
      v.Fail(InvalidArgument(
          "Serverless endpoint configurations support exactly one production variant."));
    }
    for (const char* unsupported :
         {"DataCaptureConfig", "AsyncInferenceConfig", "ShadowProductionVariants"}) {
      if (f.Has(unsupported)) {
        v.Fail(InvalidArgument(fmt::format(
            "{} is not supported for serverless endpoint configurations.", unsupported)));
      }
    }
  }
  THAW_RETURN_IF_ERROR(v.status());

  json doc = body;
  for (json& pv : doc["ProductionVariants"]) {
    if (!pv.contains("InitialVariantWeight")) pv["InitialVariantWeight"] = 1.0;
  }
  return doc;
}

}  // namespace thaw::control
