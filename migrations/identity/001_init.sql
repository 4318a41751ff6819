-- identity owns users and their login sessions.
CREATE TABLE users (
  id            TEXT PRIMARY KEY,            -- UUID
  email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,               -- Argon2id, libsodium's encoded string
  roles         TEXT NOT NULL,               -- comma-separated
  created_at    TEXT NOT NULL
);

-- Bearer tokens are stored only as SHA-256 hashes.
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL                -- Unix seconds
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);
