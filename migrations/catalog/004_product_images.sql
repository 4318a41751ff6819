-- Pictures uploaded by admins (PUT /api/v1/catalog/products/{id}/image), served at
-- /api/v1/catalog/images/<file>. The bytes are kept hex-encoded; a product keeps its latest only.
CREATE TABLE product_images (
  file         TEXT PRIMARY KEY,          -- p<id>-<12 hex of the SHA-256>.<ext>: a new picture, a new URL
  product_id   INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  data_hex     TEXT NOT NULL,
  created_at   TEXT NOT NULL
);
CREATE INDEX product_images_by_product ON product_images(product_id);
