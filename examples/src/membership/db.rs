//! The membership database: SQLite (rusqlite, bundled), a few pooled connections, the schema
//! migrations applied at start-up, and the queries of the user and article routes, each write
//! one transaction. Every call blocks: the routes run them with `web::block`, never on an
//! executor thread.

use crate::membership::model::{Article, ArticleInput, ArticleSummary, Tier, User};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The schema, one migration per version, applied in order; kept in `examples/migrations/`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_init.sql")),
    (2, include_str!("../../migrations/0002_event_order.sql")),
];

/// Idle connections kept for reuse.
const MAX_IDLE: usize = 4;
/// How long a statement waits for another connection's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The database: its file and a pool of open connections.
#[derive(Debug)]
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Db {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, String> {
        let mut conn =
            connect(path).map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
        migrate(&mut conn)
            .map_err(|e| format!("cannot migrate database {}: {e}", path.display()))?;
        Ok(Db {
            path: path.to_owned(),
            idle: Mutex::new(vec![conn]),
        })
    }

    /// Runs `f` on a pooled connection (blocking).
    pub fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let pooled = self.lock().pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path)?,
        };
        let result = f(&mut conn);
        let mut idle = self.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers do not wait for the writer. FULL: a committed transaction survives a crash
    // of the machine, not only of the process.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

/// Applies the migrations newer than the stored schema version, each in its own transaction.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?;
        if *version > current {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                [version],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// What a signed-in caller is to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    /// A user row (made provisional now if there was none).
    Known(User),
    /// Clerk deleted this user: never recreated.
    Deleted,
}

/// The caller's row; a signed-in user with none gets a provisional one (tier `free`, no email)
/// that Clerk's webhook fills in later, unless Clerk deleted them.
pub fn member(conn: &mut Connection, id: &str) -> rusqlite::Result<Member> {
    if let Some(user) = user(conn, id)? {
        return Ok(Member::Known(user));
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if is_deleted(&tx, id)? {
        return Ok(Member::Deleted);
    }
    tx.execute(
        "INSERT INTO users (id, tier, created_at) VALUES (?1, 'free', ?2) ON CONFLICT (id) DO NOTHING",
        params![id, now_ms()],
    )?;
    let user = user(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(Member::Known(user))
}

/// Whether Clerk deleted `id`.
pub fn is_deleted(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM deleted_users WHERE id = ?1",
        [id],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

/// A user row.
pub fn user(conn: &Connection, id: &str) -> rusqlite::Result<Option<User>> {
    conn.query_row(
        "SELECT id, email, first_name, last_name, tier FROM users WHERE id = ?1",
        [id],
        |r| {
            Ok(User {
                id: r.get(0)?,
                email: r.get(1)?,
                first_name: r.get(2)?,
                last_name: r.get(3)?,
                tier: Tier::parse(&r.get::<_, String>(4)?),
            })
        },
    )
    .optional()
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

/// Replaces user `id`'s names, if `caller` is that user.
pub fn update_profile(
    conn: &mut Connection,
    caller: &str,
    id: &str,
    first_name: Option<&str>,
    last_name: Option<&str>,
) -> rusqlite::Result<Owned<User>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if user(&tx, id)?.is_none() {
        return Ok(Owned::NotFound);
    }
    if caller != id {
        return Ok(Owned::NotOwner);
    }
    tx.execute(
        "UPDATE users SET first_name = ?2, last_name = ?3 WHERE id = ?1",
        params![id, first_name, last_name],
    )?;
    let updated = user(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(Owned::Done(updated))
}

fn article_row(r: &Row<'_>) -> rusqlite::Result<Article> {
    Ok(Article {
        id: r.get(0)?,
        title: r.get(1)?,
        content: r.get(2)?,
        tier: Tier::parse(&r.get::<_, String>(3)?),
        author: r.get(4)?,
    })
}

const ARTICLE_COLUMNS: &str = "id, title, content, tier, author_id";

/// An article.
pub fn article(conn: &Connection, id: i64) -> rusqlite::Result<Option<Article>> {
    conn.query_row(
        &format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?1"),
        [id],
        article_row,
    )
    .optional()
}

/// Creates an article by `author`.
pub fn create_article(
    conn: &mut Connection,
    author: &str,
    input: &ArticleInput,
) -> rusqlite::Result<Article> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let now = now_ms();
    tx.execute(
        "INSERT INTO articles (title, content, tier, author_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![input.title, input.content, input.tier.as_str(), author, now],
    )?;
    let created =
        article(&tx, tx.last_insert_rowid())?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(created)
}

/// Replaces article `id`, if `caller` wrote it.
pub fn update_article(
    conn: &mut Connection,
    caller: &str,
    id: i64,
    input: &ArticleInput,
) -> rusqlite::Result<Owned<Article>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(denied) = ownership(&tx, caller, id)? {
        return Ok(denied);
    }
    tx.execute(
        "UPDATE articles SET title = ?2, content = ?3, tier = ?4, updated_at = ?5 WHERE id = ?1",
        params![
            id,
            input.title,
            input.content,
            input.tier.as_str(),
            now_ms()
        ],
    )?;
    let updated = article(&tx, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    tx.commit()?;
    Ok(Owned::Done(updated))
}

/// Deletes article `id`, if `caller` wrote it.
pub fn delete_article(conn: &mut Connection, caller: &str, id: i64) -> rusqlite::Result<Owned<()>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(denied) = ownership(&tx, caller, id)? {
        return Ok(denied);
    }
    tx.execute("DELETE FROM articles WHERE id = ?1", [id])?;
    tx.commit()?;
    Ok(Owned::Done(()))
}

/// `None` when `caller` wrote article `id`, else why not.
fn ownership<T>(tx: &Transaction<'_>, caller: &str, id: i64) -> rusqlite::Result<Option<Owned<T>>> {
    let author: Option<String> = tx
        .query_row("SELECT author_id FROM articles WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(match author {
        None => Some(Owned::NotFound),
        Some(author) if author != caller => Some(Owned::NotOwner),
        Some(_) => None,
    })
}

/// The articles a reader of `tier` may read, oldest first.
pub fn accessible_articles(conn: &Connection, tier: Tier) -> rusqlite::Result<Vec<ArticleSummary>> {
    let readable: Vec<&str> = [Tier::Free, Tier::Basic, Tier::Premium]
        .into_iter()
        .filter(|t| tier.can_read(*t))
        .map(Tier::as_str)
        .collect();
    let placeholders = vec!["?"; readable.len()].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT id, title, tier, author_id FROM articles WHERE tier IN ({placeholders}) ORDER BY id"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(readable), |r| {
        Ok(ArticleSummary {
            id: r.get(0)?,
            title: r.get(1)?,
            tier: Tier::parse(&r.get::<_, String>(2)?),
            author: r.get(3)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("membership-db-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.db");
        (Db::open(&path).unwrap(), dir)
    }

    #[test]
    fn migrations_apply_once() {
        let (db, dir) = temp_db("migrate");
        drop(db);
        let db = Db::open(&dir.join("test.db")).unwrap();
        let versions: i64 = db
            .with(|c| c.query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(versions, MIGRATIONS.len() as i64);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn provisional_members_and_deleted_ones() {
        let (db, dir) = temp_db("members");
        let m = db.with(|c| member(c, "user_1")).unwrap();
        assert_eq!(
            m,
            Member::Known(User {
                id: "user_1".into(),
                email: None,
                first_name: None,
                last_name: None,
                tier: Tier::Free
            })
        );
        db.with(|c| c.execute("INSERT INTO deleted_users VALUES ('user_2', 0)", []))
            .unwrap();
        assert_eq!(db.with(|c| member(c, "user_2")).unwrap(), Member::Deleted);
        assert_eq!(db.with(|c| user(c, "user_2")).unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}
