-- Exports read responses in (day, id) order, page after page, without sorting.
CREATE INDEX responses_export_idx ON responses (audience, day, id);
