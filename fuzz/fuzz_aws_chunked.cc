// S3's aws-chunked body decoder (s3/aws_chunked.h), two ways:
//   byte 0 even: the rest is a body as a client could send it, decoded unsigned and signed, all
//     at once and in pieces of (byte 1 % 17 + 1) bytes: both feedings must agree (status,
//     bytes out, trailers) — incremental decoding may not depend on where reads split;
//   byte 0 odd: the rest is a payload, encoded here as a signed aws-chunked body in chunks of
//     (byte 1 + 1) bytes (16 at most) with chained signatures (and a signed trailer when byte 0 &
//     2), then decoded in pieces: it must decode to exactly the payload, and a flipped byte
//     in the first chunk's data must fail its signature.
#include <string>
#include <string_view>

#include "auth/sigv4.h"
#include "common/hash.h"
#include "s3/aws_chunked.h"

namespace {

using thaw::HexEncode;
using thaw::HmacSha256;
using thaw::Status;
using thaw::s3::AwsChunkedDecoder;
using thaw::s3::ChunkSigning;

constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";
constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kScope = "20130524/us-east-1/s3/aws4_request";
constexpr std::string_view kSeed =
    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";

std::unique_ptr<ChunkSigning> Signing() {
  return std::make_unique<ChunkSigning>(
      ChunkSigning{std::string(kKey), std::string(kDate), std::string(kScope), std::string(kSeed)});
}

std::string ChunkSig(const std::string& previous, std::string_view data) {
  return HexEncode(HmacSha256(kKey, "AWS4-HMAC-SHA256-PAYLOAD\n" + std::string(kDate) + "\n" +
                                        std::string(kScope) + "\n" + previous + "\n" +
                                        std::string(thaw::auth::kEmptyPayloadHash) + "\n" +
                                        thaw::Sha256Hex(data)));
}

// The encoder side of the protocol, as the AWS SDKs write it.
std::string Encode(std::string_view payload, size_t chunk, bool trailer) {
  std::string out, previous(kSeed);
  auto add = [&](std::string_view data) {
    previous = ChunkSig(previous, data);
    char size[32];
    snprintf(size, sizeof size, "%zx", data.size());
    out += std::string(size) + ";chunk-signature=" + previous + "\r\n";
    out += data;
    if (!data.empty()) out += "\r\n";
  };
  for (size_t at = 0; at < payload.size(); at += chunk) add(payload.substr(at, chunk));
  add({});
  if (trailer) {
    std::string text = "x-amz-checksum-crc32:AAAAAA==\n";
    std::string sig = HexEncode(HmacSha256(kKey, "AWS4-HMAC-SHA256-TRAILER\n" + std::string(kDate) +
                                                     "\n" + std::string(kScope) + "\n" + previous +
                                                     "\n" + thaw::Sha256Hex(text)));
    out += "x-amz-checksum-crc32:AAAAAA==\r\nx-amz-trailer-signature:" + sig + "\r\n";
  }
  out += "\r\n";
  return out;
}

struct Outcome {
  bool ok = true;
  bool finished = false;
  std::string bytes;
  std::map<std::string, std::string> trailers;
};

Outcome Decode(std::string_view body, size_t piece, bool sign) {
  Outcome o;
  AwsChunkedDecoder d(sign ? Signing() : nullptr, [&](std::string_view s) {
    o.bytes.append(s);
    return Status::Ok();
  });
  for (size_t at = 0; at < body.size() && o.ok; at += piece) {
    o.ok = d.Feed(body.substr(at, piece)).ok();
  }
  o.finished = o.ok && d.Finish().ok();
  o.trailers = d.trailers();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (data[0] % 2 == 0) {
    const size_t piece = data[1] % 17 + 1;
    for (bool sign : {false, true}) {
      Outcome whole = Decode(rest, rest.size() + 1, sign);
      Outcome pieces = Decode(rest, piece, sign);
      if (whole.ok != pieces.ok || whole.finished != pieces.finished) __builtin_trap();
      // On success both saw the same bytes; on failure the piecewise one may have decoded a
      // prefix of what the whole one did (it stops at the first bad piece).
      if (whole.ok && (whole.bytes != pieces.bytes || whole.trailers != pieces.trailers)) {
        __builtin_trap();
      }
    }
    return 0;
  }
  const size_t chunk = size_t{data[1]} + 1;
  const bool trailer = data[0] & 2;
  // At most 16 chunks: every chunk costs two HMACs (OpenSSL 3 fetches the digest each time),
  // and many small chunks test nothing more than a few do.
  rest = rest.substr(0, 16 * chunk);
  std::string body = Encode(rest, chunk, trailer);
  Outcome o = Decode(body, chunk / 3 + 1, true);
  if (!o.ok || !o.finished || o.bytes != rest) __builtin_trap();
  if (trailer && o.trailers.size() != 1) __builtin_trap();
  if (!rest.empty()) {
    // Flip one payload byte inside the first chunk's data: its signature must no longer match.
    size_t at = body.find("\r\n") + 2 + (data[1] % std::min(chunk, rest.size()));
    body[at] = static_cast<char>(body[at] ^ 0x20);
    if (Decode(body, body.size(), true).ok) __builtin_trap();
  }
  return 0;
}
