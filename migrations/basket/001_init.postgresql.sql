-- PostgreSQL's version of 001_init.sql: 64-bit integers.
CREATE TABLE baskets (
  user_id     TEXT PRIMARY KEY,
  coupon_code TEXT,
  updated_at  TEXT NOT NULL
);

CREATE TABLE basket_items (
  user_id         TEXT NOT NULL,
  product_id      BIGINT NOT NULL,
  name            TEXT NOT NULL,
  unit_price      BIGINT NOT NULL,
  available_stock BIGINT NOT NULL,
  quantity        BIGINT NOT NULL CHECK (quantity > 0),
  added_at        TEXT NOT NULL,
  PRIMARY KEY (user_id, product_id)
);
CREATE INDEX basket_items_product_id ON basket_items(product_id);
