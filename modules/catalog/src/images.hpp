#pragma once
// Product images for the demo catalog and any product without an uploaded one: an SVG drawn from
// the image's name ("trailblazer-2-running-shoe.svg"): a colour from the name, its initials and
// its words. Deterministic, so it is cached for a year and has a stable ETag.
#include <optional>
#include <string>
#include <string_view>

namespace eshop::catalog {

// Uploaded pictures: at most this size, of one of these types, recognised by their first bytes.
inline constexpr std::size_t kMaxImageBytes = 512 * 1024;
struct ImageKind {
  std::string name;          // "PNG"
  std::string content_type;  // "image/png"
  std::string extension;     // "png"
  bool matches(std::string_view bytes) const;
};
// The kind a Content-Type names (parameters ignored), or nullopt for any other.
std::optional<ImageKind> image_kind(std::string_view content_type);

// The SVG for `file` ("<slug>.svg", the slug of [a-z0-9-], 1-100 characters), or nullopt.
std::optional<std::string> product_svg(std::string_view file);

}  // namespace eshop::catalog
