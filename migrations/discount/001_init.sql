-- discount owns coupons.
CREATE TABLE coupons (
  code         TEXT PRIMARY KEY,                       -- stored upper case
  description  TEXT NOT NULL DEFAULT '',
  type         TEXT NOT NULL CHECK (type IN ('percent', 'fixed')),
  value        INTEGER NOT NULL CHECK (value > 0),     -- percent 1-100, or cents
  min_subtotal INTEGER NOT NULL DEFAULT 0 CHECK (min_subtotal >= 0),
  valid_from   TEXT,                                   -- RFC 3339, null: always
  valid_until  TEXT,
  product_id   INTEGER,                                -- null: the whole basket is eligible
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
