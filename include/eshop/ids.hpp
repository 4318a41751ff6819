#pragma once
// Strong ids at module boundaries: a ProductId is never confused with a quantity.
#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace eshop {

template <class Tag, class T>
struct StrongId {
  T value{};
  auto operator<=>(const StrongId&) const = default;
};

using ProductId = StrongId<struct ProductTag, std::int64_t>;
using BrandId = StrongId<struct BrandTag, std::int64_t>;
using CategoryId = StrongId<struct CategoryTag, std::int64_t>;
using SupplierId = StrongId<struct SupplierTag, std::int64_t>;
using UserId = StrongId<struct UserTag, std::string>;
using OrderId = StrongId<struct OrderTag, std::string>;

}  // namespace eshop

template <class Tag, class T>
struct std::hash<eshop::StrongId<Tag, T>> {
  std::size_t operator()(const eshop::StrongId<Tag, T>& id) const noexcept { return std::hash<T>{}(id.value); }
};
