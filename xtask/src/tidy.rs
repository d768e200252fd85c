//! `cargo xtask tidy`: the architecture invariants of docs/ARCHITECTURE.md and a few hygiene
//! rules, checked mechanically.
//!
//! Problems fail the run. Warnings are printed and do not: a `.rs` file longer than
//! [`LONG_FILE_LINES`] is listed, longest first, as one to split (the house style splits a
//! file that passes ~500 lines).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Crates that mean I/O: `crm-core` must not depend on any of them, even indirectly.
const IO_CRATES: &[&str] =
    &["sea-orm", "sqlx", "sqlx-core", "tokio", "reqwest", "hyper", "axum", "tower", "lettre", "tantivy", "mio"];

/// Database crates: only `crm-store-sql` speaks SQL, so no other crate of the workspace
/// (the server least of all) declares one as a normal dependency (ADR 0014).
const DATABASE_CRATES: &[&str] = &["sea-orm", "sea-orm-migration", "sea-query", "sea-query-sqlx", "sqlx", "rusqlite"];

/// A `.rs` file with more lines than this gets a warning.
const LONG_FILE_LINES: usize = 600;

pub(crate) fn run(root: &Path) -> Result<()> {
    let mut problems = Vec::new();
    check_core_is_pure(&mut problems)?;
    check_dependency_directions(&mut problems)?;
    let lengths = check_sources(root, &mut problems)?;
    for warning in long_file_warnings(lengths) {
        eprintln!("tidy: warning: {warning}");
    }
    if problems.is_empty() {
        eprintln!("tidy: ok");
        Ok(())
    } else {
        for p in &problems {
            eprintln!("tidy: {p}");
        }
        bail!("tidy found {} problem(s)", problems.len())
    }
}

fn check_core_is_pure(problems: &mut Vec<String>) -> Result<()> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "-p", "crm-core", "-e", "normal", "--prefix", "none", "--format", "{p}"])
        .output()
        .context("cannot run cargo tree")?;
    if !out.status.success() {
        bail!("cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let names: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    for bad in IO_CRATES {
        if names.contains(*bad) {
            problems.push(format!(
                "crm-core must stay pure but depends on {bad} (cargo tree -p crm-core -e normal -i {bad})"
            ));
        }
    }
    Ok(())
}

fn check_dependency_directions(problems: &mut Vec<String>) -> Result<()> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("cannot run cargo metadata")?;
    let meta: Value = serde_json::from_slice(&out.stdout).context("cargo metadata output")?;
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    for p in &packages {
        let name = p["name"].as_str().unwrap_or_default();
        for d in p["dependencies"].as_array().into_iter().flatten() {
            let dep = d["name"].as_str().unwrap_or_default();
            let kind = d["kind"].as_str().unwrap_or("normal");
            let is_dev = kind == "dev";
            if dep == "crm-testkit" && !is_dev && name != "crm-e2e" {
                problems.push(format!("{name} depends on crm-testkit outside [dev-dependencies]"));
            }
            if dep == "crm-server" && name != "crm-e2e" {
                problems.push(format!("{name} depends on crm-server: nothing may depend on the binary crate"));
            }
            let adapter = |n: &str| {
                n.starts_with("crm-store-")
                    || n.starts_with("crm-connector-")
                    || n == "crm-blob"
                    || n == "crm-mail"
                    || n == "crm-search"
            };
            if adapter(name)
                && adapter(dep)
                && !(dep == "crm-connector-http" && name.starts_with("crm-connector-"))
                && !is_dev
            {
                problems.push(format!("adapter {name} depends on adapter {dep}"));
            }
            if DATABASE_CRATES.contains(&dep) && !is_dev && name != "crm-store-sql" {
                problems.push(format!("{name} depends on {dep}: only crm-store-sql speaks SQL (ADR 0014)"));
            }
            if dep == "lettre" && name != "crm-mail" {
                problems.push(format!("{name} depends on lettre: only the mail adapter crm-mail speaks SMTP"));
            }
            if dep == "tantivy" && name != "crm-search" {
                problems.push(format!("{name} depends on tantivy: only the search adapter crm-search knows it"));
            }
            if name == "crm-core" && dep.starts_with("crm-") && !is_dev {
                problems.push(format!("crm-core depends on {dep}: dependencies point inward"));
            }
        }
    }
    Ok(())
}

/// Checks every `.rs` file of the workspace and returns each one's path (from the root)
/// and line count.
fn check_sources(root: &Path, problems: &mut Vec<String>) -> Result<Vec<(String, usize)>> {
    let mut lengths = Vec::new();
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        collect_rs(&root.join(dir), &mut files);
    }
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
        let rel = file.strip_prefix(root).unwrap_or(&file).display().to_string();
        let in_src = rel.contains("/src/");
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
        if in_src && !first.starts_with("//!") {
            problems.push(format!("{rel}: a module starts with a //! doc comment"));
        }
        if text.contains(concat!("#[", "ignore")) {
            problems.push(format!("{rel}: no tests marked ignore; gate slow tests on an environment variable"));
        }
        if text.contains(concat!("todo", "!(")) || text.contains(concat!("unimplemented", "!(")) {
            problems.push(format!("{rel}: no todo!/unimplemented! in committed code"));
        }
        lengths.push((rel, text.lines().count()));
    }
    Ok(lengths)
}

/// The warnings for the files of `lengths` (path, lines) longer than [`LONG_FILE_LINES`]:
/// a heading, then one line per file, longest first; nothing when there is none.
fn long_file_warnings(mut lengths: Vec<(String, usize)>) -> Vec<String> {
    lengths.retain(|(_, lines)| *lines > LONG_FILE_LINES);
    if lengths.is_empty() {
        return Vec::new();
    }
    lengths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut out =
        vec![format!("{} file(s) over {LONG_FILE_LINES} lines; split them by concept (not a failure)", lengths.len())];
    out.extend(lengths.into_iter().map(|(path, lines)| format!("  {path}: {lines} lines")));
    out
}

fn collect_rs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target" || n == "fixtures") {
                continue;
            }
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_limit_are_listed_longest_first() {
        let lengths = vec![
            ("a.rs".to_owned(), LONG_FILE_LINES),
            ("b.rs".to_owned(), LONG_FILE_LINES + 1),
            ("c.rs".to_owned(), 900),
            ("d.rs".to_owned(), 12),
        ];
        let warnings = long_file_warnings(lengths);
        assert_eq!(
            warnings,
            vec![
                format!("2 file(s) over {LONG_FILE_LINES} lines; split them by concept (not a failure)"),
                "  c.rs: 900 lines".to_owned(),
                format!("  b.rs: {} lines", LONG_FILE_LINES + 1),
            ]
        );
    }

    #[test]
    fn no_long_file_means_no_warning() {
        assert!(long_file_warnings(vec![("a.rs".to_owned(), LONG_FILE_LINES)]).is_empty());
        assert!(long_file_warnings(Vec::new()).is_empty());
    }
}
