#pragma once
// Request validation in AWS's (Coral's) words. A Validator collects every constraint violation of
// one request and turns them into one ValidationException message:
//   "2 validation errors detected: Value '8192' at 'productionVariants.1.member.serverlessConfig
//    .memorySizeInMB' failed to satisfy constraint: Member must have value less than or equal to
//    6144; Value null at 'endpointName' failed to satisfy constraint: Member must not be null"
// A member of the wrong JSON type is a SerializationException instead, as AWS answers it.
//
// Field is a cursor over one JSON object with the Coral path of that object; its getters record
// problems in the Validator and return nullopt, so handlers read a request top to bottom and check
// `validator.status()` once.

#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace thaw::control {

using nlohmann::json;

class Validator {
 public:
  // Records "Value {value} at '{path}' failed to satisfy constraint: {constraint}".
  void Violation(const std::string& path, const std::string& shown_value,
                 const std::string& constraint);
  void WrongType(const std::string& path, const char* expected);
  void Fail(Status status);  // a non-Coral error (first one wins)

  bool ok() const { return violations_.empty() && !serialization_ && first_other_.ok(); }
  Status status() const;

 private:
  std::vector<std::string> violations_;
  std::optional<std::string> serialization_;
  Status first_other_;
};

struct StringRule {
  size_t min = 0;
  size_t max = SIZE_MAX;
  const std::regex* pattern = nullptr;  // full match
  const char* pattern_text = nullptr;   // as AWS prints it
};

// The model's patterns, shared by every operation.
struct Patterns {
  static const StringRule& ResourceName();  // endpoint, endpoint-config and variant names
  static const StringRule& ModelName();
  static const StringRule& NameContains();
};

class Field {
 public:
  // `object` must outlive the Field. `path` is the Coral path prefix ("" at top level).
  Field(const json& object, Validator& v, std::string path = "");

  bool Has(const char* member) const;
  std::optional<std::string> String(const char* member, bool required, const StringRule& rule = {});
  std::optional<int64_t> Int(const char* member, bool required, int64_t min, int64_t max);
  std::optional<double> Double(const char* member, bool required, double min);
  std::optional<bool> Bool(const char* member);
  std::optional<WallTime> Time(const char* member);
  // One of `allowed`; the violation lists them as AWS does ("Member must satisfy enum value set").
  std::optional<std::string> Enum(const char* member, bool required,
                                  const std::vector<std::string>& allowed);
  // A nested object, or nullopt when absent (or wrong type, recorded).
  std::optional<Field> Object(const char* member, bool required);
  // The elements of a list (each an object cursor), with length bounds.
  std::optional<std::vector<Field>> List(const char* member, bool required, size_t min, size_t max);
  // A string→string map, with an entry bound.
  std::optional<std::vector<std::pair<std::string, std::string>>> StringMap(const char* member,
                                                                            size_t max_entries);

  const json& raw() const { return *obj_; }
  const std::string& path() const { return path_; }
  Validator& validator() const { return *v_; }
  std::string PathOf(const char* member) const;

 private:
  const json* obj_;
  Validator* v_;
  std::string path_;
};

// The top-level body must be a JSON object; `{}` for operations without parameters.
Result<json> ParseBody(std::string_view body);

}  // namespace thaw::control
