// The JSON body reader (media type, depth limit, parse, object) and the field rules a handler
// applies, including the checkout's: the body a client controls completely.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <eshop/json_body.hpp>

#include "basket/src/checkout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  eshop::http::Request request;
  request.method = "POST";
  request.target = "/api/v1/basket/checkout";
  request.headers.add("Content-Type", "application/json; charset=utf-8");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  auto body = eshop::http::json_object_body(request);
  if (!body) return 0;
  eshop::http::FieldReader in(*body);
  (void)in.string("email", false);
  (void)in.string("name", false);
  (void)in.integer("productId", false);
  (void)in.integer("quantity", false);
  (void)in.object("shippingAddress", false);
  (void)in.to_error();
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(24 * 365 * 56));
  (void)eshop::basket::parse_checkout(*body, now);
  return 0;
}
