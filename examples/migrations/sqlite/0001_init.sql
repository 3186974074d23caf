-- membership-app on SQLite, schema version 1. Applied once, in one transaction, by sqlx's
-- migrator (examples/src/membership/db.rs, which compiles it in); never edit an applied
-- migration (sqlx checks each one's checksum): add the next version instead, here and in
-- ../postgres/.

-- Users, kept in sync with Clerk by webhooks. A signed-in user Clerk has not told us about yet
-- gets a provisional row (tier 'free', email NULL, clerk_updated_at NULL) that the webhook fills.
CREATE TABLE users (
    id               TEXT PRIMARY KEY,                 -- Clerk user id, the token's `sub`
    email            TEXT,                             -- the primary email address
    first_name       TEXT,
    last_name        TEXT,
    tier             TEXT NOT NULL DEFAULT 'free'
                     CHECK (tier IN ('free', 'basic', 'premium')),
    clerk_updated_at INTEGER,                          -- Clerk's updated_at (ms) last applied
    created_at       INTEGER NOT NULL                  -- when this row was made (ms)
);

-- Users Clerk deleted: a still-valid session token of one must never recreate them.
CREATE TABLE deleted_users (
    id         TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL                        -- ms
);

-- Webhook deliveries already applied, by svix-id: a replay is acknowledged and changes nothing.
CREATE TABLE webhook_deliveries (
    svix_id     TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    outcome     TEXT NOT NULL,                         -- applied, stale, ignored
    received_at INTEGER NOT NULL                       -- ms
);
CREATE INDEX webhook_deliveries_received_at ON webhook_deliveries (received_at);

CREATE TABLE articles (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    title      TEXT NOT NULL,
    content    TEXT NOT NULL,
    tier       TEXT NOT NULL CHECK (tier IN ('free', 'basic', 'premium')),
    author_id  TEXT NOT NULL,                          -- a user id; kept if the user is deleted
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX articles_tier ON articles (tier);
