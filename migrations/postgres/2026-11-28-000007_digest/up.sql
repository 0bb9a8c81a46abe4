-- Who gets the weekly digest, in which language, about which departments ('' = all of them).
CREATE TABLE digest_recipients (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    departments TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
