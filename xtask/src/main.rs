//! `cargo xtask`: the project's chores, in Rust so they run wherever cargo runs.
//!
//! - `cargo xtask ci`: exactly what CI runs (format check, clippy with `-D warnings` without
//!   and with the `bench` features, rustdoc with `-D warnings`, tidy, schemathesis, the test
//!   suite with PostgreSQL).
//! - `cargo xtask test`: the test suite, with the `bench` features (so the benchmark-only
//!   code's tests run too); makes sure the local PostgreSQL is up and exports
//!   `CRM_TEST_POSTGRES_URL` for the tests that need it; starts moto (a local S3) for the
//!   blob store's S3 tests and exports `CRM_TEST_S3_URL` (see `s3_fake`); then the console's
//!   browser tests (see `browser`; `CRM_SKIP_BROWSER=1` skips them outside CI).
//! - `cargo xtask tidy`: the architecture rules, checked mechanically (and a warning per
//!   file over 600 lines).
//! - `cargo xtask bench store [ARGS…]`, `cargo xtask bench server [ARGS…]`: the store and
//!   HTTP benchmarks (see docs/benchmarks.md), built with the `bench` features.

mod bench_server;
mod browser;
mod s3_fake;
mod tidy;

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The PostgreSQL every machine of this project has (trust auth).
const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The features that compile the benchmark-only code (`crm-store-sql`'s `bench_data`,
/// `bulk_seed` and raw screen pop; `crm-server bench-seed`). The product builds without
/// them; the benchmarks, the test suite and CI's second clippy build with them.
const BENCH_FEATURES: &str = "crm-store-sql/bench,crm-server/bench";

const HELP: &str = "\
cargo xtask <command>

commands:
  ci                 what CI runs: fmt --check, clippy -D warnings (also with the bench
                     features), cargo doc -D warnings, tidy, schemathesis, test
  test               the whole test suite, bench features on (starts PostgreSQL and moto if needed),
                     then the console's browser tests (CRM_SKIP_BROWSER=1 skips them outside CI)
  tidy               architecture and hygiene rules; warns about files over 600 lines
  bench store [ARGS] the store benchmark; ARGS go to the bench (e.g. --backend postgres --customers 1000000)
  bench server [ARGS] the HTTP load benchmark (seed, release server, wrk); see docs/benchmarks.md
";

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("test") => test(),
        Some("tidy") => tidy::run(&root),
        Some("bench") => bench(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// A cargo command that passes the PostgreSQL URL to the tests (`std::env::set_var` is
/// unsafe in edition 2024 and the workspace forbids unsafe code).
///
/// It drops the variables `cargo run` set for this xtask binary (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_*`, …): some build scripts (ring's) watch them, so passing them on made every
/// `cargo xtask …` and every plain `cargo build` rebuild the other's dependencies.
fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_run = key.starts_with("CARGO_PKG_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            );
        if set_by_cargo_run {
            cmd.env_remove(key);
        }
    }
    cmd.env("CRM_TEST_POSTGRES_URL", postgres_url());
    cmd
}

fn run(mut cmd: Command) -> Result<()> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn ci() -> Result<()> {
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--check"]);
    run(fmt)?;
    let mut clippy = cargo();
    clippy.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    run(clippy)?;
    // The benchmark-only code and its tests are compiled with the bench features only. Over
    // the whole workspace, so that the dependencies resolve as above and only the crates
    // the features change (crm-store-sql and what depends on it) are linted again.
    let mut bench_clippy = cargo();
    bench_clippy.args(["clippy", "--workspace", "--all-targets", "--features", BENCH_FEATURES, "--", "-D", "warnings"]);
    run(bench_clippy)?;
    // Broken or private intra-doc links, bad code blocks: rustdoc's warnings fail CI too.
    let mut doc = cargo();
    doc.env("RUSTDOCFLAGS", "-D warnings").args(["doc", "--workspace", "--no-deps"]);
    run(doc)?;
    tidy::run(&workspace_root())?;
    api_fuzz()?;
    // The test suite last, so its summary closes the log.
    test()
}

/// Property-based tests of the served OpenAPI document with schemathesis (PyPI), bounded
/// in time: no 5xx, no response that breaks the document. `CRM_SKIP_SCHEMATHESIS=1` skips
/// it on a machine without PyPI access; CI never sets it.
fn api_fuzz() -> Result<()> {
    if env::var_os("CRM_SKIP_SCHEMATHESIS").is_some() && env::var_os("CI").is_none() {
        eprintln!("schemathesis skipped (CRM_SKIP_SCHEMATHESIS)");
        return Ok(());
    }
    let mut cmd = Command::new("bash");
    cmd.arg("tests/schemathesis.sh").env("ST_MAX_TIME", env::var("ST_MAX_TIME").unwrap_or_else(|_| "90".into()));
    run(cmd)
}

fn test() -> Result<()> {
    ensure_postgres()?;
    // The blob store's S3 tests need an S3-compatible server (moto); stopped at the end.
    let s3 = s3_fake::ensure(&workspace_root())?;
    // With the bench features: the tests of the benchmark-only code (bulk seeds, the raw
    // screen pop, the benchmark data) run with the others.
    let mut tests = cargo();
    // Test threads get 8 MiB of stack (libtest's default is 2 MiB): the e2e tests' futures
    // and the OpenAPI schema checks recurse deeply in a debug build.
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        tests.env("RUST_MIN_STACK", "8388608");
    }
    tests.env("CRM_TEST_S3_URL", &s3.url).args(["test", "--workspace", "--all-targets", "--features", BENCH_FEATURES]);
    run(tests)?;
    // The embedding example is documentation that must keep working.
    let mut example = cargo();
    example.args(["run", "--quiet", "-p", "crm-core", "--example", "embed"]);
    run(example)?;
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc", "--features", BENCH_FEATURES]);
    run(doc)?;
    // The agents' console in a real browser (skipped only with CRM_SKIP_BROWSER=1, never in CI).
    browser::run_tests(&workspace_root())
}

/// The PostgreSQL URL the tests and benchmarks get (`CRM_TEST_POSTGRES_URL`, or the local
/// default).
fn postgres_url() -> String {
    env::var("CRM_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned())
}

/// The local PostgreSQL server's Unix socket (Debian's default directory).
const LOCAL_POSTGRES_SOCKET: &str = "/var/run/postgresql/.s.PGSQL.5432";

/// The PostgreSQL URL the benchmarks use: `CRM_TEST_POSTGRES_URL` when set, else the local
/// server over its Unix socket when it has one (no TCP and no TLS, which a TCP URL without
/// `sslmode` gets from a server with SSL on: the figures in docs/benchmarks.md were taken
/// over the socket), else the tests' default.
fn bench_postgres_url() -> String {
    bench_postgres_url_from(env::var("CRM_TEST_POSTGRES_URL").ok(), Path::new(LOCAL_POSTGRES_SOCKET).exists())
}

fn bench_postgres_url_from(set: Option<String>, local_socket: bool) -> String {
    match set {
        Some(url) if !url.is_empty() => url,
        _ if local_socket => "postgres://postgres@localhost/test?host=/var/run/postgresql".to_owned(),
        _ => DEFAULT_POSTGRES_URL.to_owned(),
    }
}

/// Makes sure PostgreSQL answers (starting the local cluster if needed).
fn ensure_postgres() -> Result<()> {
    if pg_ready() {
        return Ok(());
    }
    eprintln!("PostgreSQL is not answering on 127.0.0.1:5432; starting the local cluster");
    let versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    for v in versions {
        let _ = Command::new("pg_ctlcluster").args(["--skip-systemctl-redirect", &v, "main", "start"]).status();
    }
    for _ in 0..30 {
        if pg_ready() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    if env::var_os("CI").is_some() {
        bail!("PostgreSQL did not start; CI needs it (the PostgreSQL tests are mandatory there)");
    }
    eprintln!("warning: PostgreSQL is not running; its tests will say they did not run");
    Ok(())
}

fn pg_ready() -> bool {
    Command::new("pg_isready")
        .args(["-h", "127.0.0.1", "-p", "5432", "-q"])
        .status()
        .map(|s| s.success())
        .unwrap_or_else(|_| std::net::TcpStream::connect(("127.0.0.1", 5432)).is_ok())
}

fn bench(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("server") => bench_server::run(&args[1..]),
        Some("store") => {
            ensure_postgres()?;
            let mut cmd = cargo();
            if env::var_os("CRM_BENCH_POSTGRES_URL").is_none() {
                cmd.env("CRM_BENCH_POSTGRES_URL", bench_postgres_url());
            }
            cmd.args(["bench", "-p", "crm-store-sql", "--features", "bench", "--bench", "store", "--"])
                .args(&args[1..]);
            run(cmd)
        }
        other => bail!("unknown benchmark {other:?}: try `cargo xtask bench store`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmarks_prefer_the_set_url_then_the_local_socket() {
        let set = Some("postgres://u@db.example/x".to_owned());
        assert_eq!(bench_postgres_url_from(set.clone(), true), "postgres://u@db.example/x");
        assert_eq!(bench_postgres_url_from(set, false), "postgres://u@db.example/x");
        assert_eq!(bench_postgres_url_from(None, true), "postgres://postgres@localhost/test?host=/var/run/postgresql");
        assert_eq!(bench_postgres_url_from(Some(String::new()), false), DEFAULT_POSTGRES_URL);
    }
}
