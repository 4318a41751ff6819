#include <eshop/crypto.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <pthread.h>
#include <sodium.h>

namespace eshop::crypto {
namespace {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
    return true;
  }();
  (void)ready;
}

// Sets the version and the RFC 9562 variant bits of `b`, and formats it 8-4-4-4-12 in lower-case hex.
std::string uuid_text(std::array<unsigned char, 16> b, unsigned version) {
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  std::size_t pos = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
    out[pos++] = kHex[b[i] >> 4];
    out[pos++] = kHex[b[i] & 0xf];
  }
  return out;
}

// A version 7 UUID's first six bytes: the Unix time of `t` in milliseconds, big-endian.
void put_v7_time(std::array<unsigned char, 16>& b, std::chrono::system_clock::time_point t) {
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
}

// Bumped in a forked child, so that no two processes hand out the same pooled bytes.
std::atomic<unsigned> fork_generation{0};

// Random bytes from the OS's generator (libsodium), fetched 512 at a time per thread, as
// arc4random and libsodium's own internal generator do: one getrandom(2) per 32 to 51 ids instead
// of one per id or token (an order's ids, charge and card tokens took about 14 system calls, each a
// trip into this virtual machine's kernel). The bytes are the same; only when they are fetched
// changes. Bytes handed out are wiped from the pool, so no past token can be read back from it;
// requests larger than the pool go to the OS directly.
void random_bytes(unsigned char* out, std::size_t n) {
  static const bool hooked = [] {
    ensure_sodium();
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)hooked;
  struct Pool {
    std::array<unsigned char, 512> bytes{};
    std::size_t used = sizeof bytes;
    unsigned generation = 0;
    ~Pool() { sodium_memzero(bytes.data(), bytes.size()); }
  };
  thread_local Pool pool;
  if (n > pool.bytes.size()) {
    randombytes_buf(out, n);
    return;
  }
  const unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.used + n > pool.bytes.size() || pool.generation != generation) {
    randombytes_buf(pool.bytes.data(), pool.bytes.size());
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes.data() + pool.used, n);
  sodium_memzero(pool.bytes.data() + pool.used, n);
  pool.used += n;
}

}  // namespace

std::string new_uuid() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), b.size());
  return uuid_text(b, 4);
}

std::string new_uuid_v7() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data() + 6, b.size() - 6);  // the first six bytes are the time
  put_v7_time(b, std::chrono::system_clock::now());
  return uuid_text(b, 7);
}

std::string uuid_v7_prefix(std::chrono::system_clock::time_point t) {
  std::array<unsigned char, 16> b{};
  put_v7_time(b, t);
  return uuid_text(b, 7).substr(0, 14);
}

std::string fast_uuid() {
  // xoshiro256** per thread, seeded once from libsodium.
  thread_local std::array<std::uint64_t, 4> state = [] {
    ensure_sodium();
    std::array<std::uint64_t, 4> s{};
    randombytes_buf(s.data(), sizeof s);
    return s;
  }();
  auto next = [] {
    auto rotl = [](std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    const std::uint64_t result = rotl(state[1] * 5, 7) * 9;
    const std::uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
  };
  std::array<unsigned char, 16> b{};
  const std::uint64_t hi = next(), lo = next();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (8 * i));
  }
  return uuid_text(b, 4);
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(raw.data()), raw.size());
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.size() - 1);  // drop the terminating NUL
  return out;
}

std::string sha256_hex(std::string_view data) {
  ensure_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.resize(digest.size() * 2);
  return hex;
}

}  // namespace eshop::crypto
