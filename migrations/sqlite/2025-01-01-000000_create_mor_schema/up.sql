-- The MOR-compatible subset of spec §7. Money columns are TEXT holding the canonical decimal
-- (`90.909090909090909`): SQLite's NUMERIC affinity would turn them into lossy doubles. They are
-- read, compared and summed in Rust, never in SQL arithmetic.

CREATE TABLE users (
  id INTEGER PRIMARY KEY NOT NULL,
  username TEXT NOT NULL UNIQUE,
  password TEXT NOT NULL DEFAULT '',
  usertype TEXT NOT NULL DEFAULT 'user',
  owner_id INTEGER NOT NULL DEFAULT 0,
  balance TEXT NOT NULL DEFAULT '0.000000000000000',
  blocked INTEGER NOT NULL DEFAULT 0,
  first_name TEXT NOT NULL DEFAULT '',
  last_name TEXT NOT NULL DEFAULT '',
  tax_id INTEGER NULL
);

CREATE TABLE conflines (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL,
  value TEXT NULL,
  owner_id INTEGER NOT NULL DEFAULT 0,
  UNIQUE (name, owner_id)
);

CREATE TABLE cardgroups (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  description TEXT NULL,
  owner_id INTEGER NOT NULL DEFAULT 0,
  price TEXT NOT NULL DEFAULT '0.000000000000000',
  number_length INTEGER NOT NULL DEFAULT 10,
  pin_length INTEGER NOT NULL DEFAULT 6,
  tax_id INTEGER NULL,
  tell_balance_in_currency TEXT NOT NULL DEFAULT '',
  hidden INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE cards (
  id INTEGER PRIMARY KEY NOT NULL,
  cardgroup_id INTEGER NOT NULL,
  number TEXT NOT NULL UNIQUE,
  pin TEXT NOT NULL UNIQUE,
  balance TEXT NOT NULL DEFAULT '0.000000000000000',
  sold INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  callerid TEXT NULL UNIQUE,
  owner_id INTEGER NOT NULL DEFAULT 0,
  first_use TIMESTAMP NULL
);
CREATE INDEX cards_cardgroup_id ON cards (cardgroup_id);

CREATE TABLE devices (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  user_id INTEGER NOT NULL
);

CREATE TABLE callerids (
  id INTEGER PRIMARY KEY NOT NULL,
  cli TEXT NOT NULL,
  device_id INTEGER NOT NULL
);
CREATE INDEX callerids_cli ON callerids (cli);
CREATE INDEX callerids_device_id ON callerids (device_id);

CREATE TABLE providers (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  device_id INTEGER NOT NULL
);
CREATE INDEX providers_device_id ON providers (device_id);

CREATE TABLE currencies (
  id INTEGER PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  full_name TEXT NOT NULL DEFAULT '',
  exchange_rate TEXT NOT NULL DEFAULT '1',
  active INTEGER NOT NULL DEFAULT 1
);

-- MOR's system currency is id 1 with rate 1.
INSERT INTO currencies (id, name, full_name, exchange_rate, active) VALUES (1, 'USD', 'US Dollar', '1.000000000000000', 1);

CREATE TABLE taxes (
  id INTEGER PRIMARY KEY NOT NULL,
  tax1_enabled INTEGER NOT NULL DEFAULT 1,
  tax2_enabled INTEGER NOT NULL DEFAULT 0,
  tax3_enabled INTEGER NOT NULL DEFAULT 0,
  tax4_enabled INTEGER NOT NULL DEFAULT 0,
  tax1_value TEXT NOT NULL DEFAULT '0',
  tax2_value TEXT NOT NULL DEFAULT '0',
  tax3_value TEXT NOT NULL DEFAULT '0',
  tax4_value TEXT NOT NULL DEFAULT '0',
  compound_tax INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE payments (
  id INTEGER PRIMARY KEY NOT NULL,
  paymenttype TEXT NOT NULL DEFAULT '',
  amount TEXT NOT NULL DEFAULT '0.000000000000000',
  currency TEXT NOT NULL DEFAULT '',
  gross TEXT NOT NULL DEFAULT '0.000000000000000',
  date_added TIMESTAMP NOT NULL,
  completed INTEGER NOT NULL DEFAULT 1,
  user_id INTEGER NOT NULL,
  card INTEGER NOT NULL DEFAULT 0,
  owner_id INTEGER NOT NULL DEFAULT 0,
  tax TEXT NOT NULL DEFAULT '0.000000000000000',
  description TEXT NULL
);
CREATE INDEX payments_card_user ON payments (card, user_id);

CREATE TABLE actions (
  id INTEGER PRIMARY KEY NOT NULL,
  user_id INTEGER NOT NULL,
  date TIMESTAMP NOT NULL,
  action TEXT NOT NULL DEFAULT '',
  data TEXT NULL,
  data2 TEXT NULL,
  data3 TEXT NULL,
  data4 TEXT NULL,
  target_id INTEGER NULL,
  target_type TEXT NOT NULL DEFAULT ''
);
