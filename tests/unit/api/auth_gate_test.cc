// The open paths' peer decision (--open-endpoints) and the gate around it.
#include "api/auth_gate.h"

#include <gtest/gtest.h>

namespace thaw::api {
namespace {

TEST(OpenEndpoints, Parse) {
  EXPECT_EQ(ParseOpenEndpoints("loopback"), OpenEndpoints::kLoopback);
  EXPECT_EQ(ParseOpenEndpoints("any"), OpenEndpoints::kAny);
  EXPECT_EQ(ParseOpenEndpoints("none"), OpenEndpoints::kNone);
  EXPECT_EQ(ParseOpenEndpoints("Loopback"), std::nullopt);
  EXPECT_EQ(ParseOpenEndpoints(""), std::nullopt);
}

TEST(OpenEndpoints, LoopbackPeers) {
  EXPECT_TRUE(IsLoopbackPeer("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackPeer("127.255.3.4:1"));  // all of 127.0.0.0/8
  EXPECT_TRUE(IsLoopbackPeer("[::1]:8080"));
  EXPECT_TRUE(IsLoopbackPeer("[::ffff:127.0.0.1]:8080"));  // a dual-stack socket's IPv4 peer
  EXPECT_TRUE(IsLoopbackPeer("127.0.0.1"));                // without a port
}

TEST(OpenEndpoints, OtherPeersAreNotLoopback) {
  EXPECT_FALSE(IsLoopbackPeer("192.0.2.2:5000"));
  EXPECT_FALSE(IsLoopbackPeer("128.0.0.1:5000"));
  EXPECT_FALSE(IsLoopbackPeer("10.127.0.1:5000"));
  EXPECT_FALSE(IsLoopbackPeer("[fd00::2]:80"));
  EXPECT_FALSE(IsLoopbackPeer("[::ffff:192.0.2.2]:80"));
  EXPECT_FALSE(IsLoopbackPeer("[::]:80"));
  EXPECT_FALSE(IsLoopbackPeer("0.0.0.0:80"));
  EXPECT_FALSE(IsLoopbackPeer(""));
  EXPECT_FALSE(IsLoopbackPeer("[::1:80"));
  EXPECT_FALSE(IsLoopbackPeer("localhost:80"));  // a name is never trusted
  EXPECT_FALSE(IsLoopbackPeer("127.0.0.1.evil:80"));
}

TEST(OpenEndpoints, Modes) {
  EXPECT_TRUE(OpenPathsAllowed(OpenEndpoints::kAny, "192.0.2.2:1"));
  EXPECT_TRUE(OpenPathsAllowed(OpenEndpoints::kLoopback, "127.0.0.1:1"));
  EXPECT_FALSE(OpenPathsAllowed(OpenEndpoints::kLoopback, "192.0.2.2:1"));
  EXPECT_FALSE(OpenPathsAllowed(OpenEndpoints::kNone, "127.0.0.1:1"));
}

class GateTest : public ::testing::Test {
 protected:
  std::optional<Response> Get(OpenEndpoints mode, const std::string& target,
                              std::string_view remote) {
    AuthGateOptions options{{auth::Credential{"AKIDEXAMPLE", "secret", "", "default"}}};
    options.open_endpoints = mode;
    AuthGate gate(options, [] { return std::chrono::system_clock::now(); });
    Request req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost");
    return gate.Check(req, "rid", nullptr, remote);
  }
};

TEST_F(GateTest, PingAndMetricsOpenOnLoopbackOnlyByDefault) {
  for (const char* target : {"/ping", "/ping?x=1", "/metrics"}) {
    EXPECT_EQ(Get(OpenEndpoints::kLoopback, target, "127.0.0.1:4000"), std::nullopt) << target;
    EXPECT_EQ(Get(OpenEndpoints::kLoopback, target, "[::1]:4000"), std::nullopt) << target;
    auto refused = Get(OpenEndpoints::kLoopback, target, "192.0.2.2:4000");
    ASSERT_TRUE(refused.has_value()) << target;
    EXPECT_EQ(refused->result(), http::status::forbidden) << target;
    EXPECT_NE(refused->body().find("MissingAuthenticationToken"), std::string::npos)
        << refused->body();
  }
  EXPECT_TRUE(Get(OpenEndpoints::kLoopback, "/ping", "").has_value());  // unknown peer
}

TEST_F(GateTest, AnyAndNone) {
  EXPECT_EQ(Get(OpenEndpoints::kAny, "/metrics", "192.0.2.2:4000"), std::nullopt);
  EXPECT_TRUE(Get(OpenEndpoints::kNone, "/metrics", "127.0.0.1:4000").has_value());
  EXPECT_TRUE(Get(OpenEndpoints::kNone, "/ping", "127.0.0.1:4000").has_value());
}

TEST_F(GateTest, OnlyTheOpenPathsAreOpen) {
  EXPECT_TRUE(Get(OpenEndpoints::kAny, "/pingx", "127.0.0.1:4000").has_value());
  EXPECT_TRUE(Get(OpenEndpoints::kAny, "/endpoints/x/invocations", "127.0.0.1:4000").has_value());
}

}  // namespace
}  // namespace thaw::api
