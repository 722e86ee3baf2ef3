#include "auth/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>

namespace thaw::auth {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::system_clock;

// sagemaker-api.md §5.3-5.4: botocore 1.29 with a frozen clock.
const std::vector<Credential> kKeys = {
    {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "default"}};
const system_clock::time_point kT0 = system_clock::from_time_t(1672531200);  // 20230101T000000Z

struct Signed {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string target = "/";
  std::string method = "POST";
  RequestView View() const {
    RequestView v{method, target, {}, body};
    for (const auto& [k, val] : headers) v.headers.emplace_back(k, val);
    return v;
  }
};

Signed Vector1() {
  return {{{"content-type", "application/x-amz-json-1.1"},
           {"host", "localhost:8080"},
           {"x-amz-date", "20230101T000000Z"},
           {"x-amz-target", "SageMaker.DescribeEndpoint"},
           {"authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230101/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
            "Signature=aa3c3152b9135ed7541a5161a905f8e2a90f51efa49bd96d0d5f7a33f28e31d2"}},
          R"({"EndpointName": "my-endpoint"})"};
}

Signed Vector2() {
  Signed s{{{"accept", "text/csv"},
            {"content-type", "text/csv"},
            {"host", "localhost:8080"},
            {"x-amz-date", "20230101T000000Z"},
            {"authorization",
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230101/us-east-1/sagemaker/aws4_request, "
             "SignedHeaders=accept;content-type;host;x-amz-date, "
             "Signature=e9283c87b4957b6c18b379e51e89649363b5b3aead8dda487d4b15196b66f9ef"}},
           "1.0,2.0,3.0"};
  s.target = "/endpoints/my-endpoint/invocations";
  return s;
}

TEST(SigV4, TestVector1CanonicalRequestAndSignature) {
  Signed s = Vector1();
  auto auth = ParseAuthorization(s.headers.back().second);
  ASSERT_TRUE(auth);
  auto canonical = CanonicalRequest(s.View(), *auth);
  ASSERT_TRUE(canonical);
  EXPECT_EQ(*canonical,
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:localhost:8080\n"
            "x-amz-date:20230101T000000Z\nx-amz-target:SageMaker.DescribeEndpoint\n\n"
            "content-type;host;x-amz-date;x-amz-target\n"
            "c1625e6c27e5c93a4dafa6037184855d34ffd39b8eb533b6878efcb9edf43897");
  std::string sts = StringToSign("20230101T000000Z", *auth, *canonical);
  EXPECT_EQ(sts.substr(sts.rfind('\n') + 1),
            "688f2511ec419f7a5271b6b4a870f0d32d80bea91c9c019009f25619793e1ac7");
  EXPECT_EQ(Sign(kKeys[0].secret_key, *auth, sts),
            "aa3c3152b9135ed7541a5161a905f8e2a90f51efa49bd96d0d5f7a33f28e31d2");
  Verdict v = Verify(s.View(), kKeys, kT0);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(v.credential, &kKeys[0]);
  EXPECT_EQ(v.service, "sagemaker");
}

TEST(SigV4, TestVector2Runtime) {
  Signed s = Vector2();
  EXPECT_EQ(PayloadHash(s.View()),
            "76a2396268f15ecc46cb407f254281ff29303eccd2f6cce710a6c5b7d6facf3c");
  Verdict v = Verify(s.View(), kKeys, kT0 + minutes(4));
  EXPECT_TRUE(v.ok()) << v.message;
}

TEST(SigV4, Refusals) {
  auto verify = [](const Signed& s, system_clock::time_point now = kT0,
                   const VerifyOptions& o = {}) { return Verify(s.View(), kKeys, now, o); };
  Signed unsigned_req = Vector1();
  unsigned_req.headers.pop_back();
  EXPECT_EQ(verify(unsigned_req).refusal, Refusal::kMissing);
  EXPECT_EQ(verify(unsigned_req).message, "Missing Authentication Token");

  Signed tampered_body = Vector1();
  tampered_body.body = R"({"EndpointName": "other"})";
  Verdict bad = verify(tampered_body);
  EXPECT_EQ(bad.refusal, Refusal::kBadSignature);
  EXPECT_EQ(bad.message.rfind("The request signature we calculated does not match", 0), 0u);
  EXPECT_NE(bad.message.find("The Canonical String for this request should have been"),
            std::string::npos);

  Signed tampered_header = Vector1();
  tampered_header.headers[3].second = "SageMaker.DeleteEndpoint";
  EXPECT_EQ(verify(tampered_header).refusal, Refusal::kBadSignature);

  Signed missing_signed_header = Vector1();
  missing_signed_header.headers.erase(missing_signed_header.headers.begin() + 3);
  EXPECT_EQ(verify(missing_signed_header).refusal, Refusal::kBadSignature);

  Signed unknown = Vector1();
  unknown.headers.back().second.replace(unknown.headers.back().second.find("AKIDEXAMPLE"), 11,
                                        "AKIDUNKNOWN");
  EXPECT_EQ(verify(unknown).refusal, Refusal::kUnknownKey);
  EXPECT_EQ(verify(unknown).message, "The security token included in the request is invalid.");

  Verdict old = verify(Vector1(), kT0 + minutes(20));
  EXPECT_EQ(old.refusal, Refusal::kExpired);
  EXPECT_EQ(old.message,
            "Signature expired: 20230101T000000Z is now earlier than 20230101T001500Z "
            "(20230101T002000Z - 5 min.)");
  EXPECT_EQ(verify(Vector1(), kT0 - minutes(6)).refusal, Refusal::kExpired);
  EXPECT_TRUE(verify(Vector1(), kT0 + seconds(299)).ok());
  // Far-future dates (fuzz_sigv4 found year 4046 overflowing a nanosecond time point).
  Signed far = Vector1();
  far.headers[2].second = "40460202T000000Z";
  EXPECT_EQ(verify(far).refusal, Refusal::kWrongScope);  // the scope says 20230101
  far.headers.back().second.replace(far.headers.back().second.find("/20230101/"), 10, "/40460202/");
  EXPECT_EQ(verify(far).refusal, Refusal::kExpired);
  EXPECT_EQ(verify(far).message.rfind("Signature not yet current: 40460202T000000Z", 0), 0u);

  VerifyOptions monitoring_only;
  monitoring_only.services = {"monitoring"};
  Verdict scope = verify(Vector1(), kT0, monitoring_only);
  EXPECT_EQ(scope.refusal, Refusal::kWrongScope);
  EXPECT_EQ(scope.message, "Credential should be scoped to correct service: 'monitoring'. ");

  Signed malformed = Vector1();
  malformed.headers.back().second = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230101";
  EXPECT_EQ(verify(malformed).refusal, Refusal::kIncomplete);

  Signed no_date = Vector1();
  no_date.headers.erase(no_date.headers.begin() + 2);
  EXPECT_EQ(verify(no_date).refusal, Refusal::kIncomplete);
}

TEST(SigV4, SessionTokenMustMatch) {
  std::vector<Credential> keys = {{"AKIDEXAMPLE", kKeys[0].secret_key, "tok", "temp"}};
  // Vector 1 carries no token: refused for a key that requires one.
  EXPECT_EQ(Verify(Vector1().View(), keys, kT0).refusal, Refusal::kUnknownKey);
}

TEST(SigV4, RoundTripWithQueryAndContentHashHeader) {
  Signed s;
  s.method = "GET";
  s.target = "/bucket/a%20b/../key?z=1&a=2&a=1&empty";
  s.headers = {{"host", "127.0.0.1:9000"},
               {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"},
               {"x-amz-date", "20230101T000000Z"},
               {"x-custom", "  a   b  "}};
  Authorization auth{"AKIDEXAMPLE",
                     "20230101",
                     "us-east-1",
                     "sagemaker",
                     {"host", "x-amz-content-sha256", "x-amz-date", "x-custom"},
                     ""};
  auto canonical = CanonicalRequest(s.View(), auth);
  ASSERT_TRUE(canonical);
  EXPECT_EQ(*canonical,
            "GET\n/bucket/key\na=1&a=2&empty=&z=1\nhost:127.0.0.1:9000\n"
            "x-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20230101T000000Z\nx-custom:a b\n\n"
            "host;x-amz-content-sha256;x-amz-date;x-custom\nUNSIGNED-PAYLOAD");
  std::string signature =
      Sign(kKeys[0].secret_key, auth, StringToSign("20230101T000000Z", auth, *canonical));
  s.headers.emplace_back("authorization",
                         "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20230101/us-east-1/sagemaker/"
                         "aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                         "x-custom, Signature=" +
                             signature);
  EXPECT_TRUE(Verify(s.View(), kKeys, kT0).ok());
}

TEST(SigV4, CanonicalUri) {
  EXPECT_EQ(CanonicalUri("", true), "/");
  EXPECT_EQ(CanonicalUri("/", true), "/");
  EXPECT_EQ(CanonicalUri("/endpoints/my-endpoint/invocations", true),
            "/endpoints/my-endpoint/invocations");
  // The path as sent is encoded a second time: '%' becomes %25.
  EXPECT_EQ(CanonicalUri("/endpoints/a%3Ab/invocations", true), "/endpoints/a%253Ab/invocations");
  EXPECT_EQ(CanonicalUri("/a/./b/../c/", true), "/a/c/");
  EXPECT_EQ(CanonicalUri("/a/b/..", true), "/a/");
  // S3 signs the path as sent.
  EXPECT_EQ(CanonicalUri("/bucket/a%20b", false), "/bucket/a%20b");
  EXPECT_EQ(UriEncode("a b/~*", "/~"), "a%20b/~%2A");
}

TEST(SigV4, ParseAuthorization) {
  auto a = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AK/20230101/eu-west-1/monitoring/aws4_request,"
      "SignedHeaders=host;x-amz-date,Signature=" +
      std::string(64, 'a'));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->region, "eu-west-1");
  EXPECT_EQ(a->service, "monitoring");
  EXPECT_EQ(a->scope(), "20230101/eu-west-1/monitoring/aws4_request");
  EXPECT_EQ(a->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
  for (const std::string& bad : std::vector<std::string>{
           "AWS4-HMAC-SHA256", "Basic abc", "AWS4-HMAC-SHA256 Credential=AK/2023/r/s/aws4_request",
           "AWS4-HMAC-SHA256 Credential=AK/20230101/r/s/aws4_request, SignedHeaders=host, "
           "Signature=XYZ",
           "AWS4-HMAC-SHA256 Credential=AK/20230101/r/s/aws4_request, SignedHeaders=, Signature=" +
               std::string(64, 'a')}) {
    EXPECT_FALSE(ParseAuthorization(bad)) << bad;
  }
  EXPECT_EQ(AmzDate(kT0), "20230101T000000Z");
}

}  // namespace
}  // namespace thaw::auth
