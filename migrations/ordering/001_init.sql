-- ordering owns orders: prices frozen at checkout, the saga's state and each order's timeline.
CREATE TABLE orders (
  id                 TEXT PRIMARY KEY,          -- UUID, chosen at checkout
  user_id            TEXT NOT NULL,
  buyer_email        TEXT NOT NULL,
  buyer_name         TEXT NOT NULL,
  status             TEXT NOT NULL,             -- submitted, paid, stock_confirmed, shipped, completed, cancelled
  status_reason      TEXT,                      -- payment_declined, out_of_stock, cancelled_by_customer
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  item_count         INTEGER NOT NULL,
  subtotal           INTEGER NOT NULL,
  discount           INTEGER NOT NULL,
  coupon_code        TEXT,
  coupon_description TEXT,
  total              INTEGER NOT NULL,
  currency           TEXT NOT NULL,
  ship_full_name     TEXT NOT NULL,
  ship_street        TEXT NOT NULL,
  ship_city          TEXT NOT NULL,
  ship_postal_code   TEXT NOT NULL,
  ship_country       TEXT NOT NULL,
  delivery_note      TEXT NOT NULL,
  payment_token      TEXT NOT NULL,             -- the provider's token, never the card
  card_brand         TEXT NOT NULL,
  last4              TEXT NOT NULL,
  charge_id          TEXT,
  refunded           INTEGER NOT NULL DEFAULT 0,
  tracking_number    TEXT,
  invoice_number     TEXT
);
CREATE INDEX orders_user_created ON orders(user_id, created_at);

CREATE TABLE order_items (
  order_id   TEXT NOT NULL REFERENCES orders(id),
  product_id INTEGER NOT NULL,
  name       TEXT NOT NULL,
  unit_price INTEGER NOT NULL,
  quantity   INTEGER NOT NULL,
  line_total INTEGER NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE order_timeline (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,
  order_id TEXT NOT NULL REFERENCES orders(id),
  at       TEXT NOT NULL,
  event    TEXT NOT NULL
);
CREATE INDEX order_timeline_order ON order_timeline(order_id, seq);

-- Invoice numbers run per year without gaps: INV-2026-000001.
CREATE TABLE invoice_counters (
  year INTEGER PRIMARY KEY,
  last INTEGER NOT NULL
);
