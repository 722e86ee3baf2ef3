#include "auth/client_signing.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "auth/credentials.h"

namespace thaw::auth {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ProfileName(const EnvLookup& env, std::string_view profile) {
  if (!profile.empty()) return std::string(profile);
  auto named = env("AWS_PROFILE");
  return named && !named->empty() ? *named : "default";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string SignedAuthorization(const Credential& credential, std::string_view region,
                                std::string_view service, std::string_view amz_date,
                                const RequestView& request) {
  Authorization a;
  a.access_key = credential.access_key;
  a.date = std::string(amz_date.substr(0, 8));
  a.region = std::string(region);
  a.service = std::string(service);
  for (const auto& [name, value] : request.headers) a.signed_headers.emplace_back(name);
  std::sort(a.signed_headers.begin(), a.signed_headers.end());
  a.signed_headers.erase(std::unique(a.signed_headers.begin(), a.signed_headers.end()),
                         a.signed_headers.end());
  // Every signed header comes from the request itself, so the canonical request always exists.
  const std::string canonical = CanonicalRequest(request, a).value_or("");
  const std::string signature =
      Sign(credential.secret_key, a, StringToSign(amz_date, a, canonical));
  std::string list;
  for (const std::string& h : a.signed_headers) list += (list.empty() ? "" : ";") + h;
  return "AWS4-HMAC-SHA256 Credential=" + a.access_key + "/" + a.scope() +
         ", SignedHeaders=" + list + ", Signature=" + signature;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::optional<Credential>> FindCredentials(const EnvLookup& env, std::string_view profile) {
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret && !id->empty() && !secret->empty()) {
    return std::optional<Credential>(
        Credential{*id, *secret, env("AWS_SESSION_TOKEN").value_or(""), "environment"});
  }
  std::string path;
  if (auto file = env("AWS_SHARED_CREDENTIALS_FILE")) {
    path = *file;
  } else if (auto home = env("HOME")) {
    path = *home + "/.aws/credentials";
  } else {
    return std::optional<Credential>();
  }
  auto text = ReadFile(path);
  if (!text) return std::optional<Credential>();
  auto keys = ParseCredentials(*text);
  if (!keys.ok()) return InvalidArgument(path + ": " + keys.status().message());
  const std::string name = ProfileName(env, profile);
  for (const Credential& c : *keys) {
    if (c.profile == name) return std::optional<Credential>(c);
  }
  return std::optional<Credential>();
}

std::string FindRegion(const EnvLookup& env, std::string_view profile) {
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto r = env(var); r && !r->empty()) return *r;
  }
  std::string path;
  if (auto file = env("AWS_CONFIG_FILE")) {
    path = *file;
  } else if (auto home = env("HOME")) {
    path = *home + "/.aws/config";
  }
  const std::string name = ProfileName(env, profile);
  // The config file names profiles "[profile x]", except "[default]".
  const std::string section = name == "default" ? "default" : "profile " + name;
  auto text = path.empty() ? std::nullopt : ReadFile(path);
  if (!text) return "us-east-1";
  std::istringstream lines(*text);
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    std::string_view l = Trim(line);
    if (l.empty() || l.front() == '#' || l.front() == ';') continue;
    if (l.front() == '[' && l.back() == ']') {
      in_section = Trim(l.substr(1, l.size() - 2)) == section;
      continue;
    }
    const size_t eq = l.find('=');
    if (!in_section || eq == std::string_view::npos) continue;
    if (Trim(l.substr(0, eq)) == "region" && !Trim(l.substr(eq + 1)).empty()) {
      return std::string(Trim(l.substr(eq + 1)));
    }
  }
  return "us-east-1";
}

}  // namespace thaw::auth
