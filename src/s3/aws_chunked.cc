#include "s3/aws_chunked.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <charconv>

#include "auth/sigv4.h"
#include "common/hash.h"
#include "s3/names.h"

namespace thaw::s3 {
namespace {

constexpr size_t kMaxLine = 4096;

Status Framing(std::string_view why) {
  return S3Error("IncompleteBody", Code::kInvalidArgument,
                 "The aws-chunked body is malformed: " + std::string(why));
}

Status BadChunkSignature() {
  return S3Error("SignatureDoesNotMatch", Code::kBadSignature,
                 "The request signature we calculated does not match the signature you provided "
                 "(chunk signature).");
}

bool SameSignature(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

struct AwsChunkedDecoder::Sha {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Sha() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Sha() { EVP_MD_CTX_free(ctx); }
  void Reset() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  void Update(std::string_view d) { EVP_DigestUpdate(ctx, d.data(), d.size()); }
  std::string HexDigest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out;
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, out.data(), &len);
    return HexEncode({reinterpret_cast<const char*>(out.data()), len});
  }
};

AwsChunkedDecoder::AwsChunkedDecoder(std::unique_ptr<ChunkSigning> signing, Sink sink)
    : signing_(std::move(signing)), sink_(std::move(sink)), sha_(std::make_unique<Sha>()) {
  if (signing_) previous_signature_ = signing_->seed;
}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

Status AwsChunkedDecoder::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::kSizeLine:
      case State::kTrailers:
      case State::kDataEnd: {
        size_t nl = bytes.find('\n');
        std::string_view part = bytes.substr(0, nl);
        if (line_.size() + part.size() > kMaxLine) return Framing("line too long");
        line_.append(part);
        if (nl == bytes.npos) return Status::Ok();
        bytes.remove_prefix(nl + 1);
        if (line_.empty() || line_.back() != '\r') return Framing("line not ended by CRLF");
        line_.pop_back();
        std::string line = std::move(line_);
        line_.clear();
        if (state_ == State::kSizeLine) {
          THAW_RETURN_IF_ERROR(OnSizeLine(line));
        } else if (state_ == State::kDataEnd) {
          if (!line.empty()) return Framing("chunk data longer than its size");
          state_ = State::kSizeLine;
        } else {
          THAW_RETURN_IF_ERROR(OnTrailerLine(line));
        }
        break;
      }
      case State::kData: {
        size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, bytes.size()));
        std::string_view data = bytes.substr(0, n);
        if (signing_) sha_->Update(data);
        THAW_RETURN_IF_ERROR(sink_(data));
        decoded_ += n;
        remaining_ -= n;
        bytes.remove_prefix(n);
        if (remaining_ == 0) {
          THAW_RETURN_IF_ERROR(OnChunkEnd());
          state_ = State::kDataEnd;
        }
        break;
      }
      case State::kDone:
        return Framing("bytes after the final chunk");
    }
  }
  return Status::Ok();
}

Status AwsChunkedDecoder::OnSizeLine(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  uint64_t size = 0;
  auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
  if (ec != std::errc() || end != size_text.data() + size_text.size() || size_text.empty()) {
    return Framing("bad chunk size");
  }
  chunk_signature_.clear();
  if (size_t semi = line.find(';'); semi != line.npos) {
    std::string_view ext = line.substr(semi + 1);
    constexpr std::string_view kSig = "chunk-signature=";
    if (ext.substr(0, kSig.size()) == kSig) chunk_signature_ = ext.substr(kSig.size());
  }
  if (signing_ && chunk_signature_.empty()) return Framing("chunk without a signature");
  remaining_ = size;
  if (signing_) sha_->Reset();
  if (size == 0) {
    last_chunk_ = true;
    THAW_RETURN_IF_ERROR(OnChunkEnd());
    state_ = State::kTrailers;
    return Status::Ok();
  }
  state_ = State::kData;
  return Status::Ok();
}

Status AwsChunkedDecoder::OnChunkEnd() {
  if (!signing_) return Status::Ok();
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing_->amz_date + "\n" + signing_->scope +
                    "\n" + previous_signature_ + "\n" + auth::kEmptyPayloadHash + "\n" +
                    sha_->HexDigest();
  std::string expected = HexEncode(HmacSha256(signing_->signing_key, sts));
  if (!SameSignature(expected, chunk_signature_)) return BadChunkSignature();
  previous_signature_ = expected;
  return Status::Ok();
}

Status AwsChunkedDecoder::OnTrailerLine(std::string_view line) {
  if (line.empty()) {
    state_ = State::kDone;
    return Status::Ok();
  }
  size_t colon = line.find(':');
  if (colon == line.npos) return Framing("bad trailer line");
  std::string name(line.substr(0, colon));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value(line.substr(colon + 1));
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (name == "x-amz-trailer-signature") {
    if (!signing_) return Status::Ok();
    Sha sha;
    sha.Update(trailer_text_);
    std::string sts = "AWS4-HMAC-SHA256-TRAILER\n" + signing_->amz_date + "\n" + signing_->scope +
                      "\n" + previous_signature_ + "\n" + sha.HexDigest();
    if (!SameSignature(HexEncode(HmacSha256(signing_->signing_key, sts)), value))
      return BadChunkSignature();
    return Status::Ok();
  }
  trailer_text_ += name + ":" + value + "\n";
  trailers_[name] = value;
  return Status::Ok();
}

Status AwsChunkedDecoder::Finish() const {
  if (state_ != State::kDone) return Framing("the body ended before its final chunk");
  return Status::Ok();
}

}  // namespace thaw::s3
