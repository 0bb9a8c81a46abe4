DROP INDEX responses_service_day_idx;
