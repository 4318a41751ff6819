#include "images.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

namespace eshop::catalog {

namespace {

std::string escape_xml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<ImageKind> image_kind(std::string_view content_type) {
  const auto type = content_type.substr(0, content_type.find(';'));
  std::string lower;
  for (char c : type)
    if (c != ' ') lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "image/png") return ImageKind{"PNG", "image/png", "png"};
  if (lower == "image/jpeg") return ImageKind{"JPEG", "image/jpeg", "jpg"};
  if (lower == "image/webp") return ImageKind{"WebP", "image/webp", "webp"};
  if (lower == "image/gif") return ImageKind{"GIF", "image/gif", "gif"};
  return std::nullopt;
}

bool ImageKind::matches(std::string_view b) const {
  if (extension == "png") return b.starts_with(std::string_view("\x89PNG\r\n\x1a\n", 8));
  if (extension == "jpg") return b.starts_with("\xFF\xD8\xFF");
  if (extension == "gif") return b.starts_with("GIF87a") || b.starts_with("GIF89a");
  if (extension == "webp") return b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP";
  return false;
}

std::optional<std::string> product_svg(std::string_view file) {
  if (!file.ends_with(".svg")) return std::nullopt;
  const auto slug = file.substr(0, file.size() - 4);
  if (slug.empty() || slug.size() > 100 || slug.front() == '-' ||
      !std::all_of(slug.begin(), slug.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; }))
    return std::nullopt;
  std::vector<std::string> words;
  for (std::size_t start = 0; start < slug.size();) {
    const auto end = std::min(slug.find('-', start), slug.size());
    if (end > start) {
      std::string w(slug.substr(start, end - start));
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
      words.push_back(std::move(w));
    }
    start = end + 1;
  }
  std::uint32_t hash = 2166136261u;  // FNV-1a: the same name, the same colours
  for (char c : slug) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  const int hue = static_cast<int>(hash % 360), hue2 = (hue + 40) % 360;
  std::string initials;
  for (const auto& w : words)
    if (initials.size() < 2 && std::isalpha(static_cast<unsigned char>(w[0]))) initials += w[0];
  // The name on two lines at most, about 22 characters each.
  std::string lines[2];
  int line = 0;
  for (const auto& w : words) {
    if (!lines[line].empty() && lines[line].size() + 1 + w.size() > 22) {
      if (line == 1) {
        lines[1] += "…";
        break;
      }
      ++line;
    }
    lines[line] += (lines[line].empty() ? "" : " ") + w;
  }
  return fmt::format(
      R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300" role="img" aria-label="{name}">)svg"
      R"svg(<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl({h1},55%,62%)"/>)svg"
      R"svg(<stop offset="1" stop-color="hsl({h2},60%,38%)"/></linearGradient></defs>)svg"
      R"svg(<rect width="400" height="300" fill="url(#g)"/>)svg"
      R"svg(<circle cx="200" cy="118" r="64" fill="rgba(255,255,255,.18)"/>)svg"
      R"svg(<text x="200" y="140" text-anchor="middle" font-family="sans-serif" font-size="62" font-weight="700" fill="#fff">{initials}</text>)svg"
      R"svg(<text x="200" y="232" text-anchor="middle" font-family="sans-serif" font-size="22" fill="#fff">{l1}</text>)svg"
      R"svg(<text x="200" y="262" text-anchor="middle" font-family="sans-serif" font-size="22" fill="#fff">{l2}</text></svg>)svg",
      fmt::arg("name", escape_xml(lines[0] + (lines[1].empty() ? "" : " " + lines[1]))), fmt::arg("h1", hue),
      fmt::arg("h2", hue2), fmt::arg("initials", escape_xml(initials)), fmt::arg("l1", escape_xml(lines[0])),
      fmt::arg("l2", escape_xml(lines[1])));
}

}  // namespace eshop::catalog
