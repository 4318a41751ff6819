#pragma once
// Product images for the demo catalog and any product without an uploaded one: an SVG drawn from
// the image's name ("trailblazer-2-running-shoe.svg"): a colour from the name, its initials and
// its words. Deterministic, so it is cached for a year and has a stable ETag.
#include <optional>
#include <string>
#include <string_view>

namespace eshop::catalog {

// The SVG for `file` ("<slug>.svg", the slug of [a-z0-9-], 1-100 characters), or nullopt.
std::optional<std::string> product_svg(std::string_view file);

}  // namespace eshop::catalog
