#pragma once
// The worker's HTTP/1.1 server side: one connected stream socket, one request at a time, kept
// alive until the peer closes it. Synchronous Boost.Beast on a local stream socket; the worker is
// single-threaded and serves only the thaw server, so there is no accept loop and no timer.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace thaw::worker {

// One parsed request; the views point into the connection's buffers and live for the duration
// of the handler call.
struct HttpRequest {
  std::string_view method;
  std::string_view path;                         // the target without its query string
  std::optional<std::string_view> content_type;  // nullopt when the header is absent
  std::optional<std::string_view> accept;
  std::string_view body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string content_type;  // no Content-Type header when empty
  std::string body;
};

using RequestHandler = std::function<HttpResponse(const HttpRequest&)>;

// A body larger than `max_body_bytes` (by Content-Length, or as chunks arrive) gets `too_large`
// without reaching the handler. Bodies with a Content-Length are drained so the connection
// stays usable; an oversized chunked body ends the connection after the reply.
struct HttpLimits {
  uint64_t max_body_bytes = 6291456;
  HttpResponse too_large;
};

// Serves requests on `fd` until the peer closes it. Takes ownership of `fd` and closes it.
// Returns 0 after a clean EOF between requests, 1 after a malformed request or an I/O error.
// Exceptions from `handler` propagate. `after_write`, when set, runs after each response the
// handler produced has been written (whether or not the write succeeded).
int ServeHttp(int fd, const HttpLimits& limits, const RequestHandler& handler,
              const std::function<void()>& after_write = {});

}  // namespace thaw::worker
