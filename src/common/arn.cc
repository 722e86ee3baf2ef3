#include "common/arn.h"

#include <algorithm>
#include <cctype>

namespace thaw {

std::string ToLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string SageMakerArn(const Identity& id, std::string_view resource, std::string_view name) {
  std::string arn = "arn:aws:sagemaker:";
  arn += id.region;
  arn += ':';
  arn += id.account_id;
  arn += ':';
  arn += resource;
  arn += '/';
  arn += ToLower(name);
  return arn;
}

}  // namespace thaw
