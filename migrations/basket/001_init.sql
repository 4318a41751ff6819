-- basket owns each user's basket, and its own copy of the product facts it shows
-- (a materialized view kept current by catalog's events).
CREATE TABLE baskets (
  user_id     TEXT PRIMARY KEY,
  coupon_code TEXT,                 -- as discount knows it (upper case); null: none
  updated_at  TEXT NOT NULL
);

CREATE TABLE basket_items (
  user_id         TEXT NOT NULL,
  product_id      INTEGER NOT NULL,
  name            TEXT NOT NULL,
  unit_price      INTEGER NOT NULL,  -- cents, as catalog last said
  available_stock INTEGER NOT NULL,
  quantity        INTEGER NOT NULL CHECK (quantity > 0),
  added_at        TEXT NOT NULL,
  PRIMARY KEY (user_id, product_id)
);
-- catalog's events update every line of one product: an indexed update, not a scan.
CREATE INDEX basket_items_product_id ON basket_items(product_id);
