#pragma once
// Filtering, sorting and pagination shared by ListModels, ListEndpointConfigs and ListEndpoints.
// Pure: takes every item and the parsed parameters, returns one page. NextToken is opaque to the
// client and names the last item returned (keyset pagination), so a page stays correct when items
// are created or deleted between calls.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "control/validation.h"

namespace thaw::control {

struct ListItem {
  std::string name;
  WallTime creation_time;
  WallTime last_modified_time;  // endpoints only
  std::string status;           // endpoints only
  nlohmann::json summary;       // what the page shows for this item
};

struct ListParams {
  std::string sort_by = "CreationTime";
  bool ascending = false;
  size_t max_results = 10;
  std::optional<std::string> next_token;
  std::optional<std::string> name_contains;
  std::optional<WallTime> creation_before, creation_after;
  std::optional<WallTime> modified_before, modified_after;
  std::optional<std::string> status_equals;
};

// Reads the common list parameters. `sort_keys` are the SortBy values the operation allows;
// `endpoint_filters` enables LastModifiedTime* and StatusEquals.
ListParams ReadListParams(Field& body, const std::vector<std::string>& sort_keys,
                          bool endpoint_filters);

struct ListPage {
  std::vector<nlohmann::json> items;
  std::optional<std::string> next_token;
};

// kInvalidArgument for a NextToken this server did not issue for this sort.
Result<ListPage> Paginate(std::vector<ListItem> items, const ListParams& params);

}  // namespace thaw::control
