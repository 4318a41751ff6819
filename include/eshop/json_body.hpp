#pragma once
// Reading JSON request bodies and fields with the API's rules (415, 400, 422).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <eshop/error.hpp>
#include <eshop/http.hpp>

namespace eshop::http {

inline constexpr int kMaxJsonDepth = 64;

// The body as a JSON object: 415 for another content type, 400 for malformed JSON,
// JSON nested deeper than kMaxJsonDepth, or a body that is not an object.
Result<nlohmann::json> json_object_body(const Request& request);

// Collects field errors while reading an object; absent optional fields stay nullopt.
class FieldReader final {
 public:
  explicit FieldReader(const nlohmann::json& object) : object_(object) {}
  std::optional<std::string> string(const std::string& field, bool required);
  std::optional<std::int64_t> integer(const std::string& field, bool required);
  const nlohmann::json* object(const std::string& field, bool required);
  bool has(const std::string& field) const;
  void error(const std::string& field, std::string message) { errors_[field].push_back(std::move(message)); }
  bool ok() const { return errors_.empty(); }
  Error to_error() const { return Error::invalid(errors_); }

 private:
  const nlohmann::json* field(const std::string& name, bool required, const char* what);
  const nlohmann::json& object_;
  FieldErrors errors_;
};

// A query parameter as a whole number, with a 422 naming the parameter otherwise.
Result<std::optional<std::int64_t>> query_integer(const Request& request, std::string_view name);

}  // namespace eshop::http
