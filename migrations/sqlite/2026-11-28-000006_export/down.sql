DROP INDEX responses_export_idx;
