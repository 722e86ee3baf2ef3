#include "control/list_query.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/arn.h"
#include "common/hash.h"

namespace thaw::control {
namespace {

// A string whose lexicographic order is the item's order under `sort_by`, ties broken by name.
std::string SortKey(const ListItem& item, const std::string& sort_by) {
  std::string key;
  if (sort_by == "Name") {
    key = ToLower(item.name);
  } else if (sort_by == "Status") {
    key = item.status;
  } else {
    key = fmt::format("{:020}", ToEpochMicros(item.creation_time) + (int64_t{1} << 62));
  }
  return key + '\x01' + ToLower(item.name);
}

}  // namespace

ListParams ReadListParams(Field& body, const std::vector<std::string>& sort_keys,
                          bool endpoint_filters) {
  ListParams p;
  if (auto v = body.Enum("SortBy", false, sort_keys)) p.sort_by = *v;
  if (auto v = body.Enum("SortOrder", false, {"Ascending", "Descending"})) {
    p.ascending = *v == "Ascending";
  }
  if (auto v = body.Int("MaxResults", false, 1, 100)) p.max_results = static_cast<size_t>(*v);
  p.next_token = body.String("NextToken", false, {0, 8192});
  p.name_contains = body.String("NameContains", false, Patterns::NameContains());
  p.creation_before = body.Time("CreationTimeBefore");
  p.creation_after = body.Time("CreationTimeAfter");
  if (endpoint_filters) {
    p.modified_before = body.Time("LastModifiedTimeBefore");
    p.modified_after = body.Time("LastModifiedTimeAfter");
    p.status_equals = body.Enum("StatusEquals", false,
                                {"OutOfService", "Creating", "Updating", "SystemUpdating",
                                 "RollingBack", "InService", "Deleting", "Failed"});
  }
  return p;
}

Result<ListPage> Paginate(std::vector<ListItem> items, const ListParams& p) {
  std::string after;  // the sort key of the last item of the previous page
  if (p.next_token && !p.next_token->empty()) {
    auto raw = Base64Decode(*p.next_token);
    auto token = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
    if (!token.is_object() || !token.contains("k") || !token["k"].is_string() ||
        token.value("s", "") != p.sort_by || token.value("a", false) != p.ascending) {
      return InvalidArgument("Invalid pagination token.");
    }
    after = token["k"].get<std::string>();
  }

  std::string needle = p.name_contains ? ToLower(*p.name_contains) : "";
  std::vector<std::pair<std::string, const ListItem*>> keyed;
  keyed.reserve(items.size());
  for (const ListItem& it : items) {
    if (!needle.empty() && ToLower(it.name).find(needle) == std::string::npos) continue;
    if (p.creation_before && !(it.creation_time < *p.creation_before)) continue;
    if (p.creation_after && !(it.creation_time >= *p.creation_after)) continue;
    if (p.modified_before && !(it.last_modified_time < *p.modified_before)) continue;
    if (p.modified_after && !(it.last_modified_time >= *p.modified_after)) continue;
    if (p.status_equals && it.status != *p.status_equals) continue;
    keyed.emplace_back(SortKey(it, p.sort_by), &it);
  }
  std::sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return p.ascending ? a.first < b.first : a.first > b.first;
  });

  ListPage page;
  auto it = keyed.begin();
  if (!after.empty()) {
    it = std::find_if(keyed.begin(), keyed.end(), [&](const auto& k) {
      return p.ascending ? k.first > after : k.first < after;
    });
  }
  for (; it != keyed.end() && page.items.size() < p.max_results; ++it) {
    page.items.push_back(it->second->summary);
  }
  if (it != keyed.end() && !page.items.empty()) {
    nlohmann::json token = {{"s", p.sort_by}, {"a", p.ascending}, {"k", std::prev(it)->first}};
    page.next_token = Base64Encode(token.dump());
  }
  return page;
}

}  // namespace thaw::control
