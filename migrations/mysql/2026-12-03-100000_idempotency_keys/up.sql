-- Idempotency keys: the reply of a request that changed money or cards, kept under the key
-- its client sent, written in the same transaction as the change. Purged after the retention.
CREATE TABLE idempotency_keys (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT NOT NULL,
  idempotency_key VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  fingerprint CHAR(40) NOT NULL,
  body MEDIUMTEXT NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE KEY idempotency_keys_user_key (user_id, idempotency_key),
  KEY idempotency_keys_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
