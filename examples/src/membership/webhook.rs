//! `POST /webhooks/clerk`: Clerk's user events kept in the `users` table. The delivery is
//! verified by `clerk_actix::ClerkWebhook` (a forged, stale or malformed one is 400 and never
//! reaches this file); here each verified delivery is applied in one transaction:
//!
//! - a `svix-id` already recorded is a replay: acknowledged, nothing changes;
//! - `user.created` / `user.updated` upsert the user, unless the stored row came from a newer
//!   `updated_at` (deliveries may arrive out of order) or Clerk deleted the user;
//! - `user.deleted` deletes the user and remembers the id, so that a still-valid session token
//!   of theirs never recreates the row;
//! - every other type is acknowledged and ignored.

use crate::membership::db::{is_deleted, now_ms, Db};
use crate::membership::model::Tier;
use crate::membership::routes::ApiError;
use actix_web::{post, web, HttpResponse};
use clerk_actix::ClerkWebhook;
use clerk_verify::webhook::{Delivery, EventData, User};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde_json::json;

/// Recorded `svix-id`s older than this are forgotten (Svix stops retrying within days; a
/// replay by anyone else is refused by the 5-minute timestamp tolerance first).
const KEEP_DELIVERIES_MS: i64 = 30 * 24 * 3600 * 1000;

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The users table changed.
    Applied,
    /// This `svix-id` was applied before: nothing changed.
    Duplicate,
    /// An update older than the stored row, or about a deleted user: nothing changed.
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

/// The webhook endpoint: 200 `{"status": "applied" | "duplicate" | "stale" | "ignored"}`.
#[post("/webhooks/clerk")]
pub async fn clerk_webhook(
    db: web::Data<Db>,
    delivery: ClerkWebhook,
) -> Result<HttpResponse, ApiError> {
    let delivery = delivery.into_inner();
    let db = db.into_inner();
    let outcome = web::block(move || db.with(|conn| apply(conn, &delivery)))
        .await
        .map_err(|_| ApiError::internal("the database task did not complete"))?
        .map_err(ApiError::database)?;
    Ok(HttpResponse::Ok().json(json!({ "status": outcome.as_str() })))
}

/// Applies one verified delivery in one transaction.
pub fn apply(conn: &mut Connection, delivery: &Delivery) -> rusqlite::Result<Outcome> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let seen = tx
        .query_row(
            "SELECT 1 FROM webhook_deliveries WHERE svix_id = ?1",
            [&delivery.id],
            |_| Ok(()),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(Outcome::Duplicate);
    }
    let outcome = match &delivery.event.data {
        EventData::User(user) => upsert(&tx, user)?,
        EventData::UserDeleted(gone) => match &gone.id {
            Some(id) => {
                tx.execute("DELETE FROM users WHERE id = ?1", [id])?;
                tx.execute(
                    "INSERT INTO deleted_users (id, deleted_at) VALUES (?1, ?2)
                     ON CONFLICT (id) DO NOTHING",
                    params![id, now_ms()],
                )?;
                Outcome::Applied
            }
            None => Outcome::Ignored,
        },
        _ => Outcome::Ignored,
    };
    let now = now_ms();
    tx.execute(
        "INSERT INTO webhook_deliveries (svix_id, event_type, outcome, received_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            delivery.id,
            delivery.event.event_type,
            outcome.as_str(),
            now
        ],
    )?;
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE received_at < ?1",
        [now - KEEP_DELIVERIES_MS],
    )?;
    tx.commit()?;
    Ok(outcome)
}

fn upsert(tx: &Transaction<'_>, user: &User) -> rusqlite::Result<Outcome> {
    if is_deleted(tx, &user.id)? {
        return Ok(Outcome::Stale);
    }
    let stored: Option<Option<i64>> = tx
        .query_row(
            "SELECT clerk_updated_at FROM users WHERE id = ?1",
            [&user.id],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(Some(stored)) = stored {
        if user.updated_at < stored {
            return Ok(Outcome::Stale);
        }
    }
    tx.execute(
        "INSERT INTO users (id, email, first_name, last_name, tier, clerk_updated_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET
             email = excluded.email,
             first_name = excluded.first_name,
             last_name = excluded.last_name,
             tier = excluded.tier,
             clerk_updated_at = excluded.clerk_updated_at",
        params![
            user.id,
            user.primary_email(),
            user.first_name,
            user.last_name,
            Tier::from_metadata(&user.public_metadata).as_str(),
            user.updated_at,
            now_ms(),
        ],
    )?;
    Ok(Outcome::Applied)
}
