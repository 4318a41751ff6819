-- PostgreSQL's version of 002_stock_reservations.sql: 64-bit integers.
CREATE TABLE stock_reservations (
  reservation_id TEXT NOT NULL,
  product_id     BIGINT NOT NULL,
  quantity       BIGINT NOT NULL CHECK (quantity > 0),
  released       BIGINT NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  PRIMARY KEY (reservation_id, product_id)
);
