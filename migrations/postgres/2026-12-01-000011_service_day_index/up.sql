-- A department's or a service's page reads its own services' answers over a period (every
-- question, the comments newest first): by service, then day, not through the whole city's day
-- range (a year of one department read 330,000 index entries of the city's to find 11,000).
CREATE INDEX responses_service_day_idx ON responses (audience, service_code, day);
