#include "app/client_address.hpp"

#include <eshop/text.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace eshop::app {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A hop as a proxy writes it: "1.2.3.4", "1.2.3.4:5678", "[2001:db8::1]:80", "2001:db8::1", or in
// Forwarded a quoted string of those. Returns the bare address.
std::string_view strip_hop(std::string_view hop) {
  hop = trim(hop);
  if (hop.size() >= 2 && hop.front() == '"' && hop.back() == '"') hop = hop.substr(1, hop.size() - 2);
  if (!hop.empty() && hop.front() == '[') {
    const auto close = hop.find(']');
    return close == std::string_view::npos ? std::string_view{} : hop.substr(1, close - 1);
  }
  if (std::count(hop.begin(), hop.end(), ':') == 1) return hop.substr(0, hop.find(':'));  // IPv4 with a port
  return hop;
}

// The hops one header line names, left to right.
void hops_of(std::string_view value, bool forwarded, std::vector<std::string_view>& out) {
  while (!value.empty()) {
    const auto comma = value.find(',');
    std::string_view element = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    if (!forwarded) {
      out.push_back(strip_hop(element));
      continue;
    }
    std::string_view found;  // Forwarded: for=... among ';'-separated pairs
    while (!element.empty()) {
      const auto semi = element.find(';');
      const auto pair = trim(element.substr(0, semi));
      element = semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && iequals(trim(pair.substr(0, eq)), "for"))
        found = strip_hop(pair.substr(eq + 1));
    }
    out.push_back(found);
  }
}

}  // namespace

bool Network::contains(const std::array<std::uint8_t, 16>& address) const {
  const int whole = prefix / 8;
  if (std::memcmp(bytes.data(), address.data(), static_cast<std::size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (bytes[whole] & mask) == (address[whole] & mask);
}

std::optional<std::array<std::uint8_t, 16>> parse_address(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  std::array<std::uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    out[10] = out[11] = 0xFF;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  if (inet_pton(AF_INET6, buf, out.data()) == 1) return out;
  return std::nullopt;
}

std::optional<Network> parse_network(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = parse_address(text.substr(0, slash));
  if (!address) return std::nullopt;
  const bool v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  Network n{*address, 128};
  if (slash == std::string_view::npos) return n;
  const auto digits = text.substr(slash + 1);
  int bits = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
  if (ec != std::errc{} || end != digits.data() + digits.size() || bits < 0 || bits > (v4 ? 32 : 128))
    return std::nullopt;
  n.prefix = v4 ? 96 + bits : bits;
  return n;
}

ClientAddress::ClientAddress(const std::vector<std::string>& trusted, std::string header) : header_(std::move(header)) {
  for (const auto& t : trusted)
    if (auto n = parse_network(t)) trusted_.push_back(*n);
}

bool ClientAddress::trusted(std::string_view address) const {
  const auto bytes = parse_address(address);
  return bytes && std::any_of(trusted_.begin(), trusted_.end(), [&](const Network& n) { return n.contains(*bytes); });
}

std::string ClientAddress::of(std::string_view peer, const http::Headers& headers) const {
  if (trusted_.empty() || !trusted(peer)) return std::string(peer);
  std::vector<std::string_view> hops;
  const bool forwarded = header_ == "Forwarded";
  for (const auto& [name, value] : headers.fields())  // every line of the header, in order
    if (iequals(name, header_)) hops_of(value, forwarded, hops);
  std::string_view client = peer;
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    // A hop that is no address ("unknown", an obfuscated name, garbage) ends the walk: the last
    // trusted hop is as close to the client as anyone can tell.
    if (!parse_address(*it)) break;
    client = *it;
    if (!trusted(client)) break;
  }
  return std::string(client);
}

}  // namespace eshop::app
