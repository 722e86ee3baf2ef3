// Store: the metric tables (migration 2). Same connection and lock as the rest of the store;
// the metrics thread writes one transaction every few seconds.

#include <sqlite3.h>

#include "store/sqlite_util.h"
#include "store/store.h"

namespace thaw::store {

Status Store::MergeMetrics(const std::vector<MetricSeriesRow>& series,
                           const std::vector<MetricMinuteRow>& minutes, const MetricMerge& merge) {
  std::lock_guard lock(mu_);
  if (!db_) return {Code::kUnavailable, "the database is closed"};
  Transaction tx(db_);
  THAW_RETURN_IF_ERROR(tx.begin_status());
  {
    Statement upsert(db_,
                     "INSERT INTO metric_series (series_key, namespace, metric_name, dimensions, "
                     "unit, last_minute) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (series_key) DO "
                     "UPDATE SET last_minute = max(last_minute, excluded.last_minute)");
    for (const MetricSeriesRow& r : series) {
      upsert.Bind(1, r.series_key)
          .Bind(2, r.ns)
          .Bind(3, r.metric_name)
          .Bind(4, r.dimensions)
          .Bind(5, r.unit)
          .Bind(6, r.last_minute);
      THAW_RETURN_IF_ERROR(upsert.Run());
      upsert.Reset();
    }
  }
  Statement read(db_, "SELECT data FROM metric_minutes WHERE series_key = ? AND minute = ?");
  Statement write(db_,
                  "INSERT OR REPLACE INTO metric_minutes (series_key, minute, data) "
                  "VALUES (?, ?, ?)");
  for (const MetricMinuteRow& r : minutes) {
    read.Bind(1, r.series_key).Bind(2, r.minute);
    auto row = read.Step();
    if (!row.ok()) return row.status();
    std::string data = *row ? merge(read.ColumnBlob(0), r.data) : r.data;
    read.Reset();
    write.Bind(1, r.series_key).Bind(2, r.minute).BindBlob(3, data);
    THAW_RETURN_IF_ERROR(write.Run());
    write.Reset();
  }
  return tx.Commit();
}

Result<std::vector<MetricMinuteRow>> Store::ReadMetricMinutes(const std::string& series_key,
                                                              int64_t from, int64_t to) {
  std::lock_guard lock(mu_);
  if (!db_) return Status(Code::kUnavailable, "the database is closed");
  Statement s(db_,
              "SELECT minute, data FROM metric_minutes WHERE series_key = ? AND minute >= ? AND "
              "minute < ? ORDER BY minute");
  s.Bind(1, series_key).Bind(2, from).Bind(3, to);
  std::vector<MetricMinuteRow> out;
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({series_key, s.ColumnInt(0), s.ColumnBlob(1)});
  }
  return out;
}

Result<std::vector<MetricSeriesRow>> Store::ListMetricSeries() {
  std::lock_guard lock(mu_);
  if (!db_) return Status(Code::kUnavailable, "the database is closed");
  Statement s(db_,
              "SELECT series_key, namespace, metric_name, dimensions, unit, last_minute FROM "
              "metric_series ORDER BY series_key");
  std::vector<MetricSeriesRow> out;
  while (true) {
    auto row = s.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back({s.ColumnText(0), s.ColumnText(1), s.ColumnText(2), s.ColumnText(3),
                   s.ColumnText(4), s.ColumnInt(5)});
  }
  return out;
}

Status Store::DeleteMetricsBefore(int64_t minute) {
  std::lock_guard lock(mu_);
  if (!db_) return {Code::kUnavailable, "the database is closed"};
  Transaction tx(db_);
  THAW_RETURN_IF_ERROR(tx.begin_status());
  Statement minutes(db_, "DELETE FROM metric_minutes WHERE minute < ?");
  minutes.Bind(1, minute);
  THAW_RETURN_IF_ERROR(minutes.Run());
  Statement series(db_, "DELETE FROM metric_series WHERE last_minute < ?");
  series.Bind(1, minute);
  THAW_RETURN_IF_ERROR(series.Run());
  return tx.Commit();
}

}  // namespace thaw::store
