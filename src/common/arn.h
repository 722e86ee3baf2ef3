#pragma once

#include <string>
#include <string_view>

namespace thaw {

// Where a thaw server says it lives: the region and account that appear in ARNs and messages.
struct Identity {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
};

// "arn:aws:sagemaker:{region}:{account}:{resource}/{lower-cased name}". AWS lower-cases the name
// inside the ARN (Describe* still echo the name as given). `resource` is "model",
// "endpoint-config" or "endpoint".
std::string SageMakerArn(const Identity& id, std::string_view resource, std::string_view name);

std::string ToLower(std::string_view s);

}  // namespace thaw
