//! The real `crm-server` binary as a child process, for the tests that `kill -9` it and
//! start it again on the same database (`mail_restart`, `webhooks_chaos`, `external_restart`).
//!
//! The binary is `target/<profile>/crm-server` beside the test's executable (built by
//! `cargo test --workspace --all-targets`, as `cargo xtask test` does, or by `cargo build
//! -p crm-server`), or `CRM_TEST_SERVER_BIN`. Without it a test says it did not run, and
//! fails under `CI`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The server binary, when it was built; `test` names the test that needs it.
pub(crate) fn server_binary(test: &str) -> Option<PathBuf> {
    if let Ok(path) = std::env::var("CRM_TEST_SERVER_BIN") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    // target/debug/deps/e2e-… → target/debug/crm-server
    let path = exe.parent()?.parent()?.join("crm-server");
    if path.is_file() {
        return Some(path);
    }
    assert!(std::env::var_os("CI").is_none(), "CI needs the crm-server binary for {test} ({path:?})");
    eprintln!("{test} did NOT run: build the server first (cargo build -p crm-server): {path:?}");
    None
}

/// The `crm-server` child process; killed (SIGKILL) on drop.
pub(crate) struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) url: String,
    /// The demo administrator's token, printed on the first start only.
    pub(crate) token: Option<String>,
}

impl ServerProcess {
    /// Starts the binary on `config` and waits until it listens on `port`.
    pub(crate) fn start(bin: &Path, config: &Path, port: u16) -> Self {
        let mut child = Command::new(bin)
            .arg("--config")
            .arg(config)
            .env("CRM_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start crm-server");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        // Keeps reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut token = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).unwrap_or_else(|_| panic!("crm-server did not start on port {port}"));
            if let Some(t) = line.split("admin API token (shown once): ").nth(1) {
                token = Some(t.trim().to_owned());
            }
            if line.starts_with("crm-server listening on") {
                break;
            }
        }
        Self { child, url: format!("http://127.0.0.1:{port}"), token }
    }

    /// `kill -9`: no shutdown, no flush, the process is gone.
    pub(crate) fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free now (for a server the test starts again on the same port).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}
