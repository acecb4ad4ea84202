-- +goose Up
-- Access that can be taken back. API tokens expire (expires_at; NULL only
-- for tokens made before this migration, which Hallmark treats as
-- expiring auth.DefaultTokenLifetime after creation) and record when they
-- were last used, so their owners can tell which to revoke. Tokens and
-- sessions are looked up per user to list, revoke and end them.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE INDEX sessions_user ON sessions (user_id);

-- Readiness: /readyz proves that a write commits by updating this one row.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at TEXT NOT NULL
);
INSERT INTO readiness (id, checked_at) VALUES (1, '');

-- +goose Down
DROP TABLE readiness;
DROP INDEX sessions_user;
DROP INDEX api_tokens_user;
ALTER TABLE api_tokens DROP COLUMN last_used_at;
ALTER TABLE api_tokens DROP COLUMN expires_at;
