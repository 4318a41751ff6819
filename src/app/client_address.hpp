#pragma once
// Who a request really comes from. Behind a reverse proxy or a load balancer every peer is the
// proxy; only a peer listed as trusted is believed when it names the client in X-Forwarded-For (or
// RFC 7239's Forwarded). The client is the rightmost hop that is not a trusted proxy: hops to its
// left were written by the client itself and may be spoofed.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <eshop/http.hpp>

namespace eshop::app {

// An IPv4 or IPv6 network: "10.0.0.0/8", "::1/128"; a bare address is a network of one.
struct Network {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d)
  int prefix = 128;                     // in IPv6 bits
  bool contains(const std::array<std::uint8_t, 16>& address) const;
};

std::optional<Network> parse_network(std::string_view text);
// An address as 16 bytes (IPv4 mapped), or nullopt when `text` is not an IP address.
std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text);

class ClientAddress final {
 public:
  // `trusted`: addresses or networks (validated by config); `header`: "X-Forwarded-For" or "Forwarded".
  ClientAddress(const std::vector<std::string>& trusted, std::string header);

  // The client's address for a request that arrived from `peer` with `headers`.
  std::string of(std::string_view peer, const http::Headers& headers) const;

 private:
  bool trusted(std::string_view address) const;

  std::vector<Network> trusted_;
  std::string header_;
};

}  // namespace eshop::app
