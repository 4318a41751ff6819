-- PostgreSQL's version of 001_init.sql: 64-bit integers, identity columns for AUTOINCREMENT, and
-- an explicit `rowid` (insertion order) where the queries sort by SQLite's implicit one.
CREATE TABLE orders (
  rowid              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
  id                 TEXT PRIMARY KEY,
  user_id            TEXT NOT NULL,
  buyer_email        TEXT NOT NULL,
  buyer_name         TEXT NOT NULL,
  status             TEXT NOT NULL,
  status_reason      TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL,
  item_count         BIGINT NOT NULL,
  subtotal           BIGINT NOT NULL,
  discount           BIGINT NOT NULL,
  coupon_code        TEXT,
  coupon_description TEXT,
  total              BIGINT NOT NULL,
  currency           TEXT NOT NULL,
  ship_full_name     TEXT NOT NULL,
  ship_street        TEXT NOT NULL,
  ship_city          TEXT NOT NULL,
  ship_postal_code   TEXT NOT NULL,
  ship_country       TEXT NOT NULL,
  delivery_note      TEXT NOT NULL,
  payment_token      TEXT NOT NULL,
  card_brand         TEXT NOT NULL,
  last4              TEXT NOT NULL,
  charge_id          TEXT,
  refunded           BIGINT NOT NULL DEFAULT 0,
  tracking_number    TEXT,
  invoice_number     TEXT
);
CREATE INDEX orders_user_created ON orders(user_id, created_at);

CREATE TABLE order_items (
  rowid      BIGINT GENERATED ALWAYS AS IDENTITY,
  order_id   TEXT NOT NULL REFERENCES orders(id),
  product_id BIGINT NOT NULL,
  name       TEXT NOT NULL,
  unit_price BIGINT NOT NULL,
  quantity   BIGINT NOT NULL,
  line_total BIGINT NOT NULL,
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE order_timeline (
  seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id TEXT NOT NULL REFERENCES orders(id),
  at       TEXT NOT NULL,
  event    TEXT NOT NULL
);
CREATE INDEX order_timeline_order ON order_timeline(order_id, seq);

CREATE TABLE invoice_counters (
  year BIGINT PRIMARY KEY,
  last BIGINT NOT NULL
);
