-- PostgreSQL's version of 001_init.sql: 64-bit integers.
CREATE TABLE coupons (
  code         TEXT PRIMARY KEY,
  description  TEXT NOT NULL DEFAULT '',
  type         TEXT NOT NULL CHECK (type IN ('percent', 'fixed')),
  value        BIGINT NOT NULL CHECK (value > 0),
  min_subtotal BIGINT NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
  valid_from   TEXT,
  valid_until  TEXT,
  product_id   BIGINT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
