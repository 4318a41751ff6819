#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "adapters/durable_file.hpp"
#include "adapters/file_mail_sender.hpp"

using namespace eshop;

namespace {

struct ScratchDir {
  std::filesystem::path path;
  ScratchDir() {
    std::string t = (std::filesystem::temp_directory_path() / "eshop-mail-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

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

TEST_CASE("a sent mail is one whole .eml file, and sending it again changes nothing", "[mail][unit]") {
  ScratchDir scratch;
  const auto dir = scratch.path / "mail";  // made at the first send
  adapters::FileMailSender mail{dir, "shop <orders@eshop.local>"};
  mail.send({"order-1", "ann@example.com", "Ann", "Your order", "Thanks\nAnn"});
  const auto first = read_all(dir / "order-1.eml");
  CHECK(first.starts_with("From: shop <orders@eshop.local>\r\nTo: Ann <ann@example.com>\r\nSubject: Your order\r\n"));
  CHECK(first.ends_with("\r\n\r\nThanks\r\nAnn\r\n"));
  mail.send({"order-1", "ann@example.com", "Ann", "Another subject", "Other text"});
  CHECK(read_all(dir / "order-1.eml") == first);
  CHECK(names_in(dir) == std::vector<std::string>{"order-1.eml"});  // no temporary file left
}

TEST_CASE("senders at the same time each get their own whole file", "[mail][unit]") {
  ScratchDir scratch;
  adapters::FileMailSender mail{scratch.path, "shop <orders@eshop.local>"};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t)
    senders.emplace_back([&mail, t] {
      for (int i = 0; i < 25; ++i) {
        const auto id = "order-" + std::to_string(t * 25 + i);
        mail.send({id, "ann@example.com", "", "Order " + id, "Text of " + id});
      }
    });
  for (auto& s : senders) s.join();
  const auto names = names_in(scratch.path);
  REQUIRE(names.size() == 200);
  for (int n = 0; n < 200; ++n) {
    const auto id = "order-" + std::to_string(n);
    CHECK(read_all(scratch.path / (id + ".eml")).ends_with("\r\n\r\nText of " + id + "\r\n"));
  }
}

TEST_CASE("a mail directory that cannot be made is an error that names it", "[mail][unit]") {
  ScratchDir scratch;
  std::ofstream(scratch.path / "file") << "not a directory";
  adapters::FileMailSender mail{scratch.path / "file" / "mail", "shop <orders@eshop.local>"};
  try {
    mail.send({"order-1", "ann@example.com", "", "Your order", "Thanks"});
    FAIL("send did not throw");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find((scratch.path / "file" / "mail").string()) != std::string::npos);
  }
}

TEST_CASE("a directory that cannot be synced is an error that names it", "[mail][unit]") {
  ScratchDir scratch;
  adapters::sync_directory(scratch.path);  // a directory that exists: synced, no error
  const auto missing = scratch.path / "gone";
  try {
    adapters::sync_directory(missing);
    FAIL("sync_directory did not throw");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENOENT);
    CHECK(std::string(e.what()) == "could not open the directory " + missing.string() + ": No such file or directory");
  }
}
