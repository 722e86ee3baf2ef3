#include "api/http_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/logging.h"

namespace thaw::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using ClientResponse = http::response<http::string_body>;

constexpr auto kTestDeadline = std::chrono::seconds(20);

// Blocking client calls have no timeout: a hung test aborts here instead of stalling the suite.
class Watchdog {
 public:
  Watchdog()
      : thread_([this] {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, kTestDeadline, [this] { return done_; })) {
            std::fprintf(stderr, "watchdog: test still running after %llds, aborting\n",
                         static_cast<long long>(kTestDeadline.count()));
            std::abort();
          }
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;   // guarded by mu_
  std::thread thread_;  // last: starts after the members it uses
};

// Collects a streamed body (HttpServerOptions::body_sink_for).
struct CollectingSink : BodySink {
  void Write(std::string_view data) override { text.append(data); }
  std::string text;
};

// A steady_timer the /slow handler parks on; the test releases it on the timer's own strand.
using Gate = std::shared_ptr<asio::steady_timer>;

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.port = 0;
    server_ = std::make_unique<HttpServer>(
        io_, options, [this](Request& req, RequestContext& ctx) -> asio::awaitable<Response> {
          if (req.target() == "/throw-sync") throw std::logic_error("thrown before awaiting");
          return Handle(req, ctx);
        });
    Status status = server_->Listen();
    ASSERT_TRUE(status.ok()) << status.ToString();
    ASSERT_NE(server_->port(), 0);
    server_->Start();
    // Two I/O threads, so the strand discipline is actually exercised.
    for (int i = 0; i < 2; ++i) io_threads_.emplace_back([this] { io_.run(); });
  }

  void TearDown() override {
    if (server_ && !io_threads_.empty()) StopServerAndWait();  // not if StartServer failed early
    work_.reset();
    for (auto& t : io_threads_) t.join();  // run() returns once every coroutine has ended
  }

  void StopServerAndWait() {
    std::promise<void> done;
    server_->Shutdown([&done] { done.set_value(); });
    done.get_future().wait();
  }

  asio::awaitable<Response> Handle(Request& req, RequestContext& ctx) {
    const std::string target(req.target());
    if (target == "/throw") throw std::runtime_error("handler bug");
    if (target == "/slow") {
      auto gate =
          std::make_shared<asio::steady_timer>(ctx.executor, asio::steady_timer::time_point::max());
      slow_entered_.set_value(gate);
      boost::system::error_code ec;
      co_await gate->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain");
    if (target == "/custom-id") res.set(kRequestIdHeader, "custom-id");
    if (target == "/request-id") {
      res.body() = ctx.request_id;
    } else if (target == "/remote") {
      res.body() = ctx.remote;
    } else if (target == "/echo-body") {
      res.body() = req.body();
    } else if (target == "/sink") {
      auto* sink = dynamic_cast<CollectingSink*>(ctx.body_sink.get());
      res.body() = sink ? "sink:" + sink->text : "no sink:" + req.body();
    } else if (target == "/file") {
      int fd = ::open(file_path_.c_str(), O_RDONLY | O_CLOEXEC);
      ctx.file_reply = FileReply{req.method() == http::verb::head ? -1 : fd, 2, 5};
      if (req.method() == http::verb::head) ::close(fd);
    } else {
      res.body() = target;
    }
    co_return res;
  }

  tcp::socket Connect() {
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  static void Send(tcp::socket& socket, std::string_view bytes) {
    asio::write(socket, asio::buffer(bytes.data(), bytes.size()));
  }

  static ClientResponse Read(tcp::socket& socket, beast::flat_buffer& buffer) {
    ClientResponse res;
    http::read(socket, buffer, res);
    return res;
  }

  static ClientResponse RoundTrip(tcp::socket& socket, std::string_view request) {
    Send(socket, request);
    beast::flat_buffer buffer;
    return Read(socket, buffer);
  }

  // True when the server closed its side: nothing buffered and the next read reports EOF/RST.
  static bool PeerClosed(tcp::socket& socket, const beast::flat_buffer& buffer) {
    if (buffer.size() != 0) return false;
    char byte;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  static std::string Get(std::string_view target, std::string_view extra = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) +
           "\r\n";
  }

  Watchdog watchdog_;
  asio::io_context io_;
  // Keeps run() going between a test's own Shutdown and TearDown's.
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  asio::io_context client_io_;  // never run: the client only makes blocking calls
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> io_threads_;
  std::promise<Gate> slow_entered_;
  std::string file_path_;
};

TEST_F(HttpServerTest, SimpleGetReturnsBodyAndHeaders) {
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(socket, Get("/hello"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "/hello");
  EXPECT_EQ(res[kRequestIdHeader].size(), 36u);  // a UUID
  EXPECT_EQ(res[http::field::server], "thaw");
  EXPECT_EQ(res[http::field::content_length], "6");
  EXPECT_TRUE(res.keep_alive());
}

TEST_F(HttpServerTest, RequestIdMatchesContextAndHandlerValueIsKept) {
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(socket, Get("/request-id"));
  EXPECT_EQ(res[kRequestIdHeader], res.body());
  res = RoundTrip(socket, Get("/custom-id"));
  EXPECT_EQ(res[kRequestIdHeader], "custom-id");
}

TEST_F(HttpServerTest, ContextCarriesPeerAddress) {
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(socket, Get("/remote"));
  EXPECT_EQ(res.body(), "127.0.0.1:" + std::to_string(socket.local_endpoint().port()));
}

TEST_F(HttpServerTest, TwoRequestsOnOneKeepAliveConnection) {
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse first = RoundTrip(socket, Get("/one"));
  ClientResponse second = RoundTrip(socket, Get("/two"));
  EXPECT_EQ(first.body(), "/one");
  EXPECT_EQ(second.body(), "/two");
  EXPECT_NE(first[kRequestIdHeader], second[kRequestIdHeader]);
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  // Also exercises the per-request debug line (printed to stderr).
  auto http_log = thaw::Logger("http");
  const auto saved_level = http_log->level();
  http_log->set_level(spdlog::level::debug);
  StartServer();
  tcp::socket socket = Connect();
  Send(socket,
       Get("/a") + Get("/b") + "POST /c HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz");
  beast::flat_buffer buffer;  // shared: responses may arrive in one segment
  EXPECT_EQ(Read(socket, buffer).body(), "/a");
  EXPECT_EQ(Read(socket, buffer).body(), "/b");
  EXPECT_EQ(Read(socket, buffer).body(), "/c");
  http_log->set_level(saved_level);
}

TEST_F(HttpServerTest, BodyWithinLimitReachesHandler) {
  HttpServerOptions options;
  options.body_limit = 10;
  StartServer(options);
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(
      socket, "POST /echo-body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "0123456789");
}

TEST_F(HttpServerTest, BodyOverLimitIs413AndCloses) {
  HttpServerOptions options;
  options.body_limit = 10;
  StartServer(options);
  tcp::socket socket = Connect();
  // Only the header is sent: the server must answer from Content-Length without the body.
  Send(socket, "POST /echo-body HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n");
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_EQ(
      res.body(),
      R"({"__type":"ValidationException","message":"Request body exceeds the limit of 10 bytes."})");
  EXPECT_EQ(res["x-amzn-ErrorType"], "ValidationException");
  EXPECT_EQ(res[kRequestIdHeader].size(), 36u);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413AndCloses) {
  HttpServerOptions options;
  options.body_limit = 10;
  StartServer(options);
  tcp::socket socket = Connect();
  // A chunk header announcing 0x14 = 20 bytes is enough for the server to refuse.
  Send(socket, "POST /echo-body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n");
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::payload_too_large);
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, MalformedRequestLineIs400AndCloses) {
  StartServer();
  tcp::socket socket = Connect();
  Send(socket, "THIS IS NOT HTTP\r\n\r\n");
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::bad_request);
  EXPECT_EQ(res.body(),
            R"({"__type":"SerializationException","message":"Malformed HTTP request"})");
  EXPECT_EQ(res["x-amzn-ErrorType"], "SerializationException");
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, OversizedHeaderIs431AndCloses) {
  HttpServerOptions options;
  options.header_limit = 1024;
  StartServer(options);
  tcp::socket socket = Connect();
  Send(socket, Get("/big", "X-Big: " + std::string(2000, 'a') + "\r\n"));
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, TooManyHeaderFieldsIs431AndCloses) {
  HttpServerOptions options;
  options.header_count_limit = 5;
  StartServer(options);
  tcp::socket socket = Connect();
  std::string fields;
  for (int i = 0; i < 6; ++i) fields += "X-F" + std::to_string(i) + ": v\r\n";
  Send(socket, Get("/many", fields));  // Host + 6
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::request_header_fields_too_large);
  EXPECT_EQ(
      res.body(),
      R"({"__type":"ValidationException","message":"Request has more than 5 header fields."})");
  EXPECT_TRUE(PeerClosed(socket, buffer));
  // At the limit it is served.
  tcp::socket again = Connect();
  EXPECT_EQ(RoundTrip(again, Get("/few", "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\nX-D: 4\r\n")).result(),
            http::status::ok);
}

TEST_F(HttpServerTest, LongUrlIs414AndCloses) {
  HttpServerOptions options;
  options.url_limit = 64;
  StartServer(options);
  tcp::socket ok = Connect();
  EXPECT_EQ(RoundTrip(ok, Get("/" + std::string(63, 'a'))).result(), http::status::ok);
  tcp::socket socket = Connect();
  Send(socket, Get("/" + std::string(64, 'a')));
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::uri_too_long);
  EXPECT_EQ(res["x-amzn-ErrorType"], "ValidationException");
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, ConnectionsOverTheTotalLimitAre503AndClosed) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  tcp::socket a = Connect();
  tcp::socket b = Connect();
  // A round trip on each proves both are registered before the third arrives.
  EXPECT_EQ(RoundTrip(a, Get("/a")).result(), http::status::ok);
  EXPECT_EQ(RoundTrip(b, Get("/b")).result(), http::status::ok);
  tcp::socket c = Connect();
  beast::flat_buffer buffer;
  ClientResponse res = Read(c, buffer);
  EXPECT_EQ(res.result(), http::status::service_unavailable);
  EXPECT_EQ(res.body(),
            R"({"__type":"ServiceUnavailable","message":"Too many open connections."})");
  EXPECT_TRUE(PeerClosed(c, buffer));
  // A slot freed is a slot reused.
  a.close();
  b.close();
  bool served = false;
  for (int i = 0; i < 200 && !served; ++i) {
    tcp::socket d = Connect();
    Send(d, Get("/d"));
    beast::flat_buffer buf;
    ClientResponse r;
    boost::system::error_code ec;
    http::read(d, buf, r, ec);
    served = !ec && r.result() == http::status::ok;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a close in flight
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpServerTest, ConnectionsOverThePerClientLimitAre503AndClosed) {
  HttpServerOptions options;
  options.max_connections_per_client = 1;
  StartServer(options);
  tcp::socket a = Connect();
  EXPECT_EQ(RoundTrip(a, Get("/a")).result(), http::status::ok);
  tcp::socket b = Connect();
  beast::flat_buffer buffer;
  EXPECT_EQ(Read(b, buffer).result(), http::status::service_unavailable);
  // Another client address is counted on its own (127.0.0.2 reaches the 127.0.0.1 listener).
  tcp::socket other(client_io_);
  other.open(tcp::v4());
  other.bind(tcp::endpoint(asio::ip::make_address("127.0.0.2"), 0));
  other.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  EXPECT_EQ(RoundTrip(other, Get("/other")).result(), http::status::ok);
}

TEST_F(HttpServerTest, SlowHeaderIsCutOffAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(100);
  StartServer(options);
  tcp::socket socket = Connect();
  // Slowloris: a request line and part of the header, then nothing.
  Send(socket, "GET /slow-header HTTP/1.1\r\nHost: t\r\nX-A: ");
  beast::flat_buffer buffer;
  EXPECT_TRUE(PeerClosed(socket, buffer));  // closed without an answer
}

TEST_F(HttpServerTest, TrickledHeaderIsCutOffAtTheHeaderDeadline) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  tcp::socket socket = Connect();
  Send(socket, "GET /trickle HTTP/1.1\r\nHost: t\r\n");
  // One byte every 20 ms keeps every single read short; the deadline covers the whole header.
  boost::system::error_code ec;
  for (int i = 0; i < 500 && !ec; ++i) {
    asio::write(socket, asio::buffer("X", 1), ec);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(ec) << "the server kept reading a header that never ends";
}

TEST_F(HttpServerTest, SlowBodyIsCutOffAtItsDeadline) {
  HttpServerOptions options;
  options.header_timeout = std::chrono::milliseconds(100);
  StartServer(options);
  tcp::socket socket = Connect();
  Send(socket, "POST /echo-body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc");
  beast::flat_buffer buffer;
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedAtTheIdleDeadline) {
  HttpServerOptions options;
  options.idle_timeout = std::chrono::milliseconds(100);
  StartServer(options);
  tcp::socket socket = Connect();
  EXPECT_EQ(RoundTrip(socket, Get("/first")).result(), http::status::ok);
  beast::flat_buffer buffer;
  EXPECT_TRUE(PeerClosed(socket, buffer));  // no second request came
  tcp::socket silent = Connect();           // nor any first one
  EXPECT_TRUE(PeerClosed(silent, buffer));
}

TEST_F(HttpServerTest, HandlerExceptionIs500InternalFailure) {
  StartServer();
  tcp::socket socket = Connect();
  for (const char* target : {"/throw", "/throw-sync"}) {
    ClientResponse res = RoundTrip(socket, Get(target));
    EXPECT_EQ(res.result(), http::status::internal_server_error) << target;
    EXPECT_EQ(res.body(), R"({"__type":"InternalFailure","message":"Internal server error"})");
    EXPECT_EQ(res["x-amzn-ErrorType"], "InternalFailure");
    EXPECT_EQ(res[kRequestIdHeader].size(), 36u);
  }
  // The connection survives a handler failure.
  EXPECT_EQ(RoundTrip(socket, Get("/after")).body(), "/after");
}

TEST_F(HttpServerTest, Expect100ContinueIsAnsweredBeforeTheBody) {
  StartServer();
  tcp::socket socket = Connect();
  Send(socket,
       "POST /echo-body HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  // The body has not been sent: this read only completes if the server sent 100 first.
  std::string raw;
  const size_t n = asio::read_until(socket, asio::dynamic_buffer(raw), "\r\n\r\n");
  EXPECT_EQ(raw.substr(0, n), "HTTP/1.1 100 Continue\r\n\r\n");
  Send(socket, "hello");
  beast::flat_buffer buffer;
  const std::string rest = raw.substr(n);
  buffer.commit(asio::buffer_copy(buffer.prepare(rest.size()), asio::buffer(rest)));
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "hello");
}

TEST_F(HttpServerTest, Http10ClosesAfterResponse) {
  StartServer();
  tcp::socket socket = Connect();
  Send(socket, "GET /old HTTP/1.0\r\n\r\n");
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.version(), 10u);
  EXPECT_EQ(res.body(), "/old");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, Http10KeepAliveIsHonoured) {
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(socket, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(RoundTrip(socket, "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").body(), "/b");
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  tcp::socket socket = Connect();
  Send(socket, Get("/bye", "Connection: close\r\n"));
  beast::flat_buffer buffer;
  ClientResponse res = Read(socket, buffer);
  EXPECT_EQ(res.body(), "/bye");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(PeerClosed(socket, buffer));
}

TEST_F(HttpServerTest, GracefulShutdownFinishesInFlightRequest) {
  StartServer();
  // An idle keep-alive connection, and one whose request is parked in the handler.
  tcp::socket idle = Connect();
  EXPECT_EQ(RoundTrip(idle, Get("/warm")).body(), "/warm");
  tcp::socket busy = Connect();
  Send(busy, Get("/slow"));
  Gate gate = slow_entered_.get_future().get();
  EXPECT_EQ(server_->active_connections(), 2u);

  std::promise<void> done;
  std::future<void> done_future = done.get_future();
  server_->Shutdown([&done] { done.set_value(); });

  beast::flat_buffer idle_buffer;
  EXPECT_TRUE(PeerClosed(idle, idle_buffer));  // closed by the shutdown, not by a timeout
  EXPECT_EQ(done_future.wait_for(std::chrono::seconds(0)), std::future_status::timeout);

  asio::post(gate->get_executor(), [gate] { gate->cancel(); });
  beast::flat_buffer buffer;
  ClientResponse res = Read(busy, buffer);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "/slow");
  EXPECT_EQ(res[http::field::connection], "close");
  EXPECT_TRUE(PeerClosed(busy, buffer));

  done_future.wait();
  EXPECT_EQ(server_->active_connections(), 0u);
  tcp::socket late(client_io_);
  boost::system::error_code ec;
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
  EXPECT_EQ(ec, asio::error::connection_refused);
}

TEST_F(HttpServerTest, ShutdownWithoutConnectionsCallsDone) {
  StartServer();
  StopServerAndWait();
  EXPECT_EQ(server_->active_connections(), 0u);
  StopServerAndWait();  // a second Shutdown still gets its callback
}

TEST_F(HttpServerTest, ListenFailsWhenPortIsTaken) {
  StartServer();
  HttpServerOptions options;
  options.port = server_->port();
  HttpServer second(io_, options, [](Request&, RequestContext&) -> asio::awaitable<Response> {
    co_return Response{};
  });
  Status status = second.Listen();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kInternal);
}

// Sharded mode (the server's): each shard is an io_context run by one thread; connections are
// spread over the shards, and every request of a connection is handled on its shard's thread.
TEST(HttpServerShardsTest, ConnectionsArePinnedToOneShardThreadEach) {
  Watchdog watchdog;
  asio::io_context shard_a(1), shard_b(1), client_io;
  auto work_a = asio::make_work_guard(shard_a);
  auto work_b = asio::make_work_guard(shard_b);
  std::mutex mu;
  std::vector<std::thread::id> seen;  // guarded by mu: the handler's thread, per request
  HttpServerOptions options;
  options.port = 0;
  HttpServer server(
      {&shard_a, &shard_b}, options,
      [&](Request&, RequestContext& ctx) -> asio::awaitable<Response> {
        // The handler runs on its connection's shard, whose executor it is given.
        asio::io_context* mine =
            &asio::query(ctx.executor, asio::execution::context) == &shard_a ? &shard_a : &shard_b;
        EXPECT_TRUE(mine->get_executor().running_in_this_thread());
        {
          std::lock_guard lock(mu);
          seen.push_back(std::this_thread::get_id());
        }
        Response res{http::status::ok, 11};
        res.body() = mine == &shard_a ? "a" : "b";
        co_return res;
      });
  ASSERT_TRUE(server.Listen().ok());
  server.Start();
  std::thread ta([&] { shard_a.run(); });
  std::thread tb([&] { shard_b.run(); });

  std::vector<std::string> shard_of;
  for (int c = 0; c < 4; ++c) {
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    std::string first;
    for (int r = 0; r < 3; ++r) {
      std::string req = "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
      asio::write(socket, asio::buffer(req));
      beast::flat_buffer buffer;
      ClientResponse res;
      http::read(socket, buffer, res);
      ASSERT_EQ(res.result(), http::status::ok);
      if (r == 0) first = res.body();
      EXPECT_EQ(res.body(), first);  // the same shard for the connection's whole life
    }
    shard_of.push_back(first);
  }
  EXPECT_EQ(shard_of, (std::vector<std::string>{"a", "b", "a", "b"}));  // round-robin
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen.size(), 12u);
  }

  std::promise<void> done;
  server.Shutdown([&done] { done.set_value(); });
  done.get_future().wait();
  work_a.reset();
  work_b.reset();
  shard_a.stop();
  shard_b.stop();
  ta.join();
  tb.join();
}

}  // namespace
}  // namespace thaw::api

namespace thaw::api {
namespace {

TEST_F(HttpServerTest, ChosenBodiesStreamToTheirSinkPastTheBodyLimit) {
  HttpServerOptions options;
  options.body_limit = 10;
  options.body_sink_for = [](const http::request_header<>& header) -> std::shared_ptr<BodySink> {
    if (header.method() != http::verb::put) return nullptr;
    return std::make_shared<CollectingSink>();
  };
  StartServer(options);
  tcp::socket socket = Connect();
  const std::string body(300000, 'b');
  ClientResponse res = RoundTrip(socket, "PUT /sink HTTP/1.1\r\nHost: t\r\nContent-Length: " +
                                             std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "sink:" + body);
  // Other requests keep the string body and its limit.
  res = RoundTrip(socket, "POST /sink HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(res.body(), "no sink:abc");
}

TEST_F(HttpServerTest, FileRepliesStreamTheirRange) {
  file_path_ =
      (std::filesystem::temp_directory_path() / ("thaw-file-reply-" + std::to_string(::getpid())))
          .string();
  std::ofstream(file_path_) << "0123456789";
  StartServer();
  tcp::socket socket = Connect();
  ClientResponse res = RoundTrip(socket, Get("/file"));
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "23456");
  EXPECT_EQ(res[http::field::content_length], "5");
  // HEAD: the length, no body, and the connection stays usable.
  Send(socket, "HEAD /file HTTP/1.1\r\nHost: t\r\n\r\n");
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> head;
  head.skip(true);
  http::read(socket, buffer, head);
  EXPECT_EQ(head.get()[http::field::content_length], "5");
  Send(socket, Get("/after"));
  ClientResponse after = Read(socket, buffer);
  EXPECT_EQ(after.body(), "/after");
  std::filesystem::remove(file_path_);
}

}  // namespace
}  // namespace thaw::api
