// The control plane's request decoding: the JSON body, then the CreateModel and
// CreateEndpointConfig shape checks (Coral-style validation) on whatever parsed.
#include <string_view>

#include "control/request_shapes.h"
#include "control/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto body = thaw::control::ParseBody(in);
  if (!body.ok()) return 0;
  (void)thaw::control::CheckCreateModel(*body);
  auto config = thaw::control::CheckCreateEndpointConfig(*body);
  if (config.ok()) (void)thaw::control::IsServerless(*config);
  return 0;
}
