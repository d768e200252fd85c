//! The console's browser tests (issue 32, ADR 0024): `tests/console/console.test.mjs` runs
//! `playwright-core` (installed with `npm ci` into `tests/console/node_modules`) against
//! Debian's chromium and the debug `crm-server`. Skipped, with a message, only when
//! `CRM_SKIP_BROWSER=1` outside CI; in CI (`.ci/run` installs chromium) it always runs.

use std::env;
use std::path::Path;
use std::process::Command;

use anyhow::{Result, bail};

use crate::{cargo, run};

/// Where chromium is looked for when `CRM_CHROMIUM` is not set.
const CHROMIUM: &str = "/usr/bin/chromium";

/// Builds the server and runs the browser tests.
pub(crate) fn run_tests(root: &Path) -> Result<()> {
    if env::var("CRM_SKIP_BROWSER").is_ok_and(|v| v == "1") && env::var_os("CI").is_none() {
        eprintln!("browser tests skipped (CRM_SKIP_BROWSER=1): the console is not tested in a browser");
        return Ok(());
    }
    let chromium = env::var("CRM_CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned());
    if !Path::new(&chromium).exists() {
        bail!(
            "the console's browser tests need chromium at {chromium} (apt-get install -y chromium, or set \
             CRM_CHROMIUM); CRM_SKIP_BROWSER=1 skips them outside CI"
        );
    }
    let mut build = cargo();
    build.args(["build", "-p", "crm-server"]);
    run(build)?;
    let dir = root.join("tests/console");
    if !dir.join("node_modules/playwright-core").exists() {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]);
        run(npm)?;
    }
    let mut node = Command::new("node");
    node.current_dir(&dir)
        .arg("console.test.mjs")
        .env("CRM_CHROMIUM", &chromium)
        .env("CRM_SERVER_BIN", root.join("target/debug/crm-server"));
    run(node)
}
