-- External ids are per audience: a CRM may number its residents' and its employees' requests alike.
ALTER TABLE interactions DROP CONSTRAINT interactions_external_id_key;
ALTER TABLE interactions ADD CONSTRAINT interactions_audience_external_id_key
    UNIQUE (audience, external_id);
