-- The product facts a basket shows, one row per product: catalog's events update that one row,
-- however many baskets hold the product (no write amplification on a popular product).
CREATE TABLE basket_products (
  product_id      INTEGER PRIMARY KEY,
  name            TEXT NOT NULL,
  unit_price      INTEGER NOT NULL,  -- cents, as catalog last said
  available_stock INTEGER NOT NULL
);
INSERT OR REPLACE INTO basket_products(product_id, name, unit_price, available_stock)
  SELECT product_id, name, unit_price, available_stock FROM basket_items;
ALTER TABLE basket_items DROP COLUMN name;
ALTER TABLE basket_items DROP COLUMN unit_price;
ALTER TABLE basket_items DROP COLUMN available_stock;
