-- catalog owns products and the brands, categories and suppliers they refer to.
CREATE TABLE brands (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE categories (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE suppliers (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
  country TEXT NOT NULL                      -- ISO 3166-1 alpha-2
);

-- AUTOINCREMENT: a deleted product's id is never reused, since baskets and orders keep it.
CREATE TABLE products (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL DEFAULT '',
  price           INTEGER NOT NULL CHECK (price > 0),              -- minor units
  brand_id        INTEGER NOT NULL REFERENCES brands(id),
  category_id     INTEGER NOT NULL REFERENCES categories(id),
  supplier_id     INTEGER REFERENCES suppliers(id),
  available_stock INTEGER NOT NULL DEFAULT 0 CHECK (available_stock >= 0),
  image_url       TEXT NOT NULL DEFAULT '',
  attributes      TEXT NOT NULL DEFAULT '{}',                       -- JSON object of strings
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);
CREATE INDEX products_brand_id ON products(brand_id);
CREATE INDEX products_category_id ON products(category_id);
