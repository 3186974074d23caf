//! `POST /webhooks/clerk`: Clerk's user events kept in the `users` table. The delivery is
//! verified by `clerk_actix::ClerkWebhook` (a forged, stale or malformed one is 400 and never
//! reaches this file); here each verified delivery is applied in one transaction:
//!
//! - a `svix-id` already recorded is a replay: acknowledged, nothing changes;
//! - `user.created` / `user.updated` upsert the user, unless the stored row came from a newer
//!   event (deliveries may arrive out of order, see [Order](#order)) or Clerk deleted the user;
//! - `user.deleted` deletes the user and remembers the id, so that a still-valid session token
//!   of theirs never recreates the row;
//! - every other type is acknowledged and ignored.
//!
//! The answer comes once the transaction committed, so a change answered 2xx is what the next
//! read sees, on any instance; while the database cannot be reached the answer is 503 and
//! nothing is recorded (Svix retries).
//!
//! # Several instances
//!
//! The `svix-id` is inserted first, as a primary key: the same delivery on two instances at once
//! makes the second wait for the first to end, then find it (`duplicate`) or, had the first
//! rolled back, apply it. The id commits with the change or not at all, so a crash at any point
//! leaves either both (a retry is a duplicate) or neither (a retry applies it). A user's row is
//! read and written under that user's lock ([`Db::lock_user`]), so the order below always
//! compares with the latest committed row, whichever instance wrote it.
//!
//! # When Clerk's JSON changes
//!
//! `clerk_verify` accepts an event whose members (other than its `id`) cannot be read, and lists
//! them in `Event::unread`. Such a member is unknown, not empty: the row keeps what it has for
//! the column it feeds (a new row starts with `NULL` and tier `free`, the least access, until
//! an event says more). So a `user.updated` without `email_addresses` keeps the stored email,
//! one with unreadable `public_metadata` keeps the tier, and `null` (Clerk's "none") still
//! clears a name. Clerk's `created_at` is not used.
//!
//! # Order
//!
//! Two keys order a user's events: Clerk's `data.updated_at` and the envelope's `timestamp`
//! (when Clerk created the event), both Unix ms; the row keeps those of the event that last
//! wrote it (`clerk_updated_at`, `clerk_event_at`; `NULL` when that event lacked one). An
//! update is applied when the row has neither (new or provisional), or when some key both have
//! shows it is not older and none shows it is older. When no key is shared, its order cannot be
//! told: it is acknowledged as `stale` and changes nothing, rather than risk writing old data
//! (an old tier, say) over newer. So an event without `updated_at` is still ordered by its
//! `timestamp`, and only an event with neither never overwrites a synced row.

use crate::membership::db::{bounded, now_ms, Db};
use crate::membership::model::Tier;
use crate::membership::routes::ApiError;
use crate::membership::store::is_deleted;
use actix_web::{post, web, HttpResponse};
use clerk_actix::ClerkWebhook;
use clerk_verify::webhook::{Delivery, Event, EventData, User};
use serde_json::json;
use sqlx::{Any, Transaction};
use std::sync::atomic::{AtomicI64, Ordering};

/// Recorded `svix-id`s older than this are forgotten (Svix stops retrying within days; a
/// replay by anyone else is refused by the 5-minute timestamp tolerance first).
const KEEP_DELIVERIES_MS: i64 = 30 * 24 * 3600 * 1000;
/// How often an instance forgets old `svix-id`s: in a statement of its own, not in each
/// delivery's transaction, where instances deleting the same rows would wait for each other.
const PRUNE_EVERY_MS: i64 = 60 * 1000;
static NEXT_PRUNE_MS: AtomicI64 = AtomicI64::new(0);

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The users table changed.
    Applied,
    /// This `svix-id` was applied before: nothing changed.
    Duplicate,
    /// An update older than the stored row (or whose order cannot be told), or about a
    /// deleted user: nothing changed.
    Stale,
    /// An event type the app does not use.
    Ignored,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Duplicate => "duplicate",
            Outcome::Stale => "stale",
            Outcome::Ignored => "ignored",
        }
    }
}

/// The webhook endpoint: 200 `{"status": "applied" | "duplicate" | "stale" | "ignored"}` once
/// the delivery's transaction committed; 503 when the database cannot be reached (nothing was
/// recorded: Svix retries, and the retry applies it).
#[post("/webhooks/clerk")]
pub async fn clerk_webhook(
    db: web::Data<Db>,
    delivery: ClerkWebhook,
) -> Result<HttpResponse, ApiError> {
    let delivery = delivery.into_inner();
    let outcome = bounded(apply(&db, &delivery))
        .await
        .map_err(ApiError::database)?;
    prune_if_due(&db);
    Ok(HttpResponse::Ok().json(json!({ "status": outcome.as_str() })))
}

/// Applies one verified delivery in one transaction, exactly once however many instances
/// receive it: the `svix-id` is claimed first (a unique key: a second transaction with the
/// same id waits for the first and then finds it, or takes over if the first rolled back), and
/// recorded with the change or not at all.
pub async fn apply(db: &Db, delivery: &Delivery) -> Result<Outcome, sqlx::Error> {
    let mut tx = db.begin().await?;
    let claimed = sqlx::query(
        "INSERT INTO webhook_deliveries (svix_id, event_type, outcome, received_at)
         VALUES ($1, $2, 'pending', $3)
         ON CONFLICT (svix_id) DO NOTHING",
    )
    .bind(&delivery.id)
    .bind(&delivery.event.event_type)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed == 0 {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }
    let outcome = match &delivery.event.data {
        EventData::User(user) => {
            db.lock_user(&mut tx, &user.id).await?;
            upsert(&mut tx, &delivery.event, user).await?
        }
        EventData::UserDeleted(gone) => match &gone.id {
            Some(id) => {
                db.lock_user(&mut tx, id).await?;
                sqlx::query("DELETE FROM users WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO deleted_users (id, deleted_at) VALUES ($1, $2)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                Outcome::Applied
            }
            None => Outcome::Ignored,
        },
        _ => Outcome::Ignored,
    };
    sqlx::query("UPDATE webhook_deliveries SET outcome = $2 WHERE svix_id = $1")
        .bind(&delivery.id)
        .bind(outcome.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Forgets `svix-id`s older than [`KEEP_DELIVERIES_MS`], at most once a minute per instance, in
/// a task of its own (the delivery's answer does not wait for it; a failure is logged).
fn prune_if_due(db: &Db) {
    let now = now_ms();
    let due = NEXT_PRUNE_MS.load(Ordering::Relaxed);
    if now < due
        || NEXT_PRUNE_MS
            .compare_exchange(
                due,
                now + PRUNE_EVERY_MS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
    {
        return;
    }
    let pool = db.pool().clone();
    actix_web::rt::spawn(async move {
        let pruned = bounded(
            sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
                .bind(now - KEEP_DELIVERIES_MS)
                .execute(&pool),
        )
        .await;
        if let Err(e) = pruned {
            log::warn!(target: "membership", "forgetting old deliveries: {e}");
        }
    });
}

/// Writes a `user.created` / `user.updated`, under the user's lock (so the stored row it
/// compares with is the latest, on any instance).
async fn upsert(
    tx: &mut Transaction<'static, Any>,
    event: &Event,
    user: &User,
) -> Result<Outcome, sqlx::Error> {
    if is_deleted(&mut **tx, &user.id).await? {
        return Ok(Outcome::Stale);
    }
    let stored: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT clerk_updated_at, clerk_event_at FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_optional(&mut **tx)
            .await?;
    let incoming = (user.updated_at, event.timestamp);
    if let Some(stored) = stored {
        if !is_newer(incoming, stored) {
            return Ok(Outcome::Stale);
        }
    }
    // What could not be read is unknown: the row keeps its value (see the module's docs).
    let email = primary_email(event, user);
    let email_known = email.is_some();
    let known = |path: &str| !event.is_unread(path);
    sqlx::query(
        "INSERT INTO users
             (id, email, first_name, last_name, tier, clerk_updated_at, clerk_event_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET
             email = CASE WHEN $9 THEN excluded.email ELSE users.email END,
             first_name = CASE WHEN $10 THEN excluded.first_name ELSE users.first_name END,
             last_name = CASE WHEN $11 THEN excluded.last_name ELSE users.last_name END,
             tier = CASE WHEN $12 THEN excluded.tier ELSE users.tier END,
             clerk_updated_at = excluded.clerk_updated_at,
             clerk_event_at = excluded.clerk_event_at",
    )
    .bind(&user.id)
    .bind(email.flatten())
    .bind(user.first_name.as_deref())
    .bind(user.last_name.as_deref())
    .bind(Tier::from_metadata(&user.public_metadata).as_str())
    .bind(incoming.0)
    .bind(incoming.1)
    .bind(now_ms())
    .bind(email_known)
    .bind(known("data.first_name"))
    .bind(known("data.last_name"))
    .bind(known("data.public_metadata"))
    .execute(&mut **tx)
    .await?;
    Ok(Outcome::Applied)
}

/// Whether an event with the keys `(updated_at, timestamp)` may overwrite a row written by one
/// with `stored` keys: the row has none, or some key both have says "not older" and none says
/// "older".
fn is_newer(incoming: (Option<i64>, Option<i64>), stored: (Option<i64>, Option<i64>)) -> bool {
    if stored == (None, None) {
        return true;
    }
    let shared: Vec<bool> = [(incoming.0, stored.0), (incoming.1, stored.1)]
        .into_iter()
        .filter_map(|pair| match pair {
            (Some(new), Some(old)) => Some(new >= old),
            _ => None,
        })
        .collect();
    !shared.is_empty() && shared.iter().all(|&not_older| not_older)
}

/// The primary email: `Some(email)`, `Some(None)` when Clerk says there is none, `None` when it
/// cannot be told (the list, the primary id or an entry could not be read).
fn primary_email(event: &Event, user: &User) -> Option<Option<String>> {
    if let Some(email) = user.primary_email() {
        return Some(Some(email.to_owned()));
    }
    let damaged = [
        "data.primary_email_address_id",
        "data.email_addresses",
        "data.email_addresses[]",
        "data.email_addresses[].id",
        "data.email_addresses[].email_address",
    ]
    .iter()
    .any(|path| event.is_unread(path));
    (!damaged).then_some(None)
}

#[cfg(test)]
mod tests {
    use super::is_newer;

    #[test]
    fn order() {
        let (t, e) = (1_000, 5_000);
        // A new or provisional row takes anything.
        assert!(is_newer((None, None), (None, None)));
        // Clerk's updated_at, as always.
        assert!(is_newer((Some(t + 1), None), (Some(t), None)));
        assert!(is_newer((Some(t), None), (Some(t), None)));
        assert!(!is_newer((Some(t - 1), None), (Some(t), None)));
        // Without updated_at: the envelope's timestamp.
        assert!(is_newer((None, Some(e + 1)), (Some(t), Some(e))));
        assert!(!is_newer((None, Some(e - 1)), (Some(t), Some(e))));
        // Every shared key must agree.
        assert!(!is_newer((Some(t + 1), Some(e - 1)), (Some(t), Some(e))));
        assert!(is_newer((Some(t + 1), Some(e + 1)), (Some(t), Some(e))));
        // Nothing shared: cannot be told, so not applied.
        assert!(!is_newer((None, None), (Some(t), Some(e))));
        assert!(!is_newer((None, Some(e + 1)), (Some(t), None)));
        assert!(!is_newer((Some(t + 1), None), (None, Some(e))));
    }
}
