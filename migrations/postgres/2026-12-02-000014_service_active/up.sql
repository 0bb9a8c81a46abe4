-- A service the city no longer offers: it accepts no new interactions; its history stays.
ALTER TABLE services ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
