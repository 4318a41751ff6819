#include <eshop/paging.hpp>

#include <charconv>

namespace eshop::http {
namespace {

std::optional<std::int64_t> whole(const std::string& s) {
  std::int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Paging read_paging(const Request& request, FieldErrors& errors) {
  Paging p;
  if (const auto page = request.query("page")) {
    const auto v = whole(*page);
    if (!v || *v < 1) errors["page"].push_back("must be a whole number, 1 or more");
    else p.page = *v;
  }
  if (const auto size = request.query("pageSize")) {
    const auto v = whole(*size);
    if (!v || *v < 1 || *v > kMaxPageSize) errors["pageSize"].push_back("must be a whole number from 1 to 100");
    else p.page_size = *v;
  }
  return p;
}

}  // namespace eshop::http
