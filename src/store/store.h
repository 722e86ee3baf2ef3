#pragma once
// The only code in thaw that includes sqlite3.h. One SQLite database in WAL mode holds every
// control-plane resource; each public mutating method is exactly one transaction, and returns only
// after COMMIT, so a caller may acknowledge the mutation to a client once it returns OK.
//
// Thread-safety: every method may be called from any thread; calls are serialised on one
// connection by `mu_`. Control-plane traffic is small; metrics get their own batching later.

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

struct sqlite3;

namespace thaw::store {

// Models and endpoint configs share one shape: a name and the JSON document the API echoes.
enum class ResourceKind { kModel, kEndpointConfig };

struct ResourceRecord {
  std::string name;  // as the user spelled it; uniqueness is case-insensitive
  WallTime creation_time;
  std::string doc;  // JSON text
};

struct EndpointRecord {
  std::string name;
  std::string config_name;
  std::string status;  // EndpointStatus wire name
  std::string failure_reason;
  WallTime creation_time;
  WallTime last_modified_time;
  std::string current_doc;  // JSON snapshot of what serves now ("" while first Creating)
  std::string pending_doc;  // JSON snapshot being deployed ("" when no job is pending)
  std::string tags;         // JSON array
  int64_t generation = 0;   // bumped by every accepted mutation; jobs carry it to detect staleness
};

// Metrics (issue 5). The store keeps them as opaque bytes: metrics::Aggregate owns the format
// and tells the store how to merge two of them.
struct MetricSeriesRow {
  std::string series_key;  // metrics::SeriesKey::Canonical()
  std::string ns;
  std::string metric_name;
  std::string dimensions;  // JSON [{"Name","Value"}…], sorted by name
  std::string unit;
  int64_t last_minute = 0;  // the newest minute with data
};

struct MetricMinuteRow {
  std::string series_key;
  int64_t minute = 0;  // epoch seconds / 60
  std::string data;
};

using MetricMerge = std::function<std::string(std::string_view stored, std::string_view delta)>;

class Store {
 public:
  // Opens (creating if needed) `path`, switches to WAL and runs pending migrations.
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The schema version after migrations (PRAGMA user_version).
  int SchemaVersion();

  // kAlreadyExists when a resource of that kind exists with the same name, ignoring case.
  Status InsertResource(ResourceKind kind, const ResourceRecord& record);
  Result<std::optional<ResourceRecord>> GetResource(ResourceKind kind, const std::string& name);
  Result<std::vector<ResourceRecord>> ListResources(ResourceKind kind);
  // Returns whether a row was deleted.
  Result<bool> DeleteResource(ResourceKind kind, const std::string& name);

  Status InsertEndpoint(const EndpointRecord& record);
  Result<std::optional<EndpointRecord>> GetEndpoint(const std::string& name);
  Result<std::vector<EndpointRecord>> ListEndpoints();
  // Replaces the row when its generation equals `expected_generation`; kFailedPrecondition
  // otherwise (a newer mutation won) or kNotFound when the row is gone.
  Status UpdateEndpoint(const EndpointRecord& record, int64_t expected_generation);
  Result<bool> DeleteEndpoint(const std::string& name, std::optional<int64_t> expected_generation);

  // One transaction: upserts `series` (last_minute only grows) and merges each of `minutes`
  // into its stored row with `merge` (or inserts it).
  Status MergeMetrics(const std::vector<MetricSeriesRow>& series,
                      const std::vector<MetricMinuteRow>& minutes, const MetricMerge& merge);
  // The rows of one series with from <= minute < to, in minute order.
  Result<std::vector<MetricMinuteRow>> ReadMetricMinutes(const std::string& series_key,
                                                         int64_t from, int64_t to);
  Result<std::vector<MetricSeriesRow>> ListMetricSeries();
  // Retention: deletes minutes older than `minute`, and series with no newer data.
  Status DeleteMetricsBefore(int64_t minute);

  // Closes the database (checkpointing the WAL). Later calls fail with kUnavailable.
  void Close();

 private:
  explicit Store(sqlite3* db);
  Status Migrate();

  std::mutex mu_;  // guards db_ and every statement on it
  sqlite3* db_;
};

}  // namespace thaw::store
