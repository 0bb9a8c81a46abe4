ALTER TABLE services DROP COLUMN active;
