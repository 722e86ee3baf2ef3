#include "worker/content_types.h"

#include "worker/python_compat.h"

namespace thaw::worker {
namespace {

// data_utils.VALID_CONTENT_TYPES, joined as the container's INVALID_CONTENT_TYPE_ERROR does.
constexpr std::string_view kValidContentTypes =
    "csv, libsvm, parquet, recordio-protobuf, text/csv, text/libsvm, text/x-libsvm, "
    "application/x-parquet, application/x-recordio-protobuf";

// serve.SUPPORTED_ACCEPTS, formatted as str(list).
constexpr std::string_view kSupportedAccepts =
    "['application/json', 'application/jsonlines', 'application/x-recordio-protobuf', "
    "'text/csv']";

Status InvalidContentType(std::string_view content_type) {
  std::string msg(content_type);
  msg.append(" is not an accepted ContentType: ").append(kValidContentTypes).append(".");
  return InvalidArgument(std::move(msg));
}

OutputFormat FormatOf(std::string_view media_type) {
  if (media_type == "text/csv") return OutputFormat::kCsv;
  if (media_type == "application/json") return OutputFormat::kJson;
  if (media_type == "application/jsonlines") return OutputFormat::kJsonLines;
  if (media_type == "application/x-recordio-protobuf") return OutputFormat::kRecordIo;
  return OutputFormat::kOther;
}

}  // namespace

Result<InputFormat> ClassifyContentType(std::optional<std::string_view> content_type) {
  if (!content_type) return InputFormat::kLibsvm;
  const std::string lower = AsciiLower(*content_type);
  if (lower == "libsvm" || lower == "text/libsvm" || lower == "text/x-libsvm") {
    return InputFormat::kLibsvm;
  }
  if (lower.find("csv") != std::string::npos) {
    if (lower == "csv" || lower == "text/csv") return InputFormat::kCsv;
    ParsedHeader parsed = ParseHeader(lower);
    if (parsed.key == "text/csv") {
      auto label_size = parsed.Param("label_size");
      if (label_size && *label_size != "1") {
        return InvalidArgument(lower +
                               " is not an accepted csv ContentType. Optional parameter "
                               "label_size must be equal to 1");
      }
      return InputFormat::kCsv;
    }
    return InvalidContentType(lower);
  }
  // Parquet and recordio-protobuf are valid content types the container names, but its
  // inference path decodes neither parquet (always) nor recordio-protobuf (in thaw).
  if (lower == "parquet" || lower == "application/x-parquet" || lower == "recordio-protobuf" ||
      lower == "application/x-recordio-protobuf") {
    return InvalidArgument("Content-type " + std::string(*content_type) + " is not supported.");
  }
  return InvalidContentType(*content_type);
}

Result<Accept> ResolveAccept(std::optional<std::string_view> accept,
                             const std::string& default_accept) {
  ParsedHeader parsed = ParseHeader(accept.value_or(std::string_view()));
  if (parsed.key.empty() || parsed.key == "*/*") {
    return Accept{default_accept, FormatOf(default_accept)};
  }
  std::string lower = AsciiLower(parsed.key);
  OutputFormat format = FormatOf(lower);
  if (format == OutputFormat::kOther) {
    std::string msg = "Accept type " + parsed.key;
    msg.append(" is not supported. Please use supported accept types: ")
        .append(kSupportedAccepts)
        .append(".");
    return InvalidArgument(std::move(msg));
  }
  return Accept{std::move(lower), format};
}

}  // namespace thaw::worker
