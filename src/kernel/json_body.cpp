#include <eshop/json_body.hpp>
#include <eshop/json_number.hpp>


#include <charconv>
#include <cstdint>

namespace eshop::http {
namespace {

bool is_json_media_type(std::string_view content_type) {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || (lower.starts_with("application/") && lower.ends_with("+json"));
}

// Deepest nesting of arrays and objects, counted without parsing (strings skipped).
bool nested_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

Result<nlohmann::json> json_object_body(const Request& request) {
  if (!request.body.empty() && !is_json_media_type(request.header("Content-Type")))
    return fail(Error::make(ErrorCode::unsupported_media_type, "The request body must be application/json."));
  if (request.body.empty()) return fail(Error::make(ErrorCode::bad_request, "A JSON object body is required."));
  if (nested_deeper_than(request.body, kMaxJsonDepth))
    return fail(Error::make(ErrorCode::bad_request, "The JSON body is nested deeper than 64 levels."));
  auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return fail(Error::make(ErrorCode::bad_request, "The request body is not valid JSON."));
  if (!body.is_object()) return fail(Error::make(ErrorCode::bad_request, "The request body must be a JSON object."));
  return body;
}

bool FieldReader::has(const std::string& field) const {
  const auto it = object_.find(field);
  return it != object_.end() && !it->is_null();
}

const nlohmann::json* FieldReader::field(const std::string& name, bool required, const char* /*what*/) {
  const auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) error(name, "is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> FieldReader::string(const std::string& name, bool required) {
  const auto* v = field(name, required, "string");
  if (!v) return std::nullopt;
  if (!v->is_string()) {
    error(name, "must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::int64_t> FieldReader::integer(const std::string& name, bool required) {
  const auto* v = field(name, required, "integer");
  if (!v) return std::nullopt;
  if (auto n = as_whole_number(*v)) return n;
  error(name, "must be a whole number");
  return std::nullopt;
}

const nlohmann::json* FieldReader::object(const std::string& name, bool required) {
  const auto* v = field(name, required, "object");
  if (v && !v->is_object()) {
    error(name, "must be an object");
    return nullptr;
  }
  return v;
}

Result<std::optional<std::int64_t>> query_integer(const Request& request, std::string_view name) {
  const auto text = request.query(name);
  if (!text) return std::optional<std::int64_t>{};
  std::int64_t value = 0;
  const auto* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc{} || ptr != end)
    return fail(Error::invalid_field(std::string(name), "must be a whole number"));
  return std::optional<std::int64_t>{value};
}

}  // namespace eshop::http
