//! The local S3-compatible server the blob store's S3 tests run against: moto in server
//! mode (PyPI), installed once into a virtual environment under `target/moto-venv` and
//! started on 127.0.0.1:5055 for the test run (unless `CRM_TEST_S3_URL` names another).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Where the tests find the server.
pub(crate) const DEFAULT_S3_URL: &str = "http://127.0.0.1:5055";

/// The running fake, stopped when dropped (if this process started it).
#[derive(Debug)]
pub(crate) struct S3Fake {
    /// The URL to give the tests as `CRM_TEST_S3_URL`.
    pub(crate) url: String,
    child: Option<Child>,
}

impl Drop for S3Fake {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn answering(addr: &str) -> bool {
    addr.parse().is_ok_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok())
}

/// Makes sure an S3-compatible server answers: the one of `CRM_TEST_S3_URL`, one already
/// on port 5055, or moto started here (installed into `target/moto-venv` when missing).
///
/// # Errors
/// moto cannot be installed or does not start.
pub(crate) fn ensure(root: &Path) -> Result<S3Fake> {
    if let Ok(url) = std::env::var("CRM_TEST_S3_URL")
        && !url.is_empty()
    {
        return Ok(S3Fake { url, child: None });
    }
    let addr = "127.0.0.1:5055";
    if answering(addr) {
        return Ok(S3Fake { url: DEFAULT_S3_URL.into(), child: None });
    }
    let venv = root.join("target/moto-venv");
    let server = venv.join("bin/moto_server");
    if !server.exists() {
        eprintln!("installing moto[server] into {}", venv.display());
        let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().context("python3 -m venv")?;
        if !made.success() {
            bail!("python3 -m venv {} failed (Debian: apt-get install python3-venv)", venv.display());
        }
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "moto[server]"])
            .status()
            .context("pip install moto[server]")?;
        if !pip.success() {
            bail!("pip install 'moto[server]' failed");
        }
    }
    let child = Command::new(&server)
        .args(["-H", "127.0.0.1", "-p", "5055"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", server.display()))?;
    let fake = S3Fake { url: DEFAULT_S3_URL.into(), child: Some(child) };
    for _ in 0..60 {
        if answering(addr) {
            return Ok(fake);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    bail!("moto_server did not answer on {addr} within 30 s")
}
