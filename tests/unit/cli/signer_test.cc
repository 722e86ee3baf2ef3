#include "cli/signer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "fakes/temp_dir.h"

namespace thaw::cli {
namespace {

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// sagemaker-api.md §5.3: what botocore sends for this request, signed at this time.
TEST(SigV4Signer, ReproducesBotocoreTestVector) {
  auth::Credential key{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "t"};
  auto t0 = std::chrono::system_clock::from_time_t(1672531200);
  RequestSigner sign = SigV4Signer(key, "us-east-1", "sagemaker", [t0] { return t0; });
  HttpRequest req{http::verb::post, "/", 11};
  req.set(http::field::host, "localhost:8080");
  req.set(http::field::user_agent, "thaw-cli/0.1.0");  // never signed
  req.set(http::field::content_type, "application/x-amz-json-1.1");
  req.set("X-Amz-Target", "SageMaker.DescribeEndpoint");
  req.body() = R"({"EndpointName": "my-endpoint"})";
  ASSERT_TRUE(sign(req).ok());
  EXPECT_EQ(req["X-Amz-Date"], "20230101T000000Z");
  EXPECT_EQ(req[http::field::authorization],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230101/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=aa3c3152b9135ed7541a5161a905f8e2a90f51efa49bd96d0d5f7a33f28e31d2");
}

TEST(SigV4Signer, SessionTokenIsSentAndSigned) {
  auth::Credential key{"AKID", "secret", "token-1", "t"};
  auto now = std::chrono::system_clock::now();
  HttpRequest req{http::verb::get, "/ping", 11};
  req.set(http::field::host, "127.0.0.1:8080");
  ASSERT_TRUE(SigV4Signer(key, "eu-west-1", "sagemaker", [now] { return now; })(req).ok());
  EXPECT_EQ(req["X-Amz-Security-Token"], "token-1");
  std::string authz(req[http::field::authorization]);
  EXPECT_NE(authz.find("SignedHeaders=host;x-amz-date;x-amz-security-token"), std::string::npos);
  // And the server side accepts it.
  std::string date(req["X-Amz-Date"]), authz_value(req[http::field::authorization]);
  auth::RequestView view{"GET", "/ping", {}, ""};
  view.headers = {{"host", "127.0.0.1:8080"},
                  {"x-amz-date", date},
                  {"x-amz-security-token", "token-1"},
                  {"authorization", authz_value}};
  EXPECT_TRUE(auth::Verify(view, {key}, now).ok());
}

TEST(FindCredentials, EnvironmentFirstThenTheProfileOfTheSharedFile) {
  auto env = FindCredentials(FakeEnv({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}}));
  ASSERT_TRUE(env.ok() && *env);
  EXPECT_EQ((*env)->access_key, "A");

  testing::TempDir dir;
  std::ofstream(dir.path() / "credentials")
      << "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n"
         "[ci]\naws_access_key_id=C\naws_secret_access_key=CS\n";
  std::string file = (dir.path() / "credentials").native();
  auto dflt = FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}}));
  ASSERT_TRUE(dflt.ok() && *dflt);
  EXPECT_EQ((*dflt)->access_key, "D");
  auto ci =
      FindCredentials(FakeEnv({{"AWS_SHARED_CREDENTIALS_FILE", file}, {"AWS_PROFILE", "ci"}}));
  ASSERT_TRUE(ci.ok() && *ci);
  EXPECT_EQ((*ci)->secret_key, "CS");
  auto none = FindCredentials(FakeEnv({{"HOME", dir.path().native()}}));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
}

}  // namespace
}  // namespace thaw::cli
