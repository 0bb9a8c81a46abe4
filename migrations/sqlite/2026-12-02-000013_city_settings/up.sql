-- What an admin sets for the city at /admin/settings, by name (the profile: names, colour,
-- contact line and privacy notice, as JSON). The server's configuration wins where it is set.
CREATE TABLE city_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
