#include "auth/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <ctime>

#include "common/hash.h"

namespace thaw::auth {
namespace {

using Clock = std::chrono::system_clock;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == s.npos ? s.npos : end - start));
    if (end == s.npos) return out;
    start = end + 1;
  }
}

// botocore's header value: whitespace runs collapsed to one space, ends stripped.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
    } else {
      if (space) out.push_back(' ');
      space = false;
      out.push_back(c);
    }
  }
  return out;
}

// "yyyymmddThhmmssZ" → seconds since the epoch; nullopt when malformed. Seconds, not a
// system_clock time point: years up to 9999 overflow its nanoseconds (found by fuzz_sigv4).
std::optional<std::time_t> ParseAmzDate(std::string_view s) {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return std::nullopt;
  for (size_t i = 0; i < 15; ++i) {
    if (i != 8 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  auto num = [&](size_t pos, size_t n) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(9, 2);
  tm.tm_min = num(11, 2);
  tm.tm_sec = num(13, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return timegm(&tm);
}

std::optional<std::string_view> Header(const RequestView& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string AmzDate(Clock::time_point t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::array<char, 32> buf;
  size_t n = std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
  return {buf.data(), n};
}

std::optional<Authorization> ParseAuthorization(std::string_view value) {
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  value = Trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) return std::nullopt;
  value.remove_prefix(kAlgorithm.size());
  if (value.empty() || value.front() != ' ') return std::nullopt;
  Authorization auth;
  bool credential = false, signed_headers = false, signature = false;
  for (std::string_view part : Split(value, ',')) {
    part = Trim(part);
    size_t eq = part.find('=');
    if (eq == part.npos) return std::nullopt;
    std::string_view key = part.substr(0, eq), v = part.substr(eq + 1);
    if (key == "Credential") {
      auto fields = Split(v, '/');
      if (fields.size() != 5 || fields[4] != "aws4_request" || fields[0].empty() ||
          fields[1].size() != 8 || fields[2].empty() || fields[3].empty()) {
        return std::nullopt;
      }
      auth.access_key = fields[0];
      auth.date = fields[1];
      auth.region = fields[2];
      auth.service = fields[3];
      credential = true;
    } else if (key == "SignedHeaders") {
      for (std::string_view h : Split(v, ';')) {
        if (h.empty()) return std::nullopt;
        auth.signed_headers.emplace_back(h);
      }
      signed_headers = true;
    } else if (key == "Signature") {
      if (v.size() != 64 || !IsLowerHex(v)) return std::nullopt;
      auth.signature = v;
      signature = true;
    } else {
      return std::nullopt;
    }
  }
  if (!credential || !signed_headers || !signature) return std::nullopt;
  return auth;
}

std::string UriEncode(std::string_view s, std::string_view safe) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || safe.find(static_cast<char>(c)) != safe.npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 15]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view path, bool encode_again) {
  if (path.empty()) return "/";
  if (!encode_again) return std::string(path);
  // RFC 3986 §5.2.4, as botocore's remove_dot_segments does it.
  std::vector<std::string_view> out;
  for (std::string_view seg : Split(path, '/')) {
    if (seg == ".") continue;
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(seg);
  }
  if (path.front() == '/' && (out.empty() || !out.front().empty())) out.insert(out.begin(), "");
  std::string joined;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i > 0) joined.push_back('/');
    joined.append(out[i]);
  }
  if (!out.empty() && (path.ends_with("/.") || path.ends_with("/.."))) joined.push_back('/');
  if (joined.empty()) joined = "/";
  return UriEncode(joined, "/~");
}

std::string CanonicalQuery(std::string_view query) {
  if (query.empty()) return {};
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (std::string_view p : Split(query, '&')) {
    size_t eq = p.find('=');
    pairs.emplace_back(p.substr(0, eq), eq == p.npos ? std::string_view() : p.substr(eq + 1));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(k).append("=").append(v);
  }
  return out;
}

std::string PayloadHash(const RequestView& request) {
  if (auto h = Header(request, "x-amz-content-sha256")) return std::string(*h);
  return request.body.empty() ? std::string(kEmptyPayloadHash) : Sha256Hex(request.body);
}

std::optional<std::string> CanonicalRequest(const RequestView& request, const Authorization& auth) {
  std::string_view target = request.target;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == target.npos ? std::string_view() : target.substr(q + 1);

  std::string out;
  out.append(request.method).push_back('\n');
  out.append(CanonicalUri(path, auth.service != "s3")).push_back('\n');
  out.append(CanonicalQuery(query)).push_back('\n');
  std::vector<std::string> names(auth.signed_headers.begin(), auth.signed_headers.end());
  std::sort(names.begin(), names.end());
  std::string signed_list;
  for (const std::string& name : auth.signed_headers) {
    if (!signed_list.empty()) signed_list.push_back(';');
    signed_list.append(name);
  }
  for (const std::string& name : names) {
    std::string joined;
    bool found = false;
    for (const auto& [k, v] : request.headers) {
      if (k != name) continue;
      if (found) joined.push_back(',');
      joined.append(TrimAll(v));
      found = true;
    }
    if (!found) return std::nullopt;
    out.append(name).append(":").append(joined).push_back('\n');
  }
  out.push_back('\n');
  out.append(signed_list).push_back('\n');
  out.append(PayloadHash(request));
  return out;
}

std::string StringToSign(std::string_view amz_date, const Authorization& auth,
                         std::string_view canonical_request) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out.append(amz_date).push_back('\n');
  out.append(auth.scope()).push_back('\n');
  out.append(Sha256Hex(canonical_request));
  return out;
}

std::string SigningKey(std::string_view secret, const Authorization& auth) {
  std::string key = HmacSha256("AWS4" + std::string(secret), auth.date);
  key = HmacSha256(key, auth.region);
  key = HmacSha256(key, auth.service);
  return HmacSha256(key, "aws4_request");
}

std::string Sign(std::string_view secret, const Authorization& auth,
                 std::string_view string_to_sign) {
  return HexEncode(HmacSha256(SigningKey(secret, auth), string_to_sign));
}

Verdict Verify(const RequestView& request, const std::vector<Credential>& keys,
               Clock::time_point now, const VerifyOptions& options) {
  Verdict v;
  auto refuse = [&v](Refusal r, std::string message) {
    v.refusal = r;
    v.message = std::move(message);
    return v;
  };
  auto header = Header(request, "authorization");
  if (!header || header->substr(0, 5) != "AWS4-") {
    return refuse(Refusal::kMissing, "Missing Authentication Token");
  }
  auto auth = ParseAuthorization(*header);
  if (!auth) {
    return refuse(Refusal::kIncomplete,
                  "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                  "parameters. Authorization=" +
                      std::string(*header));
  }
  auto amz_date = Header(request, "x-amz-date");
  auto when = amz_date ? ParseAmzDate(*amz_date) : std::nullopt;
  if (!when) {
    return refuse(Refusal::kIncomplete,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                  "header. Authorization=" +
                      std::string(*header));
  }
  const Credential* key = nullptr;
  for (const Credential& c : keys) {
    if (c.access_key == auth->access_key) key = &c;
  }
  auto token = Header(request, "x-amz-security-token");
  if (key == nullptr || key->session_token != token.value_or("")) {
    return refuse(Refusal::kUnknownKey, "The security token included in the request is invalid.");
  }
  if (!options.services.empty() && std::find(options.services.begin(), options.services.end(),
                                             auth->service) == options.services.end()) {
    return refuse(Refusal::kWrongScope, "Credential should be scoped to correct service: '" +
                                            options.services.front() + "'. ");
  }
  if (auth->date != amz_date->substr(0, 8)) {
    return refuse(Refusal::kWrongScope,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      auth->date + "' != '" + std::string(amz_date->substr(0, 8)) + "', from '" +
                      std::string(*amz_date) + "'.");
  }
  const std::time_t now_s = Clock::to_time_t(now);
  const std::time_t skew_s = options.max_skew.count();
  if (*when < now_s - skew_s) {
    return refuse(Refusal::kExpired, "Signature expired: " + std::string(*amz_date) +
                                         " is now earlier than " + AmzDate(now - options.max_skew) +
                                         " (" + AmzDate(now) + " - " +
                                         std::to_string(options.max_skew.count() / 60) + " min.)");
  }
  if (*when > now_s + skew_s) {
    return refuse(Refusal::kExpired, "Signature not yet current: " + std::string(*amz_date) +
                                         " is still later than " + AmzDate(now + options.max_skew) +
                                         " (" + AmzDate(now) + " + " +
                                         std::to_string(options.max_skew.count() / 60) + " min.)");
  }
  auto canonical = CanonicalRequest(request, *auth);
  std::string expected;
  std::string string_to_sign;
  if (canonical) {
    string_to_sign = StringToSign(*amz_date, *auth, *canonical);
    expected = Sign(key->secret_key, *auth, string_to_sign);
  }
  if (!canonical || CRYPTO_memcmp(expected.data(), auth->signature.data(), expected.size()) != 0) {
    std::string message =
        "The request signature we calculated does not match the signature you provided. Check "
        "your AWS Secret Access Key and signing method. Consult the service documentation for "
        "details.";
    if (canonical) {
      message += "\n\nThe Canonical String for this request should have been\n'" + *canonical +
                 "'\n\nThe String-to-Sign should have been\n'" + string_to_sign + "'\n";
    }
    return refuse(Refusal::kBadSignature, message);
  }
  v.credential = key;
  v.service = auth->service;
  return v;
}

}  // namespace thaw::auth
