-- PostgreSQL's version of 001_init.sql: citext for SQLite's COLLATE NOCASE, 64-bit integers.
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;

CREATE TABLE users (
  id            TEXT PRIMARY KEY,
  email         public.citext NOT NULL UNIQUE,
  name          TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);
