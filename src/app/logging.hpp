#pragma once
// One JSON object per log line on stdout, written in batches by a background thread.
#include <string>
#include <string_view>

namespace eshop::app {

void init_logging(const std::string& level);
// Writes what is buffered now (the writer thread does it every 100 ms anyway).
void flush_logs();
// A JSON string literal, quotes included.
std::string json_quote(std::string_view text);
void log_request(std::string_view request_id, std::string_view client, std::string_view method,
                 std::string_view route, std::string_view module, int status, double duration_ms);

}  // namespace eshop::app
