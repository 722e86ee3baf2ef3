// The HTTP/SageMaker client and the commands against a canned in-test server.

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "canned_server.h"
#include "cli/cli.h"
#include "cli/deploy.h"
#include "cli/endpoints.h"
#include "cli/http_client.h"
#include "cli/invoke.h"
#include "cli/sagemaker_client.h"

namespace thaw::cli {
namespace {

using testing::AwsError;
using testing::CannedResponse;
using testing::CannedServer;
using testing::Json;

TEST(ParseEndpointUrl, HostPortAndBasePath) {
  auto u = ParseEndpointUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->host_header, "127.0.0.1:8080");
  EXPECT_EQ(u->base_path, "");
  u = ParseEndpointUrl("http://[::1]:9000/prefix/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->host_header, "[::1]:9000");
  EXPECT_EQ(u->base_path, "/prefix");
  u = ParseEndpointUrl("localhost");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->ToString(), "http://localhost");
}

TEST(ParseEndpointUrl, RefusesWhatItCannotSpeak) {
  EXPECT_FALSE(ParseEndpointUrl("https://example.com").ok());
  EXPECT_FALSE(ParseEndpointUrl("ftp://example.com").ok());
  EXPECT_FALSE(ParseEndpointUrl("http://").ok());
  EXPECT_FALSE(ParseEndpointUrl("http://host:99999").ok());
  EXPECT_FALSE(ParseEndpointUrl("http://host:").ok());
  EXPECT_FALSE(ParseEndpointUrl("http://host/?a=b").ok());
}

TEST(ParseApiError, ControlPlaneTypeAndMessage) {
  ApiError e = ParseApiError(
      400, "", R"({"__type":"com.amazon.coral.validate#ValidationException","message":"bad"})");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.code, "ValidationException");
  EXPECT_EQ(e.message, "bad");
  EXPECT_EQ(FormatError(e), "error: ValidationException: bad");
}

TEST(ParseApiError, RuntimeHeaderWinsAndCapitalMessage) {
  ApiError e =
      ParseApiError(424, "ModelError:http://internal.amazon.com/coral/",
                    R"j({"Message":"Received client error (415)","OriginalStatusCode":415})j");
  EXPECT_EQ(e.code, "ModelError");
  EXPECT_EQ(e.message, "Received client error (415)");
}

TEST(ParseApiError, NullMessageAndNonJsonBodies) {
  ApiError throttled = ParseApiError(400, "ThrottlingException", R"({"message":null})");
  EXPECT_EQ(FormatError(throttled), "error: ThrottlingException");
  ApiError html = ParseApiError(502, "", "  <html>Bad Gateway</html>\n");
  EXPECT_EQ(html.code, "HTTP 502");
  EXPECT_EQ(FormatError(html), "error: HTTP 502: <html>Bad Gateway</html>");
  EXPECT_EQ(FormatError({0, "", "cannot connect to http://h:1: refused"}),
            "error: cannot connect to http://h:1: refused");
}

TEST(InvocationTarget, EncodesOddCharacters) {
  EXPECT_EQ(InvocationTarget("my-ep"), "/endpoints/my-ep/invocations");
  EXPECT_EQ(InvocationTarget("a b/c"), "/endpoints/a%20b%2Fc/invocations");
}

TEST(EndpointTable, RowsFromDescribeAndAlignment) {
  auto described = nlohmann::json::parse(R"({
    "EndpointName":"ok","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ok",
    "EndpointConfigName":"cfg","EndpointStatus":"InService","CreationTime":1672531200.123,
    "ProductionVariants":[{"VariantName":"AllTraffic",
      "CurrentServerlessConfig":{"MemorySizeInMB":2048,"MaxConcurrency":5}}]})");
  EndpointRow row = RowFromDescribe(described);
  EXPECT_EQ(row.memory, "2048");
  EXPECT_EQ(row.max_concurrency, "5");
  EXPECT_EQ(row.created, "2023-01-01T00:00:00Z");
  EndpointRow creating = RowFromDescribe(nlohmann::json::parse(
      R"({"EndpointName":"long-name","EndpointStatus":"Creating","EndpointConfigName":"c2"})"));
  EXPECT_EQ(creating.memory, "-");
  EXPECT_EQ(FormatEndpointTable({row, creating}),
            "NAME       STATUS     CONFIG  MEMORY  MAX CONCURRENCY  CREATED\n"
            "ok         InService  cfg     2048    5                2023-01-01T00:00:00Z\n"
            "long-name  Creating   c2      -       -                -\n");
}

TEST(Invoke, BodySourcesAndTimingText) {
  std::istringstream in("from stdin");
  EXPECT_EQ(*ReadRequestBody(std::string(""), "", in), "");
  EXPECT_EQ(*ReadRequestBody(std::nullopt, "", in), "from stdin");
  EXPECT_FALSE(ReadRequestBody(std::nullopt, "/nonexistent/file", in).ok());
  EXPECT_EQ(FormatTiming(1, 1.8449, 200), "invoke 1: 1.84 ms (HTTP 200)");
  EXPECT_EQ(FormatTimingSummary({3.0, 1.0, 2.0}),
            "invoke: 3 calls, min 1.00 ms, median 2.00 ms, max 3.00 ms");
  EXPECT_EQ(FormatTimingSummary({1.0}), "");
}

// A client for `server`, with short timeouts so a broken test fails instead of hanging.
struct TestClient {
  explicit TestClient(const CannedServer& server)
      : http(*ParseEndpointUrl(server.url()),
             HttpClientOptions{std::chrono::seconds(5), std::chrono::seconds(5)}),
        client(http) {}
  HttpClient http;
  SageMakerClient client;
};

struct Captured {
  std::ostringstream out, err;
  Console console{out, err, false};
};

TEST(SageMakerClientTest, ErrorAnswerBecomesApiError) {
  CannedServer server({AwsError(
      400, "ValidationException",
      R"(Could not find endpoint \"arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope\".)")});
  std::string host;
  {
    TestClient c(server);
    auto r = c.client.Call("DescribeEndpoint", {{"EndpointName", "nope"}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().http_status, 400);
    EXPECT_EQ(FormatError(r.error()),
              "error: ValidationException: Could not find endpoint "
              "\"arn:aws:sagemaker:us-east-1:123456789012:endpoint/nope\".");
  }
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/");
  EXPECT_EQ(seen[0].amz_target, "SageMaker.DescribeEndpoint");
  EXPECT_EQ(seen[0].content_type, "application/x-amz-json-1.1");
  EXPECT_EQ(seen[0].host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(nlohmann::json::parse(seen[0].body), nlohmann::json({{"EndpointName", "nope"}}));
}

TEST(SageMakerClientTest, SignerSeesTheFinalRequest) {
  CannedServer server({Json("{}")});
  {
    TestClient c(server);
    c.http.set_signer([](HttpRequest& req) {
      EXPECT_EQ(req[http::field::content_length], "2");
      req.set("Authorization", "signed");
      return Status::Ok();
    });
    EXPECT_TRUE(c.client.Call("ListEndpoints", nullptr).ok());
  }
  EXPECT_EQ(server.Requests().at(0).body, "{}");
}

TEST(SageMakerClientTest, ConnectionRefusedIsATransportError) {
  uint16_t port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  HttpClient http(*ParseEndpointUrl("http://127.0.0.1:" + std::to_string(port)), {});
  SageMakerClient client(http);
  auto r = client.Call("ListEndpoints", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 0);
  EXPECT_NE(FormatError(r.error()).find("error: cannot connect to http://127.0.0.1:"),
            std::string::npos);
}

TEST(HttpClientTest, ReopensAConnectionTheServerClosedWhileIdle) {
  CannedResponse first = Json(R"({"n":1})");
  first.then_close = true;
  CannedServer server({first, Json(R"({"n":2})")});
  int opened = 0;
  {
    TestClient c(server);
    auto a = c.client.Call("ListEndpoints", {});
    ASSERT_TRUE(a.ok()) << FormatError(a.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the close arrive
    auto b = c.client.Call("ListEndpoints", {});
    ASSERT_TRUE(b.ok()) << FormatError(b.error());
    EXPECT_EQ((*b)["n"], 2);
    opened = c.http.connections_opened();
  }
  EXPECT_EQ(opened, 2);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(server.Requests().size(), 2u);
}

TEST(HttpClientTest, SlowAnswerTimesOut) {
  CannedResponse slow = Json("{}");
  slow.delay = std::chrono::milliseconds(500);
  CannedServer server({slow});
  HttpClient http(*ParseEndpointUrl(server.url()),
                  HttpClientOptions{std::chrono::seconds(5), std::chrono::milliseconds(50)});
  SageMakerClient client(http);
  auto r = client.Call("ListEndpoints", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http_status, 0);
  EXPECT_NE(r.error().message.find("no answer within 50 ms"), std::string::npos)
      << r.error().message;
}

const char* kCreating =
    R"({"EndpointName":"ep1","EndpointStatus":"Creating","EndpointConfigName":"ep1-c"})";
const char* kInService =
    R"({"EndpointName":"ep1","EndpointStatus":"InService","EndpointConfigName":"ep1-c",
        "EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1"})";

TEST(WaitForEndpoint, PollsUntilInServiceOnOneConnection) {
  CannedServer server({Json(kCreating), Json(kCreating), Json(kInService)});
  Captured cap;
  int connections = 0;
  {
    TestClient c(server);
    WaitOptions wait;
    wait.interval = std::chrono::milliseconds(1);
    EXPECT_EQ(WaitForEndpoint(c.client, "ep1", wait, cap.console, std::chrono::steady_clock::now()),
              0);
    connections = c.http.connections_opened();
  }
  EXPECT_EQ(connections, 1);
  EXPECT_EQ(server.Requests().size(), 3u);
  EXPECT_NE(cap.out.str().find("endpoint ep1 is InService ("), std::string::npos);
  EXPECT_NE(cap.out.str().find("arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1\n"),
            std::string::npos);
  // Not a TTY: one plain line per status change.
  const std::string err = cap.err.str();
  EXPECT_EQ(err.rfind("ep1: Creating (", 0), 0u);
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
}

TEST(WaitForEndpoint, TtyRedrawsOneLine) {
  CannedServer server({Json(kCreating), Json(kInService)});
  std::ostringstream out, err;
  Console console{out, err, true};
  {
    TestClient c(server);
    WaitOptions wait;
    wait.interval = std::chrono::milliseconds(1);
    EXPECT_EQ(WaitForEndpoint(c.client, "ep1", wait, console, std::chrono::steady_clock::now()), 0);
  }
  EXPECT_EQ(err.str().rfind("\rep1: Creating  ", 0), 0u);
  EXPECT_EQ(err.str().find('\n'), std::string::npos);
}

TEST(WaitForEndpoint, FailedPrintsTheFailureReason) {
  CannedServer server({Json(kCreating), Json(R"({"EndpointName":"ep1","EndpointStatus":"Failed",
      "FailureReason":"The primary container for production variant AllTraffic did not pass the ping health check."})")});
  Captured cap;
  {
    TestClient c(server);
    WaitOptions wait;
    wait.interval = std::chrono::milliseconds(1);
    EXPECT_EQ(WaitForEndpoint(c.client, "ep1", wait, cap.console, std::chrono::steady_clock::now()),
              1);
  }
  EXPECT_NE(cap.err.str().find("error: endpoint ep1 Failed after "), std::string::npos);
  EXPECT_NE(cap.err.str().find("did not pass the ping health check."), std::string::npos);
  EXPECT_EQ(cap.out.str(), "");
}

TEST(WaitForEndpoint, UpdateBackOnTheOldConfigIsAFailure) {
  CannedServer server({Json(R"({"EndpointStatus":"InService","EndpointConfigName":"old",
                                "FailureReason":"bad model"})")});
  Captured cap;
  {
    TestClient c(server);
    WaitOptions wait;
    wait.interval = std::chrono::milliseconds(1);
    wait.expected_config = "new";
    EXPECT_EQ(WaitForEndpoint(c.client, "ep1", wait, cap.console, std::chrono::steady_clock::now()),
              1);
  }
  EXPECT_NE(cap.err.str().find("still serves endpoint config old: bad model"), std::string::npos);
}

TEST(WaitForEndpoint, ServerErrorWhilePolling) {
  CannedServer server({Json(kCreating), AwsError(500, "InternalFailure", "disk full")});
  Captured cap;
  {
    TestClient c(server);
    WaitOptions wait;
    wait.interval = std::chrono::milliseconds(1);
    EXPECT_EQ(WaitForEndpoint(c.client, "ep1", wait, cap.console, std::chrono::steady_clock::now()),
              1);
  }
  EXPECT_NE(cap.err.str().find("error: InternalFailure: disk full\n"), std::string::npos);
}

// The whole command line, through ClientCommands, against the canned server.
std::optional<int> RunCli(std::vector<std::string> args, std::string& out, std::string& err) {
  CLI::App app{"thaw"};
  ClientCommands commands(app);
  commands.set_poll_interval(std::chrono::milliseconds(1));
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  std::optional<int> code = commands.RunParsed();
  out = ::testing::internal::GetCapturedStdout();
  err = ::testing::internal::GetCapturedStderr();
  return code;
}

TEST(ClientCommandsTest, DeployCreatesModelConfigAndEndpointThenWaits) {
  CannedServer server({
      AwsError(400, "ValidationException", "Could not find endpoint \\\"arn:...:endpoint/ep1\\\"."),
      Json(R"({"ModelArn":"arn:m"})"),
      Json(R"({"EndpointConfigArn":"arn:c"})"),
      Json(R"({"EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep1"})"),
      Json(kCreating),
      Json(kInService),
  });
  std::string out, err;
  auto code = RunCli(
      {"deploy", "--endpoint-url", server.url(), "--name", "ep1", "--model", "/models/m.tar.gz",
       "--image", "xgboost:1.7-1", "--env", "A=1", "--env", "B=2", "--memory", "4096"},
      out, err);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << err;
  EXPECT_NE(out.find("endpoint ep1 is InService"), std::string::npos);
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 6u);
  std::vector<std::string> ops;
  for (const auto& r : seen) ops.push_back(r.amz_target);
  EXPECT_EQ(ops,
            (std::vector<std::string>{"SageMaker.DescribeEndpoint", "SageMaker.CreateModel",
                                      "SageMaker.CreateEndpointConfig", "SageMaker.CreateEndpoint",
                                      "SageMaker.DescribeEndpoint", "SageMaker.DescribeEndpoint"}));
  auto model = nlohmann::json::parse(seen[1].body);
  EXPECT_EQ(model["PrimaryContainer"]["ModelDataUrl"], "/models/m.tar.gz");
  EXPECT_EQ(model["PrimaryContainer"]["Environment"], nlohmann::json({{"A", "1"}, {"B", "2"}}));
  auto config = nlohmann::json::parse(seen[2].body);
  EXPECT_EQ(config["ProductionVariants"][0]["ServerlessConfig"]["MemorySizeInMB"], 4096);
  EXPECT_EQ(nlohmann::json::parse(seen[3].body)["EndpointConfigName"], model["ModelName"]);
}

TEST(ClientCommandsTest, DeployOfAnExistingEndpointUpdatesIt) {
  CannedServer server({
      Json(kInService),
      Json("{}"),
      Json("{}"),
      AwsError(400, "ValidationException", "Cannot update in-progress endpoint \\\"arn\\\"."),
  });
  std::string out, err;
  auto code = RunCli({"deploy", "--endpoint-url", server.url(), "--name", "ep1", "--model",
                      "s3://b/m.tar.gz", "--image", "sklearn:1.2-1", "--no-wait"},
                     out, err);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("error: ValidationException: Cannot update in-progress endpoint \"arn\"."),
            std::string::npos);
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[3].amz_target, "SageMaker.UpdateEndpoint");
}

TEST(ClientCommandsTest, InvokePrintsBodiesAndTimes) {
  CannedResponse ok{200, "0.5\n", {{"Content-Type", "text/csv; charset=utf-8"}}};
  CannedServer server({ok, ok});
  std::string out, err;
  auto code = RunCli({"invoke", "ep1", "--endpoint-url", server.url(), "--body", "1,2,3",
                      "--repeat", "2", "--time", "--accept", "text/csv"},
                     out, err);
  EXPECT_EQ(code, 0) << err;
  EXPECT_EQ(out, "0.5\n0.5\n");
  EXPECT_NE(err.find("invoke 1: "), std::string::npos);
  EXPECT_NE(err.find(" ms (HTTP 200)\ninvoke 2: "), std::string::npos);
  EXPECT_NE(err.find("invoke: 2 calls, min "), std::string::npos);
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].target, "/endpoints/ep1/invocations");
  EXPECT_EQ(seen[0].content_type, "text/csv");
  EXPECT_EQ(seen[0].accept, "text/csv");
  EXPECT_EQ(seen[1].body, "1,2,3");
}

TEST(ClientCommandsTest, InvokeModelErrorExitsOne) {
  CannedServer server(
      {{424,
        R"({"ErrorCode":"CLIENT_ERROR_FROM_MODEL","Message":"Received client error (415) from primary","OriginalStatusCode":415})",
        {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", "ModelError"}}}});
  std::string out, err;
  auto code =
      RunCli({"invoke", "ep1", "--endpoint-url", server.url(), "--body", "x", "--time"}, out, err);
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "");
  EXPECT_NE(
      err.find("ms (HTTP 424)\nerror: ModelError: Received client error (415) from primary\n"),
      std::string::npos)
      << err;
}

TEST(ClientCommandsTest, EndpointsListsEveryPage) {
  CannedServer server({
      Json(R"({"Endpoints":[{"EndpointName":"a"}],"NextToken":"t1"})"),
      Json(R"({"Endpoints":[{"EndpointName":"b"}]})"),
      Json(R"({"EndpointName":"a","EndpointStatus":"InService","EndpointConfigName":"ca"})"),
      AwsError(400, "ValidationException", "Could not find endpoint \\\"b\\\"."),
  });
  std::string out, err;
  auto code = RunCli({"endpoints", "--endpoint-url", server.url()}, out, err);
  EXPECT_EQ(code, 0) << err;
  EXPECT_EQ(out,
            "NAME  STATUS     CONFIG  MEMORY  MAX CONCURRENCY  CREATED\n"
            "a     InService  ca      -       -                -\n");
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(seen[1].body)["NextToken"], "t1");
}

TEST(ClientCommandsTest, OtherSubcommandsAreNotOurs) {
  CLI::App app{"thaw"};
  CLI::App* serve = app.add_subcommand("serve", "");
  ClientCommands commands(app);
  app.parse(std::vector<std::string>{"serve"});
  EXPECT_TRUE(serve->parsed());
  EXPECT_EQ(commands.RunParsed(), std::nullopt);
}

TEST(ClientCommandsTest, BadEndpointUrlIsAUsageError) {
  std::string out, err;
  EXPECT_EQ(RunCli({"endpoints", "--endpoint-url", "https://x"}, out, err), 2);
  EXPECT_NE(err.find("https is not supported yet"), std::string::npos);
}

// Parses a command line (in reading order) into a fresh app; throws CLI::ParseError.
void Parse(std::vector<std::string> args, ClientOptions* parsed = nullptr) {
  CLI::App app{"thaw"};
  ClientCommands commands(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);
  if (parsed) *parsed = commands.options();
}

TEST(ClientCommandsTest, OptionTableDrivesParsing) {
  ClientOptions o;
  Parse({"deploy", "--name", "e", "--model", "m", "--image", "i", "--provisioned", "2", "--env",
         "A=1", "--env", "B=2", "--no-wait"},
        &o);
  EXPECT_EQ(o.name, "e");
  EXPECT_EQ(o.memory, 2048);
  EXPECT_EQ(o.max_concurrency, 5);
  EXPECT_EQ(o.provisioned, 2);
  EXPECT_EQ(o.env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_TRUE(o.no_wait);
  Parse({"invoke", "ep"}, &o);
  EXPECT_EQ(o.name, "ep");
  EXPECT_EQ(o.content_type, "text/csv");
  EXPECT_EQ(o.repeat, 1);

  EXPECT_THROW(Parse({"deploy", "--name", "e"}), CLI::ParseError);  // --model, --image required
  EXPECT_THROW(Parse({"deploy", "--name", "e", "--model", "m", "--image", "i", "--memory", "512"}),
               CLI::ParseError);
  EXPECT_THROW(Parse({"invoke", "ep", "--body", "x", "--file", "y"}), CLI::ParseError);
  EXPECT_THROW(Parse({"invoke"}), CLI::ParseError);
  EXPECT_THROW(Parse({"endpoints", "--name", "x"}), CLI::ParseError);
}

TEST(ClientCommandsTest, CostFetchesBilledDurationAndProvisionedSecondsAndCompares) {
  const std::string dims =
      R"([{"Name":"EndpointName","Value":"ep"},{"Name":"VariantName","Value":"AllTraffic"},)"
      R"({"Name":"MemorySizeInMB","Value":"2048"})";
  CannedServer server({
      Json(
          R"({"Metrics":[{"Namespace":"thaw/Billing","MetricName":"BilledDuration","Dimensions":)" +
          dims + R"(,{"Name":"Capacity","Value":"Provisioned"}]}]})"),
      Json(R"({"Label":"BilledDuration","Datapoints":[{"Sum":1500,"SampleCount":3},)"
           R"({"Sum":500,"SampleCount":1}]})"),
      Json(
          R"({"Metrics":[{"Namespace":"thaw/Billing","MetricName":"ProvisionedConcurrencySeconds",)"
          R"("Dimensions":)" +
          dims + R"(]}]})"),
      Json(
          R"({"Label":"ProvisionedConcurrencySeconds","Datapoints":[{"Sum":3000,"SampleCount":50},)"
          R"({"Sum":600,"SampleCount":10}]})"),
  });
  std::string out, err;
  auto code = RunCli({"cost", "--endpoint-url", server.url(), "--start", "1700000000", "--end",
                      "1700003600", "--compare", "ml.m5.large", "--endpoint", "ep", "--json"},
                     out, err);
  EXPECT_EQ(code, 0) << err;
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].amz_target, "GraniteServiceVersion20100801.ListMetrics");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body)["MetricName"], "BilledDuration");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body)["Dimensions"][0]["Value"], "ep");
  EXPECT_EQ(seen[1].amz_target, "GraniteServiceVersion20100801.GetMetricStatistics");
  EXPECT_EQ(nlohmann::json::parse(seen[2].body)["MetricName"], "ProvisionedConcurrencySeconds");
  auto query = nlohmann::json::parse(seen[3].body);
  EXPECT_EQ(query["MetricName"], "ProvisionedConcurrencySeconds");
  EXPECT_EQ(query["Dimensions"].size(), 3u);
  auto report = nlohmann::json::parse(out);
  const auto& row = report["Endpoints"][0];
  EXPECT_EQ(row["InstanceType"], "ml.m5.large");
  EXPECT_DOUBLE_EQ(row["InstanceHourlyUSD"].get<double>(), 0.134);  // the seed's figure
  EXPECT_DOUBLE_EQ(row["Requests"].get<double>(), 4);
  EXPECT_DOUBLE_EQ(row["ProvisionedInferenceGBSeconds"].get<double>(), 4.0);  // 2 s × 2 GB
  EXPECT_DOUBLE_EQ(row["ProvisionedConcurrencySeconds"].get<double>(), 3600);
  EXPECT_DOUBLE_EQ(row["ProvisionedConcurrencyGBSeconds"].get<double>(), 7200);
  // 7,200 GB-s × $0.0000048 + 4 GB-s × $0.00001
  EXPECT_NEAR(row["ServerlessCostUSD"].get<double>(), 0.03456 + 0.00004, 1e-12);
  EXPECT_NEAR(row["SavingsUSD"].get<double>(), 0.134 - 0.0346, 1e-12);

  // --instance still works, as the same option.
  ClientOptions o;
  Parse({"cost", "--instance", "ml.c5.large"}, &o);
  EXPECT_EQ(o.instance, "ml.c5.large");
  Parse({"cost", "--compare", "ml.m5.xlarge", "--price-provisioned-gb-second", "0.5"}, &o);
  EXPECT_EQ(o.instance, "ml.m5.xlarge");
  EXPECT_DOUBLE_EQ(o.price_provisioned_gb_second, 0.5);
}

TEST(ClientCommandsTest, EndpointUrlDefaultsFromTheEnvironment) {
  ClientOptions o;
  ::unsetenv("THAW_ENDPOINT_URL");
  Parse({"endpoints"}, &o);
  EXPECT_EQ(o.endpoint_url, "http://127.0.0.1:8080");
  ::setenv("THAW_ENDPOINT_URL", "http://10.0.0.1:9999", 1);
  Parse({"endpoints"}, &o);
  EXPECT_EQ(o.endpoint_url, "http://10.0.0.1:9999");
  Parse({"endpoints", "--endpoint-url", "http://h:1"}, &o);
  EXPECT_EQ(o.endpoint_url, "http://h:1");
  // A flag given to any subcommand wins over the environment (CLI11's envname on the other,
  // unparsed subcommands used to overwrite it: the field is shared).
  Parse({"deploy", "--name", "e", "--model", "m", "--image", "i", "--endpoint-url", "http://h:2"},
        &o);
  EXPECT_EQ(o.endpoint_url, "http://h:2");
  Parse({"cost", "--endpoint-url", "http://h:3"}, &o);
  EXPECT_EQ(o.endpoint_url, "http://h:3");
  ::unsetenv("THAW_ENDPOINT_URL");
}

}  // namespace
}  // namespace thaw::cli
