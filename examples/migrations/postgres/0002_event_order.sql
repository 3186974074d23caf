-- membership-app on PostgreSQL, schema version 2: what orders webhook updates when Clerk's
-- `updated_at` is missing (../sqlite/0002_event_order.sql). Applied once by sqlx's migrator.

-- The envelope `timestamp` (ms, when Clerk created the event) of the event that last wrote the
-- row, next to its `updated_at` (clerk_updated_at). Each is NULL when that event lacked it; a
-- provisional row has neither. An update is applied only when a key both sides have shows it
-- is not older (see examples/src/membership/webhook.rs).
ALTER TABLE users ADD COLUMN clerk_event_at BIGINT;
