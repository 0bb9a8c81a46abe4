-- What each API key may do and see. Keys made before scopes existed keep every scope.
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'interactions:write,reports:read,followups:read,followups:write,export:read';
-- Department codes, comma-separated; empty: every department.
ALTER TABLE api_keys ADD COLUMN departments TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN last_used_at TIMESTAMP NULL;
