-- The demo catalog's pictures are drawn by the shop (GET /api/v1/catalog/images/<slug>.svg):
-- the placeholder URLs of earlier demo data, which nothing served, point there now.
UPDATE products
   SET image_url = '/api/v1/catalog/images/' || substr(image_url, 18, length(image_url) - 21) || '.svg'
 WHERE image_url LIKE '/images/products/%.jpg';
