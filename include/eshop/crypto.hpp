#pragma once
// Randomness and hashing for ids and tokens (libsodium underneath).
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace eshop::crypto {

// A random RFC 4122 version 4 UUID, lower case.
std::string new_uuid();
// A random version 4 UUID from a fast per-thread generator (seeded from the OS): for request
// ids and other identifiers that must be unique, not secret. Never for tokens.
std::string fast_uuid();
// A version 7 UUID (RFC 9562): the Unix time in milliseconds, then random bits (libsodium). Ids
// made in time order sort in time order, so a database index takes them at its right edge instead
// of dirtying a random page per insert: for ids written at a high rate (orders, events).
std::string new_uuid_v7();
// The first 14 characters of the version 7 UUIDs made at `t` ("tttttttt-tttt-", its millisecond):
// every one made before that millisecond sorts below it, as text.
std::string uuid_v7_prefix(std::chrono::system_clock::time_point t);
// `bytes` random bytes, base64url without padding.
std::string random_token(std::size_t bytes = 32);
// SHA-256 of `data`, lower-case hex.
std::string sha256_hex(std::string_view data);

}  // namespace eshop::crypto
