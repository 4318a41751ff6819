#include "app/logging.hpp"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace eshop::app {

void init_logging(const std::string& level) {
  static std::once_flag once;
  std::call_once(once, [] {
    spdlog::init_thread_pool(8192, 1);
    // Never block a request on a slow stdout: under overload the oldest lines are dropped.
    auto logger = spdlog::create_async_nb<spdlog::sinks::stdout_sink_mt>("eshop");
    logger->set_pattern("{\"time\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
    logger->flush_on(spdlog::level::warn);
    spdlog::set_default_logger(logger);
    spdlog::flush_every(std::chrono::seconds(1));
  });
  spdlog::set_level(spdlog::level::from_str(level));
}

std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out.push_back(static_cast<char>(c));
    }
  }
  out += '"';
  return out;
}

void log_request(std::string_view request_id, std::string_view method, std::string_view route,
                 std::string_view module, int status, double duration_ms) {
  spdlog::info("\"msg\":\"request\",\"requestId\":{},\"method\":{},\"route\":{},\"module\":{},\"status\":{},"
               "\"durationMs\":{:.3f}",
               json_quote(request_id), json_quote(method), json_quote(route), json_quote(module), status, duration_ms);
}

}  // namespace eshop::app
