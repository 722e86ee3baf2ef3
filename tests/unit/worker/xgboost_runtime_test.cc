// The XGBoost runtime against the container's answers. tests/fixtures/xgboost/make_fixtures.py
// trained the models with Python xgboost 1.7.4 and wrote, for each payload, the bodies the
// container sends (its own decoding, predict and encoders, run in Python).
#include "worker/xgboost_runtime.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

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

  // A large unrelated file beside the model: refused before libxgboost reads it (its legacy
  // reader took a length from the text and asked for a huge allocation), with the same message.
  testing::TempDir big;
  fs::copy_file(kFixtures / "binary/model/xgboost-model", big.path() / "xgboost-model");
  std::string csv;
  while (csv.size() < (4 << 20)) csv += "0.5,1.25,3,4.75,1e3,-2,7,8,9,10\n";
  WriteFile(big.path() / "train.csv", csv);
  XgboostRuntime with_data(Options(big.path()));
  const std::string data_path = (big.path() / "train.csv").string();
  EXPECT_EQ(with_data.load_status().message(),
            "Model " + data_path + " cannot be loaded:\nXGB load model error='" + data_path +
                "' is not an XGBoost model: neither JSON, UBJSON nor the binary format of "
                "Booster.save_model");

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

namespace thaw::worker {
namespace {

// The booster's own JSON config, as libxgboost reports it after loading `path`.
nlohmann::json BoosterConfig(const fs::path& path) {
  BoosterHandle h = nullptr;
  EXPECT_EQ(XGBoosterCreate(nullptr, 0, &h), 0);
  EXPECT_EQ(XGBoosterLoadModel(h, path.c_str()), 0) << XGBGetLastError();
  bst_ulong len = 0;
  const char* text = nullptr;
  EXPECT_EQ(XGBoosterSaveJsonConfig(h, &len, &text), 0);
  nlohmann::json config = nlohmann::json::parse(text, text + len);
  XGBoosterFree(h);
  return config;
}

// The legacy binary header names what the config would: objective and booster.
TEST(LegacyBinaryHeaderTest, AgreesWithTheBoosterConfig) {
  for (const char* model : {"binary/model/xgboost-model", "multiclass/model/xgboost-model",
                            "vote/model/xgboost-model-0", "ensemble/model/xgboost-model-1"}) {
    SCOPED_TRACE(model);
    auto header = ReadLegacyBinaryHeader(ReadFile(kFixtures / model));
    ASSERT_TRUE(header.has_value());
    const nlohmann::json config = BoosterConfig(kFixtures / model);
    EXPECT_EQ(header->objective, config["learner"]["objective"]["name"]);
    EXPECT_EQ(header->booster, config["learner"]["gradient_booster"]["name"]);
  }
}

TEST(LegacyBinaryHeaderTest, OtherFormatsAndDamagedBytesAreNotOne) {
  EXPECT_FALSE(ReadLegacyBinaryHeader(ReadFile(kFixtures / "regression/model/xgboost-model")));
  EXPECT_FALSE(ReadLegacyBinaryHeader(ReadFile(kFixtures / "early_stop/model/xgboost-model")));
  const std::string binary = ReadFile(kFixtures / "binary/model/xgboost-model");
  for (size_t cut : {0, 3, 100, 143, 150, 170}) {
    EXPECT_FALSE(ReadLegacyBinaryHeader(binary.substr(0, cut))) << cut;
  }
  std::string huge = binary;
  huge[140 + 7] = 0x7f;  // the objective's length: far beyond the file
  EXPECT_FALSE(ReadLegacyBinaryHeader(huge));
}

// Every fixture model (legacy binary, JSON, UBJSON, k-fold members) passes the pre-check;
// text, CSV, pickles, empty and damaged headers do not.
TEST(LooksLikeXgboostModelTest, FixturesPassOtherFilesDoNot) {
  int models = 0;
  for (const auto& entry : fs::recursive_directory_iterator(kFixtures)) {
    if (!entry.is_regular_file() || entry.path().parent_path().filename() != "model") continue;
    if (entry.path().filename().string().rfind("xgboost-model", 0) != 0) continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_TRUE(LooksLikeXgboostModel(ReadFile(entry.path()).substr(0, kModelPrefixBytes)));
    ++models;
  }
  EXPECT_GT(models, 3);
  const std::string binary = ReadFile(kFixtures / "binary/model/xgboost-model");
  EXPECT_TRUE(LooksLikeXgboostModel(binary.substr(4)));  // the format before the "binf" magic
  EXPECT_TRUE(LooksLikeXgboostModel("bs64AAAA"));
  EXPECT_FALSE(LooksLikeXgboostModel(""));
  EXPECT_FALSE(LooksLikeXgboostModel("how to use this model\n"));
  EXPECT_FALSE(LooksLikeXgboostModel(std::string(5000, 'a')));
  EXPECT_FALSE(LooksLikeXgboostModel(std::string("\x80\x04\x95\x10\x00\x00\x00.", 8)));
  std::string huge = binary;
  huge[140 + 7] = 0x7f;  // the objective's length: far beyond the file
  EXPECT_FALSE(LooksLikeXgboostModel(huge));
}

// Trains a small model of `booster` in-process and saves it in the legacy binary format.
std::string TrainLegacyBinary(const char* booster) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> x(200 * 4), y(200);
  for (size_t i = 0; i < y.size(); ++i) {
    for (size_t j = 0; j < 4; ++j) x[i * 4 + j] = u(rng);
    y[i] = x[i * 4] + x[i * 4 + 1] > 1 ? 1.f : 0.f;
  }
  DMatrixHandle dm = nullptr;
  EXPECT_EQ(XGDMatrixCreateFromMat(x.data(), 200, 4, NAN, &dm), 0);
  EXPECT_EQ(XGDMatrixSetFloatInfo(dm, "label", y.data(), y.size()), 0);
  BoosterHandle h = nullptr;
  EXPECT_EQ(XGBoosterCreate(&dm, 1, &h), 0);
  XGBoosterSetParam(h, "booster", booster);
  XGBoosterSetParam(h, "objective", "binary:logistic");
  XGBoosterSetParam(h, "nthread", "1");
  XGBoosterSetParam(h, "max_depth", "3");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(XGBoosterUpdateOneIter(h, i, dm), 0);
  bst_ulong len = 0;
  const char* raw = nullptr;
  EXPECT_EQ(XGBoosterSaveModelToBuffer(h, R"({"format": "deprecated"})", &len, &raw), 0)
      << XGBGetLastError();
  std::string out(raw, len);
  XGBoosterFree(h);
  XGDMatrixFree(dm);
  return out;
}

// Non-tree boosters found from the header still take the DMatrix path: answers equal those of a
// runtime that never predicts in place.
TEST(XgboostRuntimeTest, DartAndLinearModelsFromTheBinaryHeader) {
  for (const char* booster : {"gblinear", "dart", "gbtree"}) {
    SCOPED_TRACE(booster);
    const std::string bytes = TrainLegacyBinary(booster);
    auto header = ReadLegacyBinaryHeader(bytes);
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->booster, booster);
    EXPECT_EQ(header->objective, "binary:logistic");
    testing::TempDir dir;
    WriteFile(dir.path() / "xgboost-model", bytes);
    XgboostRuntime rt(Options(dir.path()));
    ASSERT_TRUE(rt.load_status().ok()) << rt.load_status().message();
    XgboostOptions dmatrix_only = Options(dir.path());
    dmatrix_only.inplace_predict = false;
    XgboostRuntime reference(dmatrix_only);
    const std::string rows = "0.1,0.9,0.3,0.4\n0.8,0.7,0.2,0.1\n";
    HttpResponse got = rt.Invoke("text/csv", "text/csv", rows);
    HttpResponse want = reference.Invoke("text/csv", "text/csv", rows);
    EXPECT_EQ(got.status, 200u) << got.body;
    EXPECT_EQ(got.body, want.body);
  }
}

// A model held in memory (the pre-warm's) answers as the same bytes read from a file do.
TEST(XgboostRuntimeTest, ModelBytesAnswerLikeTheFile) {
  const std::string bytes = ReadFile(kFixtures / "binary/model/xgboost-model");
  XgboostOptions from_memory;
  from_memory.model_bytes = bytes;
  XgboostRuntime memory(from_memory);
  XgboostRuntime file(Options(kFixtures / "binary/model"));
  ASSERT_TRUE(memory.load_status().ok()) << memory.load_status().message();
  const std::string rows = ReadFile(kFixtures / "binary/inputs/rows.csv");
  EXPECT_EQ(memory.Invoke("text/csv", "application/json", rows).body,
            file.Invoke("text/csv", "application/json", rows).body);
  XgboostOptions garbage;
  garbage.model_bytes = "not a model";
  EXPECT_FALSE(XgboostRuntime(garbage).load_status().ok());
}

}  // namespace
}  // namespace thaw::worker
