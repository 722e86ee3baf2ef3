#pragma once
// Incremental decoder of S3's aws-chunked bodies (Content-Encoding: aws-chunked):
//
//   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          <hex>;chunk-signature=<sig>\r\n<data>\r\n …
//   0;…\r\n\r\n STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, then trailer lines and
//                                               x-amz-trailer-signature:<sig>\r\n\r\n
//   STREAMING-UNSIGNED-PAYLOAD-TRAILER          <hex>\r\n<data>\r\n … 0\r\n<trailers>\r\n
//
// Each chunk signature chains from the previous one (the seed is the request's signature):
//   HMAC(signing key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" previous "\n"
//        SHA256("") "\n" SHA256(chunk data)).
// Pure: bytes in, decoded bytes out through a callback, no I/O. Feed pieces of any size.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::s3 {

struct ChunkSigning {
  std::string signing_key;  // raw HMAC key (auth::SigningKey)
  std::string amz_date;     // X-Amz-Date of the request
  std::string scope;        // date/region/s3/aws4_request
  std::string seed;         // the request's own signature
};

class AwsChunkedDecoder {
 public:
  using Sink = std::function<Status(std::string_view)>;
  // `signing` null: unsigned chunks (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
  AwsChunkedDecoder(std::unique_ptr<ChunkSigning> signing, Sink sink);
  ~AwsChunkedDecoder();

  // Consumes bytes; a framing or signature error is final (SignatureDoesNotMatch,
  // IncompleteBody / InvalidRequest as S3 errors).
  Status Feed(std::string_view bytes);
  // After the last byte: the stream must have ended with its final chunk and trailers.
  Status Finish() const;
  // Trailer headers received (lower-case names), e.g. x-amz-checksum-crc32.
  const std::map<std::string, std::string>& trailers() const { return trailers_; }
  uint64_t decoded_bytes() const { return decoded_; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailers, kDone };
  Status OnSizeLine(std::string_view line);
  Status OnChunkEnd();
  Status OnTrailerLine(std::string_view line);

  std::unique_ptr<ChunkSigning> signing_;
  Sink sink_;
  State state_ = State::kSizeLine;
  std::string line_;
  uint64_t remaining_ = 0;
  uint64_t decoded_ = 0;
  std::string chunk_signature_;
  std::string previous_signature_;
  struct Sha;
  std::unique_ptr<Sha> sha_;
  std::map<std::string, std::string> trailers_;
  std::string trailer_text_;  // "name:value\n" lines, for the trailer signature
  bool last_chunk_ = false;
};

}  // namespace thaw::s3
