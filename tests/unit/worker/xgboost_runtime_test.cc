// The XGBoost runtime against the container's answers. tests/fixtures/xgboost/make_fixtures.py
// trained the models with Python xgboost 1.7.4 and wrote, for each payload, the bodies the
// container sends (its own decoding, predict and encoders, run in Python).
#include "worker/xgboost_runtime.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "fakes/temp_dir.h"
#include "unit/worker/fixtures.h"

namespace thaw::worker {
namespace {

namespace fs = std::filesystem;

using testing::kFixtures;
using testing::ReadFile;

void WriteFile(const fs::path& path, std::string_view content) {
  std::ofstream(path, std::ios::binary) << content;
}

XgboostOptions Options(const fs::path& model_dir) {
  XgboostOptions options;
  options.model_dir = model_dir.string();
  return options;
}

struct PinOpenMp : ::testing::Environment {
  void SetUp() override { PinOpenMpToOneThread(); }
};
const auto* const kPin = ::testing::AddGlobalTestEnvironment(new PinOpenMp);

// Every (model, payload, accept) case of the fixtures: CSV bodies byte for byte, JSON and JSON
// lines parsed and compared to 1e-6 (they are byte-identical too, which is checked as well).
// Both prediction paths (in place, and a DMatrix per call as the container does) are checked.
class FixtureTest : public ::testing::TestWithParam<bool> {};

TEST_P(FixtureTest, MatchesPythonContainer) {
  const auto cases = nlohmann::json::parse(ReadFile(kFixtures / "cases.json"));
  ASSERT_GE(cases.size(), 30u);
  std::map<std::string, std::unique_ptr<XgboostRuntime>> runtimes;
  for (const auto& c : cases) {
    const std::string model_dir = c["model_dir"];
    auto& runtime = runtimes[model_dir];
    if (!runtime) {
      XgboostOptions options = Options(kFixtures / model_dir);
      options.inplace_predict = GetParam();
      runtime = std::make_unique<XgboostRuntime>(options);
    }
    ASSERT_TRUE(runtime->load_status().ok()) << runtime->load_status().message();
    const std::string accept = c["accept"];
    const std::string content_type = c["content_type"];
    const std::string input = ReadFile(kFixtures / c["input"].get<std::string>());
    const std::string expected = ReadFile(kFixtures / c["expected"].get<std::string>());
    SCOPED_TRACE(c.dump());

    HttpResponse res = runtime->Invoke(content_type, accept, input);
    ASSERT_EQ(res.status, 200u) << res.body;
    if (accept == "text/csv") {
      EXPECT_EQ(res.content_type, "text/csv; charset=utf-8");
      EXPECT_EQ(res.body, expected);
      continue;
    }
    EXPECT_EQ(res.content_type, accept);
    EXPECT_EQ(res.body, expected);  // json.dumps' spacing and repr digits
    std::vector<nlohmann::json> got, want;
    if (accept == "application/json") {
      got = nlohmann::json::parse(res.body)["predictions"].get<std::vector<nlohmann::json>>();
      want = nlohmann::json::parse(expected)["predictions"].get<std::vector<nlohmann::json>>();
    } else {
      std::istringstream g(res.body), w(expected);
      for (std::string line; std::getline(g, line);) got.push_back(nlohmann::json::parse(line));
      for (std::string line; std::getline(w, line);) want.push_back(nlohmann::json::parse(line));
    }
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      auto g = got[i]["score"], w = want[i]["score"];
      if (w.is_array()) {
        ASSERT_EQ(g.size(), w.size());
        for (size_t k = 0; k < w.size(); ++k)
          EXPECT_NEAR(g[k].get<double>(), w[k].get<double>(), 1e-6);
      } else {
        EXPECT_NEAR(g.get<double>(), w.get<double>(), 1e-6);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Paths, FixtureTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "InPlace" : "DMatrix"; });

TEST(XgboostRuntimeTest, ResponseOrderOfChecks) {
  XgboostRuntime rt(Options(kFixtures / "binary/model"));
  ASSERT_TRUE(rt.load_status().ok());
  const std::string row = ReadFile(kFixtures / "binary/inputs/single.csv");

  HttpResponse res = rt.Invoke("text/csv", "text/csv", "");
  EXPECT_EQ(res.status, 204u);
  EXPECT_EQ(res.body, "");

  // 415 wins over a bad Accept; 400 wins over a bad Accept too.
  res = rt.Invoke("application/json", "text/plain", row);
  EXPECT_EQ(res.status, 415u);
  EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(res.body,
            "application/json is not an accepted ContentType: csv, libsvm, parquet, "
            "recordio-protobuf, text/csv, text/libsvm, text/x-libsvm, application/x-parquet, "
            "application/x-recordio-protobuf.");

  res = rt.Invoke("text/csv", "text/plain", "f1,f2,f3,f4,f5,f6\n" + row);
  EXPECT_EQ(res.status, 415u);
  EXPECT_EQ(res.body,
            "Loading csv data failed with Exception, please ensure data is in csv format:\n"
            " <class 'ValueError'>\n could not convert string to float: 'f1'");

  res = rt.Invoke("text/csv", "text/plain", "1,2,3");
  EXPECT_EQ(res.status, 400u);
  EXPECT_EQ(res.body,
            "Unable to evaluate payload provided: Feature size of csv inference data 3 is not "
            "consistent with feature size of trained model 6.");
  res = rt.Invoke("text/csv", "text/csv", "1,2,3,4,5,6,7");
  EXPECT_EQ(res.status, 400u);

  // libsvm: up to n+1 columns pass the container's check; n+1 then fails in XGBoost itself.
  res = rt.Invoke(std::nullopt, "text/csv", "1 8:1");
  EXPECT_EQ(res.status, 400u);
  EXPECT_EQ(res.body,
            "Unable to evaluate payload provided: Feature size of libsvm inference data 9 is "
            "larger than feature size of trained model 6.");
  res = rt.Invoke("text/x-libsvm", "text/csv", "1 6:1");
  EXPECT_EQ(res.status, 400u);
  EXPECT_NE(res.body.find("Number of columns does not match number of features in booster"),
            std::string::npos)
      << res.body;
  EXPECT_EQ(res.body.find("Stack trace"), std::string::npos);
  res = rt.Invoke("libsvm", "text/csv", "1 2:1");  // fewer columns are fine
  EXPECT_EQ(res.status, 200u);
  res = rt.Invoke("libsvm", "text/csv", "1 4294967294:1");  // a huge index costs nothing
  EXPECT_EQ(res.status, 400u);
  EXPECT_NE(res.body.find("libsvm inference data 4294967295 is larger"), std::string::npos);

  // Infinity is refused by XGBoost while building the DMatrix: a decoding (415) error.
  res = rt.Invoke("text/csv", "text/csv", "1,inf,3,4,5,6");
  EXPECT_EQ(res.status, 415u);
  EXPECT_NE(res.body.find("<class 'xgboost.core.XGBoostError'>\n"), std::string::npos) << res.body;

  res = rt.Invoke("text/csv", "text/plain", row);
  EXPECT_EQ(res.status, 406u);
  EXPECT_EQ(res.body,
            "Accept type text/plain is not supported. Please use supported accept types: "
            "['application/json', 'application/jsonlines', 'application/x-recordio-protobuf', "
            "'text/csv'].");

  res = rt.Invoke("text/csv", "application/x-recordio-protobuf", row);
  EXPECT_EQ(res.status, 500u);

  res = rt.Invoke("text/csv", std::nullopt, row);
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, ReadFile(kFixtures / "binary/expected/single.csv.csv"));
}

TEST(XgboostRuntimeTest, DefaultAcceptAndBatch) {
  XgboostOptions options = Options(kFixtures / "multiclass/model");
  options.default_accept = "application/json";
  XgboostRuntime rt(options);
  const std::string rows = ReadFile(kFixtures / "multiclass/inputs/rows.csv");
  HttpResponse res = rt.Invoke("text/csv", "*/*", rows);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, ReadFile(kFixtures / "multiclass/expected/rows.csv.json"));

  options.batch = true;
  XgboostRuntime batch(options);
  res = batch.Invoke("text/csv", "text/csv", "1,2,3,4,5\n-1,0,1,0,-1");
  ASSERT_EQ(res.status, 200u);
  // "\n".join(map(str, preds.tolist())) + "\n": a list per line.
  EXPECT_EQ(res.body.front(), '[');
  EXPECT_EQ(std::count(res.body.begin(), res.body.end(), '\n'), 2);
  EXPECT_NE(res.body.find(", "), std::string::npos);
}

TEST(XgboostRuntimeTest, LoadErrors) {
  testing::TempDir dir;
  WriteFile(dir.path() / "xgboost-model", std::string("\x80\x04\x95\x10\x00\x00\x00.", 8));
  XgboostRuntime pickled(Options(dir.path()));
  const std::string path = (dir.path() / "xgboost-model").string();
  EXPECT_EQ(pickled.load_status().message(),
            "Model " + path +
                " cannot be loaded:\nPickle load error=pickled models are not supported by "
                "thaw; save with Booster.save_model");
  HttpResponse res = pickled.Invoke("text/csv", "text/csv", "1,2");
  EXPECT_EQ(res.status, 500u);
  EXPECT_EQ(res.body, "Unable to load model: " + pickled.load_status().message());
  // Decoding comes first.
  EXPECT_EQ(pickled.Invoke("application/json", "text/csv", "1,2").status, 415u);

  // A README in the tarball breaks loading, as in SageMaker.
  testing::TempDir readme;
  fs::copy_file(kFixtures / "binary/model/xgboost-model", readme.path() / "xgboost-model");
  WriteFile(readme.path() / "README", "how to use this model\n");
  XgboostRuntime with_readme(Options(readme.path()));
  EXPECT_NE(
      with_readme.load_status().message().find("README cannot be loaded:\nXGB load model error="),
      std::string::npos)
      << with_readme.load_status().message();

  // Dot files and directories are not models.
  testing::TempDir skipped;
  fs::copy_file(kFixtures / "binary/model/xgboost-model", skipped.path() / "xgboost-model");
  WriteFile(skipped.path() / ".hidden", "junk");
  fs::create_directory(skipped.path() / "code");
  WriteFile(skipped.path() / "code" / "inference.py", "junk");
  EXPECT_TRUE(XgboostRuntime(Options(skipped.path())).load_status().ok());

  XgboostRuntime missing(Options(dir.path() / "nope"));
  EXPECT_EQ(missing.load_status().message(),
            "[Errno 2] No such file or directory: '" + (dir.path() / "nope").string() + "'");

  // An empty directory loads nothing; predicting then fails like the container's models[0].
  testing::TempDir empty;
  XgboostRuntime none(Options(empty.path()));
  EXPECT_TRUE(none.load_status().ok());
  res = none.Invoke("text/csv", "text/csv", "1,2");
  EXPECT_EQ(res.status, 400u);
  EXPECT_EQ(res.body, "Unable to evaluate payload provided: list index out of range");

  XgboostOptions selectable = Options(kFixtures / "binary/model");
  selectable.selectable_output = true;
  EXPECT_FALSE(XgboostRuntime(selectable).load_status().ok());
}

TEST(XgboostRuntimeTest, EnsembleDisabledUsesOneModel) {
  const std::string rows = ReadFile(kFixtures / "ensemble/inputs/rows.csv");
  XgboostOptions options = Options(kFixtures / "ensemble/model");
  options.ensemble = false;
  const std::string single = XgboostRuntime(options).Invoke("text/csv", "text/csv", rows).body;
  EXPECT_NE(single, ReadFile(kFixtures / "ensemble/expected/rows.csv.csv"));

  std::vector<std::string> alone;
  for (const char* name : {"xgboost-model-0", "xgboost-model-1"}) {
    testing::TempDir dir;
    fs::copy_file(kFixtures / "ensemble/model" / name, dir.path() / name);
    alone.push_back(XgboostRuntime(Options(dir.path())).Invoke("text/csv", "text/csv", rows).body);
  }
  EXPECT_TRUE(single == alone[0] || single == alone[1]);
}

// Random payloads through the whole invocation path: every answer is one of the container's.
TEST(XgboostRuntimeTest, RandomPayloadsNeverCrash) {
  XgboostRuntime rt(Options(kFixtures / "binary/model"));
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789.,:- \n\ninfa";
  int ok = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string body(5 + rng() % 80, ' ');
    for (char& c : body) c = alphabet[rng() % alphabet.size()];
    if (i % 4 == 0) {  // six comma-separated fields, so that some CSV reaches the model
      body = std::to_string(rng() % 100) + ",.5,,-2," + body.substr(0, 3) + "," + body.substr(3, 2);
    }
    const char* type = i % 2 ? "text/libsvm" : "text/csv";
    HttpResponse res = rt.Invoke(type, "application/json", body);
    EXPECT_TRUE(res.status == 200 || res.status == 400 || res.status == 415) << res.status;
    if (res.status == 200) {
      ++ok;
      EXPECT_EQ(res.body.rfind("{\"predictions\": [{\"score\": ", 0), 0u) << res.body;
    }
  }
  EXPECT_GT(ok, 20);
}

}  // namespace
}  // namespace thaw::worker
