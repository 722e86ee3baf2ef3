#include "api/cloudwatch_codec.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/time_format.h"
#include "common/xml.h"

namespace thaw::api {
namespace {

using nlohmann::json;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      int hi = i + 2 < s.size() ? Hex(s[i + 1]) : -1, lo = i + 2 < s.size() ? Hex(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return Status(Code::kSerialization, "Malformed form encoding.");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsIndex(std::string_view s, size_t& index) {
  if (s.empty() || s.size() > 6) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  if (v == 0) return false;
  index = v - 1;
  return true;
}

// Places `value` at the dotted `path` ("A.member.2.B") in `root`.
Status Place(json& root, std::string_view path, std::string value) {
  json* node = &root;
  while (true) {
    size_t dot = path.find('.');
    std::string_view head = path.substr(0, dot);
    if (head.empty()) return Status(Code::kSerialization, "Malformed parameter name.");
    if (!node->is_object()) {
      if (!node->is_null()) return Status(Code::kSerialization, "Conflicting parameter names.");
      *node = json::object();
    }
    json& child = (*node)[std::string(head)];
    if (dot == std::string_view::npos) {
      child = std::move(value);
      return Status::Ok();
    }
    path.remove_prefix(dot + 1);
    // A list: "member.N" continues into element N (1-based).
    if (path.rfind("member.", 0) == 0) {
      path.remove_prefix(7);
      size_t dot2 = path.find('.');
      size_t index = 0;
      if (!IsIndex(path.substr(0, dot2), index)) {
        return Status(Code::kSerialization, "Malformed list index.");
      }
      if (!child.is_array()) {
        if (!child.is_null()) return Status(Code::kSerialization, "Conflicting parameter names.");
        child = json::array();
      }
      while (child.size() <= index) child.push_back(nullptr);
      json& element = child[index];
      if (dot2 == std::string_view::npos) {
        element = std::move(value);
        return Status::Ok();
      }
      path.remove_prefix(dot2 + 1);
      node = &element;
      continue;
    }
    node = &child;
  }
}

void DropNulls(json& node) {
  if (node.is_array()) {
    json kept = json::array();
    for (json& e : node) {
      if (e.is_null()) continue;
      DropNulls(e);
      kept.push_back(std::move(e));
    }
    node = std::move(kept);
  } else if (node.is_object()) {
    for (auto& [k, v] : node.items()) DropNulls(v);
  }
}

std::string FormatDouble(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return fmt::format("{:.1f}", d);
  }
  return fmt::format("{}", d);
}

std::string FormatTimestamp(const json& v) {
  double seconds = v.get<double>();
  WallTime t = FromEpochSeconds(seconds);
  return FormatIso8601(t, seconds != std::floor(seconds));
}

void XmlScalar(std::string& out, const json& v, bool timestamp) {
  if (timestamp && v.is_number()) {
    out += FormatTimestamp(v);
  } else if (v.is_string()) {
    AppendXmlEscaped(out, v.get_ref<const std::string&>());
  } else if (v.is_boolean()) {
    out += v.get<bool>() ? "true" : "false";
  } else if (v.is_number_float()) {
    out += FormatDouble(v.get<double>());
  } else if (v.is_number()) {
    out += v.dump();
  }
}

void XmlValue(std::string& out, const std::string& key, const json& v) {
  bool timestamp = key == "Timestamp" || key == "Timestamps";
  if (v.is_array()) {
    for (const json& e : v) {
      out += "<member>";
      if (e.is_object()) {
        for (const auto& [k, sub] : e.items()) {
          out += "<" + k + ">";
          XmlValue(out, k, sub);
          out += "</" + k + ">";
        }
      } else {
        XmlScalar(out, e, timestamp);
      }
      out += "</member>";
    }
  } else if (v.is_object() && key == "ExtendedStatistics") {  // the one map: <entry>s
    for (const auto& [k, sub] : v.items()) {
      out += "<entry><key>";
      AppendXmlEscaped(out, k);
      out += "</key><value>";
      XmlScalar(out, sub, false);
      out += "</value></entry>";
    }
  } else if (v.is_object()) {
    for (const auto& [k, sub] : v.items()) {
      out += "<" + k + ">";
      XmlValue(out, k, sub);
      out += "</" + k + ">";
    }
  } else {
    XmlScalar(out, v, timestamp);
  }
}

void CborHead(std::string& out, uint8_t major, uint64_t n) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out.push_back(static_cast<char>(m | n));
  } else if (n <= 0xff) {
    out.push_back(static_cast<char>(m | 24));
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xffff) {
    out.push_back(static_cast<char>(m | 25));
    for (int s = 8; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  } else if (n <= 0xffffffffull) {
    out.push_back(static_cast<char>(m | 26));
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  } else {
    out.push_back(static_cast<char>(m | 27));
    for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(n >> s));
  }
}

void CborFloat64(std::string& out, double d) {
  out.push_back(static_cast<char>(0xfb));
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<char>(bits >> s));
}

void CborScalar(std::string& out, const json& v) {
  // Doubles always as float64, as the clients were verified with (modern-clients.md §4.2);
  // nlohmann would shorten exact ones to float32.
  if (v.is_number_float()) return CborFloat64(out, v.get<double>());
  std::vector<uint8_t> bytes = json::to_cbor(v);
  out.append(bytes.begin(), bytes.end());
}

void CborTimestamp(std::string& out, const json& v) {
  out.push_back(static_cast<char>(0xc1));  // tag 1: epoch seconds
  double seconds = v.get<double>();
  if (seconds >= 0 && seconds == std::floor(seconds)) {
    CborScalar(out, json(static_cast<uint64_t>(seconds)));
  } else {
    CborFloat64(out, seconds);  // a float32 would lose seconds (modern-clients.md §4.2)
  }
}

void CborValue(std::string& out, const json& v, bool timestamp) {
  if (v.is_object()) {
    CborHead(out, 5, v.size());
    for (const auto& [k, sub] : v.items()) {
      CborScalar(out, json(k));
      CborValue(out, sub, k == "Timestamp" || k == "Timestamps");
    }
  } else if (v.is_array()) {
    CborHead(out, 4, v.size());
    for (const json& e : v) CborValue(out, e, timestamp);
  } else if (timestamp && v.is_number()) {
    CborTimestamp(out, v);
  } else {
    CborScalar(out, v);
  }
}

// nlohmann 3.11.2 rejects the one-byte tag heads 0xC0-0xD7 ("invalid byte: 0xC1") but skips
// the two-byte form 0xD8 <tag> under cbor_tag_handler_t::ignore. So this copies a CBOR item,
// rewriting every one-byte tag head (tag 1, the epoch timestamps smithy sends, among them) into
// the two-byte form, and leaves every value's decoding to nlohmann. Returns false on input that
// is not well-formed CBOR (truncated, bad head, break outside an indefinite item, too deep).
class TagNormalizer {
 public:
  explicit TagNormalizer(std::string_view in) : in_(in) {}
  bool Run(std::string& out) {
    out_ = &out;
    return Item(0) && pos_ == in_.size();
  }

 private:
  bool Byte(uint8_t& b) {
    if (pos_ >= in_.size()) return false;
    b = static_cast<uint8_t>(in_[pos_++]);
    out_->push_back(static_cast<char>(b));
    return true;
  }
  bool Copy(uint64_t n) {
    if (n > in_.size() - pos_) return false;
    out_->append(in_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  // The head's argument (after the initial byte, already copied). ai 31: indefinite.
  bool Argument(uint8_t ai, uint64_t& value) {
    if (ai < 24) {
      value = ai;
      return true;
    }
    if (ai > 27) return false;
    size_t n = size_t{1} << (ai - 24);
    if (n > in_.size() - pos_) return false;
    value = 0;
    for (size_t i = 0; i < n; ++i) value = (value << 8) | static_cast<uint8_t>(in_[pos_ + i]);
    return Copy(n);
  }
  bool Item(int depth) {
    if (depth > 64 || pos_ >= in_.size()) return false;
    auto ib = static_cast<uint8_t>(in_[pos_]);
    uint8_t major = ib >> 5, ai = ib & 31;
    if (major == 6 && ai < 24) {  // one-byte tag head → 0xD8 <tag>
      ++pos_;
      out_->push_back(static_cast<char>(0xd8));
      out_->push_back(static_cast<char>(ai));
      return Item(depth + 1);
    }
    uint8_t b;
    Byte(b);
    if (ai == 31) {
      if (major < 2 || major == 6) return false;
      if (major == 7) return false;  // a break where an item was expected
      while (true) {
        if (pos_ >= in_.size()) return false;
        if (static_cast<uint8_t>(in_[pos_]) == 0xff) return Byte(b);
        if (!Item(depth + 1)) return false;
        if (major == 5 && !Item(depth + 1)) return false;
      }
    }
    uint64_t n = 0;
    if (!Argument(ai, n)) return false;
    switch (major) {
      case 2:
      case 3:
        return Copy(n);
      case 4:
      case 5:
        for (uint64_t i = 0; i < (major == 5 ? 2 * n : n); ++i) {
          if (!Item(depth + 1)) return false;
        }
        return true;
      case 6:
        return Item(depth + 1);
      default:  // 0, 1, 7: the head was all
        return true;
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::string* out_ = nullptr;
};

}  // namespace

Result<json> DecodeQueryForm(std::string_view body, std::string& action) {
  json root = json::object();
  while (!body.empty()) {
    size_t amp = body.find('&');
    std::string_view pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view() : body.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    THAW_ASSIGN_OR_RETURN(std::string name, FormDecode(pair.substr(0, eq)));
    THAW_ASSIGN_OR_RETURN(
        std::string value,
        FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1)));
    if (name == "Action") {
      action = std::move(value);
    } else if (name != "Version") {
      THAW_RETURN_IF_ERROR(Place(root, name, std::move(value)));
    }
  }
  DropNulls(root);
  return root;
}

Result<json> DecodeCbor(std::string_view body) {
  if (body.empty()) return json::object();
  std::string normalized;
  if (!TagNormalizer(body).Run(normalized)) {
    return Status(Code::kSerialization, "The request body is not well-formed CBOR.");
  }
  json parsed = json::from_cbor(normalized.begin(), normalized.end(), true, false,
                                json::cbor_tag_handler_t::ignore);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status(Code::kSerialization, "The request body is not a CBOR map.");
  }
  return parsed;
}

std::string EncodeQueryXml(std::string_view op, const json& result, std::string_view request_id) {
  std::string out = fmt::format("<{}Response xmlns=\"{}\"><{}Result>", op, kCloudWatchXmlns, op);
  for (const auto& [k, v] : result.items()) {
    out += "<" + k + ">";
    XmlValue(out, k, v);
    out += "</" + k + ">";
  }
  out += fmt::format("</{}Result><ResponseMetadata><RequestId>", op);
  AppendXmlEscaped(out, request_id);
  out += fmt::format("</RequestId></ResponseMetadata></{}Response>", op);
  return out;
}

std::string EncodeQueryErrorXml(std::string_view type, std::string_view code,
                                std::string_view message, std::string_view request_id) {
  std::string out = fmt::format("<ErrorResponse xmlns=\"{}\"><Error><Type>", kCloudWatchXmlns);
  AppendXmlEscaped(out, type);
  out += "</Type><Code>";
  AppendXmlEscaped(out, code);
  out += "</Code><Message>";
  AppendXmlEscaped(out, message);
  out += "</Message></Error><RequestId>";
  AppendXmlEscaped(out, request_id);
  out += "</RequestId></ErrorResponse>";
  return out;
}

std::string EncodeCbor(const json& value) {
  std::string out;
  CborValue(out, value, false);
  return out;
}

}  // namespace thaw::api
