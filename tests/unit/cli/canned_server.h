#pragma once
// A tiny HTTP server for client tests: a thread that accepts one connection on 127.0.0.1:<free
// port> and answers each request on it with the next canned response, in order, recording what it
// was sent (a response with `then_close` makes it accept one more connection afterwards). Declare
// it before the client, so the client (and its connection) goes first.

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace thaw::cli::testing {

struct CannedResponse {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // before answering (timeout tests)
  bool then_close = false;  // close the connection after answering (while saying keep-alive),
                            // then accept the next one
};

// A control-plane answer: 200 with a JSON body.
inline CannedResponse Json(std::string body) {
  return {200, std::move(body), {{"Content-Type", "application/x-amz-json-1.1"}}};
}

// A control-plane error as thaw's server sends it.
inline CannedResponse AwsError(int status, const std::string& type, const std::string& message) {
  return {status,
          R"({"__type":")" + type + R"(","message":")" + message + R"("})",
          {{"Content-Type", "application/x-amz-json-1.1"}, {"x-amzn-ErrorType", type}}};
}

struct SeenRequest {
  std::string method;
  std::string target;
  std::string amz_target;  // X-Amz-Target
  std::string content_type;
  std::string accept;
  std::string host;
  std::string body;
};

class CannedServer {
 public:
  explicit CannedServer(std::vector<CannedResponse> responses)
      : responses_(std::move(responses)),
        acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { Serve(); });
  }

  ~CannedServer() {
    if (!accepted_) {  // the test never connected: unblock accept() with a connection of our own
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io_);
      s.connect(acceptor_.local_endpoint(), ec);
    }
    Join();
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }

  // Waits for the client to close the connection, then returns what it sent.
  std::vector<SeenRequest> Requests() {
    Join();
    return seen_;
  }
  int connections() {
    Join();
    return connections_;
  }

 private:
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  void Serve() {
    size_t next = 0;
    while (ServeConnection(next)) {
    }
  }

  // Serves one connection; true when it was closed on purpose (then_close) and another follows.
  bool ServeConnection(size_t& next) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    boost::asio::ip::tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    accepted_ = true;
    if (ec) return false;
    ++connections_;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      http::read(socket, buffer, req, ec);
      if (ec) return false;  // the client closed the connection
      auto header = [&req](http::field f) { return std::string(req[f]); };
      seen_.push_back({std::string(req.method_string()), std::string(req.target()),
                       std::string(req["X-Amz-Target"]), header(http::field::content_type),
                       header(http::field::accept), header(http::field::host), req.body()});
      CannedResponse canned =
          next < responses_.size()
              ? responses_[next]
              : CannedResponse{500, R"({"message":"no canned response left"})", {}};
      ++next;
      if (canned.delay.count() > 0) std::this_thread::sleep_for(canned.delay);
      http::response<http::string_body> res{static_cast<http::status>(canned.status), 11};
      for (const auto& [name, value] : canned.headers) res.set(name, value);
      res.body() = canned.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(socket, res, ec);
      if (canned.then_close) return true;
      if (ec || !req.keep_alive()) return false;
    }
  }

  std::vector<CannedResponse> responses_;
  std::vector<SeenRequest> seen_;  // written by the server thread; read after Join
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int connections_ = 0;  // written by the server thread; read after Join
  std::atomic<bool> accepted_{false};
  std::thread thread_;
};

}  // namespace thaw::cli::testing
