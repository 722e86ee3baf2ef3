#pragma once
// AWS Signature Version 4, verified on the server (sagemaker-api.md §5). Pure functions over an
// already-parsed request; the verdict says why a request is refused, and the API layer maps that
// to each protocol's error shape (MissingAuthenticationToken, UnrecognizedClientException /
// InvalidClientTokenId, InvalidSignatureException / SignatureDoesNotMatch, …).
//
// The canonical request is rebuilt from what the request itself carries: the SignedHeaders list
// of its Authorization header (never a fixed set), the Host as sent, the path as sent encoded once
// more (S3 excepted), the query pairs as sent, sorted, and the payload hash from
// x-amz-content-sha256 when present (UNSIGNED-PAYLOAD included), else the SHA-256 of the body.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace thaw::auth {

// What the verifier needs of a request. Header names lower-case, values as received, in order
// (a repeated header appears once per occurrence).
struct RequestView {
  std::string_view method;
  std::string_view target;  // path and query as sent ("/endpoints/x/invocations?a=b")
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
};

// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization {
  std::string access_key;
  std::string date;                         // yyyymmdd
  std::string region;                       // as the client named it
  std::string service;                      // sagemaker, monitoring, s3, sts, logs, …
  std::vector<std::string> signed_headers;  // as listed (lower-case, ';'-separated)
  std::string signature;                    // 64 lower-case hex
  std::string scope() const { return date + "/" + region + "/" + service + "/aws4_request"; }
};

// nullopt when the header is not a well-formed SigV4 Authorization value.
std::optional<Authorization> ParseAuthorization(std::string_view value);

// RFC 3986 percent-encoding of every byte but unreserved ones (A-Z a-z 0-9 - _ . ~) and `safe`.
std::string UriEncode(std::string_view s, std::string_view safe);
// botocore's canonical URI: dot segments removed, then encoded again with "/~" safe (for S3 the
// path as sent, unchanged). "/" for an empty path.
std::string CanonicalUri(std::string_view path, bool encode_again);
// The query's `k=v` pairs as sent, sorted by key then value, joined with '&'.
std::string CanonicalQuery(std::string_view query);

inline constexpr char kEmptyPayloadHash[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The payload hash the client signed: x-amz-content-sha256 when present, else SHA-256(body).
std::string PayloadHash(const RequestView& request);

// The canonical request, or nullopt when a signed header is missing from the request.
std::optional<std::string> CanonicalRequest(const RequestView& request, const Authorization& auth);
std::string StringToSign(std::string_view amz_date, const Authorization& auth,
                         std::string_view canonical_request);
// The raw SigV4 signing key for the scope of `auth` (S3's aws-chunked chunk signatures chain
// with it).
std::string SigningKey(std::string_view secret, const Authorization& auth);
// Lower-case hex HMAC-SHA256 signature of `string_to_sign` with the key derived from `secret`.
std::string Sign(std::string_view secret, const Authorization& auth,
                 std::string_view string_to_sign);

// A key thaw accepts.
struct Credential {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // required (and must match) when not empty
  std::string profile;        // the credentials-file section it came from
};

enum class Refusal {
  kNone,
  kMissing,       // no Authorization header (or not SigV4)
  kIncomplete,    // a malformed Authorization header, X-Amz-Date missing or malformed
  kUnknownKey,    // no such access key (or a wrong session token)
  kBadSignature,  // the signature does not match, or a signed header is absent
  kWrongScope,    // the scope's service or date is wrong (reported as a bad signature)
  kExpired,       // X-Amz-Date outside the allowed skew
};

struct Verdict {
  Refusal refusal = Refusal::kNone;
  std::string message;                     // AWS's text for the refusal
  const Credential* credential = nullptr;  // the matching key when accepted
  std::string service;                     // the scope's service when accepted
  bool ok() const { return refusal == Refusal::kNone; }
};

struct VerifyOptions {
  std::chrono::seconds max_skew{300};
  // Scope services this listener accepts (e.g. {"sagemaker", "monitoring"}); empty = any.
  std::vector<std::string> services;
  // The service whose path rule is S3's (no second encoding).
  std::string s3_service = "s3";
};

// Verifies `request` against `keys` at wall-clock time `now`. Compares signatures in constant
// time. `keys` must outlive the verdict (it points at the matching one).
Verdict Verify(const RequestView& request, const std::vector<Credential>& keys,
               std::chrono::system_clock::time_point now, const VerifyOptions& options = {});

// "20230101T000000Z" for a time point (UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);

}  // namespace thaw::auth
