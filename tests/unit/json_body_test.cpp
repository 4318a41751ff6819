#include <catch2/catch.hpp>

#include <catalog/events.hpp>
#include <eshop/json_body.hpp>
#include <eshop/json_number.hpp>

using namespace eshop;
using namespace eshop::http;

namespace {

Request with_body(std::string body, std::string content_type = "application/json") {
  Request r;
  r.method = "POST";
  r.target = "/";
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  r.body = std::move(body);
  return r;
}

std::string nested(int depth) { return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}"; }

}  // namespace

TEST_CASE("a JSON object body is parsed", "[kernel][unit]") {
  const auto body = json_object_body(with_body(R"({"name":"x"})", "application/json; charset=utf-8"));
  REQUIRE(body);
  CHECK((*body)["name"] == "x");
}

TEST_CASE("a body of another media type is refused with 415", "[kernel][unit]") {
  const auto body = json_object_body(with_body(R"({"name":"x"})", "text/plain"));
  REQUIRE_FALSE(body);
  CHECK(body.error().code == ErrorCode::unsupported_media_type);
}

TEST_CASE("malformed JSON, an empty body or a non-object is a 400", "[kernel][unit]") {
  CHECK(json_object_body(with_body("{\"name\":")).error().code == ErrorCode::bad_request);
  CHECK(json_object_body(with_body("")).error().code == ErrorCode::bad_request);
  CHECK(json_object_body(with_body("[1,2]")).error().code == ErrorCode::bad_request);
}

TEST_CASE("JSON nested 64 levels is accepted, 65 is refused", "[kernel][unit]") {
  CHECK(json_object_body(with_body(nested(64))));
  const auto deep = json_object_body(with_body(nested(65)));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().code == ErrorCode::bad_request);
  CHECK(json_object_body(with_body(R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["})")));
}

TEST_CASE("field reader reports every wrong or missing field", "[kernel][unit]") {
  const auto j = nlohmann::json::parse(R"({"name":5,"price":"cheap","stock":3.0,"big":1.5})");
  FieldReader in(j);
  CHECK_FALSE(in.string("name", true));
  CHECK_FALSE(in.integer("price", true));
  CHECK(in.integer("stock", false) == 3);
  CHECK_FALSE(in.integer("big", false));
  CHECK_FALSE(in.string("missing", true));
  const auto e = in.to_error();
  CHECK(e.code == ErrorCode::validation);
  CHECK(e.fields == FieldErrors{{"big", {"must be a whole number"}},
                                {"missing", {"is required"}},
                                {"name", {"must be a string"}},
                                {"price", {"must be a whole number"}}});
}

TEST_CASE("a whole number written as a huge float is refused, not converted", "[kernel][unit]") {
  // Found by fuzzing: 9.26e25 was cast to int64 before its range was checked.
  const auto j = nlohmann::json::parse(R"({"q":9.26337e25,"r":-1e300,"s":12.0})");
  FieldReader in(j);
  CHECK_FALSE(in.integer("q", true));
  CHECK_FALSE(in.integer("r", true));
  CHECK(in.integer("s", true) == 12);
  CHECK(in.to_error().fields == FieldErrors{{"q", {"must be a whole number"}}, {"r", {"must be a whole number"}}});
}

TEST_CASE("whole numbers from another party's JSON are range-checked before any conversion", "[kernel][unit]") {
  // Found by fuzzing the event envelopes: a quantity of 4e77 reached nlohmann's unchecked cast.
  CHECK(whole_number(nlohmann::json::parse("42")) == 42);
  CHECK(whole_number(nlohmann::json::parse("-7.0")) == -7);
  CHECK(whole_number(nlohmann::json::parse("9223372036854775807")) == 9223372036854775807);
  CHECK_THROWS_AS(whole_number(nlohmann::json::parse("3.99867e+77")), std::invalid_argument);
  CHECK_THROWS_AS(whole_number(nlohmann::json::parse("18446744073709551615")), std::invalid_argument);
  CHECK_THROWS_AS(whole_number(nlohmann::json::parse("1.5")), std::invalid_argument);
  CHECK_THROWS_AS(whole_number(nlohmann::json::parse("\"3\"")), std::invalid_argument);
  const auto event = nlohmann::json::parse(R"({"productId":7,"name":"Boot","price":1999,"availableStock":4e77})");
  CHECK_THROWS_AS(event.get<catalog::events::ProductUpdated>(), std::invalid_argument);
}
