#include "api/http_server.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/ids.h"
#include "common/logging.h"

namespace thaw::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

// The first read of a request (after an idle wait) asks for this much; Beast grows the buffer
// as needed afterwards.
constexpr size_t kFirstReadSize = 16 << 10;
// The read buffer holds a request's header (at most header_limit) plus what one read brings in.
constexpr size_t kReadChunk = 64 << 10;
// Back-off after an accept error that is about resources (EMFILE…), so the loop does not spin.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

std::string FormatEndpoint(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  std::string host = addr.to_string();
  if (addr.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// A JSON error answered by the server itself (the body is built from fixed, JSON-safe text).
Response ErrorResponse(http::status status, std::string_view type, std::string_view message) {
  Response res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set("x-amzn-ErrorType", std::string(type));
  res.body() = "{\"__type\":\"";
  res.body().append(type).append("\",\"message\":\"").append(message).append("\"}");
  return res;
}

// Closes a connection over a connection limit with a canned 503, written without waiting (a
// client that does not read gets the close alone). Never reads from it.
void RefuseConnection(tcp::socket& socket) {
  static constexpr std::string_view kBody =
      R"({"__type":"ServiceUnavailable","message":"Too many open connections."})";
  static const std::string kReply =
      "HTTP/1.1 503 Service Unavailable\r\nServer: thaw\r\nContent-Type: application/json\r\n"
      "x-amzn-ErrorType: ServiceUnavailable\r\nConnection: close\r\nContent-Length: " +
      std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  beast::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(asio::buffer(kReply), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::bad_method).category();
}

// One accepted connection. Only its own coroutine and the Shutdown probe touch it, both on
// `stream`'s executor (serial: a shard's single thread, or a strand), so nothing here needs a
// lock.
struct Connection {
  Connection(tcp::socket socket, uint64_t id, std::string remote, std::string client)
      : stream(std::move(socket)), id(id), remote(std::move(remote)), client(std::move(client)) {}

  beast::tcp_stream stream;
  const uint64_t id;
  const std::string remote;
  const std::string client;  // the peer's address, for the per-client connection count
  // True while waiting for the first byte of the next request: Shutdown may cancel it then.
  bool idle = false;
};

}  // namespace

struct HttpServer::Impl {
  Impl(std::vector<asio::io_context*> shards, bool serial, HttpServerOptions options,
       Handler handler)
      : io_(*shards.at(0)),
        shards_(std::move(shards)),
        serial_(serial),
        options_(std::move(options)),
        handler_(std::move(handler)),
        log_(thaw::Logger("http")),
        accept_strand_(asio::make_strand(io_)),
        acceptor_(accept_strand_) {}

  // The executor of the next connection: the next shard's own (one thread each), or a fresh
  // strand when several threads run the context.
  asio::any_io_executor NextExecutor() {
    asio::io_context& shard = *shards_[next_shard_++ % shards_.size()];
    if (serial_) return shard.get_executor();
    return asio::make_strand(shard);
  }

  static asio::awaitable<void> AcceptLoop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> Session(std::shared_ptr<Impl> self,
                                       std::shared_ptr<Connection> conn);
  asio::awaitable<void> Serve(Connection& conn);
  asio::awaitable<void> ReadToSink(Connection& conn, beast::flat_buffer& buffer,
                                   http::request_parser<http::buffer_body>& parser, BodySink& sink,
                                   beast::error_code& ec);
  asio::awaitable<void> WriteFileReply(Connection& conn, Response& res, const FileReply& file,
                                       beast::error_code& ec);
  std::optional<Response> ReplyForReadError(const beast::error_code& ec) const;
  void Finalize(Response& res, const std::string& request_id, unsigned version, bool keep_alive);
  void LogRequest(std::string_view method, std::string_view target, const Response& res,
                  std::chrono::steady_clock::time_point start, const std::string& request_id);
  std::optional<Response> CheckHead(const http::request_header<>& header) const;
  void Unregister(const Connection& conn);
  void StopAccepting(std::function<void()> done);
  void MaybeFinish();  // posts the `done` callbacks once nothing is left; locks mu_

  asio::io_context& io_;  // shards_[0]
  const std::vector<asio::io_context*> shards_;
  const bool serial_;      // each shard is run by one thread
  size_t next_shard_ = 0;  // accept loop only
  const HttpServerOptions options_;
  const Handler handler_;
  const std::shared_ptr<spdlog::logger> log_;
  const asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;  // Listen() before Start(); afterwards only on accept_strand_
  uint16_t port_ = 0;       // written by Listen() before Start(), read-only afterwards
  // Set first thing by Shutdown (any thread): responses finished from then on close.
  std::atomic<bool> shutting_down_{false};

  mutable std::mutex mu_;
  // Guarded by mu_: the open connections (by id), the accept-loop/shutdown state and the pending
  // `done` callbacks.
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, size_t> per_client_;  // open connections by peer address
  uint64_t next_id_ = 0;
  bool accepting_ = false;
  bool shutdown_requested_ = false;
  std::vector<std::function<void()>> done_;
};

asio::awaitable<void> HttpServer::Impl::AcceptLoop(std::shared_ptr<Impl> self) {
  for (;;) {
    // The connection's coroutine, timers and socket all run on this one serial executor.
    tcp::socket socket(self->NextExecutor());
    beast::error_code ec;
    co_await self->acceptor_.async_accept(socket, asio::redirect_error(use_awaitable, ec));
    if (self->shutting_down_ || !self->acceptor_.is_open()) break;
    if (ec == asio::error::operation_aborted) break;
    if (ec) {
      self->log_->warn("accept failed: {}", ec.message());
      if (ec != asio::error::connection_aborted) {
        asio::steady_timer backoff(self->accept_strand_, kAcceptBackoff);
        co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      }
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);  // best effort; responses are written whole
    tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) continue;  // the peer is already gone
    std::shared_ptr<Connection> conn;
    std::string client = peer.address().to_string();
    {
      std::lock_guard lock(self->mu_);
      size_t& from_client = self->per_client_[client];
      if (self->connections_.size() < self->options_.max_connections &&
          from_client < self->options_.max_connections_per_client) {
        ++from_client;
        conn = std::make_shared<Connection>(std::move(socket), self->next_id_++,
                                            FormatEndpoint(peer), std::move(client));
        self->connections_.emplace(conn->id, conn);
      } else if (from_client == 0) {
        self->per_client_.erase(client);
      }
    }
    if (!conn) {
      // Debug only: under a flood, a line per refusal would be a second flood.
      self->log_->debug("connection from {} refused: over the connection limit", client);
      RefuseConnection(socket);
      continue;
    }
    auto log = self->log_;
    asio::co_spawn(conn->stream.get_executor(), Session(self, conn), [log](std::exception_ptr e) {
      if (e) log->error("connection coroutine ended by an exception");
    });
  }
  {
    std::lock_guard lock(self->mu_);
    self->accepting_ = false;
  }
  self->MaybeFinish();
}

asio::awaitable<void> HttpServer::Impl::Session(std::shared_ptr<Impl> self,
                                                std::shared_ptr<Connection> conn) {
  try {
    co_await self->Serve(*conn);
  } catch (const std::exception& e) {
    self->log_->error("connection {} failed: {}", conn->remote, e.what());
  }
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);  // FIN after the last response
  conn->stream.socket().close(ec);
  self->Unregister(*conn);
}

asio::awaitable<void> HttpServer::Impl::Serve(Connection& conn) {
  // Survives iterations: bytes of pipelined requests read along with the previous one stay here.
  // Bounded: a client that pipelines without reading answers cannot make it grow.
  beast::flat_buffer buffer(options_.header_limit + kFirstReadSize + kReadChunk);
  for (;;) {
    if (shutting_down_) co_return;  // requests not yet started are dropped
    beast::error_code ec;
    if (buffer.size() == 0) {
      // Keep-alive idle wait, the only state in which Shutdown may close the connection.
      conn.idle = true;
      conn.stream.expires_after(options_.idle_timeout);
      const size_t n = co_await conn.stream.async_read_some(
          buffer.prepare(kFirstReadSize), asio::redirect_error(use_awaitable, ec));
      conn.idle = false;
      if (ec) co_return;  // EOF, reset, idle timeout or shutdown: just close
      buffer.commit(n);
    }

    // Header first, so that 100-continue can be answered, body_limit enforced from
    // Content-Length before any body byte is read, and a body sink chosen.
    http::request_parser<http::empty_body> header_parser;
    header_parser.header_limit(options_.header_limit);
    // Not boost::none: Beast 1.74 compares `len > optional` and an empty optional always loses.
    header_parser.body_limit(std::numeric_limits<uint64_t>::max());
    conn.stream.expires_after(options_.header_timeout);
    co_await http::async_read_header(conn.stream, buffer, header_parser,
                                     asio::redirect_error(use_awaitable, ec));
    std::optional<Response> refusal;
    if (!ec) refusal = CheckHead(header_parser.get().base());
    std::shared_ptr<BodySink> sink;
    if (!ec && !refusal && options_.body_sink_for && !header_parser.is_done()) {
      sink = options_.body_sink_for(header_parser.get().base());
    }
    std::optional<http::request_parser<http::string_body>> parser;
    std::optional<http::request_parser<http::buffer_body>> stream_parser;
    if (!ec && !refusal) {
      if (sink) {
        stream_parser.emplace(std::move(header_parser));
        stream_parser->body_limit(options_.stream_body_limit);
        auto length = stream_parser->content_length();
        if (length && *length > options_.stream_body_limit) ec = http::error::body_limit;
      } else {
        parser.emplace(std::move(header_parser));
        parser->body_limit(options_.body_limit);
        // Beast checks Content-Length against the limit when the header completes, which the
        // header parser (no limit) did: check it here, before any body byte is read.
        auto length = parser->content_length();
        if (length && *length > options_.body_limit) ec = http::error::body_limit;
      }
    }
    auto header = [&]() -> const http::request_header<>& {
      if (parser) return parser->get().base();
      if (stream_parser) return stream_parser->get().base();
      return header_parser.get().base();
    };
    const bool body_pending =
        !ec && !refusal &&
        (parser ? !parser->is_done() : stream_parser && !stream_parser->is_done());
    if (body_pending) {
      if (header().version() >= 11 &&
          beast::iequals(header()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        co_await http::async_write(conn.stream, cont, asio::redirect_error(use_awaitable, ec));
      }
      if (!ec && parser) {
        conn.stream.expires_after(options_.header_timeout);
        co_await http::async_read(conn.stream, buffer, *parser,
                                  asio::redirect_error(use_awaitable, ec));
      } else if (!ec) {
        co_await ReadToSink(conn, buffer, *stream_parser, *sink, ec);
      }
    }
    if (ec || refusal) {
      // Malformed or over a limit: answer, then close (the stream can't be resynchronised).
      const std::string request_id = NewUuid();
      std::optional<Response> reply = std::move(refusal);
      if (reply) {
        // Refused from its header.
      } else if (ec == http::error::body_limit && options_.on_body_too_large) {
        reply = options_.on_body_too_large(Request{header()}, request_id);
      } else {
        reply = ReplyForReadError(ec);
      }
      if (!reply) co_return;
      const auto start = std::chrono::steady_clock::now();
      Finalize(*reply, request_id, 11, false);
      conn.stream.expires_after(options_.idle_timeout);
      co_await http::async_write(conn.stream, *reply, asio::redirect_error(use_awaitable, ec));
      const auto& partial = header();  // what was parsed before the error, if anything
      LogRequest(partial.method_string().empty() ? "-" : Sv(partial.method_string()),
                 partial.target().empty() ? "-" : Sv(partial.target()), *reply, start, request_id);
      co_return;
    }

    const auto start = std::chrono::steady_clock::now();
    Request req = parser ? parser->release() : Request{std::move(stream_parser->get().base())};
    RequestContext ctx{NewUuid(), conn.stream.get_executor(), conn.remote, nullptr, std::nullopt};
    ctx.body_sink = std::move(sink);
    std::string method, target;  // copied only for the debug line: the handler may move them
    if (log_->should_log(spdlog::level::debug)) {
      method = Sv(req.method_string());
      target = Sv(req.target());
    }

    conn.stream.expires_never();  // the handler's time is not bounded here
    Response res;
    try {
      res = co_await handler_(req, ctx);
    } catch (const std::exception& e) {
      log_->error("handler failed: {} request_id={}", e.what(), ctx.request_id);
      res = ErrorResponse(http::status::internal_server_error, "InternalFailure",
                          "Internal server error");
    } catch (...) {
      log_->error("handler failed with a non-standard exception request_id={}", ctx.request_id);
      res = ErrorResponse(http::status::internal_server_error, "InternalFailure",
                          "Internal server error");
    }

    const bool handler_close = http::token_list{res[http::field::connection]}.exists("close");
    const bool keep_alive = req.keep_alive() && !handler_close && !shutting_down_;
    Finalize(res, ctx.request_id, req.version(), keep_alive);
    conn.stream.expires_after(options_.idle_timeout);
    if (ctx.file_reply) {
      co_await WriteFileReply(conn, res, *ctx.file_reply, ec);
    } else {
      co_await http::async_write(conn.stream, res, asio::redirect_error(use_awaitable, ec));
    }
    LogRequest(method, target, res, start, ctx.request_id);
    if (ec || !keep_alive) co_return;
  }
}

std::optional<Response> HttpServer::Impl::CheckHead(const http::request_header<>& header) const {
  if (header.target().size() > options_.url_limit) {
    return ErrorResponse(
        http::status::uri_too_long, "ValidationException",
        "Request URL exceeds the limit of " + std::to_string(options_.url_limit) + " bytes.");
  }
  size_t fields = 0;
  for (auto it = header.begin(); it != header.end(); ++it) ++fields;
  if (fields > options_.header_count_limit) {
    return ErrorResponse(
        http::status::request_header_fields_too_large, "ValidationException",
        "Request has more than " + std::to_string(options_.header_count_limit) + " header fields.");
  }
  return std::nullopt;
}

// The body in pieces of at most kSinkPiece bytes; the timeout applies to each read, not to the
// whole (a 5 GB upload takes as long as it takes while bytes keep coming).
asio::awaitable<void> HttpServer::Impl::ReadToSink(Connection& conn, beast::flat_buffer& buffer,
                                                   http::request_parser<http::buffer_body>& parser,
                                                   BodySink& sink, beast::error_code& ec) {
  constexpr size_t kSinkPiece = 256 << 10;
  std::vector<char> piece(kSinkPiece);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    conn.stream.expires_after(options_.header_timeout);
    co_await http::async_read_some(conn.stream, buffer, parser,
                                   asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return;
    const size_t n = piece.size() - parser.get().body().size;
    if (n > 0) sink.Write({piece.data(), n});
  }
}

asio::awaitable<void> HttpServer::Impl::WriteFileReply(Connection& conn, Response& res,
                                                       const FileReply& file,
                                                       beast::error_code& ec) {
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{file.fd};
  if (file.fd < 0) {
    http::response<http::empty_body> head{std::move(res.base())};
    head.content_length(file.length);
    http::response_serializer<http::empty_body> sr{head};
    co_await http::async_write_header(conn.stream, sr, asio::redirect_error(use_awaitable, ec));
    co_return;
  }
  http::response<http::buffer_body> out{std::move(res.base())};
  out.content_length(file.length);
  out.body().data = nullptr;
  out.body().more = true;
  http::response_serializer<http::buffer_body> sr{out};
  co_await http::async_write_header(conn.stream, sr, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return;
  constexpr size_t kPiece = 256 << 10;
  std::vector<char> piece(kPiece);
  uint64_t offset = file.offset, remaining = file.length;
  while (remaining > 0) {
    const ssize_t n = ::pread(file.fd, piece.data(), std::min<uint64_t>(kPiece, remaining),
                              static_cast<off_t>(offset));
    if (n <= 0) {  // the file shrank under us: cut the connection, the length is promised
      ec = asio::error::broken_pipe;
      co_return;
    }
    offset += static_cast<uint64_t>(n);
    remaining -= static_cast<uint64_t>(n);
    out.body().data = piece.data();
    out.body().size = static_cast<size_t>(n);
    out.body().more = remaining > 0;
    conn.stream.expires_after(options_.idle_timeout);
    co_await http::async_write(conn.stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return;
  }
  if (!sr.is_done()) {
    out.body().data = nullptr;
    out.body().size = 0;
    out.body().more = false;
    co_await http::async_write(conn.stream, sr, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
  }
}

std::optional<Response> HttpServer::Impl::ReplyForReadError(const beast::error_code& ec) const {
  if (ec == http::error::body_limit) {
    return ErrorResponse(
        http::status::payload_too_large, "ValidationException",
        "Request body exceeds the limit of " + std::to_string(options_.body_limit) + " bytes.");
  }
  if (ec == http::error::header_limit) {
    return ErrorResponse(
        http::status::request_header_fields_too_large, "ValidationException",
        "Request header exceeds the limit of " + std::to_string(options_.header_limit) + " bytes.");
  }
  // A clean close between requests or in the middle of one, timeouts and socket errors get no
  // answer; what remains is a protocol violation by the client.
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      !IsHttpParseError(ec)) {
    return std::nullopt;
  }
  return ErrorResponse(http::status::bad_request, "SerializationException",
                       "Malformed HTTP request");
}

void HttpServer::Impl::Finalize(Response& res, const std::string& request_id, unsigned version,
                                bool keep_alive) {
  if (res[kRequestIdHeader].empty()) res.set(kRequestIdHeader, request_id);
  res.set(http::field::server, "thaw");
  res.version(version);
  res.keep_alive(keep_alive);
  res.prepare_payload();  // a FileReply sets its own Content-Length afterwards
}

void HttpServer::Impl::LogRequest(std::string_view method, std::string_view target,
                                  const Response& res, std::chrono::steady_clock::time_point start,
                                  const std::string& request_id) {
  if (!log_->should_log(spdlog::level::debug)) return;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  log_->debug("request method={} target={} status={} bytes={} micros={} request_id={}", method,
              target, res.result_int(), res.body().size(), micros, request_id);
}

void HttpServer::Impl::Unregister(const Connection& conn) {
  {
    std::lock_guard lock(mu_);
    connections_.erase(conn.id);
    if (auto it = per_client_.find(conn.client); it != per_client_.end() && --it->second == 0) {
      per_client_.erase(it);
    }
  }
  MaybeFinish();
}

// Runs on accept_strand_, so closing the acceptor cannot race the accept loop.
void HttpServer::Impl::StopAccepting(std::function<void()> done) {
  beast::error_code ec;
  acceptor_.close(ec);
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu_);
    shutdown_requested_ = true;
    if (done) done_.push_back(std::move(done));
    open.reserve(connections_.size());
    for (const auto& [id, conn] : connections_) open.push_back(conn);
  }
  // Probe each connection on its own executor: only there is `idle` meaningful. A busy connection
  // sees shutting_down_ when its response is ready and closes after writing it.
  for (auto& conn : open) {
    asio::post(conn->stream.get_executor(), [conn] {
      if (conn->idle) conn->stream.cancel();
    });
  }
  MaybeFinish();
}

void HttpServer::Impl::MaybeFinish() {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mu_);
    if (!shutdown_requested_ || accepting_ || !connections_.empty()) return;
    ready.swap(done_);
  }
  for (auto& done : ready) asio::post(io_, std::move(done));
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(std::vector<asio::io_context*>{&io}, false, std::move(options),
                                   std::move(handler))) {}

HttpServer::HttpServer(std::vector<asio::io_context*> shards, HttpServerOptions options,
                       Handler handler)
    : impl_(std::make_shared<Impl>(std::move(shards), true, std::move(options),
                                   std::move(handler))) {}

HttpServer::~HttpServer() {
  if (!impl_->shutting_down_) Shutdown({});
}

Status HttpServer::Listen() {
  Impl& impl = *impl_;
  beast::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(impl.options_.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, impl.options_.port);
  } else {
    tcp::resolver resolver(impl.io_);
    auto results = resolver.resolve(impl.options_.host, std::to_string(impl.options_.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen host '" + impl.options_.host +
                             "': " + ec.message());
    }
    endpoint = results.begin()->endpoint();
  }
  const std::string where = FormatEndpoint(endpoint);
  auto fail = [&](const char* what) {
    beast::error_code ignored;
    impl.acceptor_.close(ignored);
    return Internal(std::string(what) + " " + where + ": " + ec.message());
  };
  // (Asio's error_code overloads return void under BOOST_ASIO_NO_DEPRECATED: test `ec` instead.)
  impl.acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  impl.acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return fail("SO_REUSEADDR on");
  impl.acceptor_.bind(endpoint, ec);
  if (ec) return fail("bind");
  impl.acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  impl.port_ = impl.acceptor_.local_endpoint(ec).port();
  if (ec) return fail("getsockname");
  impl.log_->info("listening on {}", FormatEndpoint(impl.acceptor_.local_endpoint(ec)));
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port_; }

void HttpServer::Start() {
  {
    std::lock_guard lock(impl_->mu_);
    if (impl_->accepting_ || impl_->shutdown_requested_) return;
    impl_->accepting_ = true;
  }
  auto log = impl_->log_;
  asio::co_spawn(impl_->accept_strand_, Impl::AcceptLoop(impl_), [log](std::exception_ptr e) {
    if (e) log->error("accept loop ended by an exception");
  });
}

void HttpServer::Shutdown(std::function<void()> done) {
  impl_->shutting_down_ = true;
  asio::post(impl_->accept_strand_, [impl = impl_, done = std::move(done)]() mutable {
    impl->StopAccepting(std::move(done));
  });
}

size_t HttpServer::active_connections() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->connections_.size();
}

}  // namespace thaw::api
