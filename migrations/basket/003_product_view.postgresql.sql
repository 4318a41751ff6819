-- PostgreSQL's version of 003_product_view.sql: 64-bit integers, and an upsert for INSERT OR REPLACE.
CREATE TABLE basket_products (
  product_id      BIGINT PRIMARY KEY,
  name            TEXT NOT NULL,
  unit_price      BIGINT NOT NULL,
  available_stock BIGINT NOT NULL
);
INSERT INTO basket_products(product_id, name, unit_price, available_stock)
  SELECT DISTINCT ON (product_id) product_id, name, unit_price, available_stock FROM basket_items
  ORDER BY product_id, added_at DESC;
ALTER TABLE basket_items DROP COLUMN name;
ALTER TABLE basket_items DROP COLUMN unit_price;
ALTER TABLE basket_items DROP COLUMN available_stock;
