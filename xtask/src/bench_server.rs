//! `cargo xtask bench server [--customers N] [--backend sqlite|postgres|both]
//! [--duration SECS] [--connections C] [--threads T]`: the HTTP server under load.
//!
//! Per backend, on a fresh database: builds the release server, seeds N customers (two
//! phones, an email and an open case each) with the hidden `crm-server bench-seed`
//! command (`SqlStore::bulk_seed`, like the store's own benchmark; both compiled with the
//! `bench` feature, which this build turns on), starts
//! `crm-server serve` on 127.0.0.1, and drives it over loopback with `wrk` (installed with
//! apt-get when missing): the screen pop (`GET /api/v1/lookup?phone=…` over random seeded
//! numbers) and case creation (`POST /api/v1/cases` for random seeded customers), each for
//! a bounded duration after a short warm-up; with `oha` installed, also the screen pop in an
//! open loop (a fixed rate, latency counted from each request's scheduled time). It
//! reports requests/s, p50/p99 latency, non-2xx answers and the server's peak `VmRSS`
//! during the run, then stops the server and deletes the database.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

struct Args {
    customers: usize,
    backends: Vec<&'static str>,
    duration: u64,
    connections: u32,
    threads: u32,
    /// Connections of the paced screen-pop scenario (0: not run).
    paced_connections: u32,
    /// Pause of each paced connection after each answer, in ms.
    pause_ms: u32,
    /// Requests/s of the open-loop screen pop (oha; 0: not run).
    rate: u32,
    /// Connections oha may open for it.
    open_connections: u32,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut a = Args {
        customers: 1_000_000,
        backends: vec!["sqlite", "postgres"],
        duration: 15,
        connections: 32,
        threads: 2,
        paced_connections: 56,
        pause_ms: 4,
        rate: 10_000,
        open_connections: 64,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().map(|v| v.replace('_', "")).with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--customers" => a.customers = value()?.parse().context("--customers")?,
            "--duration" => a.duration = value()?.parse().context("--duration")?,
            "--connections" => a.connections = value()?.parse().context("--connections")?,
            "--threads" => a.threads = value()?.parse().context("--threads")?,
            "--paced-connections" => a.paced_connections = value()?.parse().context("--paced-connections")?,
            "--pause-ms" => a.pause_ms = value()?.parse().context("--pause-ms")?,
            "--rate" => a.rate = value()?.parse().context("--rate")?,
            "--open-connections" => a.open_connections = value()?.parse().context("--open-connections")?,
            "--backend" => {
                a.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => bail!("unknown backend {other:?} (sqlite, postgres, both)"),
                }
            }
            other => bail!("unknown option {other:?}\n\n{USAGE}"),
        }
    }
    if a.customers == 0 || a.duration == 0 || a.connections == 0 || a.threads == 0 || a.open_connections == 0 {
        bail!("--customers, --duration, --connections, --threads and --open-connections must be positive");
    }
    Ok(a)
}

const USAGE: &str = "\
cargo xtask bench server [OPTIONS]

Seeds a fresh database, starts the release server and drives it with wrk over loopback:
the screen pop (GET /api/v1/lookup?phone=) with C connections sending back to back (the
most the server serves, and its latency when saturated); the screen pop paced: P
connections that each pause a random while after every answer, like independent callers,
about 10,000 requests/s with the defaults (the latency at that load); the screen pop in an
open loop when oha is installed (`cargo install oha --locked`): R requests/s sent on
schedule whatever the answers do, latency counted from each request's scheduled time
(oha --latency-correction), so a stall shows as the requests it holds up; then case
creation (POST /api/v1/cases) with C connections back to back.

options:
  --customers N          customers to seed, each with two phones, an email and an open case [1000000]
  --backend B            sqlite, postgres or both [both]
  --duration SECS        load per scenario, after a warm-up [15]
  --connections C        concurrent wrk connections, back to back [32]
  --threads T            wrk threads [2]
  --paced-connections P  connections of the paced screen pop; 0 skips it [56]
  --pause-ms MS          mean pause of a paced connection after an answer, drawn at random
                         (exponential, whole ms: wrk's delay()) [4]
  --rate R               requests/s of the open-loop screen pop (oha); 0 skips it [10000]
  --open-connections O   connections oha may open for it [64]

environment:
  CRM_TEST_POSTGRES_URL  the PostgreSQL server to create the bench database on, options kept
                         [the local server's Unix socket when it has one:
                         postgres://postgres@localhost/test?host=/var/run/postgresql,
                         else postgres://postgres@127.0.0.1:5432/test]; a TCP URL without
                         sslmode runs over TLS when the server has SSL on
";

/// Runs the benchmark.
pub(crate) fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return Ok(());
    }
    let args = parse_args(args)?;
    ensure_wrk()?;
    if args.backends.contains(&"postgres") {
        super::ensure_postgres()?;
    }
    let mut build = super::cargo();
    // `bench-seed` is compiled with the `bench` feature only.
    build.args(["build", "--release", "-p", "crm-server", "--features", "bench"]);
    super::run(build)?;
    let root = std::env::current_dir()?;
    let binary = root.join("target/release/crm-server");
    let tmp = root.join("target/tmp");
    std::fs::create_dir_all(&tmp)?;
    println!(
        "# crm-server HTTP benchmark: {} customers, wrk -t{} -c{} -d{}s per scenario, loopback",
        args.customers, args.threads, args.connections, args.duration
    );
    for backend in &args.backends {
        let db = FreshDb::create(backend, &tmp)?;
        let result = bench_backend(&binary, &tmp, &db.url, backend, &args);
        db.drop_it();
        result?;
    }
    Ok(())
}

fn ensure_wrk() -> Result<()> {
    if Command::new("wrk").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok() {
        return Ok(());
    }
    eprintln!("wrk is missing: installing the Debian package");
    let _ = Command::new("apt-get").arg("update").status();
    let status = Command::new("apt-get").args(["install", "-y", "wrk"]).status().context("apt-get")?;
    if !status.success() {
        bail!("cannot install wrk (apt-get install -y wrk failed)");
    }
    Ok(())
}

/// A database for one run, deleted afterwards.
struct FreshDb {
    url: String,
    sqlite: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl FreshDb {
    fn create(backend: &str, tmp: &Path) -> Result<Self> {
        let stamp = format!(
            "{}_{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
        );
        if backend == "postgres" {
            let base = super::bench_postgres_url();
            let name = format!("crm_bench_server_{stamp}");
            let status =
                Command::new("psql").args([base.as_str(), "-q", "-c", &format!("CREATE DATABASE {name}")]).status()?;
            if !status.success() {
                bail!("cannot create database {name} on {base}");
            }
            // Same server and options (`?sslmode=…`, `?host=/run/postgresql`), the new database.
            let (address, query) = base.split_once('?').map_or((base.as_str(), None), |(a, q)| (a, Some(q)));
            let prefix = address.rsplit_once('/').map(|(p, _)| p.to_owned()).context("postgres url")?;
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            Ok(Self { url: format!("{prefix}/{name}{query}"), sqlite: None, postgres: Some((base, name)) })
        } else {
            let path = tmp.join(format!("crm-bench-server-{stamp}.db"));
            Ok(Self { url: format!("sqlite://{}?mode=rwc", path.display()), sqlite: Some(path), postgres: None })
        }
    }

    fn drop_it(self) {
        if let Some(path) = self.sqlite {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Some((base, name)) = self.postgres {
            // FORCE: a backend of the stopped server may still be finishing its last
            // statement, and a plain DROP then fails, leaving gigabytes behind (seen once).
            let dropped = Command::new("psql")
                .args([base.as_str(), "-q", "-c", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])
                .status();
            if !dropped.is_ok_and(|s| s.success()) {
                eprintln!("warning: the bench database {name} was not dropped; drop it by hand");
            }
        }
    }
}

/// What `bench-seed` printed.
struct Seed {
    token: String,
    customers: Vec<String>,
    seconds: String,
}

fn seed(binary: &Path, url: &str, customers: usize) -> Result<Seed> {
    eprintln!("seeding {customers} customers…");
    let out = Command::new(binary)
        .args(["--database-url", url, "--log", "warn", "bench-seed", "--customers", &customers.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("crm-server bench-seed")?;
    if !out.status.success() {
        bail!("bench-seed failed with {}", out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut token = None;
    let mut seconds = String::new();
    let mut ids = Vec::new();
    for line in text.lines() {
        match line.split_once('=') {
            Some(("token", v)) => token = Some(v.to_owned()),
            Some(("customer", v)) => ids.push(v.to_owned()),
            Some(("seed_seconds", v)) => seconds = v.to_owned(),
            _ => {}
        }
    }
    Ok(Seed { token: token.context("bench-seed printed no token")?, customers: ids, seconds })
}

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(binary: &Path, url: &str) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(binary)
            .args([
                "--database-url",
                url,
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--no-demo",
                "--log",
                "warn",
                "serve",
            ])
            .stdout(Stdio::null())
            .spawn()
            .context("start crm-server")?;
        let server = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if http_get(port, "/healthz").is_ok_and(|r| r.starts_with("HTTP/1.1 200")) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        bail!("the server did not answer /healthz within 60 s")
    }

    fn stop(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn lookup_script(token: &str, customers: usize) -> String {
    format!(
        r#"-- GET /api/v1/lookup over random seeded phone numbers (+336NNNNNNNN).
wrk.headers["Authorization"] = "Bearer {token}"
local n = {customers}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end
function request()
  return wrk.format("GET", string.format("/api/v1/lookup?phone=%%2B336%08d", math.random(0, n - 1)))
end
"#
    )
}

/// [`lookup_script`] with a pause after each answer on every connection, drawn from an
/// exponential distribution of mean `pause_ms` (whole ms, as wrk's `delay()` takes them):
/// many connections with random pauses send like independent callers, where a fixed pause
/// would have the connections answered together send together again.
fn paced_lookup_script(token: &str, customers: usize, pause_ms: u32) -> String {
    format!(
        "{}function delay()\n  return math.floor(-math.log(1 - math.random()) * {pause_ms} + 0.5)\nend\n",
        lookup_script(token, customers)
    )
}

fn create_case_script(token: &str, customers: &[String]) -> String {
    let ids: Vec<String> = customers.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        r#"-- POST /api/v1/cases for random seeded customers.
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Content-Type"] = "application/json"
local ids = {{{}}}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end
function request()
  local id = ids[math.random(1, #ids)]
  return wrk.format("POST", "/api/v1/cases", nil, '{{"customer":"' .. id .. '","subject":"Benchmark call back"}}')
end
"#,
        ids.join(",")
    )
}

/// One scenario's figures.
struct Figures {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
    non_2xx: u64,
    rss_mb: f64,
}

fn to_ms(v: &str) -> Option<f64> {
    let (num, factor) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return None;
    };
    num.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(out: &str) -> Result<(f64, f64, f64, u64, u64)> {
    let mut pct = BTreeMap::new();
    let mut rps = None;
    let mut requests = 0;
    let mut non_2xx = 0;
    let mut in_dist = false;
    for line in out.lines() {
        let t = line.trim();
        if t.starts_with("Latency Distribution") {
            in_dist = true;
            continue;
        }
        if in_dist {
            let point =
                t.split_once(char::is_whitespace).and_then(|(p, v)| Some((p.strip_suffix('%')?, to_ms(v.trim())?)));
            if let Some((p, v)) = point {
                pct.insert(p.to_owned(), v);
                continue;
            }
            in_dist = false;
        }
        if let Some(v) = t.strip_prefix("Requests/sec:") {
            rps = v.trim().parse().ok();
        }
        if t.contains(" requests in ") {
            requests = t.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        }
        if let Some(v) = t.strip_prefix("Non-2xx or 3xx responses:") {
            non_2xx = v.trim().parse().unwrap_or(0);
        }
    }
    Ok((
        rps.context("no Requests/sec in wrk's output")?,
        *pct.get("50").context("no p50")?,
        *pct.get("99").context("no p99")?,
        requests,
        non_2xx,
    ))
}

fn wrk(port: u16, script: &Path, args: &Args, connections: u32, seconds: u64) -> Result<String> {
    let out = Command::new("wrk")
        .args([
            "-t",
            &args.threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--timeout",
            "10s",
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://127.0.0.1:{port}"))
        .output()
        .context("run wrk")?;
    if !out.status.success() {
        bail!("wrk failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `load` while sampling the server's RSS every 250 ms: its answer and the peak RSS
/// in MB.
fn sampled<T>(server: &Server, load: impl FnOnce() -> Result<T>) -> Result<(T, f64)> {
    let pid = server.child.id();
    let peak = Arc::new(AtomicU64::new(rss_kb(pid)));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };
    let out = load();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    Ok((out?, peak.load(Ordering::Relaxed) as f64 / 1024.0))
}

fn scenario(server: &Server, script: &Path, args: &Args, connections: u32) -> Result<Figures> {
    // Warm-up (not measured): connections, caches, the planner.
    wrk(server.port, script, args, connections, 3)?;
    let (out, rss_mb) = sampled(server, || wrk(server.port, script, args, connections, args.duration))?;
    let (rps, p50_ms, p99_ms, requests, non_2xx) = parse_wrk(&out).with_context(|| format!("wrk said:\n{out}"))?;
    Ok(Figures { rps, p50_ms, p99_ms, requests, non_2xx, rss_mb })
}

fn oha_installed() -> bool {
    Command::new("oha").arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Screen-pop URLs over random seeded numbers (+336NNNNNNNN), one per line, for oha.
fn lookup_urls(port: u16, customers: usize, count: usize) -> String {
    // splitmix64: reproducible and spread, no dependency for it.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut out = String::with_capacity(count * 60);
    for _ in 0..count {
        let n = next() % customers as u64;
        out.push_str(&format!("http://127.0.0.1:{port}/api/v1/lookup?phone=%2B336{n:08}\n"));
    }
    out
}

/// oha sending `rate` requests/s on schedule for `seconds`, its JSON report.
fn oha(urls: &Path, token: &str, args: &Args, seconds: u64) -> Result<String> {
    let out = Command::new("oha")
        .args(["-z", &format!("{seconds}s"), "-q", &args.rate.to_string(), "-c", &args.open_connections.to_string()])
        .args(["--latency-correction", "--no-tui", "--output-format", "json"])
        .args(["-H", &format!("Authorization: Bearer {token}"), "--urls-from-file"])
        .arg(urls)
        .output()
        .context("run oha")?;
    if !out.status.success() {
        bail!("oha failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// requests/s, p50 and p99 in ms, answered requests, non-2xx answers and failed requests
/// (requests still running at the deadline are not counted) from oha's JSON report.
fn parse_oha(json: &str) -> Result<(f64, f64, f64, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).context("oha's report is not JSON")?;
    let rps = v["summary"]["requestsPerSec"].as_f64().context("no summary.requestsPerSec")?;
    let ms = |p: &str| v["latencyPercentiles"][p].as_f64().map(|s| s * 1000.0).with_context(|| format!("no {p}"));
    let (p50, p99) = (ms("p50")?, ms("p99")?);
    let mut answered = 0;
    let mut bad = 0;
    for (status, n) in v["statusCodeDistribution"].as_object().context("no statusCodeDistribution")? {
        let n = n.as_u64().unwrap_or(0);
        answered += n;
        if !status.starts_with('2') {
            bad += n;
        }
    }
    if let Some(errors) = v["errorDistribution"].as_object() {
        let failed: u64 =
            errors.iter().filter(|(e, _)| !e.contains("deadline")).map(|(_, n)| n.as_u64().unwrap_or(0)).sum();
        answered += failed;
        bad += failed;
    }
    Ok((rps, p50, p99, answered, bad))
}

fn open_loop(server: &Server, urls: &Path, token: &str, args: &Args) -> Result<Figures> {
    oha(urls, token, args, 3)?;
    let (out, rss_mb) = sampled(server, || oha(urls, token, args, args.duration))?;
    let (rps, p50_ms, p99_ms, requests, non_2xx) = parse_oha(&out)?;
    Ok(Figures { rps, p50_ms, p99_ms, requests, non_2xx, rss_mb })
}

/// The PostgreSQL server's version and the settings that move the figures most, as
/// `psql` prints them (the server's configuration is the machine's, not the benchmark's).
fn postgres_settings(url: &str) -> String {
    let query = "SELECT current_setting('server_version') || ', shared_buffers ' || current_setting('shared_buffers') \
                 || ', effective_cache_size ' || current_setting('effective_cache_size')";
    match Command::new("psql").args([url, "-Atc", query]).output() {
        Ok(out) if out.status.success() => format!("PostgreSQL {}", String::from_utf8_lossy(&out.stdout).trim()),
        _ => "PostgreSQL (settings not readable)".to_owned(),
    }
}

fn bench_backend(binary: &Path, tmp: &Path, url: &str, backend: &str, args: &Args) -> Result<()> {
    let seeded = seed(binary, url, args.customers)?;
    if backend == "postgres" {
        // Write the seed's pages out now, so that its checkpoint does not land in the
        // middle of the measured requests (seeding writes gigabytes of WAL).
        let done = Command::new("psql").args([url, "-q", "-c", "CHECKPOINT"]).status();
        if !done.is_ok_and(|s| s.success()) {
            eprintln!("no CHECKPOINT after seeding: a checkpoint may land in the measurements");
        }
    }
    let lookup = tmp.join("bench-server-lookup.lua");
    std::fs::write(&lookup, lookup_script(&seeded.token, args.customers))?;
    let create = tmp.join("bench-server-create-case.lua");
    std::fs::write(&create, create_case_script(&seeded.token, &seeded.customers))?;
    let paced = tmp.join("bench-server-lookup-paced.lua");
    std::fs::write(&paced, paced_lookup_script(&seeded.token, args.customers, args.pause_ms))?;
    let server = Server::start(binary, url)?;
    let idle_mb = rss_kb(server.child.id()) as f64 / 1024.0;
    let c = args.connections;
    let mut skipped = Vec::new();
    let results = (|| -> Result<Vec<(String, Figures)>> {
        // The reads first, on the seeded database; then the writes.
        let mut out = vec![(
            format!("screen pop `GET /api/v1/lookup?phone=`, {c} connections"),
            scenario(&server, &lookup, args, c)?,
        )];
        if args.paced_connections > 0 {
            let (p, ms) = (args.paced_connections, args.pause_ms);
            let name = format!("screen pop paced: {p} connections, random pauses of {ms} ms on average");
            out.push((name, scenario(&server, &paced, args, p)?));
        }
        if args.rate > 0 && oha_installed() {
            let urls = tmp.join("bench-server-lookup-urls.txt");
            std::fs::write(&urls, lookup_urls(server.port, args.customers, 200_000))?;
            let (r, o) = (args.rate, args.open_connections);
            let name = format!(
                "screen pop open loop: {r} requests/s on schedule, up to {o} connections (oha, latency from the scheduled time)"
            );
            out.push((name, open_loop(&server, &urls, &seeded.token, args)?));
        } else if args.rate > 0 {
            skipped.push("open-loop screen pop skipped: oha is not installed (`cargo install oha --locked`)");
        }
        out.push((format!("create case `POST /api/v1/cases`, {c} connections"), scenario(&server, &create, args, c)?));
        Ok(out)
    })();
    server.stop();
    let results = results?;
    let database = if backend == "postgres" { format!("; {}", postgres_settings(url)) } else { String::new() };
    println!(
        "\n## {backend}: {} customers seeded in {} s; server RSS idle after start {idle_mb:.0} MB{database}\n",
        args.customers, seeded.seconds
    );
    println!("| scenario | requests/s | p50 | p99 | requests | non-2xx | peak VmRSS under load |");
    println!("|---|---|---|---|---|---|---|");
    for (name, f) in results {
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {:.0} MB |",
            f.rps, f.p50_ms, f.p99_ms, f.requests, f.non_2xx, f.rss_mb
        );
    }
    for note in skipped {
        println!("\n({note})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_output_is_read() {
        let out = "Running 15s test @ http://127.0.0.1:1\n  2 threads and 32 connections\n  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.20ms  400.00us  20.00ms   90.00%\n  Latency Distribution\n     50%  850.00us\n     75%    1.10ms\n     90%    2.00ms\n     99%    4.50ms\n  123456 requests in 15.00s, 12.34MB read\n  Non-2xx or 3xx responses: 7\nRequests/sec:   8230.12\nTransfer/sec:      1.23MB\n";
        let (rps, p50, p99, n, bad) = parse_wrk(out).unwrap();
        assert!((rps - 8230.12).abs() < 0.01);
        assert!((p50 - 0.85).abs() < 1e-9);
        assert!((p99 - 4.5).abs() < 1e-9);
        assert_eq!((n, bad), (123_456, 7));
    }

    #[test]
    fn oha_report_is_read() {
        let json = r#"{"summary":{"successRate":1.0,"requestsPerSec":9994.9},
            "latencyPercentiles":{"p50":0.0014586,"p99":0.036927},
            "statusCodeDistribution":{"200":119960,"503":3},
            "errorDistribution":{"aborted due to deadline":12,"connection refused":2}}"#;
        let (rps, p50, p99, n, bad) = parse_oha(json).unwrap();
        assert!((rps - 9994.9).abs() < 1e-9);
        assert!((p50 - 1.4586).abs() < 1e-9);
        assert!((p99 - 36.927).abs() < 1e-9);
        assert_eq!((n, bad), (119_965, 5), "deadline aborts are not requests that failed");
    }

    #[test]
    fn lookup_urls_stay_within_the_seeded_numbers() {
        let urls = lookup_urls(8080, 1_000, 500);
        let numbers: Vec<u64> = urls
            .lines()
            .map(|l| l.strip_prefix("http://127.0.0.1:8080/api/v1/lookup?phone=%2B336").unwrap().parse().unwrap())
            .collect();
        assert_eq!(numbers.len(), 500);
        assert!(numbers.iter().all(|n| *n < 1_000));
        let distinct: std::collections::BTreeSet<_> = numbers.iter().collect();
        assert!(distinct.len() > 300, "spread over the customers: {} distinct of 500", distinct.len());
    }
}
