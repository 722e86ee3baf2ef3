#include "cli/signer.h"

#include <algorithm>

namespace thaw::cli {

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
    auth::RequestView view{std::string_view(req.method_string().data(), req.method_string().size()),
                           std::string_view(req.target().data(), req.target().size()),
                           {},
                           req.body()};
    for (const auto& [name, value] : headers) view.headers.emplace_back(name, value);
    req.set(http::field::authorization,
            auth::SignedAuthorization(credential, region, service, amz_date, view));
    return Status::Ok();
  };
}

}  // namespace thaw::cli
