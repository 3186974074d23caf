//! A throwaway PostgreSQL for one test: `initdb` in a temporary directory, the server on a free
//! port of 127.0.0.1 (no Unix socket), stopped and its directory removed on drop. The server is
//! Debian's (`apt-get install postgresql`, which `.ci/run` does): found under
//! `/usr/lib/postgresql/*/bin`, or beside an `initdb` on the `PATH`. Run as root (as CI is), it
//! runs as the `postgres` user, since PostgreSQL refuses to run as root.
//!
//! Without PostgreSQL a test that needs it is skipped with a loud notice outside CI, and fails
//! under `CI` (set by `.ci/run`): there it must run.

#![allow(dead_code)] // each test binary that includes the support uses a part of it

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running (or stopped) throwaway cluster.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    /// `setpriv` arguments that run a command as `postgres` (when we are root).
    as_owner: Vec<String>,
    /// The port it listens on, the same across [`Postgres::stop`] and [`Postgres::restart`].
    pub port: u16,
    server: Option<Child>,
}

impl Postgres {
    /// A new cluster, started; `None` after a loud notice when PostgreSQL is not installed and
    /// `CI` is not set. Panics under `CI` without it.
    pub fn start(name: &str) -> Option<Postgres> {
        let Some(bin) = binaries() else {
            let msg = "PostgreSQL NOT FOUND: the membership tests on PostgreSQL did NOT run. \
                       Install it (apt-get install postgresql; .ci/run does).";
            super::skip_unless_ci(msg);
            return None;
        };
        let dir = std::env::temp_dir().join(format!("clerk-pg-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let as_owner = if output("id", &["-u"]).trim() == "0" {
            let uid = output("id", &["-u", "postgres"]);
            let gid = output("id", &["-g", "postgres"]);
            let (uid, gid) = (uid.trim().parse().ok(), gid.trim().parse().ok());
            assert!(
                uid.is_some() && gid.is_some(),
                "running as root, and there is no `postgres` user to run PostgreSQL as"
            );
            std::os::unix::fs::chown(&dir, uid, gid).unwrap();
            ["--reuid=postgres", "--regid=postgres", "--init-groups"]
                .map(String::from)
                .to_vec()
        } else {
            Vec::new()
        };
        let mut pg = Postgres {
            dir,
            bin,
            as_owner,
            port: super::free_port(),
            server: None,
        };
        let data = pg.data();
        let init = pg
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .stdout(Stdio::null())
            .output()
            .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        pg.restart();
        Some(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// `program` of the server's bin directory, as the cluster's owner.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_owner.is_empty() {
            Command::new(path)
        } else {
            let mut c = Command::new("setpriv");
            c.args(&self.as_owner).arg(path);
            c
        }
    }

    /// The URL of database `postgres`, the one initdb makes.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again, after [`Postgres::stop`]) and waits until it accepts
    /// connections.
    pub fn restart(&mut self) {
        assert!(self.server.is_none(), "already running");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        // fsync off: these clusters live for one test; a stop (even `immediate`, a crash)
        // keeps every committed transaction, since WAL is still written before a commit
        // returns; only a crash of the machine would lose one.
        let child = self
            .command("postgres")
            .arg("-D")
            .arg(self.data())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k", ""])
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=60", "-c", "shared_buffers=32MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start postgres");
        self.server = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
                .args(["-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            if let Some(Ok(Some(status))) = self.server.as_mut().map(Child::try_wait) {
                panic!("postgres exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "postgres not ready:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server: `mode` is pg_ctl's (`fast`: connections closed, a clean shutdown;
    /// `immediate`: every process killed at once, as in a crash).
    pub fn stop(&mut self, mode: &str) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let stopped = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !stopped.is_ok_and(|s| s.success()) {
            let _ = server.kill();
        }
        let _ = server.wait();
    }

    /// Runs `sql` with psql and returns its rows, `|`-separated, one per line.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.url(),
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop("immediate");
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The directory of Debian's server binaries (the newest version), else of an `initdb` on the
/// `PATH` (followed through a symbolic link, to where `postgres` lies beside it).
fn binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("postgres").is_file() && dir.join("initdb").is_file();
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    debian.sort();
    if let Some((_, bin)) = debian.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .filter_map(|dir| fs::canonicalize(dir.join("initdb")).ok())
        .filter_map(|initdb| initdb.parent().map(Path::to_path_buf))
        .find(|bin| has_server(bin))
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
