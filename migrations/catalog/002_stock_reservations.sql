-- Stock taken by a saga (an order), so a release gives back exactly what was taken, once.
CREATE TABLE stock_reservations (
  reservation_id TEXT NOT NULL,
  product_id     INTEGER NOT NULL,   -- no foreign key: the product may be deleted later
  quantity       INTEGER NOT NULL CHECK (quantity > 0),
  released       INTEGER NOT NULL DEFAULT 0,
  created_at     TEXT NOT NULL,
  PRIMARY KEY (reservation_id, product_id)
);
