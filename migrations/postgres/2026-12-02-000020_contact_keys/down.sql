DROP TABLE contact_keys;
