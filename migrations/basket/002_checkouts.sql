-- Idempotent checkout: the same Idempotency-Key from the same user answers the same order.
-- The fingerprint covers the request without card number, expiry or CVV, which are never stored.
CREATE TABLE checkouts (
  user_id         TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  fingerprint     TEXT NOT NULL,
  order_id        TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  PRIMARY KEY (user_id, idempotency_key)
);
