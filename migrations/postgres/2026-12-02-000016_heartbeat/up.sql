-- One row per probe that proves the database takes writes (the health check): a full disk or
-- a read-only database fails the probe's write, where a read would still succeed.
CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY,
    beat_at TIMESTAMP NOT NULL
);
