-- PostgreSQL's version of 004_product_images.sql: 64-bit integers.
CREATE TABLE product_images (
  file         TEXT PRIMARY KEY,
  product_id   BIGINT NOT NULL,
  content_type TEXT NOT NULL,
  data_hex     TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX product_images_by_product ON product_images(product_id);
