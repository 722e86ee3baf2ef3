#include "control/images.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/hash.h"
#include "fakes/temp_dir.h"

namespace thaw::control {
namespace {

TEST(Images, RecognisesBuiltIns) {
  auto x = RecogniseImage("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(x->kind, RuntimeKind::kXGBoost);
  EXPECT_EQ(x->resolved.rfind(
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:", 0),
            0u);
  auto s = RecogniseImage(
      "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, RuntimeKind::kSKLearn);
  auto cn =
      RecogniseImage("450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1");
  EXPECT_TRUE(cn.ok());
  std::string digest(64, 'a');
  auto d = RecogniseImage("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost@sha256:" +
                          digest);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->resolved.substr(d->resolved.size() - 64), digest);
}

TEST(Images, RefusesOthersWithAReason) {
  for (const char* image :
       {"683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.5-1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:0.23-1-cpu-py3",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/my-own:latest", "nginx:latest", "",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost"}) {
    auto r = RecogniseImage(image);
    ASSERT_FALSE(r.ok()) << image;
    EXPECT_NE(r.status().message().find("is not supported"), std::string::npos);
  }
}

TEST(Images, ProgramPathsAreCustomContainers) {
  for (const char* image : {"file:///opt/srv/serve", "/opt/srv/serve", "/opt/srv"}) {
    auto r = RecogniseImage(image);
    ASSERT_TRUE(r.ok()) << image;
    EXPECT_EQ(r->kind, RuntimeKind::kCustom);
    EXPECT_EQ(RuntimeName(r->kind), "custom");
  }
  EXPECT_EQ(RecogniseImage("file:///opt/srv/serve")->program, "/opt/srv/serve");
  auto relative = RecogniseImage("file://srv/serve");
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.status().message().find("relative path"), std::string::npos);
}

TEST(Images, ResolveProgramChecksTheFileAndNamesItsDigest) {
  testing::TempDir dir;
  auto write = [&](const std::string& name, std::filesystem::perms perms) {
    std::ofstream(dir.path() / name) << "#!/bin/sh\n";
    std::filesystem::permissions(dir.path() / name, perms);
  };
  using std::filesystem::perms;
  write("serve", perms::owner_all | perms::others_exec | perms::others_read);
  write("plain", perms::owner_read | perms::owner_write);

  // A directory means its `serve`.
  auto in_dir = RecogniseImage(dir.path().native());
  ASSERT_TRUE(in_dir.ok());
  auto program = ResolveProgram(*in_dir);
  ASSERT_TRUE(program.ok()) << program.status().message();
  EXPECT_EQ(*program, dir.path() / "serve");
  EXPECT_EQ(in_dir->resolved, "file://" + (dir.path() / "serve").native() +
                                  "@sha256:" + *Sha256File(dir.path() / "serve"));

  auto expect_refused = [&](const std::string& path, const std::string& why) {
    auto rt = RecogniseImage("file://" + path);
    ASSERT_TRUE(rt.ok());
    auto r = ResolveProgram(*rt);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  };
  expect_refused((dir.path() / "plain").native(), "is not executable");
  expect_refused((dir.path() / "missing").native(), "does not exist");
  std::filesystem::create_directory(dir.path() / "sub");
  expect_refused((dir.path() / "sub").native(), "does not exist");  // no sub/serve
}

}  // namespace
}  // namespace thaw::control
