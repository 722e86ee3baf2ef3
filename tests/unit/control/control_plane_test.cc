#include "control/control_plane.h"

#include <gtest/gtest.h>

#include <deque>

#include "fakes/fake_clock.h"
#include "fakes/temp_dir.h"

namespace thaw::control {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::TempDir;

// Jobs wait in a queue until the test runs them: no threads, no sleeps.
class QueueJobRunner final : public JobRunner {
 public:
  void Post(std::function<void()> job) override { jobs_.push_back(std::move(job)); }
  size_t RunAll() {
    size_t n = 0;
    while (!jobs_.empty()) {
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      job();
      ++n;
    }
    return n;
  }
  size_t pending() const { return jobs_.size(); }
  void Drop() { jobs_.clear(); }

 private:
  std::deque<std::function<void()>> jobs_;
};

// Succeeds unless the model's ModelDataUrl contains "fail"; counts calls.
class FakeDeployer final : public Deployer {
 public:
  FakeDeployer(artifacts::ModelCache& cache, const Clock& clock) : Deployer({}, cache, clock) {}
  Result<json> Prepare(const json& snapshot) override {
    ++calls;
    json out = json::array();
    for (const json& pv : snapshot["EndpointConfig"]["ProductionVariants"]) {
      const json& model = snapshot["Models"][pv["ModelName"].get<std::string>()];
      std::string url = model["PrimaryContainer"].value("ModelDataUrl", "");
      if (url.find("fail") != std::string::npos) {
        return InvalidArgument("Failed to extract model data archive from URL \"" + url + "\".");
      }
      out.push_back({{"VariantName", pv["VariantName"]},
                     {"SpecifiedImage", model["PrimaryContainer"]["Image"]},
                     {"ResolvedImage", "img@sha256:00"},
                     {"ResolutionTime", 1.0}});
    }
    return out;
  }
  int calls = 0;
};

// Records what the control plane asks of serving; refuses endpoints whose name says so.
class FakeServing final : public Serving {
 public:
  Result<int64_t> Deploy(const std::string& endpoint, const json& snapshot,
                         bool trial_start) override {
    if (trial_start && endpoint.find("noping") != std::string::npos) {
      return InvalidArgument(
          "The primary container for production variant AllTraffic did not pass the ping "
          "health check.");
    }
    live[endpoint] = snapshot["EndpointConfigName"];
    if (!trial_start) ++restored;
    return int64_t{1234};
  }
  void Remove(const std::string& endpoint) override { live.erase(endpoint); }
  std::map<std::string, std::string> live;  // endpoint → config name
  int restored = 0;
};

constexpr const char* kImage =
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1";

class ControlPlaneTest : public ::testing::Test {
 protected:
  ControlPlaneTest()
      : store_(std::move(*store::Store::Open(dir_.path() / "db"))),
        cache_(dir_.path() / "cache", {}),
        deployer_(cache_, clock_) {
    Restart();
  }

  // A new ControlPlane over the same store, as after a process restart.
  void Restart(ControlOptions opts = {}) {
    jobs_.Drop();
    cp_ = std::make_unique<ControlPlane>(*store_, clock_, deployer_, serving_, jobs_, opts);
  }

  json Ok(const std::string& op, const json& body) {
    auto r = cp_->Handle(op, body);
    EXPECT_TRUE(r.ok()) << op << ": " << r.status().ToString();
    return r.ok() ? *r : json();
  }
  Status Err(const std::string& op, const json& body) {
    auto r = cp_->Handle(op, body);
    EXPECT_FALSE(r.ok()) << op << " unexpectedly succeeded";
    return r.ok() ? Status::Ok() : r.status();
  }

  void Model(const std::string& name, const std::string& url = "s3://b/model.tar.gz") {
    Ok("CreateModel", {{"ModelName", name},
                       {"ExecutionRoleArn", "arn:aws:iam::123456789012:role/R"},
                       {"PrimaryContainer", {{"Image", kImage}, {"ModelDataUrl", url}}}});
  }
  void Config(const std::string& name, const std::string& model, int memory = 2048) {
    Ok("CreateEndpointConfig",
       {{"EndpointConfigName", name},
        {"ProductionVariants",
         {{{"VariantName", "AllTraffic"},
           {"ModelName", model},
           {"ServerlessConfig", {{"MemorySizeInMB", memory}, {"MaxConcurrency", 5}}}}}}});
  }
  std::string StatusOf(const std::string& ep) {
    return Ok("DescribeEndpoint", {{"EndpointName", ep}})["EndpointStatus"];
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  artifacts::ModelCache cache_;
  FakeDeployer deployer_;
  FakeServing serving_;
  QueueJobRunner jobs_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_F(ControlPlaneTest, ModelCrudWithAwsMessages) {
  json created =
      Ok("CreateModel", {{"ModelName", "MyModel"}, {"PrimaryContainer", {{"Image", kImage}}}});
  EXPECT_EQ(created["ModelArn"], "arn:aws:sagemaker:us-east-1:123456789012:model/mymodel");
  EXPECT_EQ(
      Err("CreateModel", {{"ModelName", "mymodel"}, {"PrimaryContainer", {{"Image", kImage}}}})
          .message(),
      "Cannot create already existing model "
      "\"arn:aws:sagemaker:us-east-1:123456789012:model/mymodel\".");
  json d = Ok("DescribeModel", {{"ModelName", "MYMODEL"}});
  EXPECT_EQ(d["ModelName"], "MyModel");
  EXPECT_EQ(d["CreationTime"], 1'700'000'000.0);
  EXPECT_EQ(d["PrimaryContainer"]["Mode"], "SingleModel");
  Ok("DeleteModel", {{"ModelName", "MyModel"}});
  Status gone = Err("DescribeModel", {{"ModelName", "MyModel"}});
  EXPECT_EQ(gone.code(), Code::kNotFound);
  EXPECT_EQ(gone.message(),
            "Could not find model \"arn:aws:sagemaker:us-east-1:123456789012:model/mymodel\".");
  EXPECT_EQ(Err("DeleteModel", {{"ModelName", "MyModel"}}).code(), Code::kNotFound);
}

TEST_F(ControlPlaneTest, ConfigNeedsItsModel) {
  Status s = Err("CreateEndpointConfig",
                 {{"EndpointConfigName", "c"},
                  {"ProductionVariants",
                   {{{"VariantName", "v"},
                     {"ModelName", "nope"},
                     {"ServerlessConfig", {{"MemorySizeInMB", 1024}, {"MaxConcurrency", 1}}}}}}});
  EXPECT_EQ(s.message(),
            "Could not find model \"arn:aws:sagemaker:us-east-1:123456789012:model/nope\".");
  Model("m");
  Config("c", "m");
  EXPECT_EQ(Err("CreateEndpointConfig",
                {{"EndpointConfigName", "C"},
                 {"ProductionVariants",
                  {{{"VariantName", "v"},
                    {"ModelName", "m"},
                    {"ServerlessConfig", {{"MemorySizeInMB", 1024}, {"MaxConcurrency", 1}}}}}}})
                .message(),
            "Cannot create already existing endpoint configuration "
            "\"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c\".");
  json d = Ok("DescribeEndpointConfig", {{"EndpointConfigName", "c"}});
  EXPECT_EQ(d["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"], 2048);
}

TEST_F(ControlPlaneTest, EndpointLifecycle) {
  Model("m");
  Config("c1", "m");
  Config("c2", "m", 4096);
  Ok("CreateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "c1"}});
  EXPECT_EQ(StatusOf("ep"), "Creating");
  EXPECT_FALSE(Ok("DescribeEndpoint", {{"EndpointName", "ep"}}).contains("ProductionVariants"));
  const std::string in_progress =
      "Cannot update in-progress endpoint "
      "\"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep\".";
  EXPECT_EQ(Err("UpdateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "c2"}}).message(),
            in_progress);
  EXPECT_EQ(Err("DeleteEndpoint", {{"EndpointName", "ep"}}).message(), in_progress);

  clock_.Advance(std::chrono::seconds(3));
  EXPECT_EQ(jobs_.RunAll(), 1u);
  json d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["EndpointStatus"], "InService");
  EXPECT_EQ(d["LastModifiedTime"], 1'700'000'003.0);
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentServerlessConfig"]["MemorySizeInMB"], 2048);
  EXPECT_EQ(d["ProductionVariants"][0]["DeployedImages"][0]["SpecifiedImage"], kImage);

  Ok("UpdateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "c2"}});
  d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["EndpointStatus"], "Updating");
  EXPECT_EQ(d["EndpointConfigName"], "c1");  // the old config serves until the new is ready
  EXPECT_EQ(d["PendingDeploymentSummary"]["EndpointConfigName"], "c2");
  jobs_.RunAll();
  d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["EndpointStatus"], "InService");
  EXPECT_EQ(d["EndpointConfigName"], "c2");
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentServerlessConfig"]["MemorySizeInMB"], 4096);
  EXPECT_FALSE(d.contains("PendingDeploymentSummary"));

  EXPECT_EQ(serving_.live["ep"], "c2");  // traffic switched to the new config
  Ok("DeleteEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(StatusOf("ep"), "Deleting");
  jobs_.RunAll();
  EXPECT_EQ(serving_.live.count("ep"), 0u);
  EXPECT_EQ(Err("DescribeEndpoint", {{"EndpointName", "ep"}}).message(),
            "Could not find endpoint \"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep\".");
}

TEST_F(ControlPlaneTest, FailedCreateAndFailedUpdate) {
  Model("good");
  Model("bad", "s3://b/fail.tar.gz");
  Config("cg", "good");
  Config("cb", "bad");
  Ok("CreateEndpoint", {{"EndpointName", "f"}, {"EndpointConfigName", "cb"}});
  jobs_.RunAll();
  json d = Ok("DescribeEndpoint", {{"EndpointName", "f"}});
  EXPECT_EQ(d["EndpointStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("Failed to extract"), std::string::npos);
  EXPECT_FALSE(Err("UpdateEndpoint", {{"EndpointName", "f"}, {"EndpointConfigName", "cg"}}).ok());

  Ok("CreateEndpoint", {{"EndpointName", "u"}, {"EndpointConfigName", "cg"}});
  jobs_.RunAll();
  Ok("UpdateEndpoint", {{"EndpointName", "u"}, {"EndpointConfigName", "cb"}});
  jobs_.RunAll();
  d = Ok("DescribeEndpoint", {{"EndpointName", "u"}});
  EXPECT_EQ(d["EndpointStatus"], "InService");  // back on the old config
  EXPECT_EQ(d["EndpointConfigName"], "cg");
  EXPECT_TRUE(d.contains("FailureReason"));
}

TEST_F(ControlPlaneTest, FailedTrialStartFailsTheDeploy) {
  Model("m");
  Config("c", "m");
  Ok("CreateEndpoint", {{"EndpointName", "noping"}, {"EndpointConfigName", "c"}});
  jobs_.RunAll();
  json d = Ok("DescribeEndpoint", {{"EndpointName", "noping"}});
  EXPECT_EQ(d["EndpointStatus"], "Failed");
  EXPECT_NE(d["FailureReason"].get<std::string>().find("did not pass the ping health check"),
            std::string::npos);
  EXPECT_EQ(serving_.live.count("noping"), 0u);
}

TEST_F(ControlPlaneTest, EndpointKeepsItsSnapshot) {
  Model("m");
  Config("c", "m");
  Ok("CreateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}});
  Ok("DeleteEndpointConfig", {{"EndpointConfigName", "c"}});
  Ok("DeleteModel", {{"ModelName", "m"}});
  jobs_.RunAll();  // the job deploys from the snapshot, not the deleted resources
  json d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["EndpointStatus"], "InService");
  EXPECT_EQ(d["EndpointConfigName"], "c");
  EXPECT_EQ(Err("UpdateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "c"}}).message(),
            "Could not find endpoint configuration "
            "\"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/c\".");
}

TEST_F(ControlPlaneTest, RecoverResumesInterruptedJobs) {
  Model("m");
  Config("c", "m");
  Ok("CreateEndpoint", {{"EndpointName", "a"}, {"EndpointConfigName", "c"}});
  Ok("CreateEndpoint", {{"EndpointName", "b"}, {"EndpointConfigName", "c"}});
  jobs_.RunAll();
  Ok("DeleteEndpoint", {{"EndpointName", "b"}});
  Ok("CreateEndpoint", {{"EndpointName", "c"}, {"EndpointConfigName", "c"}});
  Restart();  // crash: the queued jobs are lost
  EXPECT_EQ(StatusOf("b"), "Deleting");
  EXPECT_EQ(StatusOf("c"), "Creating");
  ASSERT_TRUE(cp_->Recover().ok());
  EXPECT_EQ(serving_.restored, 1);  // "a" serves again at zero workers
  EXPECT_EQ(jobs_.RunAll(), 2u);
  EXPECT_EQ(StatusOf("a"), "InService");
  EXPECT_EQ(StatusOf("c"), "InService");
  EXPECT_EQ(Err("DescribeEndpoint", {{"EndpointName", "b"}}).code(), Code::kNotFound);
}

TEST_F(ControlPlaneTest, StaleJobsChangeNothing) {
  Model("m");
  Config("c", "m");
  Ok("CreateEndpoint", {{"EndpointName", "a"}, {"EndpointConfigName", "c"}});
  ASSERT_TRUE(cp_->Recover().ok());  // a duplicate job for the same generation
  EXPECT_EQ(jobs_.RunAll(), 2u);
  EXPECT_EQ(deployer_.calls, 1);  // the second saw a newer generation and stopped
  EXPECT_EQ(StatusOf("a"), "InService");
}

TEST_F(ControlPlaneTest, Limits) {
  ControlOptions opts;
  opts.max_endpoints = 1;
  opts.max_total_concurrency = 8;
  Restart(opts);
  Model("m");
  Config("c", "m");  // MaxConcurrency 5
  Ok("CreateEndpoint", {{"EndpointName", "a"}, {"EndpointConfigName", "c"}});
  Status s = Err("CreateEndpoint", {{"EndpointName", "b"}, {"EndpointConfigName", "c"}});
  EXPECT_EQ(s.code(), Code::kResourceLimit);
  opts.max_endpoints = 10;
  Restart(opts);
  s = Err("CreateEndpoint", {{"EndpointName", "b"}, {"EndpointConfigName", "c"}});
  EXPECT_EQ(s.code(), Code::kResourceLimit);
  EXPECT_NE(s.message().find("current utilization of 5"), std::string::npos) << s.message();
}

TEST_F(ControlPlaneTest, ListsPaginateNewestFirst) {
  for (int i = 0; i < 12; ++i) {
    clock_.Advance(std::chrono::seconds(1));
    Model("m" + std::to_string(i));
  }
  json page = Ok("ListModels", json::object());
  ASSERT_EQ(page["Models"].size(), 10u);
  EXPECT_EQ(page["Models"][0]["ModelName"], "m11");
  json rest = Ok("ListModels", {{"NextToken", page["NextToken"]}});
  EXPECT_EQ(rest["Models"].size(), 2u);
  EXPECT_FALSE(rest.contains("NextToken"));
  EXPECT_TRUE(Ok("ListEndpoints", json::object())["Endpoints"].is_array());
  EXPECT_TRUE(Ok("ListEndpointConfigs", json::object())["EndpointConfigs"].is_array());
}

TEST_F(ControlPlaneTest, UnknownOperation) {
  EXPECT_EQ(Err("ListTags", json::object()).code(), Code::kUnknownOperation);
}

TEST_F(ControlPlaneTest, InstanceToServerlessUpdateInPlace) {
  Model("m");
  Ok("CreateEndpointConfig", {{"EndpointConfigName", "inst"},
                              {"ProductionVariants",
                               {{{"VariantName", "v"},
                                 {"ModelName", "m"},
                                 {"InstanceType", "ml.m5.large"},
                                 {"InitialInstanceCount", 1}}}}});
  Config("sls", "m");
  Ok("CreateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "inst"}});
  jobs_.RunAll();
  json d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentInstanceCount"], 1);
  // The seed's migration: a persistent endpoint becomes serverless in place.
  Ok("UpdateEndpoint", {{"EndpointName", "ep"}, {"EndpointConfigName", "sls"}});
  jobs_.RunAll();
  d = Ok("DescribeEndpoint", {{"EndpointName", "ep"}});
  EXPECT_EQ(d["ProductionVariants"][0]["CurrentServerlessConfig"]["MaxConcurrency"], 5);
}

}  // namespace
}  // namespace thaw::control
