#include "cli/signer.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auth/credentials.h"

namespace thaw::cli {

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::optional<auth::Credential>> FindCredentials(const EnvLookup& env) {
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret && !id->empty() && !secret->empty()) {
    return std::optional<auth::Credential>(
        auth::Credential{*id, *secret, env("AWS_SESSION_TOKEN").value_or(""), "environment"});
  }
  std::string path;
  if (auto file = env("AWS_SHARED_CREDENTIALS_FILE")) {
    path = *file;
  } else if (auto home = env("HOME")) {
    path = *home + "/.aws/credentials";
  } else {
    return std::optional<auth::Credential>();
  }
  std::ifstream in(path);
  if (!in) return std::optional<auth::Credential>();
  std::stringstream text;
  text << in.rdbuf();
  auto keys = auth::ParseCredentials(text.str());
  if (!keys.ok()) return InvalidArgument(path + ": " + keys.status().message());
  const std::string profile = env("AWS_PROFILE").value_or("default");
  for (const auth::Credential& c : *keys) {
    if (c.profile == profile) return std::optional<auth::Credential>(c);
  }
  return std::optional<auth::Credential>();
}

RequestSigner SigV4Signer(auth::Credential credential, std::string region, std::string service,
                          std::function<std::chrono::system_clock::time_point()> now) {
  return [credential = std::move(credential), region = std::move(region),
          service = std::move(service), now = std::move(now)](HttpRequest& req) -> Status {
    const std::string amz_date = auth::AmzDate(now());
    req.set("X-Amz-Date", amz_date);
    if (!credential.session_token.empty()) {
      req.set("X-Amz-Security-Token", credential.session_token);
    }
    req.erase(http::field::authorization);
    // Lower-case names, in order, for the canonical request; the signed list sorted and unique.
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& field : req) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (name == "user-agent" || name == "expect") continue;
      headers.emplace_back(std::move(name), std::string(field.value()));
    }
    auth::Authorization a;
    a.access_key = credential.access_key;
    a.date = amz_date.substr(0, 8);
    a.region = region;
    a.service = service;
    for (const auto& [name, value] : headers) a.signed_headers.push_back(name);
    std::sort(a.signed_headers.begin(), a.signed_headers.end());
    a.signed_headers.erase(std::unique(a.signed_headers.begin(), a.signed_headers.end()),
                           a.signed_headers.end());

    auth::RequestView view{std::string_view(req.method_string().data(), req.method_string().size()),
                           std::string_view(req.target().data(), req.target().size()),
                           {},
                           req.body()};
    for (const auto& [name, value] : headers) view.headers.emplace_back(name, value);
    auto canonical = auth::CanonicalRequest(view, a);
    if (!canonical) return Internal("SigV4: a signed header vanished");
    std::string signature =
        auth::Sign(credential.secret_key, a, auth::StringToSign(amz_date, a, *canonical));
    std::string list;
    for (const std::string& h : a.signed_headers) list += (list.empty() ? "" : ";") + h;
    req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=" + a.access_key + "/" +
                                            a.scope() + ", SignedHeaders=" + list +
                                            ", Signature=" + signature);
    return Status::Ok();
  };
}

}  // namespace thaw::cli
