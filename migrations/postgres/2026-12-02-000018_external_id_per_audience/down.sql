ALTER TABLE interactions DROP CONSTRAINT interactions_audience_external_id_key;
ALTER TABLE interactions ADD CONSTRAINT interactions_external_id_key UNIQUE (external_id);
