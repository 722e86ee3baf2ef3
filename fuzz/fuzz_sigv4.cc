// SigV4 verification over arbitrary requests: the first line is the Authorization value, the
// next ones headers ("name: value") up to a blank line, the rest the body. Also the credentials
// file parser over the raw input.
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credentials.h"
#include "auth/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)thaw::auth::ParseCredentials(in);

  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < in.size()) {
    size_t end = in.find('\n', pos);
    if (end == in.npos) end = in.size();
    std::string_view line = in.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() && !lines.empty()) break;
    lines.emplace_back(line);
  }
  std::string_view body = pos < in.size() ? in.substr(pos) : std::string_view();
  thaw::auth::RequestView view{"POST", "/", {}, body};
  if (!lines.empty()) view.headers.emplace_back("authorization", lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view l = lines[i];
    size_t colon = l.find(':');
    if (colon == l.npos) {
      view.target = l;  // a line without a colon is the request target
      continue;
    }
    view.headers.emplace_back(l.substr(0, colon), l.substr(colon + 1));
  }
  static const std::vector<thaw::auth::Credential> keys = {
      {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", "default"}};
  auto now = std::chrono::system_clock::from_time_t(1672531200);
  (void)thaw::auth::Verify(view, keys, now);
  if (auto auth = thaw::auth::ParseAuthorization(lines.empty() ? "" : lines[0])) {
    (void)thaw::auth::CanonicalRequest(view, *auth);
  }
  (void)thaw::auth::CanonicalUri(view.target, true);
  (void)thaw::auth::CanonicalQuery(view.target);
  return 0;
}
