-- Where an account came from: 'registration' (anyone, through the API) or 'admin-setting'
-- (created by ESHOP_ADMIN_EMAIL/ESHOP_ADMIN_PASSWORD). Only the latter is made admin at start-up
-- without an operator's explicit confirmation. Accounts that already hold the admin role under the
-- name the setting gives ("Administrator") are taken to have come from it.
ALTER TABLE users ADD COLUMN origin TEXT NOT NULL DEFAULT 'registration';
UPDATE users SET origin = 'admin-setting'
 WHERE name = 'Administrator' AND (',' || roles || ',') LIKE '%,admin,%';
