#include "artifacts/s3_fetcher.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "artifacts/entry_path.h"
#include "artifacts/unique_fd.h"
#include "auth/client_signing.h"
#include "common/hash.h"
#include "common/ids.h"
#include "common/logging.h"

namespace thaw::artifacts {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kChunkBytes = 256 * 1024;
constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

// Runs one asynchronous operation to completion on the fetch's own io_context, on this thread,
// so that the tcp_stream's expiry (the step timeout) applies to it.
// Returns as soon as the operation's handler ran: the stream's timer may still be pending (it is
// re-armed by the next step, and dropped with the io_context).
template <class Start>
beast::error_code RunOne(asio::io_context& ioc, Start&& start) {
  beast::error_code result;
  bool done = false;
  start([&result, &done](beast::error_code ec, auto&&...) {
    result = ec;
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  return result;
}

bool IsMd5Hex(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// The text between <tag> and </tag>, XML entities for &, <, >, " and ' decoded.
std::string Element(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const size_t a = xml.find(open);
  if (a == std::string_view::npos) return "";
  const size_t b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return "";
  std::string_view raw = xml.substr(a + open.size(), b - a - open.size());
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out.push_back(raw[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool decoded = false;
    for (const auto& [name, c] : kEntities) {
      if (raw.substr(i, name.size()) == name) {
        out.push_back(c);
        i += name.size() - 1;
        decoded = true;
        break;
      }
    }
    if (!decoded) out.push_back('&');
  }
  return out;
}

bool IsCredentialRefusal(std::string_view code) {
  return code == "AccessDenied" || code == "InvalidAccessKeyId" ||
         code == "SignatureDoesNotMatch" || code == "InvalidToken" || code == "ExpiredToken" ||
         code == "TokenRefreshRequired" || code == "AllAccessDisabled" ||
         code == "RequestTimeTooSkewed";
}

std::string CodeAndMessage(const Attempt& a) {
  std::string out = a.s3_code.empty() ? "HTTP " + std::to_string(a.http_status) : a.s3_code;
  if (!a.s3_message.empty()) out += ": " + a.s3_message;
  return out;
}

std::string Attempts(int n) { return std::to_string(n) + (n == 1 ? " attempt" : " attempts"); }

Attempt Failed(Attempt::Kind kind, std::string detail) {
  Attempt a;
  a.kind = kind;
  a.detail = std::move(detail);
  return a;
}

Status Unavailable(std::string message) { return {Code::kUnavailable, std::move(message)}; }

struct Md5Deleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

bool IsRetryable(const Attempt& a) {
  switch (a.kind) {
    case Attempt::Kind::kOk:
    case Attempt::Kind::kLocal:
      return false;
    case Attempt::Kind::kHttpError:
      return a.http_status >= 500 || a.http_status == 429 || a.s3_code == "SlowDown" ||
             a.s3_code == "RequestTimeout";
    case Attempt::Kind::kUnreachable:
    case Attempt::Kind::kTimedOut:
    case Attempt::Kind::kBroken:
    case Attempt::Kind::kCorrupt:
      return true;
  }
  return false;
}

std::optional<std::chrono::milliseconds> RetryDelay(const Attempt& last, int attempts_made,
                                                    const RetryPolicy& policy) {
  if (!IsRetryable(last) || attempts_made >= policy.max_attempts) return std::nullopt;
  std::chrono::milliseconds delay = policy.first_delay;
  for (int i = 1; i < attempts_made && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

std::pair<std::string, std::string> ParseS3Error(std::string_view xml) {
  return {Element(xml, "Code"), Element(xml, "Message")};
}

Status DownloadFailure(const Attempt& last, int attempts, const S3Object& object,
                       const std::string& endpoint_url) {
  const std::string where = "the S3 endpoint " + endpoint_url;
  switch (last.kind) {
    case Attempt::Kind::kOk:
      return Status::Ok();
    case Attempt::Kind::kLocal:
      return Internal("Writing the download on this host failed: " + last.detail);
    case Attempt::Kind::kUnreachable:
      return Unavailable(where + " is unreachable (" + last.detail + "; " + Attempts(attempts) +
                         ").");
    case Attempt::Kind::kTimedOut:
      return Unavailable(where + " did not answer in time (" + Attempts(attempts) + ").");
    case Attempt::Kind::kBroken:
    case Attempt::Kind::kCorrupt:
      return Unavailable("The download from " + where + " was incomplete or corrupt (" +
                         last.detail + "; " + Attempts(attempts) + ").");
    case Attempt::Kind::kHttpError:
      break;
  }
  if (last.s3_code == "NoSuchKey" || (last.s3_code.empty() && last.http_status == 404)) {
    return NotFound(CodeAndMessage(last) + " (bucket " + QuoteEntryName(object.bucket) + ", key " +
                    QuoteEntryName(object.key) + " at " + endpoint_url +
                    "). Please ensure that there is an object located at the URL.");
  }
  if (last.s3_code == "NoSuchBucket") {
    return NotFound(CodeAndMessage(last) + " (bucket " + QuoteEntryName(object.bucket) + " at " +
                    endpoint_url + ").");
  }
  if (IsCredentialRefusal(last.s3_code) || last.http_status == 403) {
    return FailedPrecondition(CodeAndMessage(last) +
                              ". Please ensure that the credentials thaw was started with (the "
                              "environment or the AWS profile) may read the object.");
  }
  if (IsRetryable(last)) {
    return Unavailable(where + " failed: " + CodeAndMessage(last) + " (" + Attempts(attempts) +
                       ").");
  }
  return InvalidArgument(where + " refused the download: " + CodeAndMessage(last) + ".");
}

Sleeper RealSleeper() {
  return [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

S3Fetcher::S3Fetcher(S3FetcherOptions options, const Clock& clock, Sleeper sleeper)
    : options_(std::move(options)), clock_(clock), sleeper_(std::move(sleeper)) {}

Result<FetchedObject> S3Fetcher::Fetch(const S3Object& object, const std::filesystem::path& dir,
                                       std::string_view name_prefix) const {
  const std::filesystem::path path = dir / (std::string(name_prefix) + RandomHex(8));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return Internal("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  Attempt last;
  int attempts = 0;
  FetchedObject out;
  while (true) {
    ++attempts;
    out = FetchedObject{path, 0, ""};
    last = TryOnce(object, fd.get(), out);
    if (last.kind == Attempt::Kind::kOk) return out;
    const auto delay = RetryDelay(last, attempts, options_.retry);
    if (!delay) break;
    Logger("artifacts")
        ->warn("GET s3://{}/{} from {}: attempt {} failed ({}{}{}); retrying in {} ms",
               object.bucket, object.key, options_.endpoint.url, attempts,
               last.http_status ? "HTTP " + std::to_string(last.http_status) + " " : "",
               last.s3_code, last.detail, delay->count());
    sleeper_(*delay);
  }
  fd.Reset();
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return DownloadFailure(last, attempts, object, options_.endpoint.url);
}

Attempt S3Fetcher::TryOnce(const S3Object& object, int fd, FetchedObject& out) const {
  if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
    return Failed(Attempt::Kind::kLocal, std::string("truncating: ") + std::strerror(errno));
  }
  const S3Endpoint& endpoint = options_.endpoint;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(endpoint.host, std::to_string(endpoint.port), ec);
  if (ec)
    return Failed(Attempt::Kind::kUnreachable, "resolving " + endpoint.host + ": " + ec.message());

  beast::tcp_stream stream(ioc);
  stream.expires_after(options_.step_timeout);
  ec = RunOne(ioc, [&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
  if (ec == beast::error::timeout) return Failed(Attempt::Kind::kTimedOut, "connect timed out");
  if (ec) return Failed(Attempt::Kind::kUnreachable, ec.message());

  // The signed request: path style, empty payload, every header but User-Agent signed.
  const std::string target = PathStyleTarget(object);
  const std::string amz_date = auth::AmzDate(clock_.Now());
  const auth::Credential& key = options_.credential;
  auth::RequestView view{"GET", target, {}, ""};
  view.headers.emplace_back("host", endpoint.host_header);
  view.headers.emplace_back("x-amz-content-sha256", auth::kEmptyPayloadHash);
  view.headers.emplace_back("x-amz-date", amz_date);
  if (!key.session_token.empty())
    view.headers.emplace_back("x-amz-security-token", key.session_token);
  http::request<http::empty_body> req{http::verb::get, target, 11};
  for (const auto& [name, value] : view.headers) req.set(std::string(name), std::string(value));
  req.set(http::field::authorization,
          auth::SignedAuthorization(key, options_.region, "s3", amz_date, view));
  req.set(http::field::user_agent, "thaw");

  stream.expires_after(options_.step_timeout);
  ec = RunOne(ioc, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (ec == beast::error::timeout) return Failed(Attempt::Kind::kTimedOut, "sending timed out");
  if (ec) return Failed(Attempt::Kind::kBroken, "sending the request: " + ec.message());

  // Beast reads at most the buffer's free capacity (at least 512 bytes): a buffer that never
  // grows past its first 512 bytes made 8 MB take ~16,000 recvmsg + epoll round trips (22 s
  // under ASan on the loaded VM). Reserving makes each read up to 64 KiB.
  beast::flat_buffer buffer;
  buffer.reserve(kChunkBytes);
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  stream.expires_after(options_.step_timeout);
  ec = RunOne(ioc, [&](auto handler) {
    http::async_read_header(stream, buffer, parser, std::move(handler));
  });
  if (ec == beast::error::timeout) return Failed(Attempt::Kind::kTimedOut, "no answer in time");
  if (ec) return Failed(Attempt::Kind::kBroken, "reading the answer: " + ec.message());
  const int status = static_cast<int>(parser.get().result_int());

  std::unique_ptr<EVP_MD_CTX, Md5Deleter> md5(EVP_MD_CTX_new());
  if (!md5 || EVP_DigestInit_ex(md5.get(), EVP_md5(), nullptr) != 1) {
    return Failed(Attempt::Kind::kLocal, "cannot initialise MD5");
  }
  std::vector<char> chunk(kChunkBytes);
  std::string error_body;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    stream.expires_after(options_.step_timeout);
    ec = RunOne(
        ioc, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    if (ec == http::error::need_buffer) ec = {};
    const size_t n = chunk.size() - parser.get().body().size;
    if (status == 200) {
      for (size_t done = 0; done < n;) {
        const ssize_t w = ::write(fd, chunk.data() + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0)
          return Failed(Attempt::Kind::kLocal, std::string("writing: ") + std::strerror(errno));
        done += static_cast<size_t>(w);
      }
      EVP_DigestUpdate(md5.get(), chunk.data(), n);
      out.bytes += n;
    } else if (error_body.size() < kMaxErrorBodyBytes) {
      error_body.append(chunk.data(), std::min(n, kMaxErrorBodyBytes - error_body.size()));
    }
    if (ec == beast::error::timeout) {
      return Failed(Attempt::Kind::kTimedOut,
                    "the body stalled after " + std::to_string(out.bytes) + " bytes");
    }
    if (ec) {
      return Failed(Attempt::Kind::kBroken,
                    "after " + std::to_string(out.bytes) + " bytes: " + ec.message());
    }
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

  if (status != 200) {
    Attempt a;
    a.kind = Attempt::Kind::kHttpError;
    a.http_status = status;
    std::tie(a.s3_code, a.s3_message) = ParseS3Error(error_body);
    return a;
  }
  const auto& headers = parser.get();
  if (const auto length = parser.content_length(); length && *length != out.bytes) {
    return Failed(Attempt::Kind::kCorrupt, "Content-Length " + std::to_string(*length) + ", got " +
                                               std::to_string(out.bytes) + " bytes");
  }
  std::string etag(headers[http::field::etag]);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  out.etag = etag;
  if (IsMd5Hex(etag)) {  // a single-part upload: the ETag is the MD5 of the bytes
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md5.get(), digest, &len);
    const std::string actual = HexEncode({reinterpret_cast<const char*>(digest), len});
    if (actual != Lower(etag)) {
      return Failed(Attempt::Kind::kCorrupt, "MD5 " + actual + " does not match the ETag " + etag);
    }
  }
  if (::fsync(fd) != 0)
    return Failed(Attempt::Kind::kLocal, std::string("fsync: ") + std::strerror(errno));
  return Attempt{};
}

}  // namespace thaw::artifacts
