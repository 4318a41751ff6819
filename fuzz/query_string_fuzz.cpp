// Query strings: decoding (percent, plus), repeated parameters, whole numbers, and the catalog
// list's filters, sort and paging, which read every one of them.
#include <cstddef>
#include <cstdint>
#include <string>

#include <eshop/json_body.hpp>

#include "catalog/src/query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  eshop::http::Request request;
  request.method = "GET";
  request.target = "/api/v1/catalog/products?" + std::string(reinterpret_cast<const char*>(data), size);
  (void)request.query_all("brand");
  (void)request.query("q");
  (void)eshop::http::query_integer(request, "page");
  (void)eshop::http::parse_query(request.query_string());
  (void)eshop::http::percent_decode(request.query_string(), true);
  if (auto query = eshop::catalog::parse_list_query(request)) (void)query->cache_key();
  return 0;
}
