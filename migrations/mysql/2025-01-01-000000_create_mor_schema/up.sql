-- The MOR-compatible subset of spec §7. Money is DECIMAL(30,15), as in MOR. Codes that are
-- matched "exactly" (usernames, caller IDs, PINs, card numbers) use a binary collation so that
-- case never makes two values equal.

CREATE TABLE users (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  password VARCHAR(255) NOT NULL DEFAULT '',
  usertype VARCHAR(20) NOT NULL DEFAULT 'user',
  owner_id INT NOT NULL DEFAULT 0,
  balance DECIMAL(30,15) NOT NULL DEFAULT 0,
  blocked TINYINT NOT NULL DEFAULT 0,
  first_name VARCHAR(255) NOT NULL DEFAULT '',
  last_name VARCHAR(255) NOT NULL DEFAULT '',
  tax_id INT NULL,
  UNIQUE KEY users_username (username)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE conflines (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  value TEXT NULL,
  owner_id INT NOT NULL DEFAULT 0,
  UNIQUE KEY conflines_name_owner (name, owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE cardgroups (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL DEFAULT '',
  description TEXT NULL,
  owner_id INT NOT NULL DEFAULT 0,
  price DECIMAL(30,15) NOT NULL DEFAULT 0,
  number_length INT NOT NULL DEFAULT 10,
  pin_length INT NOT NULL DEFAULT 6,
  tax_id INT NULL,
  tell_balance_in_currency VARCHAR(5) NOT NULL DEFAULT '',
  hidden TINYINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE cards (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cardgroup_id INT NOT NULL,
  number VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  pin VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  balance DECIMAL(30,15) NOT NULL DEFAULT 0,
  sold TINYINT NOT NULL DEFAULT 0,
  active TINYINT NOT NULL DEFAULT 1,
  callerid VARCHAR(255) COLLATE utf8mb4_bin NULL,
  owner_id INT NOT NULL DEFAULT 0,
  first_use DATETIME NULL,
  UNIQUE KEY cards_number (number),
  UNIQUE KEY cards_pin (pin),
  UNIQUE KEY cards_callerid (callerid),
  KEY cards_cardgroup_id (cardgroup_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE devices (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL DEFAULT '',
  user_id INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE callerids (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  cli VARCHAR(255) COLLATE utf8mb4_bin NOT NULL,
  device_id INT NOT NULL,
  KEY callerids_cli (cli),
  KEY callerids_device_id (device_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE providers (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(255) NOT NULL DEFAULT '',
  device_id INT NOT NULL,
  KEY providers_device_id (device_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE currencies (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(5) COLLATE utf8mb4_bin NOT NULL,
  full_name VARCHAR(255) NOT NULL DEFAULT '',
  exchange_rate DECIMAL(30,15) NOT NULL DEFAULT 1,
  active TINYINT NOT NULL DEFAULT 1,
  UNIQUE KEY currencies_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- MOR's system currency is id 1 with rate 1.
INSERT INTO currencies (id, name, full_name, exchange_rate, active) VALUES (1, 'USD', 'US Dollar', 1, 1);

CREATE TABLE taxes (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  tax1_enabled TINYINT NOT NULL DEFAULT 1,
  tax2_enabled TINYINT NOT NULL DEFAULT 0,
  tax3_enabled TINYINT NOT NULL DEFAULT 0,
  tax4_enabled TINYINT NOT NULL DEFAULT 0,
  tax1_value DECIMAL(30,15) NOT NULL DEFAULT 0,
  tax2_value DECIMAL(30,15) NOT NULL DEFAULT 0,
  tax3_value DECIMAL(30,15) NOT NULL DEFAULT 0,
  tax4_value DECIMAL(30,15) NOT NULL DEFAULT 0,
  compound_tax TINYINT NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE payments (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  paymenttype VARCHAR(255) NOT NULL DEFAULT '',
  amount DECIMAL(30,15) NOT NULL DEFAULT 0,
  currency VARCHAR(5) NOT NULL DEFAULT '',
  gross DECIMAL(30,15) NOT NULL DEFAULT 0,
  date_added DATETIME NOT NULL,
  completed TINYINT NOT NULL DEFAULT 1,
  user_id INT NOT NULL,
  card TINYINT NOT NULL DEFAULT 0,
  owner_id INT NOT NULL DEFAULT 0,
  tax DECIMAL(30,15) NOT NULL DEFAULT 0,
  description TEXT NULL,
  KEY payments_card_user (card, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE actions (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id INT NOT NULL,
  date DATETIME NOT NULL,
  action VARCHAR(255) NOT NULL DEFAULT '',
  data TEXT NULL,
  data2 TEXT NULL,
  data3 TEXT NULL,
  data4 TEXT NULL,
  target_id INT NULL,
  target_type VARCHAR(255) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
