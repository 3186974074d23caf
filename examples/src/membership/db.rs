//! The membership database: sqlx's `Any` driver over SQLite or PostgreSQL, one async pool, the
//! schema migrations of the backend applied at start-up, and how a failure is told apart:
//! [`Error::Unavailable`] (the database cannot be reached or is overloaded: try again) from
//! [`Error::Failed`] (a bug). The queries are written once, in the SQL both backends speak
//! (`$1` parameters, `ON CONFLICT`, `RETURNING`); what differs is only how a write transaction
//! starts and how one user's changes are kept in line ([`Db::begin`], [`Db::lock_user`]).

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migrate, MigrateError, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Executor, Transaction};
use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::str::FromStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The schema of each backend, one migration per version, the same versions on both; kept in
/// `examples/migrations/{sqlite,postgres}/` and compiled in.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "event order",
        include_str!("../../migrations/sqlite/0002_event_order.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "event order",
        include_str!("../../migrations/postgres/0002_event_order.sql"),
    ),
];

/// How long a request waits for a pooled connection (or for a new one while the database
/// refuses them) before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// The most one request's database work may take, end to end; past it the request is answered
/// 503 (and its transaction, if it had not committed, rolls back). Well under Svix's wait for
/// an answer, so a delivery is answered rather than timed out.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);
/// How long start-up waits for an unreachable database before giving up.
const STARTUP_WAIT: Duration = Duration::from_secs(30);
/// Connections per instance: PostgreSQL serves many at once; SQLite has one writer at a time
/// (readers do not wait for it in WAL mode).
const POSTGRES_CONNECTIONS: u32 = 10;
const SQLITE_CONNECTIONS: u32 = 4;

/// Which database the app uses: `DATABASE_URL`, or a SQLite file (`DATABASE_PATH`).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Database {
    /// A SQLite file, created if missing.
    Path(PathBuf),
    /// `sqlite:…` or `postgres://…` (`postgresql://…`).
    Url(String),
}

impl Database {
    /// The database of `DATABASE_URL` or `DATABASE_PATH` (as read by `lookup`), default the
    /// SQLite file `default_path`. Both set is an error: they would name the database twice.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_path: &str,
    ) -> Result<Database, String> {
        let url = lookup("DATABASE_URL").filter(|v| !v.is_empty());
        let path = lookup("DATABASE_PATH").filter(|v| !v.is_empty());
        match (url, path) {
            (Some(_), Some(_)) => Err(
                "DATABASE_URL and DATABASE_PATH are both set: set one (DATABASE_PATH is a SQLite \
                 file, the same as DATABASE_URL=sqlite:PATH)"
                    .into(),
            ),
            (Some(url), None) => {
                Backend::of_url(&url)?;
                Ok(Database::Url(url))
            }
            (None, Some(path)) => Ok(Database::Path(path.into())),
            (None, None) => Ok(Database::Path(default_path.into())),
        }
    }

    /// The backend it names.
    pub fn backend(&self) -> Backend {
        match self {
            Database::Path(_) => Backend::Sqlite,
            Database::Url(url) => Backend::of_url(url).unwrap_or(Backend::Sqlite),
        }
    }

    /// The options sqlx connects with: a SQLite file is created if missing unless the URL says
    /// otherwise (`mode=`).
    fn connect_options(&self) -> Result<AnyConnectOptions, String> {
        let url = match self {
            Database::Path(path) => format!("sqlite:{}?mode=rwc", encode_path(path)),
            Database::Url(url) if self.backend() == Backend::Sqlite && !has_mode(url) => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            Database::Url(url) => url.clone(),
        };
        AnyConnectOptions::from_str(&url).map_err(|e| format!("{self}: {}", redact(&e.to_string())))
    }
}

/// Whether a `sqlite:` URL says how to open the file (`?mode=…`).
fn has_mode(url: &str) -> bool {
    url.split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("mode=")))
}

/// Where it is, without a password.
impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Path(path) => write!(f, "SQLite database {}", path.display()),
            Database::Url(url) => write!(f, "database {}", redact(url)),
        }
    }
}

/// A URL may carry a password: never printed, not even in `{:?}`.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Path(path) => f.debug_tuple("Path").field(path).finish(),
            Database::Url(url) => f.debug_tuple("Url").field(&redact(url)).finish(),
        }
    }
}

/// `text` with the password of any `scheme://user:password@` in it replaced by `***`.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (head, tail) = rest.split_at(start + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ' ']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// A file path as the path of an opaque `sqlite:` URL: every byte but unreserved ones and `/`
/// percent-encoded, the leading `/` too, so that the URL parser neither sees a host nor folds
/// `..` segments, and sqlx decodes back exactly `path`.
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for (i, b) in path.as_os_str().as_encoded_bytes().iter().enumerate() {
        match b {
            b'/' if i > 0 => out.push('/'),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(*b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    fn of_url(url: &str) -> Result<Backend, String> {
        let scheme = url.split_once(':').map_or("", |(s, _)| s);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            _ => Err("DATABASE_URL must start with sqlite: or postgres://".into()),
        }
    }

    fn migrations(self) -> &'static [(i64, &'static str, &'static str)] {
        match self {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The migrations of one backend, compiled in (sqlx's `migrate!` would need its `macros`).
#[derive(Debug)]
struct Embedded(Backend);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<Result<Vec<sqlx::migrate::Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .migrations()
                .iter()
                .map(|(version, description, sql)| {
                    sqlx::migrate::Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Why a database call failed.
#[derive(Debug)]
pub enum Error {
    /// The database cannot be reached, is starting or stopping, is overloaded, or the call
    /// timed out: nothing was done that will not be found done on a retry. Answered 503.
    Unavailable(String),
    /// Anything else: a bug. Answered 500.
    Failed(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Unavailable(e) => write!(f, "database unavailable: {e}"),
            Error::Failed(e) => write!(f, "database: {e}"),
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        let text = redact(&e.to_string());
        if is_unavailable(&e) {
            Error::Unavailable(text)
        } else {
            Error::Failed(text)
        }
    }
}

/// Whether `e` says the database is out of reach for now, rather than that the query is wrong.
fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
            db.code()
                .is_some_and(|code| unavailable_code(&code, sqlite))
        }
        _ => false,
    }
}

/// Whether a SQLite result code (a number, maybe extended) or a PostgreSQL SQLSTATE says the
/// database is out of reach for now.
fn unavailable_code(code: &str, sqlite: bool) -> bool {
    if sqlite {
        // BUSY, LOCKED (after the busy timeout), IOERR, FULL, CANTOPEN, PROTOCOL.
        return code
            .parse::<u32>()
            .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14 | 15));
    }
    // 08: connection exception; 53: insufficient resources (too many connections, disk full);
    // 57P01-03: shutting down, crashed, starting up; 57014: cancelled (statement timeout);
    // 40001/40P01: serialization failure, deadlock (a retry succeeds); 58: system error (I/O).
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "57014" | "40001" | "40P01"
        )
}

/// Runs one request's database work, bounded by [`OPERATION_TIMEOUT`].
pub async fn bounded<T>(work: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, Error> {
    match actix_web::rt::time::timeout(OPERATION_TIMEOUT, work).await {
        Ok(result) => result.map_err(Error::from),
        Err(_) => Err(Error::Unavailable(format!(
            "no answer within {} s",
            OPERATION_TIMEOUT.as_secs()
        ))),
    }
}

/// The database: a pool of connections and the backend they speak.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects to `database` and brings its schema up to date, waiting up to
    /// 30 s (`STARTUP_WAIT`) for a database that cannot be reached yet.
    pub async fn open(database: &Database) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let backend = database.backend();
        let options = database.connect_options()?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => SQLITE_CONNECTIONS,
                Backend::Postgres => POSTGRES_CONNECTIONS,
            })
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .idle_timeout(Duration::from_secs(300))
            // A connection the database closed (a restart) is found out before it is used.
            .test_before_acquire(true)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL: readers do not wait for the writer (kept in the file). FULL: a
                        // committed transaction survives a crash of the machine, not only of
                        // the process. sqlx's busy timeout (5 s) lets writers queue.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        let db = Db { pool, backend };
        let started = Instant::now();
        loop {
            match db.migrate().await {
                Ok(()) => return Ok(db),
                Err(Error::Unavailable(e)) if started.elapsed() < STARTUP_WAIT => {
                    log::warn!(target: "membership", "waiting for the {database}: {e}");
                    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
                }
                Err(e) => return Err(format!("cannot open the {database}: {e}")),
            }
        }
    }

    /// Applies the migrations not yet applied, each in its own transaction (sqlx's table
    /// `_sqlx_migrations`; on PostgreSQL under an advisory lock, so instances starting
    /// together apply each once).
    async fn migrate(&self) -> Result<(), Error> {
        let migrator = Migrator::new(Embedded(self.backend))
            .await
            .map_err(|e| Error::Failed(e.to_string()))?;
        let mut conn = self.pool.acquire().await?;
        adopt_legacy_schema(&mut conn, &migrator, self.backend).await?;
        migrator.run(&mut *conn).await.map_err(|e| match e {
            MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => Error::from(e),
            e => Error::Failed(e.to_string()),
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads and single-statement writes.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes never fails to upgrade its
    /// lock when another connection or process wrote meanwhile; writers wait their turn (the
    /// busy timeout). On PostgreSQL it is READ COMMITTED: see [`Db::lock_user`].
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Makes every other transaction about user `id` wait until `tx` ends: on PostgreSQL a
    /// transaction-scoped advisory lock on the id's hash (two ids that share a hash only wait
    /// for each other); on SQLite `tx` already holds the write lock. With it, a transaction
    /// that reads a user's row (or finds none, or finds them deleted) and then writes it sees
    /// every change committed before, on any instance: without it two READ COMMITTED
    /// transactions could both find no row and both write, a deletion between them lost.
    pub async fn lock_user(
        &self,
        tx: &mut Transaction<'static, Any>,
        id: &str,
    ) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            // The function returns `void`, which the Any driver cannot read: select a constant.
            sqlx::query("SELECT 1 FROM pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A SQLite file made by the app before sqlx (versions in a `schema_version` table) gets the
/// same versions recorded in `_sqlx_migrations`, so they are not applied twice.
async fn adopt_legacy_schema(
    conn: &mut sqlx::AnyConnection,
    migrator: &Migrator,
    backend: Backend,
) -> Result<(), Error> {
    if backend != Backend::Sqlite {
        return Ok(());
    }
    let legacy: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if legacy == 0 {
        return Ok(());
    }
    conn.ensure_migrations_table()
        .await
        .map_err(|e| Error::Failed(e.to_string()))?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_all(&mut *tx)
        .await?;
    for version in versions {
        let Some(m) = migrator.iter().find(|m| m.version == version) else {
            return Err(Error::Failed(format!(
                "schema_version {version} is unknown to this build"
            )));
        };
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES ($1, $2, TRUE, $3, 0) ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(m.description.to_string())
        .bind(m.checksum.to_vec())
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DROP TABLE schema_version")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::sqlite::SqliteConnectOptions;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("membership-db-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn block_on<T>(f: impl Future<Output = T>) -> T {
        actix_web::rt::System::new().block_on(f)
    }

    #[test]
    fn a_path_reaches_sqlite_unchanged() {
        for path in [
            "membership.db",
            "/tmp/a b/c#d?e%41f.db",
            "/tmp/x/../y/./z.db",
            "relative/dir/Ünïcode.db",
            "a:b@c.db",
            "/tmp/mode=ro.db",
        ] {
            let url = format!("sqlite:{}", encode_path(Path::new(path)));
            let opts = SqliteConnectOptions::from_str(&url).unwrap();
            assert_eq!(opts.get_filename(), Path::new(path), "{url}");
            // And through the URL sqlx's Any driver keeps.
            let any = AnyConnectOptions::from_str(&url).unwrap();
            let opts = SqliteConnectOptions::from_str(any.database_url.as_str()).unwrap();
            assert_eq!(opts.get_filename(), Path::new(path), "{url}");
        }
    }

    #[test]
    fn choosing_the_database() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let db = |vars| Database::from_lookup(env(vars), "membership.db");
        assert_eq!(db(&[]), Ok(Database::Path("membership.db".into())));
        assert_eq!(
            db(&[("DATABASE_PATH", "")]),
            Ok(Database::Path("membership.db".into()))
        );
        assert_eq!(
            db(&[("DATABASE_PATH", "/x.db")]),
            Ok(Database::Path("/x.db".into()))
        );
        let pg = "postgres://app:s3cret@db.internal:5432/membership";
        let url = db(&[(
            "DATABASE_URL",
            "postgres://app:s3cret@db.internal:5432/membership",
        )]);
        assert_eq!(url, Ok(Database::Url(pg.into())));
        let url = url.unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(
                !shown.contains("s3cret") && shown.contains("app:***@db.internal"),
                "{shown}"
            );
        }
        let lite = db(&[("DATABASE_URL", "sqlite:///var/lib/m.db")]).unwrap();
        assert_eq!(lite.backend(), Backend::Sqlite);
        let both = db(&[("DATABASE_URL", "sqlite:a.db"), ("DATABASE_PATH", "a.db")]);
        assert!(both.unwrap_err().contains("both set"));
        let other = db(&[("DATABASE_URL", "mysql://root:pw@localhost/m")]).unwrap_err();
        assert!(
            other.contains("sqlite: or postgres://") && !other.contains("pw"),
            "{other}"
        );
    }

    #[test]
    fn a_sqlite_url_is_created_unless_it_says_otherwise() {
        assert!(has_mode("sqlite:/x.db?mode=ro") && has_mode("sqlite:x.db?cache=shared&mode=rw"));
        assert!(!has_mode("sqlite:/tmp/mode=x.db") && !has_mode("sqlite:x.db?cache=shared"));
        let url = |u: &str| {
            Database::Url(u.into())
                .connect_options()
                .unwrap()
                .database_url
        };
        assert_eq!(
            url("sqlite:/tmp/m.db").as_str(),
            "sqlite:/tmp/m.db?mode=rwc"
        );
        assert_eq!(
            url("sqlite:/tmp/m.db?mode=ro").as_str(),
            "sqlite:/tmp/m.db?mode=ro"
        );
        assert_eq!(
            url("sqlite:/tmp/m.db?cache=shared").as_str(),
            "sqlite:/tmp/m.db?cache=shared&mode=rwc"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("error connecting to postgres://u:p%40ss@h/db?sslmode=require: refused"),
            "error connecting to postgres://u:***@h/db?sslmode=require: refused"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn unavailable_is_told_from_a_bug() {
        let sqlite = |code| unavailable_code(code, true);
        let postgres = |code| unavailable_code(code, false);
        assert!(sqlite("5") && sqlite("517") && sqlite("14") && !sqlite("19") && !sqlite("2067"));
        assert!(postgres("08006") && postgres("57P01") && postgres("53300") && postgres("40001"));
        assert!(!postgres("23505") && !postgres("42P01") && !postgres("22001"));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn migrations_apply_once() {
        let dir = temp_dir("migrate");
        let database = Database::Path(dir.join("test.db"));
        block_on(async {
            for _ in 0..2 {
                let db = Db::open(&database).await.unwrap();
                let versions: Vec<i64> =
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                        .fetch_all(db.pool())
                        .await
                        .unwrap();
                assert_eq!(versions, [1, 2]);
                db.close().await;
            }
        });
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A file made by the app before sqlx: its rows stay, its schema is not applied again.
    #[test]
    fn a_database_from_before_sqlx_is_adopted() {
        let dir = temp_dir("legacy");
        let database = Database::Path(dir.join("old.db"));
        block_on(async {
            sqlx::any::install_default_drivers();
            let options = database.connect_options().unwrap();
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect_with(&options)
                .await
                .unwrap();
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
                .await
                .unwrap();
            for (version, _, sql) in SQLITE_MIGRATIONS {
                conn.execute(*sql).await.unwrap();
                sqlx::query("INSERT INTO schema_version (version) VALUES ($1)")
                    .bind(version)
                    .execute(&mut conn)
                    .await
                    .unwrap();
            }
            conn.execute("INSERT INTO users (id, tier, created_at) VALUES ('user_1', 'basic', 0)")
                .await
                .unwrap();
            sqlx::Connection::close(conn).await.unwrap();

            let db = Db::open(&database).await.unwrap();
            let tier: String = sqlx::query_scalar("SELECT tier FROM users WHERE id = 'user_1'")
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(tier, "basic");
            let versions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(versions, 2);
            db.close().await;
        });
        let _ = std::fs::remove_dir_all(dir);
    }
}
