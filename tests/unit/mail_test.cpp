#include <catch2/catch.hpp>

#include <algorithm>

#include "adapters/file_mail_sender.hpp"

using namespace eshop;

namespace {

std::string to_header(const std::string& name, const std::string& address = "ann@example.com") {
  const auto text = adapters::to_rfc5322({"order-1", address, name, "Your order", "Thanks"}, "shop <orders@eshop.local>",
                                         *parse_rfc3339("2026-11-24T10:00:00Z"));
  const auto start = text.find("\r\nTo: ") + 2;
  return text.substr(start, text.find("\r\n", start) - start);
}

}  // namespace

TEST_CASE("a plain display name goes out as words", "[mail][unit]") {
  CHECK(to_header("Ann Lee") == "To: Ann Lee <ann@example.com>");
  CHECK(to_header("") == "To: ann@example.com");
}

TEST_CASE("a display name with quotes and an address cannot add a recipient", "[mail][unit]") {
  const auto header = to_header("Eve\" <eve@evil.example>, \"X");
  CHECK(header == "To: =?UTF-8?B?RXZlIiA8ZXZlQGV2aWwuZXhhbXBsZT4sICJY?= <ann@example.com>");
  CHECK(std::count(header.begin(), header.end(), '<') == 1);
  CHECK(std::count(header.begin(), header.end(), '@') == 1);
}

TEST_CASE("line breaks in a name cannot start a header", "[mail][unit]") {
  CHECK(to_header("Ann\r\nBcc: eve@evil.example") == "To: =?UTF-8?B?QW5uICBCY2M6IGV2ZUBldmlsLmV4YW1wbGU=?= <ann@example.com>");
}

TEST_CASE("a long non-ASCII name is split into encoded words of at most 75 characters", "[mail][unit]") {
  std::string name;
  for (int i = 0; i < 30; ++i) name += "Ä";  // 60 bytes of two-byte characters
  const auto header = to_header(name);
  CHECK(header == "To: =?UTF-8?B?w4TDhMOEw4TDhMOEw4TDhMOEw4TDhMOEw4TDhMOEw4TDhMOEw4TDhMOEw4Q=?= "
                  "=?UTF-8?B?w4TDhMOEw4TDhMOEw4TDhA==?= <ann@example.com>");
  CHECK(header.find("?= =?") == 4 + 72 - 2);  // after "To: ", a first word of 72 characters (75 allowed)
}

TEST_CASE("an address that is not one plain address is refused", "[mail][unit]") {
  CHECK_THROWS_AS(to_header("Ann", "ann@example.com, eve@evil.example"), std::invalid_argument);
  CHECK_THROWS_AS(to_header("Ann", "ann@example.com>\r\nBcc: eve@evil.example"), std::invalid_argument);
}
