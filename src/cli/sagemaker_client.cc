#include "cli/sagemaker_client.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>

namespace thaw::cli {
namespace {

constexpr size_t kMaxPlainMessage = 300;

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string StringMember(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string_view HeaderValue(const HttpResponse& res, std::string_view name) {
  auto it = res.find(boost::beast::string_view(name.data(), name.size()));
  if (it == res.end()) return {};
  return {it->value().data(), it->value().size()};
}

ApiError FromTransport(const Status& status) { return ApiError{0, "", status.message()}; }

}  // namespace

std::string FormatError(const ApiError& error) {
  std::string out = "error: ";
  out += error.code;
  if (!error.code.empty() && !error.message.empty()) out += ": ";
  out += error.message;
  if (error.code.empty() && error.message.empty()) {
    out += "HTTP " + std::to_string(error.http_status);
  }
  return out;
}

ApiError ParseApiError(int http_status, std::string_view error_type_header, std::string_view body) {
  ApiError error;
  error.http_status = http_status;
  std::string code(error_type_header.substr(0, error_type_header.find(':')));

  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    if (code.empty()) {
      code = StringMember(j, "__type");
      if (size_t hash = code.rfind('#'); hash != std::string::npos) code.erase(0, hash + 1);
    }
    if (code.empty()) code = StringMember(j, "code");
    if (code.empty()) code = StringMember(j, "Code");
    error.message = StringMember(j, "message");
    if (error.message.empty()) error.message = StringMember(j, "Message");
  } else {
    std::string_view text = Trim(body);
    error.message = std::string(text.substr(0, kMaxPlainMessage));
    if (text.size() > kMaxPlainMessage) error.message += "…";
  }
  error.code = std::string(Trim(code));
  if (error.code.empty()) error.code = "HTTP " + std::to_string(http_status);
  return error;
}

std::string InvocationTarget(std::string_view endpoint_name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "/endpoints/";
  for (unsigned char c : endpoint_name) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.' || c == '_' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += "/invocations";
  return out;
}

ApiResult<nlohmann::json> SageMakerClient::Call(std::string_view operation,
                                                const nlohmann::json& input) {
  HttpRequest req{http::verb::post, "/", 11};
  req.set("X-Amz-Target", target_prefix_ + std::string(operation));
  req.set(http::field::content_type, "application/x-amz-json-1.1");
  req.body() = input.is_null() ? "{}" : input.dump();
  Result<HttpResponse> res = http_.Send(std::move(req));
  if (!res.ok()) return FromTransport(res.status());
  const int status = static_cast<int>(res->result_int());
  if (status < 200 || status > 299) {
    return ParseApiError(status, HeaderValue(*res, "x-amzn-ErrorType"), res->body());
  }
  if (Trim(res->body()).empty()) return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(res->body(), nullptr, false);
  if (body.is_discarded()) {
    return ApiError{
        status, "",
        "the server answered " + std::string(operation) + " with a body that is not JSON"};
  }
  return body;
}

ApiResult<InvokeResponse> SageMakerClient::Invoke(std::string_view endpoint_name, std::string body,
                                                  std::string_view content_type,
                                                  std::string_view accept) {
  HttpRequest req{http::verb::post, InvocationTarget(endpoint_name), 11};
  if (!content_type.empty()) {
    req.set(http::field::content_type,
            boost::beast::string_view(content_type.data(), content_type.size()));
  }
  if (!accept.empty()) {
    req.set(http::field::accept, boost::beast::string_view(accept.data(), accept.size()));
  }
  req.body() = std::move(body);
  Result<HttpResponse> res = http_.Send(std::move(req));
  if (!res.ok()) return FromTransport(res.status());
  const int status = static_cast<int>(res->result_int());
  if (status < 200 || status > 299) {
    return ParseApiError(status, HeaderValue(*res, "x-amzn-ErrorType"), res->body());
  }
  return InvokeResponse{status, std::string(HeaderValue(*res, "Content-Type")),
                        std::move(res->body())};
}

}  // namespace thaw::cli
