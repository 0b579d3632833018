DROP INDEX cards_cardgroup_sold_number ON cards;
DROP TABLE cclineitems;
DROP TABLE ccorders;
ALTER TABLE cards DROP COLUMN hidden;
ALTER TABLE cardgroups DROP COLUMN image;
