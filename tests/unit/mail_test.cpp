#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

namespace {

std::uintmax_t size_of(const std::filesystem::path& p) { return std::filesystem::file_size(p); }

// Runs `f` in a child process that ends without running any destructor, as a crash would.
void in_a_process_that_crashes(const std::function<void()>& f) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    try {
      f();
    } catch (...) {
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

}  // namespace

TEST_CASE("with a journal, a sent mail is the same whole .eml file, and the journal is emptied at the end",
          "[mail][unit]") {
  ScratchDir scratch;
  const auto dir = scratch.path / "mail", journal = scratch.path / "journal";
  std::string first;
  {
    adapters::FileMailSender mail{dir, "shop <orders@eshop.local>", journal};
    mail.send({"order-1", "ann@example.com", "Ann", "Your order", "Thanks\nAnn"});
    first = read_all(dir / "order-1.eml");
    CHECK(first.starts_with("From: shop <orders@eshop.local>\r\nTo: Ann <ann@example.com>\r\nSubject: Your order\r\n"));
    CHECK(first.ends_with("\r\n\r\nThanks\r\nAnn\r\n"));
    CHECK(size_of(journal / "a") == 20 + 7 + first.size());  // header, id, text: until the file system is synced
    CHECK(size_of(journal / "b") == 0);
    mail.send({"order-1", "ann@example.com", "Ann", "Another subject", "Other text"});
    CHECK(read_all(dir / "order-1.eml") == first);
    CHECK(size_of(journal / "a") == 20 + 7 + first.size());  // sent before: not journaled again
  }
  CHECK(names_in(dir) == std::vector<std::string>{"order-1.eml"});
  CHECK(names_in(journal) == std::vector<std::string>{"a", "b"});
  CHECK(size_of(journal / "a") == 0);
  CHECK(size_of(journal / "b") == 0);
  CHECK(read_all(dir / "order-1.eml") == first);
}

TEST_CASE("after a crash, the journal's messages are written again, whole, and a torn record is dropped",
          "[mail][unit]") {
  ScratchDir scratch;
  const auto dir = scratch.path / "mail", journal = scratch.path / "journal";
  in_a_process_that_crashes([&] {
    auto* mail = new adapters::FileMailSender{dir, "shop <orders@eshop.local>", journal};  // never destroyed
    for (int i = 1; i <= 3; ++i)
      mail->send({"order-" + std::to_string(i), "ann@example.com", "Ann", "Order " + std::to_string(i), "Thanks"});
  });
  const auto second = read_all(dir / "order-2.eml");
  const auto third = read_all(dir / "order-3.eml");
  REQUIRE(size_of(journal / "a") > 0);
  // What a power cut could leave of files that were never synced: one gone, one cut short.
  std::filesystem::remove(dir / "order-2.eml");
  std::filesystem::resize_file(dir / "order-3.eml", 10);
  {
    std::ofstream torn(journal / "a", std::ios::binary | std::ios::app);
    torn << "EMJ1\x07";  // a record cut short after five bytes
  }
  adapters::FileMailSender mail{dir, "shop <orders@eshop.local>", journal};
  CHECK(read_all(dir / "order-2.eml") == second);
  CHECK(read_all(dir / "order-3.eml") == third);
  CHECK(names_in(dir) == std::vector<std::string>{"order-1.eml", "order-2.eml", "order-3.eml"});
  CHECK(size_of(journal / "a") == 0);  // written again and synced: nothing left to keep
  mail.send({"order-4", "ann@example.com", "Ann", "Order 4", "Thanks"});
  CHECK(read_all(dir / "order-4.eml").ends_with("\r\n\r\nThanks\r\n"));
}

TEST_CASE("with a journal, many senders at once each get their own whole file, across the journal's two files",
          "[mail][unit]") {
  ScratchDir scratch;
  const auto dir = scratch.path / "mail", journal = scratch.path / "journal";
  const std::string text(2000, 'x');  // 8 x 250 messages of ~2.3 KB: past the 2 MiB after which the other file is used
  {
    adapters::FileMailSender mail{dir, "shop <orders@eshop.local>", journal};
    std::vector<std::thread> senders;
    for (int t = 0; t < 8; ++t)
      senders.emplace_back([&mail, &text, t] {
        for (int i = 0; i < 250; ++i) {
          const auto id = "order-" + std::to_string(t * 250 + i);
          mail.send({id, "ann@example.com", "", "Order " + id, id + text});
        }
      });
    for (auto& s : senders) s.join();
    // The first file filled up and the rest went to the second: `a` holds at most 2 MiB and the
    // batch that crossed it (8 messages), not all 4.6 MB.
    CHECK(size_of(journal / "a") <= (2u << 20) + 8 * (20 + 10 + 2400));
  }
  const auto names = names_in(dir);
  REQUIRE(names.size() == 2000);
  for (int n = 0; n < 2000; ++n) {
    const auto id = "order-" + std::to_string(n);
    CHECK(read_all(dir / (id + ".eml")).ends_with("\r\n\r\n" + id + text + "\r\n"));
  }
  CHECK(size_of(journal / "a") == 0);
  CHECK(size_of(journal / "b") == 0);
}

TEST_CASE("a journal another sender has is not shared: the second syncs each message itself", "[mail][unit]") {
  ScratchDir scratch;
  const auto dir = scratch.path / "mail", journal = scratch.path / "journal";
  adapters::FileMailSender first{dir, "shop <orders@eshop.local>", journal};
  adapters::FileMailSender second{dir, "shop <orders@eshop.local>", journal};
  second.send({"order-2", "ann@example.com", "Ann", "Order 2", "Thanks"});
  CHECK(read_all(dir / "order-2.eml").ends_with("\r\n\r\nThanks\r\n"));
  CHECK(size_of(journal / "a") == 0);  // not journaled
  first.send({"order-1", "ann@example.com", "Ann", "Order 1", "Thanks"});
  CHECK(size_of(journal / "a") > 0);
}

TEST_CASE("a mail journal that cannot be made is an error that names it", "[mail][unit]") {
  ScratchDir scratch;
  std::ofstream(scratch.path / "file") << "not a directory";
  try {
    adapters::FileMailSender mail{scratch.path / "mail", "shop <orders@eshop.local>", scratch.path / "file" / "journal"};
    FAIL("the sender was made");
  } catch (const std::filesystem::filesystem_error& e) {
    CHECK(std::string(e.what()).find((scratch.path / "file" / "journal").string()) != std::string::npos);
  }
}

TEST_CASE("after a crash, a message journaled in both files ends as the copy in the file written last", "[mail][unit]") {
  ScratchDir scratch;
  // Two journals, each left by a crash with one copy of order-9's mail.
  for (const auto* text : {"first", "second"}) {
    const auto dir = scratch.path / text;
    in_a_process_that_crashes([&] {
      auto* mail = new adapters::FileMailSender{dir / "mail", "shop <orders@eshop.local>", dir / "journal"};  // never destroyed
      mail->send({"order-9", "ann@example.com", "Ann", "Order 9", text});
    });
  }
  const auto first = read_all(scratch.path / "first" / "journal" / "a");
  const auto second = read_all(scratch.path / "second" / "journal" / "a");
  REQUIRE(first.size() > 0);
  REQUIRE(second.size() > 0);
  for (const bool a_last : {true, false}) {
    INFO("a written last: " << a_last);
    const auto dir = scratch.path / (a_last ? "a-last" : "b-last");
    std::filesystem::create_directories(dir / "journal");
    std::ofstream(dir / "journal" / "a", std::ios::binary) << (a_last ? second : first);
    std::ofstream(dir / "journal" / "b", std::ios::binary) << (a_last ? first : second);
    const timespec older[2] = {{1'000'000, 0}, {1'000'000, 0}}, newer[2] = {{2'000'000, 0}, {2'000'000, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (dir / "journal" / "a").c_str(), a_last ? newer : older, 0) == 0);
    REQUIRE(::utimensat(AT_FDCWD, (dir / "journal" / "b").c_str(), a_last ? older : newer, 0) == 0);
    adapters::FileMailSender mail{dir / "mail", "shop <orders@eshop.local>", dir / "journal"};
    CHECK(read_all(dir / "mail" / "order-9.eml").ends_with("\r\n\r\nsecond\r\n"));
  }
}
