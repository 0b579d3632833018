-- The calling-card calls beyond cc_by_cli (card_calls.md §7): a group's image, hidden cards,
-- and the orders that record a sale. Applies to a database migrated by the previous release.
ALTER TABLE cardgroups ADD COLUMN image VARCHAR(255) NOT NULL DEFAULT 'example.jpg';
ALTER TABLE cards ADD COLUMN hidden TINYINT NOT NULL DEFAULT 0;

CREATE TABLE ccorders (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ordertype VARCHAR(255) NOT NULL DEFAULT '',
  email TEXT NULL,
  amount DECIMAL(30,15) NOT NULL DEFAULT 0,
  currency VARCHAR(5) NOT NULL DEFAULT '',
  date_added DATETIME NOT NULL,
  completed TINYINT NOT NULL DEFAULT 0,
  owner_id INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE cclineitems (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  ccorder_id INT NOT NULL,
  cardgroup_id INT NOT NULL,
  card_id INT NOT NULL,
  quantity INT NOT NULL DEFAULT 1,
  price DECIMAL(30,15) NOT NULL DEFAULT 0,
  KEY cclineitems_ccorder_id (ccorder_id),
  KEY cclineitems_card_id (card_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- A sale takes a group's unsold cards in order of number.
CREATE INDEX cards_cardgroup_sold_number ON cards (cardgroup_id, sold, number);
