#include "cli/http_client.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <utility>

namespace thaw::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

Status Unavailable(std::string message) { return {Code::kUnavailable, std::move(message)}; }

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Starts one asynchronous operation and runs the io_context until it completes. The deadline of
// the tcp_stream (set by the caller) bounds it: on expiry Beast closes the socket and the
// operation completes with beast::error::timeout.
template <typename Initiate>
beast::error_code RunOne(asio::io_context& io, Initiate&& initiate) {
  beast::error_code result = asio::error::would_block;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

// The errors a kept-alive connection shows when the server closed it while it sat idle.
bool IsStaleConnection(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

}  // namespace

Result<EndpointUrl> ParseEndpointUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("invalid endpoint URL \"" + std::string(url) +
                           "\": " + std::string(why));
  };
  std::string_view rest = url;
  if (auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme == "https") return bad("https is not supported yet; use http://");
    if (scheme != "http") return bad("the scheme must be http");
    rest.remove_prefix(scheme_end + 3);
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.empty()) return bad("no host");
  if (authority.find('@') != std::string_view::npos) return bad("user info is not supported");
  if (path.find_first_of("?#") != std::string_view::npos) return bad("no query or fragment");

  EndpointUrl out;
  out.host_header = std::string(authority);
  std::string_view port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad("junk after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (port.empty() && authority.back() == ':') return bad("empty port");
  if (!port.empty()) {
    if (!IsDigits(port) || port.size() > 5 || std::stoi(std::string(port)) > 65535 ||
        std::stoi(std::string(port)) == 0) {
      return bad("bad port");
    }
    out.port = std::string(port);
  } else {
    out.port = "80";
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  return out;
}

HttpClient::HttpClient(EndpointUrl url, HttpClientOptions options)
    : url_(std::move(url)), options_(std::move(options)), stream_(io_) {}

HttpClient::~HttpClient() { Close(); }

void HttpClient::Close() {
  if (connected_) {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
  stream_.close();
  buffer_.clear();
  connected_ = false;
}

Status HttpClient::Connect() {
  tcp::resolver resolver(io_);
  beast::error_code ec;
  auto endpoints = resolver.resolve(url_.host, url_.port, ec);
  if (ec) return Unavailable("cannot resolve " + url_.host + ": " + ec.message());
  stream_.expires_after(options_.connect_timeout);
  ec = RunOne(io_, [&](auto handler) { stream_.async_connect(endpoints, std::move(handler)); });
  if (ec) {
    Close();
    std::string hint = ec == asio::error::connection_refused
                           ? " (is `thaw serve` running there? --endpoint-url or "
                             "THAW_ENDPOINT_URL names the server)"
                           : "";
    return Unavailable("cannot connect to " + url_.ToString() + ": " + ec.message() + hint);
  }
  beast::error_code ignored;
  stream_.socket().set_option(tcp::no_delay(true), ignored);
  connected_ = true;
  requests_on_connection_ = 0;
  ++connections_opened_;
  return Status::Ok();
}

Result<HttpResponse> HttpClient::RoundTrip(const HttpRequest& request, bool& stale) {
  stale = false;
  stream_.expires_after(options_.request_timeout);
  beast::error_code ec =
      RunOne(io_, [&](auto handler) { http::async_write(stream_, request, std::move(handler)); });
  if (ec) {
    stale = IsStaleConnection(ec);
    return Unavailable("cannot send the request to " + url_.ToString() + ": " + ec.message());
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  ec = RunOne(
      io_, [&](auto handler) { http::async_read(stream_, buffer_, parser, std::move(handler)); });
  if (ec) {
    stale = !parser.got_some() && IsStaleConnection(ec);
    const int64_t ms = options_.request_timeout.count();
    std::string what = ec != beast::error::timeout ? ec.message()
                       : ms % 1000 == 0 ? "no answer within " + std::to_string(ms / 1000) + " s"
                                        : "no answer within " + std::to_string(ms) + " ms";
    return Unavailable(url_.ToString() + ": " + what);
  }
  return parser.release();
}

Result<HttpResponse> HttpClient::Send(HttpRequest request) {
  request.version(11);
  request.target(url_.base_path + std::string(request.target()));
  request.set(http::field::host, url_.host_header);
  request.set(http::field::user_agent, options_.user_agent);
  request.keep_alive(true);
  request.prepare_payload();
  if (signer_) THAW_RETURN_IF_ERROR(signer_(request));

  for (int attempt = 0;; ++attempt) {
    const bool reused = connected_ && requests_on_connection_ > 0;
    if (!connected_) THAW_RETURN_IF_ERROR(Connect());
    bool stale = false;
    Result<HttpResponse> response = RoundTrip(request, stale);
    if (response.ok()) {
      ++requests_on_connection_;
      if (!response->keep_alive()) Close();
      return response;
    }
    Close();
    // Only a connection that already served a request and then failed before a single byte of
    // the answer arrived is retried: the server closed it while idle and never saw this request.
    if (!reused || !stale || attempt > 0) return response.status();
  }
}

}  // namespace thaw::cli
