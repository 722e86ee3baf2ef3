#pragma once
// XML text escaping for the XML protocols thaw answers in (CloudWatch/STS awsQuery, S3 rest-xml).

#include <string>
#include <string_view>

namespace thaw {

// Appends `s` to `out` with & < > " ' as entities (safe in element text and attribute values).
void AppendXmlEscaped(std::string& out, std::string_view s);

inline std::string XmlEscaped(std::string_view s) {
  std::string out;
  AppendXmlEscaped(out, s);
  return out;
}

}  // namespace thaw
