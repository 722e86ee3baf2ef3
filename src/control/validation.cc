#include "control/validation.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "common/time_format.h"

namespace thaw::control {
namespace {

// Coral paths use lowerCamel member names: "ProductionVariants" → "productionVariants".
std::string LowerCamel(const char* member) {
  std::string s(member);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

void Validator::Violation(const std::string& path, const std::string& shown_value,
                          const std::string& constraint) {
  violations_.push_back(fmt::format("Value {} at '{}' failed to satisfy constraint: {}",
                                    shown_value, path, constraint));
}

void Validator::WrongType(const std::string& path, const char* expected) {
  if (!serialization_) {
    serialization_ = fmt::format("Unexpected value type at '{}': expected {}", path, expected);
  }
}

void Validator::Fail(Status status) {
  if (first_other_.ok()) first_other_ = std::move(status);
}

Status Validator::status() const {
  if (serialization_) return {Code::kSerialization, *serialization_};
  if (!violations_.empty()) {
    std::string msg = fmt::format("{} validation error{} detected: ", violations_.size(),
                                  violations_.size() == 1 ? "" : "s");
    for (size_t i = 0; i < violations_.size(); ++i) {
      if (i) msg += "; ";
      msg += violations_[i];
    }
    return InvalidArgument(msg);
  }
  return first_other_;
}

const StringRule& Patterns::ResourceName() {
  static const std::regex re("[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  static const StringRule rule{0, 63, &re, "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"};
  return rule;
}

const StringRule& Patterns::ModelName() {
  static const std::regex re("[a-zA-Z0-9](-*[a-zA-Z0-9])*");
  static const StringRule rule{0, 63, &re, "^[a-zA-Z0-9](-*[a-zA-Z0-9])*"};
  return rule;
}

const StringRule& Patterns::NameContains() {
  static const std::regex re("[a-zA-Z0-9-]+");
  static const StringRule rule{0, 63, &re, "[a-zA-Z0-9-]+"};
  return rule;
}

Field::Field(const json& object, Validator& v, std::string path)
    : obj_(&object), v_(&v), path_(std::move(path)) {}

std::string Field::PathOf(const char* member) const {
  return path_.empty() ? LowerCamel(member) : path_ + "." + LowerCamel(member);
}

bool Field::Has(const char* member) const {
  auto it = obj_->find(member);
  return it != obj_->end() && !it->is_null();
}

std::optional<std::string> Field::String(const char* member, bool required,
                                         const StringRule& rule) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) {
    if (required) v_->Violation(PathOf(member), "null", "Member must not be null");
    return std::nullopt;
  }
  if (!it->is_string()) {
    v_->WrongType(PathOf(member), "a string");
    return std::nullopt;
  }
  std::string s = it->get<std::string>();
  bool good = true;
  if (s.size() < rule.min) {
    v_->Violation(PathOf(member), Quote(s),
                  fmt::format("Member must have length greater than or equal to {}", rule.min));
    good = false;
  }
  if (s.size() > rule.max) {
    v_->Violation(PathOf(member), Quote(s),
                  fmt::format("Member must have length less than or equal to {}", rule.max));
    good = false;
  }
  // Only bounded strings reach std::regex: its backtracking recurses per character.
  if (good && rule.pattern && !std::regex_match(s, *rule.pattern)) {
    v_->Violation(
        PathOf(member), Quote(s),
        fmt::format("Member must satisfy regular expression pattern: {}", rule.pattern_text));
    good = false;
  }
  if (!good) return std::nullopt;
  return s;
}

std::optional<int64_t> Field::Int(const char* member, bool required, int64_t min, int64_t max) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) {
    if (required) v_->Violation(PathOf(member), "null", "Member must not be null");
    return std::nullopt;
  }
  int64_t value = 0;
  if (it->is_number_integer()) {
    value = it->get<int64_t>();
  } else if (it->is_number_float() && std::isfinite(it->get<double>()) &&
             std::trunc(it->get<double>()) == it->get<double>() &&
             std::fabs(it->get<double>()) < 9e15) {
    value = static_cast<int64_t>(it->get<double>());
  } else {
    v_->WrongType(PathOf(member), "an integer");
    return std::nullopt;
  }
  if (value < min) {
    v_->Violation(PathOf(member), Quote(std::to_string(value)),
                  fmt::format("Member must have value greater than or equal to {}", min));
    return std::nullopt;
  }
  if (value > max) {
    v_->Violation(PathOf(member), Quote(std::to_string(value)),
                  fmt::format("Member must have value less than or equal to {}", max));
    return std::nullopt;
  }
  return value;
}

std::optional<double> Field::Double(const char* member, bool required, double min) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) {
    if (required) v_->Violation(PathOf(member), "null", "Member must not be null");
    return std::nullopt;
  }
  if (!it->is_number()) {
    v_->WrongType(PathOf(member), "a number");
    return std::nullopt;
  }
  double value = it->get<double>();
  if (!std::isfinite(value) || value < min) {
    v_->Violation(PathOf(member), Quote(fmt::format("{}", value)),
                  fmt::format("Member must have value greater than or equal to {}", min));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Field::Bool(const char* member) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) {
    v_->WrongType(PathOf(member), "a boolean");
    return std::nullopt;
  }
  return it->get<bool>();
}

std::optional<WallTime> Field::Time(const char* member) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) return std::nullopt;
  if (it->is_number()) {
    double seconds = it->get<double>();
    if (std::isfinite(seconds) && std::fabs(seconds) < 1e12) return FromEpochSeconds(seconds);
  } else if (it->is_string()) {
    if (auto t = ParseIso8601(it->get<std::string>())) return t;
  }
  v_->WrongType(PathOf(member), "a timestamp (epoch seconds)");
  return std::nullopt;
}

std::optional<std::string> Field::Enum(const char* member, bool required,
                                       const std::vector<std::string>& allowed) {
  auto value = String(member, required);
  if (!value) return std::nullopt;
  for (const auto& a : allowed) {
    if (a == *value) return value;
  }
  std::string set;
  for (size_t i = 0; i < allowed.size(); ++i) set += (i ? ", " : "") + allowed[i];
  v_->Violation(PathOf(member), Quote(*value),
                fmt::format("Member must satisfy enum value set: [{}]", set));
  return std::nullopt;
}

std::optional<Field> Field::Object(const char* member, bool required) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) {
    if (required) v_->Violation(PathOf(member), "null", "Member must not be null");
    return std::nullopt;
  }
  if (!it->is_object()) {
    v_->WrongType(PathOf(member), "a structure");
    return std::nullopt;
  }
  return Field(*it, *v_, PathOf(member));
}

std::optional<std::vector<Field>> Field::List(const char* member, bool required, size_t min,
                                              size_t max) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) {
    if (required) v_->Violation(PathOf(member), "null", "Member must not be null");
    return std::nullopt;
  }
  if (!it->is_array()) {
    v_->WrongType(PathOf(member), "a list");
    return std::nullopt;
  }
  if (it->size() < min) {
    v_->Violation(PathOf(member), "[]",
                  fmt::format("Member must have length greater than or equal to {}", min));
    return std::nullopt;
  }
  if (it->size() > max) {
    v_->Violation(PathOf(member), "[...]",
                  fmt::format("Member must have length less than or equal to {}", max));
    return std::nullopt;
  }
  std::vector<Field> out;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& e = (*it)[i];
    std::string p = fmt::format("{}.{}.member", PathOf(member), i + 1);
    if (!e.is_object()) {
      v_->WrongType(p, "a structure");
      return std::nullopt;
    }
    out.emplace_back(e, *v_, p);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> Field::StringMap(
    const char* member, size_t max_entries) {
  auto it = obj_->find(member);
  if (it == obj_->end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) {
    v_->WrongType(PathOf(member), "a map");
    return std::nullopt;
  }
  if (it->size() > max_entries) {
    v_->Violation(PathOf(member), "{...}",
                  fmt::format("Member must have length less than or equal to {}", max_entries));
    return std::nullopt;
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, val] : it->items()) {
    if (!val.is_string()) {
      v_->WrongType(PathOf(member) + "." + k, "a string");
      return std::nullopt;
    }
    out.emplace_back(k, val.get<std::string>());
  }
  return out;
}

Result<json> ParseBody(std::string_view body) {
  if (body.empty()) return json::object();
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Code::kSerialization, "The request body is not valid JSON.");
  if (!j.is_object()) {
    return Status(Code::kSerialization, "The request body must be a JSON object.");
  }
  return j;
}

}  // namespace thaw::control
