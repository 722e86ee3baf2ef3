#include "store/migrations.h"

#include <array>

namespace thaw::store {
namespace {

// Times are epoch microseconds. name_key is the lower-cased name: AWS names are unique
// case-insensitively (the ARN carries the lower-cased name).
constexpr std::array kMigrations = {
    Migration{1, R"sql(
      CREATE TABLE models (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        creation_time INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE TABLE endpoint_configs (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        creation_time INTEGER NOT NULL,
        doc TEXT NOT NULL
      );
      CREATE TABLE endpoints (
        name_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        config_name TEXT NOT NULL,
        status TEXT NOT NULL,
        failure_reason TEXT NOT NULL DEFAULT '',
        creation_time INTEGER NOT NULL,
        last_modified_time INTEGER NOT NULL,
        current_doc TEXT NOT NULL DEFAULT '',
        pending_doc TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        generation INTEGER NOT NULL
      );
    )sql"},
    // Metrics (issue 5): one row per series (namespace, metric, exact dimension set) and one per
    // series-minute holding metrics::Aggregate's bytes. `minute` is epoch seconds / 60.
    Migration{2, R"sql(
      CREATE TABLE metric_series (
        series_key TEXT PRIMARY KEY,
        namespace TEXT NOT NULL,
        metric_name TEXT NOT NULL,
        dimensions TEXT NOT NULL,
        unit TEXT NOT NULL,
        last_minute INTEGER NOT NULL
      );
      CREATE TABLE metric_minutes (
        series_key TEXT NOT NULL,
        minute INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (series_key, minute)
      ) WITHOUT ROWID;
      CREATE INDEX metric_minutes_by_minute ON metric_minutes (minute);
    )sql"},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace thaw::store
