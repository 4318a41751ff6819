#pragma once
// catalog's domain types.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace eshop::catalog {

struct Brand {
  std::int64_t id = 0;
  std::string name;
};

struct Category {
  std::int64_t id = 0;
  std::string name;
};

struct Supplier {
  std::int64_t id = 0;
  std::string name;
  std::string country;
};

struct Product {
  std::int64_t id = 0;
  std::string name;
  std::string description;
  std::int64_t price = 0;  // minor units
  std::int64_t brand_id = 0;
  std::int64_t category_id = 0;
  std::optional<std::int64_t> supplier_id;
  std::int64_t available_stock = 0;
  std::string image_url;
  std::map<std::string, std::string> attributes;
  std::string created_at;  // RFC 3339
  std::string updated_at;
};

// The fields a create or a partial update may carry; absent means "not sent".
struct ProductFields {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::int64_t> price;
  std::optional<std::int64_t> brand_id;
  std::optional<std::int64_t> category_id;
  std::optional<std::int64_t> supplier_id;
  std::optional<std::int64_t> available_stock;
  std::optional<std::string> image_url;
  std::optional<std::map<std::string, std::string>> attributes;
};

inline constexpr std::int64_t kMaxPrice = 1'000'000'000;  // 10 million in major units
inline constexpr std::int64_t kMaxStock = 1'000'000'000;

}  // namespace eshop::catalog
