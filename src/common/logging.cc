#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace thaw {
namespace {

std::mutex g_mu;  // guards g_level and logger creation
spdlog::level::level_enum g_level = spdlog::level::info;

}  // namespace

bool InitLogging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(g_mu);
  g_level = lvl;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %-8n %v", spdlog::pattern_time_type::utc);
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& l) { l->set_level(lvl); });
  return true;
}

std::shared_ptr<spdlog::logger> Logger(const std::string& component) {
  if (auto existing = spdlog::get(component)) return existing;
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_color_mt(component);
  logger->set_level(g_level);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %-8n %v", spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace thaw
