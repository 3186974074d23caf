//! The queries of the user and article routes. Each write is one statement (`RETURNING` the
//! row it wrote, so a concurrent change on another instance cannot slip between a check and the
//! write), except a provisional user's row, made in a transaction that holds the user's lock
//! (see [`Db::lock_user`]).

use crate::membership::db::{now_ms, Db};
use crate::membership::model::{Article, ArticleInput, ArticleSummary, Tier, User};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// What a signed-in caller is to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// A user row (made provisional now if there was none).
    Known(User),
    /// Clerk deleted this user: never recreated.
    Deleted,
}

/// A write that checks ownership first.
#[derive(Debug, PartialEq, Eq)]
pub enum Owned<T> {
    /// Done.
    Done(T),
    /// No such row.
    NotFound,
    /// The row belongs to someone else.
    NotOwner,
}

fn user_row(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        first_name: r.try_get(2)?,
        last_name: r.try_get(3)?,
        tier: Tier::parse(r.try_get(4)?),
    })
}

/// A user row.
pub async fn user<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query("SELECT id, email, first_name, last_name, tier FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| user_row(&r))
        .transpose()
}

/// Whether Clerk deleted `id`.
pub async fn is_deleted<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let found = sqlx::query("SELECT 1 FROM deleted_users WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await?;
    Ok(found.is_some())
}

/// The caller's row; a signed-in user with none gets a provisional one (tier `free`, no email)
/// that Clerk's webhook fills in later, unless Clerk deleted them.
pub async fn member(db: &Db, id: &str) -> Result<Member, sqlx::Error> {
    if let Some(user) = user(db.pool(), id).await? {
        return Ok(Member::Known(user));
    }
    let mut tx = db.begin().await?;
    db.lock_user(&mut tx, id).await?;
    if is_deleted(&mut *tx, id).await? {
        tx.rollback().await?;
        return Ok(Member::Deleted);
    }
    sqlx::query(
        "INSERT INTO users (id, tier, created_at) VALUES ($1, 'free', $2)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    let user = user(&mut *tx, id).await?.ok_or(sqlx::Error::RowNotFound)?;
    tx.commit().await?;
    Ok(Member::Known(user))
}

/// Replaces user `id`'s names, if `caller` is that user.
pub async fn update_profile(
    db: &Db,
    caller: &str,
    id: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> Result<Owned<User>, sqlx::Error> {
    if caller != id {
        let exists = user(db.pool(), id).await?.is_some();
        return Ok(if exists {
            Owned::NotOwner
        } else {
            Owned::NotFound
        });
    }
    let updated = sqlx::query(
        "UPDATE users SET first_name = $2, last_name = $3 WHERE id = $1
         RETURNING id, email, first_name, last_name, tier",
    )
    .bind(id)
    .bind(first_name)
    .bind(last_name)
    .fetch_optional(db.pool())
    .await?;
    Ok(match updated {
        Some(row) => Owned::Done(user_row(&row)?),
        None => Owned::NotFound,
    })
}

fn article_row(r: &AnyRow) -> Result<Article, sqlx::Error> {
    Ok(Article {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        content: r.try_get(2)?,
        tier: Tier::parse(r.try_get(3)?),
        author: r.try_get(4)?,
    })
}

/// An article.
pub async fn article(db: &Db, id: i64) -> Result<Option<Article>, sqlx::Error> {
    sqlx::query("SELECT id, title, content, tier, author_id FROM articles WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .map(|r| article_row(&r))
        .transpose()
}

/// Creates an article by `author`.
pub async fn create_article(
    db: &Db,
    author: &str,
    input: &ArticleInput,
) -> Result<Article, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO articles (title, content, tier, author_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         RETURNING id, title, content, tier, author_id",
    )
    .bind(&input.title)
    .bind(&input.content)
    .bind(input.tier.as_str())
    .bind(author)
    .bind(now_ms())
    .fetch_one(db.pool())
    .await?;
    article_row(&row)
}

/// Replaces article `id`, if `caller` wrote it.
pub async fn update_article(
    db: &Db,
    caller: &str,
    id: i64,
    input: &ArticleInput,
) -> Result<Owned<Article>, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE articles SET title = $3, content = $4, tier = $5, updated_at = $6
         WHERE id = $1 AND author_id = $2
         RETURNING id, title, content, tier, author_id",
    )
    .bind(id)
    .bind(caller)
    .bind(&input.title)
    .bind(&input.content)
    .bind(input.tier.as_str())
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    match updated {
        Some(row) => Ok(Owned::Done(article_row(&row)?)),
        None => refusal(db, caller, id).await,
    }
}

/// Deletes article `id`, if `caller` wrote it.
pub async fn delete_article(db: &Db, caller: &str, id: i64) -> Result<Owned<()>, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM articles WHERE id = $1 AND author_id = $2")
        .bind(id)
        .bind(caller)
        .execute(db.pool())
        .await?
        .rows_affected();
    if deleted == 1 {
        return Ok(Owned::Done(()));
    }
    refusal(db, caller, id).await
}

/// Why `caller` could not change article `id`: it is someone else's, or there is none (also
/// when it was deleted meanwhile).
async fn refusal<T>(db: &Db, caller: &str, id: i64) -> Result<Owned<T>, sqlx::Error> {
    let author: Option<String> = sqlx::query_scalar("SELECT author_id FROM articles WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(match author {
        Some(author) if author != caller => Owned::NotOwner,
        _ => Owned::NotFound,
    })
}

/// The articles a reader of `tier` may read, oldest first.
pub async fn accessible_articles(db: &Db, tier: Tier) -> Result<Vec<ArticleSummary>, sqlx::Error> {
    // Three parameters whatever the tier: the lower tiers' names, the reader's own repeated.
    let readable: Vec<&str> = [Tier::Free, Tier::Basic, Tier::Premium]
        .into_iter()
        .map(|t| if tier.can_read(t) { t } else { tier })
        .map(Tier::as_str)
        .collect();
    let rows = sqlx::query(
        "SELECT id, title, tier, author_id FROM articles WHERE tier IN ($1, $2, $3) ORDER BY id",
    )
    .bind(readable[0])
    .bind(readable[1])
    .bind(readable[2])
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ArticleSummary {
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                tier: Tier::parse(r.try_get(2)?),
                author: r.try_get(3)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::db::Database;

    #[test]
    fn provisional_members_and_deleted_ones() {
        let dir = std::env::temp_dir().join(format!("membership-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        actix_web::rt::System::new().block_on(async {
            let db = Db::open(&Database::Path(dir.join("test.db")))
                .await
                .unwrap();
            let provisional = User {
                id: "user_1".into(),
                email: None,
                first_name: None,
                last_name: None,
                tier: Tier::Free,
            };
            assert_eq!(
                member(&db, "user_1").await.unwrap(),
                Member::Known(provisional.clone())
            );
            assert_eq!(
                member(&db, "user_1").await.unwrap(),
                Member::Known(provisional)
            );
            sqlx::query("INSERT INTO deleted_users VALUES ('user_2', 0)")
                .execute(db.pool())
                .await
                .unwrap();
            assert_eq!(member(&db, "user_2").await.unwrap(), Member::Deleted);
            assert_eq!(user(db.pool(), "user_2").await.unwrap(), None);
            // The tiers an article list reads: each tier its own and those below.
            for (tier, title) in [(Tier::Free, "f"), (Tier::Basic, "b"), (Tier::Premium, "p")] {
                let input = ArticleInput {
                    title: title.into(),
                    content: String::new(),
                    tier,
                };
                create_article(&db, "user_1", &input).await.unwrap();
            }
            for (tier, n) in [(Tier::Free, 1), (Tier::Basic, 2), (Tier::Premium, 3)] {
                assert_eq!(
                    accessible_articles(&db, tier).await.unwrap().len(),
                    n,
                    "{tier:?}"
                );
            }
            db.close().await;
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}
