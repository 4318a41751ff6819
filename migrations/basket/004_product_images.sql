-- Each product's picture, kept with its name and price, for the basket's lines.
ALTER TABLE basket_products ADD COLUMN image_url TEXT NOT NULL DEFAULT '';
