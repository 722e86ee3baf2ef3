#pragma once
// The XGBoost 1.7-1 container's reading of the request's Content-Type and Accept headers
// (data_utils.get_content_type, serve_utils.parse_content_data, serve._parse_accept), with its
// exact error texts. A missing header is nullopt, which is not the same as an empty one.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::worker {

enum class InputFormat { kCsv, kLibsvm };

// nullopt (no Content-Type) → libsvm; "csv", "text/csv" (params allowed; label_size must be 1),
// "libsvm", "text/libsvm", "text/x-libsvm" (exactly, no params). Anything else fails with the
// container's 415 text as the Status message.
Result<InputFormat> ClassifyContentType(std::optional<std::string_view> content_type);

enum class OutputFormat { kCsv, kJson, kJsonLines, kRecordIo, kOther };

struct Accept {
  std::string media_type;  // as the container uses it (also the response's mimetype)
  OutputFormat format = OutputFormat::kOther;
};

// The Accept header parsed like cgi.parse_header. Empty, missing or "*/*" means
// `default_accept` (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT or "text/csv"), taken as is, so its
// format may be kOther. An unsupported value fails with the container's 406 text.
Result<Accept> ResolveAccept(std::optional<std::string_view> accept,
                             const std::string& default_accept);

}  // namespace thaw::worker
