#pragma once
// The committed XGBoost fixtures (tests/fixtures/xgboost, made by make_fixtures.py) and a file
// reader shared by the worker tests.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace thaw::testing {

inline const std::filesystem::path kFixtures = THAW_XGB_FIXTURES;

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace thaw::testing
