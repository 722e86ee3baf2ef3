#include "worker/http_loop.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <limits>
#include <utility>

#include "common/logging.h"

namespace thaw::worker {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Socket = asio::local::stream_protocol::socket;

constexpr uint32_t kHeaderLimit = 64 << 10;
// A refused body is read and dropped up to this size so the connection can carry the next
// request; beyond it, closing is cheaper. The thaw server caps bodies far below this.
constexpr uint64_t kMaxDrainBytes = 64ull << 20;

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::optional<std::string_view> Header(const http::fields& fields, http::field name) {
  auto it = fields.find(name);
  if (it == fields.end()) return std::nullopt;
  return Sv(it->value());
}

// Reads and discards `n` body bytes, first those already buffered.
bool Drain(Socket& socket, beast::flat_buffer& buffer, uint64_t n) {
  const uint64_t buffered = std::min<uint64_t>(buffer.size(), n);
  buffer.consume(static_cast<size_t>(buffered));
  n -= buffered;
  std::array<char, 64 << 10> scratch;
  while (n > 0) {
    beast::error_code ec;
    size_t got = socket.read_some(
        asio::buffer(scratch.data(), static_cast<size_t>(std::min<uint64_t>(n, scratch.size()))),
        ec);
    if (ec) return false;
    n -= got;
  }
  return true;
}

bool Write(Socket& socket, unsigned version, bool keep_alive, HttpResponse&& r, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
  res.keep_alive(keep_alive);
  const bool bodiless = r.status == 204 || r.status == 304 || r.status < 200;
  if (!bodiless && !head) res.body() = std::move(r.body);
  res.prepare_payload();
  beast::error_code ec;
  http::write(socket, res, ec);
  return !ec;
}

}  // namespace

int ServeHttp(int fd, const HttpLimits& limits, const RequestHandler& handler,
              const std::function<void()>& after_write) {
  asio::io_context io;
  Socket socket(io);
  beast::error_code ec;
  socket.assign(asio::local::stream_protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    Logger("worker")->error("cannot use fd {}: {}", fd, ec.message());
    return 1;
  }
  // Kept across requests so a warm connection reuses its capacity.
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    http::read_header(socket, buffer, parser, ec);
    if (ec == http::error::end_of_stream) return 0;
    if (ec) {
      Logger("worker")->warn("bad request header: {}", ec.message());
      if (ec != http::error::partial_message) {
        Write(socket, 11, false, {400, "text/plain; charset=utf-8", "Bad Request"}, false);
      }
      return 1;
    }
    const auto& header = parser.get();
    const unsigned version = header.version();
    const bool head = header.method() == http::verb::head;

    if (auto length = parser.content_length(); length && *length > limits.max_body_bytes) {
      const bool drained = *length <= kMaxDrainBytes && Drain(socket, buffer, *length);
      const bool keep_alive = drained && header.keep_alive();
      HttpResponse too_large = limits.too_large;
      if (!Write(socket, version, keep_alive, std::move(too_large), head) || !keep_alive) return 1;
      continue;
    }
    if (auto expect = Header(header, http::field::expect);
        expect &&
        beast::iequals(beast::string_view(expect->data(), expect->size()), "100-continue") &&
        !parser.is_done()) {
      // Clients such as curl wait for this before sending a large body.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::write(socket, asio::buffer(kContinue.data(), kContinue.size()), ec);
      if (ec) return 1;
    }
    parser.body_limit(limits.max_body_bytes);
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::body_limit) {
      HttpResponse too_large = limits.too_large;
      Write(socket, version, false, std::move(too_large), head);
      return 1;
    }
    if (ec) {
      Logger("worker")->warn("bad request: {}", ec.message());
      return 1;
    }

    const auto& req = parser.get();
    std::string_view target = Sv(req.target());
    HttpRequest request;
    request.method = Sv(req.method_string());
    request.path = target.substr(0, target.find('?'));
    request.content_type = Header(req, http::field::content_type);
    request.accept = Header(req, http::field::accept);
    request.body = req.body();
    const bool keep_alive = req.keep_alive();
    const bool written = Write(socket, version, keep_alive, handler(request), head);
    if (after_write) after_write();
    if (!written) return 1;
    if (!keep_alive) return 0;
  }
}

}  // namespace thaw::worker
