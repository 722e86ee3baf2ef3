#pragma once
// The HTTP/1.1 edge of thaw: accepts TCP connections, parses requests with Beast, hands each one
// to the application Handler and writes its response. Everything protocol-level that is not the
// application's business lives here: keep-alive and pipelining, 100-continue, body/header
// limits, timeouts, request ids, the last-resort InternalFailure, and graceful shutdown.
//
// Threading, two modes:
//  - sharded (the server): N io_contexts ("shards"), each run by exactly one thread. Each accepted
//    connection is pinned round-robin to one shard and runs on that shard's executor directly,
//    so a request's whole life (read, handler, fleet, worker I/O, reply) stays on one thread
//    with no strand and no cross-thread wake-up;
//  - shared: any number of threads run one io_context; each connection gets its own strand.
// Either way per-connection state needs no locks; the server-wide connection registry (used by
// Shutdown) is behind a mutex.
//
// Note: Boost 1.74's asio/awaitable.hpp needs <utility> included first under C++20
// (TOOLCHAIN-NOTES trap 2); the build adds `-include utility` to every translation unit.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace thaw::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The response header carrying the request id; the server sets it unless the handler did.
inline constexpr char kRequestIdHeader[] = "x-amzn-RequestId";

// Receives a request body piece by piece instead of a string (S3 PutObject / UploadPart: a 5 GB
// object never sits in memory). Called on the connection's thread, in order; a sink that failed
// keeps its error for the handler and ignores the rest (the server still drains the body).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual void Write(std::string_view data) = 0;
};

// A response body sent from a file (S3 GetObject): `length` bytes from `offset` of `fd`, which
// the server closes. fd < 0: a header-only reply whose Content-Length is `length` (HEAD).
struct FileReply {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Everything the handler needs besides the request itself. Lives in the connection's coroutine
// frame for the duration of one Handler call.
struct RequestContext {
  std::string request_id;                 // a fresh UUID (thaw::NewUuid()) per request
  boost::asio::any_io_executor executor;  // the connection's (serial) executor
  std::string remote;                     // peer "ip:port" ("[ip6]:port" for IPv6)
  // The sink the body went to when HttpServerOptions::body_sink_for chose one (the request's
  // body is then empty).
  std::shared_ptr<BodySink> body_sink;
  // Set by the handler: the response's body comes from this file (the Response's own body and
  // Content-Length are ignored).
  std::optional<FileReply> file_reply;
};

// The application: one call per request, on an I/O thread, on the connection's strand. Must not
// block; offload blocking work. An exception escaping it becomes a 500 InternalFailure. The
// handler may set "Connection: close" to close the connection after its response; the server
// sets the HTTP version, keep-alive, Server, Content-Length and (if absent) x-amzn-RequestId.
using Handler = std::function<boost::asio::awaitable<Response>(Request&, RequestContext&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // numeric address or a resolvable name
  uint16_t port = 8080;            // 0 = ephemeral; port() tells the bound one
  uint64_t body_limit =
      8ull << 20;  // bytes; a larger body is answered 413 and the connection closed
  // Builds the answer to a body over body_limit from the request's header (e.g. the runtime's
  // "Request … has oversize body."); the server's generic 413 when empty.
  std::function<Response(const Request& header, const std::string& request_id)> on_body_too_large;
  // Chooses a sink for the body of a request from its header (null: read into the string body
  // under body_limit). Such bodies may be up to stream_body_limit bytes. Called for every request
  // with a body: return early for the common case.
  std::function<std::shared_ptr<BodySink>(const http::request_header<>& header)> body_sink_for;
  uint64_t stream_body_limit = (5ull << 30) + (64ull << 20);  // S3's 5 GB + aws-chunked framing
  uint32_t header_limit = 16u << 10;  // bytes of request line + headers; larger → 431 and close
  uint32_t header_count_limit = 100;  // header fields; more → 431 and close
  uint32_t url_limit = 8u << 10;      // bytes of the request target; longer → 414 and close
  // Open connections, in all and from one client address: a connection beyond either is
  // answered 503 ServiceUnavailable at once and closed, without reading from it. With the
  // limits above, what one connection can make the server hold is bounded too (its read buffer,
  // header_limit plus one read, and one body of at most body_limit), so these bound the memory
  // the door can be made to use.
  size_t max_connections = 10000;
  size_t max_connections_per_client = 1000;
  // Keep-alive idle timeout: how long a connection may wait for the first byte of its next
  // request. Also bounds writing a response to a client that does not read.
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(75)};
  // Once the first byte of a request arrived: how long reading its whole header may take, and
  // then, separately, its whole body (deadlines, not per-read timeouts: a client trickling one
  // byte at a time — slowloris — is cut off all the same).
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};
};

class HttpServer {
 public:
  // Shared mode: `io` (run by any number of threads) must outlive the server. `handler` is
  // copied and called concurrently from several connections (on different threads): it must be
  // safe for that.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, Handler handler);
  // Sharded mode: each of `shards` (non-empty, outliving the server) must be run by exactly one
  // thread. The acceptor, the shutdown callbacks and name resolution use shards[0].
  HttpServer(std::vector<boost::asio::io_context*> shards, HttpServerOptions options,
             Handler handler);
  // Starts a graceful Shutdown (without a callback) if one was not requested. Internal state is
  // kept alive by the running coroutines, so destroying the server early is memory-safe.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens (SO_REUSEADDR). Call once, before Start(), from one thread. Returns
  // kInvalidArgument for an unusable host, kInternal for a bind/listen failure (port in use…).
  Status Listen();
  // The bound port after a successful Listen() (the ephemeral one when options.port == 0).
  uint16_t port() const;
  // Starts accepting (an accept loop on its own strand). Call once, after Listen().
  void Start();
  // Graceful stop: stop accepting now; connections finish the request in flight (its response is
  // written with "Connection: close"), idle keep-alive connections and requests not yet started
  // (pipelined ones included) are dropped. `done` (may be empty) is posted to the io_context once
  // the accept loop has ended and no connection remains. Safe to call from any thread and more
  // than once (every `done` runs).
  void Shutdown(std::function<void()> done);
  // Connections currently open. Thread-safe.
  size_t active_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace thaw::api
