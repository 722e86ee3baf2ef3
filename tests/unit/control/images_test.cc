#include "control/images.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace thaw::control
