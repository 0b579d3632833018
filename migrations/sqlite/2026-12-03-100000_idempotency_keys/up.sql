-- Idempotency keys: the reply of a request that changed money or cards, kept under the key
-- its client sent, written in the same transaction as the change. Purged after the retention.
CREATE TABLE idempotency_keys (
  id INTEGER PRIMARY KEY NOT NULL,
  user_id INTEGER NOT NULL,
  idempotency_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP NOT NULL,
  UNIQUE (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
