#pragma once
// The client side of HTTP for the `thaw` commands: Boost.Beast, synchronous to its caller, one
// TCP connection per HttpClient kept alive across requests, every step under a deadline.
// Not thread-safe: one command owns one client.

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::cli {

namespace http = boost::beast::http;

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// Where the server is: "http://host[:port][/base]". `host_header` is what goes into Host (and
// what SigV4 signs): the host and port exactly as the user wrote them.
struct EndpointUrl {
  std::string host;  // without IPv6 brackets, for the resolver
  std::string port;  // "80" when the URL gives none
  std::string host_header;
  std::string base_path;  // "" or "/prefix" (no trailing slash)

  std::string ToString() const { return "http://" + host_header + base_path; }
};

// Accepts "http://…" and a bare "host:port" (taken as http). https is refused for now.
Result<EndpointUrl> ParseEndpointUrl(std::string_view url);

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{120'000};  // writing the request + reading the answer
  uint64_t max_response_bytes = uint64_t{64} << 20;
  std::string user_agent = "thaw-cli/0.1.0";
};

// Called on every request after Host, User-Agent and Content-Length are set and just before it is
// written, so it sees the request exactly as sent. A later issue plugs SigV4 in here; a failed
// Status (e.g. no credentials) aborts the request.
using RequestSigner = std::function<Status(HttpRequest&)>;

class HttpClient {
 public:
  HttpClient(EndpointUrl url, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void set_signer(RequestSigner signer) { signer_ = std::move(signer); }
  const EndpointUrl& url() const { return url_; }

  // Sends `request` (its target relative to the server root; the base path is prepended) and
  // reads the whole answer. Any HTTP status is a success here; a failed Status means no answer
  // (kUnavailable: cannot connect, timed out, connection lost; kInvalidArgument: signer refused).
  // A kept-alive connection the server closed while idle is re-opened once, transparently.
  Result<HttpResponse> Send(HttpRequest request);

  // How many TCP connections this client opened (tests check keep-alive with it).
  int connections_opened() const { return connections_opened_; }

 private:
  Status Connect();
  void Close();
  // Writes `request` and reads the answer on the open connection.
  Result<HttpResponse> RoundTrip(const HttpRequest& request, bool& nothing_received);

  EndpointUrl url_;
  HttpClientOptions options_;
  RequestSigner signer_;
  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
  int requests_on_connection_ = 0;
  int connections_opened_ = 0;
};

}  // namespace thaw::cli
