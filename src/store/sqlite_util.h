#pragma once
// Small RAII helpers over the SQLite C API, private to the store module.

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace thaw::store {

Status SqliteError(sqlite3* db, std::string_view what);

// A prepared statement, finalised on destruction. Bind indexes are 1-based as in SQLite.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const Status& prepare_status() const { return prepare_status_; }
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, int64_t value);
  Statement& BindBlob(int index, std::string_view bytes);
  // SQLITE_ROW → true, SQLITE_DONE → false, anything else → error.
  Result<bool> Step();
  Status Run();  // steps to completion
  // Ready to run again with new bindings.
  void Reset();
  std::string ColumnText(int col) const;
  int64_t ColumnInt(int col) const;
  std::string ColumnBlob(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  Status prepare_status_;
};

Status Exec(sqlite3* db, const char* sql);

// BEGIN IMMEDIATE … COMMIT, rolled back unless Commit() ran.
class Transaction {
 public:
  explicit Transaction(sqlite3* db);
  ~Transaction();
  const Status& begin_status() const { return begin_; }
  Status Commit();

 private:
  sqlite3* db_;
  Status begin_;
  bool done_ = false;
};

}  // namespace thaw::store
