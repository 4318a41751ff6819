-- Each order line's product picture, frozen at checkout like its name and price.
ALTER TABLE order_items ADD COLUMN image_url TEXT NOT NULL DEFAULT '';
