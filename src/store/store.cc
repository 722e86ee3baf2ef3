#include "store/store.h"

#include <sqlite3.h>

#include "common/arn.h"
#include "common/logging.h"
#include "store/migrations.h"
#include "store/sqlite_util.h"

namespace thaw::store {
namespace {

std::string NameKey(std::string_view name) { return ToLower(name); }

const char* Table(ResourceKind kind) {
  return kind == ResourceKind::kModel ? "models" : "endpoint_configs";
}

Status Closed() { return {Code::kUnavailable, "the database is closed"}; }

constexpr const char* kEndpointColumns =
    "name, config_name, status, failure_reason, creation_time, last_modified_time, current_doc, "
    "pending_doc, tags, generation";

EndpointRecord ReadEndpoint(const Statement& s) {
  EndpointRecord r;
  r.name = s.ColumnText(0);
  r.config_name = s.ColumnText(1);
  r.status = s.ColumnText(2);
  r.failure_reason = s.ColumnText(3);
  r.creation_time = FromEpochMicros(s.ColumnInt(4));
  r.last_modified_time = FromEpochMicros(s.ColumnInt(5));
  r.current_doc = s.ColumnText(6);
  r.pending_doc = s.ColumnText(7);
  r.tags = s.ColumnText(8);
  r.generation = s.ColumnInt(9);
  return r;
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqliteError(db, "open " + path.string());
    sqlite3_close(db);
    return st;
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  // WAL keeps readers off the writer's back; synchronous=FULL makes a COMMIT durable before we
  // acknowledge it, even across power loss.
  THAW_RETURN_IF_ERROR(Exec(db,
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                            "PRAGMA foreign_keys=ON;"));
  THAW_RETURN_IF_ERROR(store->Migrate());
  return store;
}

Store::Store(sqlite3* db) : db_(db) {}

Store::~Store() { Close(); }

void Store::Close() {
  std::lock_guard lock(mu_);
  if (db_ == nullptr) return;
  (void)Exec(db_, "PRAGMA wal_checkpoint(TRUNCATE);");
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

int Store::SchemaVersion() {
  std::lock_guard lock(mu_);
  if (!db_) return -1;
  Statement s(db_, "PRAGMA user_version");
  auto row = s.Step();
  return row.ok() && *row ? static_cast<int>(s.ColumnInt(0)) : -1;
}

Status Store::Migrate() {
  std::lock_guard lock(mu_);
  for (const Migration& m : Migrations()) {
    Transaction txn(db_);
    THAW_RETURN_IF_ERROR(txn.begin_status());
    Statement v(db_, "PRAGMA user_version");
    THAW_ASSIGN_OR_RETURN(bool has_row, v.Step());
    int current = has_row ? static_cast<int>(v.ColumnInt(0)) : 0;
    if (current >= m.version) continue;
    if (current != m.version - 1) {
      return Internal("schema version " + std::to_string(current) + " cannot migrate to " +
                      std::to_string(m.version));
    }
    THAW_RETURN_IF_ERROR(Exec(db_, m.sql));
    THAW_RETURN_IF_ERROR(Exec(db_, ("PRAGMA user_version=" + std::to_string(m.version)).c_str()));
    THAW_RETURN_IF_ERROR(txn.Commit());
    Logger("store")->info("migrated schema to version {}", m.version);
  }
  return Status::Ok();
}

Status Store::InsertResource(ResourceKind kind, const ResourceRecord& r) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("INSERT INTO ") + Table(kind) +
                       " (name_key, name, creation_time, doc) VALUES (?, ?, ?, ?)");
  s.Bind(1, NameKey(r.name)).Bind(2, r.name).Bind(3, ToEpochMicros(r.creation_time)).Bind(4, r.doc);
  return s.Run();
}

Result<std::optional<ResourceRecord>> Store::GetResource(ResourceKind kind,
                                                         const std::string& name) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("SELECT name, creation_time, doc FROM ") + Table(kind) +
                       " WHERE name_key = ?");
  s.Bind(1, NameKey(name));
  THAW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<ResourceRecord>();
  return std::optional<ResourceRecord>(
      ResourceRecord{s.ColumnText(0), FromEpochMicros(s.ColumnInt(1)), s.ColumnText(2)});
}

Result<std::vector<ResourceRecord>> Store::ListResources(ResourceKind kind) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("SELECT name, creation_time, doc FROM ") + Table(kind));
  std::vector<ResourceRecord> out;
  while (true) {
    THAW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({s.ColumnText(0), FromEpochMicros(s.ColumnInt(1)), s.ColumnText(2)});
  }
  return out;
}

Result<bool> Store::DeleteResource(ResourceKind kind, const std::string& name) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("DELETE FROM ") + Table(kind) + " WHERE name_key = ?");
  s.Bind(1, NameKey(name));
  THAW_RETURN_IF_ERROR(s.Run());
  return sqlite3_changes(db_) > 0;
}

Status Store::InsertEndpoint(const EndpointRecord& r) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("INSERT INTO endpoints (name_key, ") + kEndpointColumns +
                       ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, NameKey(r.name))
      .Bind(2, r.name)
      .Bind(3, r.config_name)
      .Bind(4, r.status)
      .Bind(5, r.failure_reason)
      .Bind(6, ToEpochMicros(r.creation_time))
      .Bind(7, ToEpochMicros(r.last_modified_time))
      .Bind(8, r.current_doc)
      .Bind(9, r.pending_doc)
      .Bind(10, r.tags)
      .Bind(11, r.generation);
  return s.Run();
}

Result<std::optional<EndpointRecord>> Store::GetEndpoint(const std::string& name) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_,
              std::string("SELECT ") + kEndpointColumns + " FROM endpoints WHERE name_key = ?");
  s.Bind(1, NameKey(name));
  THAW_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return std::optional<EndpointRecord>();
  return std::optional<EndpointRecord>(ReadEndpoint(s));
}

Result<std::vector<EndpointRecord>> Store::ListEndpoints() {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Statement s(db_, std::string("SELECT ") + kEndpointColumns + " FROM endpoints");
  std::vector<EndpointRecord> out;
  while (true) {
    THAW_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadEndpoint(s));
  }
  return out;
}

Status Store::UpdateEndpoint(const EndpointRecord& r, int64_t expected_generation) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  Transaction txn(db_);
  THAW_RETURN_IF_ERROR(txn.begin_status());
  Statement check(db_, "SELECT generation FROM endpoints WHERE name_key = ?");
  check.Bind(1, NameKey(r.name));
  THAW_ASSIGN_OR_RETURN(bool row, check.Step());
  if (!row) return NotFound("endpoint " + r.name + " is gone");
  if (check.ColumnInt(0) != expected_generation) {
    return FailedPrecondition("endpoint " + r.name + " changed concurrently");
  }
  Statement s(db_,
              "UPDATE endpoints SET config_name = ?, status = ?, failure_reason = ?, "
              "last_modified_time = ?, current_doc = ?, pending_doc = ?, tags = ?, generation = ? "
              "WHERE name_key = ?");
  s.Bind(1, r.config_name)
      .Bind(2, r.status)
      .Bind(3, r.failure_reason)
      .Bind(4, ToEpochMicros(r.last_modified_time))
      .Bind(5, r.current_doc)
      .Bind(6, r.pending_doc)
      .Bind(7, r.tags)
      .Bind(8, r.generation)
      .Bind(9, NameKey(r.name));
  THAW_RETURN_IF_ERROR(s.Run());
  return txn.Commit();
}

Result<bool> Store::DeleteEndpoint(const std::string& name,
                                   std::optional<int64_t> expected_generation) {
  std::lock_guard lock(mu_);
  if (!db_) return Closed();
  if (expected_generation) {
    Statement s(db_, "DELETE FROM endpoints WHERE name_key = ? AND generation = ?");
    s.Bind(1, NameKey(name)).Bind(2, *expected_generation);
    THAW_RETURN_IF_ERROR(s.Run());
  } else {
    Statement s(db_, "DELETE FROM endpoints WHERE name_key = ?");
    s.Bind(1, NameKey(name));
    THAW_RETURN_IF_ERROR(s.Run());
  }
  return sqlite3_changes(db_) > 0;
}

}  // namespace thaw::store
