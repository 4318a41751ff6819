#pragma once
// Helpers for a module's remote client: its interface implemented over HTTP against the process
// that hosts the module.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include <eshop/error.hpp>
#include <eshop/http.hpp>

namespace eshop::remote {

struct Endpoint {
  std::string host;
  std::uint16_t port = 80;
};

// "http://host:port" (a trailing slash allowed); nullopt for anything else.
std::optional<Endpoint> parse_base_url(const std::string& url);

// GET `target` from the module at `endpoint` and the JSON it answers. A 4xx problem becomes the
// matching Error; no answer (refused, timed out, 5xx) becomes ErrorCode::unavailable naming `module`.
Result<nlohmann::json> get_json(const Endpoint& endpoint, const std::string& module, const std::string& target,
                                const std::string& bearer = "",
                                std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace eshop::remote
