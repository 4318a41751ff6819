#include <catch2/catch.hpp>

#include "support/test_database.hpp"

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <eshop/crypto.hpp>

#include "identity/src/password.hpp"
#include "identity/src/service.hpp"
#include "identity/src/validation.hpp"

using namespace eshop;
using namespace eshop::identity;

namespace eshop::identity {
std::span<const Migration> migrations();
}

TEST_CASE("emails are normalized and checked", "[identity][unit]") {
  CHECK(normalize_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com");
  CHECK(is_valid_email("ann@example.com"));
  CHECK(is_valid_email("a.b+tag@sub.example.co.uk"));
  CHECK_FALSE(is_valid_email("ann@example"));
  CHECK_FALSE(is_valid_email("annexample.com"));
  CHECK_FALSE(is_valid_email("ann@@example.com"));
  CHECK_FALSE(is_valid_email("an n@example.com"));
  CHECK_FALSE(is_valid_email(".ann@example.com"));
  CHECK_FALSE(is_valid_email("ann@example..com"));
}

TEST_CASE("a registration needs a valid email, 8 characters of password and a name", "[identity][unit]") {
  CHECK(validate_registration("ann@example.com", "12345678", "Ann").empty());
  CHECK(validate_registration("ann@example.com", "1234567", "Ann") ==
        FieldErrors{{"password", {"must be at least 8 characters"}}});
  CHECK(validate_registration("bad", "12345678", " ") ==
        FieldErrors{{"email", {"must be a valid email address"}}, {"name", {"must not be empty"}}});
  // Characters, not bytes: eight two-byte letters are a valid password, seven are not.
  CHECK(validate_registration("a@b.co", "ääääääää", "A").empty());
  CHECK_FALSE(validate_registration("a@b.co", "äääääää", "A").empty());
}

TEST_CASE("passwords are stored as Argon2id hashes that verify only the right password", "[identity][unit]") {
  const PasswordHasher hasher(2, 19 * 1024 * 1024);  // the production cost
  const auto hash = hasher.hash("correct horse");
  CHECK(hash.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
  CHECK(hash.find("correct horse") == std::string::npos);
  CHECK(hasher.verify(hash, "correct horse"));
  CHECK_FALSE(hasher.verify(hash, "correct horsE"));
  CHECK(hasher.hash("correct horse") != hash);  // salted
}

TEST_CASE("tokens are 256 random bits, base64url, and stored as SHA-256", "[identity][unit]") {
  const auto a = crypto::random_token(32);
  const auto b = crypto::random_token(32);
  CHECK(a.size() == 43);
  CHECK(a != b);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  CHECK(crypto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const auto uuid = crypto::new_uuid();
  CHECK(uuid.size() == 36);
  CHECK(uuid[14] == '4');
}

namespace {

struct Fixture {
  test::TestDatabase db = test::open_test_database("identity");
  ManualClock clock{*parse_rfc3339("2026-11-24T10:00:00Z")};
  std::unique_ptr<IdentityService> service;
  Fixture() {
    db->migrate(migrations());
    Settings s;
    s.token_ttl = std::chrono::hours(24);
    s.password_ops_limit = 1;
    s.password_mem_limit = 8 * 1024 * 1024;
    service = std::make_unique<IdentityService>(*db, clock, s);
  }
};

}  // namespace

TEST_CASE("a token expires after its time to live", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("Ann@Example.com", "password-1", "Ann"));
  const auto login = f.service->login("ann@example.com", "password-1");
  REQUIRE(login);
  CHECK(to_rfc3339(login->expires_at) == "2026-11-25T10:00:00Z");
  CHECK(f.service->authenticate(login->token)->email == "ann@example.com");
  f.clock.advance(std::chrono::hours(24) - std::chrono::seconds(1));
  CHECK(f.service->authenticate(login->token));
  f.clock.advance(std::chrono::seconds(1));
  CHECK_FALSE(f.service->authenticate(login->token));
}

TEST_CASE("a logged-out token stops working and others keep working", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("ann@example.com", "password-1", "Ann"));
  const auto first = f.service->login("ann@example.com", "password-1");
  const auto second = f.service->login("ann@example.com", "password-1");
  f.service->logout(first->token);
  CHECK_FALSE(f.service->authenticate(first->token));
  CHECK(f.service->authenticate(second->token));
}

TEST_CASE("wrong password and unknown email fail the same way", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("ann@example.com", "password-1", "Ann"));
  const auto wrong = f.service->login("ann@example.com", "password-2");
  const auto unknown = f.service->login("bob@example.com", "password-1");
  REQUIRE_FALSE(wrong);
  REQUIRE_FALSE(unknown);
  CHECK(wrong.error().code == ErrorCode::unauthorized);
  CHECK(wrong.error().detail == unknown.error().detail);
}

TEST_CASE("an email is registered once, whatever its case", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("ann@example.com", "password-1", "Ann"));
  const auto again = f.service->register_user("ANN@example.com", "password-2", "Ann Two");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::conflict);
}

TEST_CASE("the configured admin account is created with the admin role", "[identity][unit]") {
  Fixture f;
  CHECK(f.service->ensure_admin("Boss@example.com", "boss-password", false) == AdminOutcome::created);
  const auto login = f.service->login("boss@example.com", "boss-password");
  REQUIRE(login);
  CHECK(login->user.roles == std::vector<std::string>{"admin", "customer"});
  CHECK(f.service->ensure_admin("boss@example.com", "boss-password", false) == AdminOutcome::unchanged);
  CHECK(f.service->authenticate(login->token));  // nothing changed, nothing revoked
}

TEST_CASE("an account that registered the admin address is not promoted without confirmation", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("boss@example.com", "squatter-pw", "Squatter"));
  const auto squatter = f.service->login("boss@example.com", "squatter-pw");
  REQUIRE(squatter);
  CHECK(f.service->ensure_admin("boss@example.com", "boss-password", false) == AdminOutcome::refused);
  const auto still = f.service->authenticate(squatter->token);
  REQUIRE(still);
  CHECK(still->roles == std::vector<std::string>{"customer"});
  CHECK_FALSE(f.service->login("boss@example.com", "boss-password"));
}

TEST_CASE("a confirmed promotion sets the configured password and revokes the account's sessions",
          "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("boss@example.com", "old-password", "Boss"));
  const auto before = f.service->login("boss@example.com", "old-password");
  REQUIRE(before);
  CHECK(f.service->ensure_admin("boss@example.com", "new-password", true) == AdminOutcome::promoted);
  CHECK_FALSE(f.service->authenticate(before->token));
  CHECK_FALSE(f.service->login("boss@example.com", "old-password"));
  const auto login = f.service->login("boss@example.com", "new-password");
  REQUIRE(login);
  CHECK(login->user.roles == std::vector<std::string>{"customer", "admin"});
  // From now on the account is the setting's own: later starts need no confirmation.
  CHECK(f.service->ensure_admin("boss@example.com", "new-password", false) == AdminOutcome::unchanged);
}

TEST_CASE("rotating the admin password revokes the admin's sessions", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->ensure_admin("boss@example.com", "first-password", false) == AdminOutcome::created);
  const auto old_session = f.service->login("boss@example.com", "first-password");
  REQUIRE(old_session);
  CHECK(f.service->ensure_admin("boss@example.com", "second-password", false) == AdminOutcome::password_changed);
  CHECK_FALSE(f.service->authenticate(old_session->token));
  CHECK_FALSE(f.service->login("boss@example.com", "first-password"));
  CHECK(f.service->login("boss@example.com", "second-password"));
}

TEST_CASE("failed logins of one account wait progressively longer, whoever sends them", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("ann@example.com", "password-1", "Ann"));
  for (int i = 0; i < 5; ++i) REQUIRE(f.service->login("ann@example.com", "wrong-guess").error().code ==
                                      ErrorCode::unauthorized);
  // The fifth failure costs a second; during it even the right password is not tried.
  auto refused = f.service->login("ann@example.com", "password-1");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::too_many_requests);
  CHECK(refused.error().retry_after == 1);
  CHECK(refused.error().detail == "Too many failed logins for this account; retry after 1 s.");
  // Another account is not affected.
  CHECK(f.service->login("bob@example.com", "x").error().code == ErrorCode::unauthorized);
  // Each further failure doubles the wait: 2, 4, 8, 16, 32, then 60 s at most.
  const std::vector<int> waits = {2, 4, 8, 16, 32, 60, 60};
  f.clock.advance(std::chrono::seconds(1));
  for (const int wait : waits) {
    REQUIRE(f.service->login("ann@example.com", "wrong-guess").error().code == ErrorCode::unauthorized);
    const auto during = f.service->login("ann@example.com", "password-1");
    REQUIRE_FALSE(during);
    CHECK(during.error().retry_after == wait);
    f.clock.advance(std::chrono::seconds(wait - 1));
    CHECK(f.service->login("ann@example.com", "password-1").error().retry_after == 1);
    f.clock.advance(std::chrono::seconds(1));
  }
  // The real user gets in after the wait, and a success forgets the failures.
  REQUIRE(f.service->login("ann@example.com", "password-1"));
  for (int i = 0; i < 4; ++i) REQUIRE(f.service->login("ann@example.com", "wrong-guess").error().code ==
                                      ErrorCode::unauthorized);
  CHECK(f.service->login("ann@example.com", "password-1"));
}

TEST_CASE("failed logins are forgotten 15 minutes after the last one", "[identity][unit]") {
  Fixture f;
  REQUIRE(f.service->register_user("ann@example.com", "password-1", "Ann"));
  for (int i = 0; i < 4; ++i) REQUIRE(f.service->login("ann@example.com", "wrong").error().code ==
                                      ErrorCode::unauthorized);
  f.clock.advance(std::chrono::minutes(15));
  // Counting starts again: four more failures are still free.
  for (int i = 0; i < 4; ++i) REQUIRE(f.service->login("ann@example.com", "wrong").error().code ==
                                      ErrorCode::unauthorized);
  CHECK(f.service->login("ann@example.com", "password-1"));
}

TEST_CASE("fast UUIDs are well-formed version 4 and distinct", "[kernel][unit]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = crypto::fast_uuid();
    REQUIRE(id.size() == 36);
    CHECK(id[8] == '-');
    CHECK(id[13] == '-');
    CHECK(id[14] == '4');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("version 7 UUIDs carry the time, sort by it, and are distinct", "[kernel][unit]") {
  const auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.push_back(crypto::new_uuid_v7());
  const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& id : ids) {
    REQUIRE(id.size() == 36);
    CHECK(id[14] == '7');
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);
    const auto ms = std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16);
    CHECK(ms >= before);
    CHECK(ms <= after);
  }
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 1000);
  // Made a millisecond apart, they sort in the order they were made.
  const auto first = crypto::new_uuid_v7();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  CHECK(first < crypto::new_uuid_v7());
  // The prefix of a moment: its millisecond, as those ids carry it.
  const std::chrono::system_clock::time_point t{std::chrono::milliseconds(0x019ae5c2f3a4)};
  CHECK(crypto::uuid_v7_prefix(t) == "019ae5c2-f3a4-");
  CHECK(crypto::uuid_v7_prefix(t - std::chrono::milliseconds(1)) == "019ae5c2-f3a3-");
  CHECK(crypto::uuid_v7_prefix(std::chrono::system_clock::now() - std::chrono::milliseconds(5)) < crypto::new_uuid_v7());
}

TEST_CASE("ids drawn from the per-thread pool of random bytes never repeat, across threads or a fork",
          "[kernel][unit]") {
  // Four threads, each with its own pool, 500 ids each (about ten refills per thread).
  std::vector<std::vector<std::string>> made(4);
  {
    std::vector<std::thread> threads;
    for (auto& ids : made)
      threads.emplace_back([&ids] {
        for (int i = 0; i < 250; ++i) {
          ids.push_back(crypto::new_uuid_v7());
          ids.push_back(crypto::new_uuid());
        }
      });
    for (auto& t : threads) t.join();
  }
  std::set<std::string> all;
  for (const auto& ids : made) all.insert(ids.begin(), ids.end());
  CHECK(all.size() == 2000);

  // A forked child must not hand out the bytes its parent's pool still holds: the random part (after
  // the version digit) of the child's next ids differs from the parent's next ones.
  (void)crypto::new_uuid_v7();  // this thread's pool now holds bytes for about 50 more ids
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::string out;
    for (int i = 0; i < 5; ++i) out += crypto::new_uuid_v7().substr(15) + "\n";
    (void)!::write(pipe_fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string from_child;
  char buffer[256];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) from_child.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(from_child.size() == 5 * 22);
  for (int i = 0; i < 5; ++i) {
    const auto parent_tail = crypto::new_uuid_v7().substr(15);
    CHECK(from_child.find(parent_tail) == std::string::npos);
  }
}
