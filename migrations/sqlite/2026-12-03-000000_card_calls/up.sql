-- The calling-card calls beyond cc_by_cli (card_calls.md §7): a group's image, hidden cards,
-- and the orders that record a sale. Applies to a database migrated by the previous release.
ALTER TABLE cardgroups ADD COLUMN image TEXT NOT NULL DEFAULT 'example.jpg';
ALTER TABLE cards ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;

CREATE TABLE ccorders (
  id INTEGER PRIMARY KEY NOT NULL,
  ordertype TEXT NOT NULL DEFAULT '',
  email TEXT NULL,
  amount TEXT NOT NULL DEFAULT '0.000000000000000',
  currency TEXT NOT NULL DEFAULT '',
  date_added TIMESTAMP NOT NULL,
  completed INTEGER NOT NULL DEFAULT 0,
  owner_id INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE cclineitems (
  id INTEGER PRIMARY KEY NOT NULL,
  ccorder_id INTEGER NOT NULL,
  cardgroup_id INTEGER NOT NULL,
  card_id INTEGER NOT NULL,
  quantity INTEGER NOT NULL DEFAULT 1,
  price TEXT NOT NULL DEFAULT '0.000000000000000'
);
CREATE INDEX cclineitems_ccorder_id ON cclineitems (ccorder_id);
CREATE INDEX cclineitems_card_id ON cclineitems (card_id);

-- A sale takes a group's unsold cards in order of number.
CREATE INDEX cards_cardgroup_sold_number ON cards (cardgroup_id, sold, number);
