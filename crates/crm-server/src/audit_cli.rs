//! `crm-server audit …` (ADM-4): verify the tenants' hash chains, export a tenant's log as
//! JSON Lines or CSV; both with a progress bar on a terminal.

use std::io::{IsTerminal as _, Write};
use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};

use crm_core::audit::{AuditFilter, CSV_HEADER};
use crm_core::ids::AgentId;
use crm_core::service::{ChainReport, Crm};

use crate::csv_io;

/// The audit log's commands.
#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Check every entry of the tenants' hash chains (or one tenant's) from the first kept
    /// entry to the chain's head; names the first entry that does not verify and exits with
    /// status 1 when one does not.
    Verify {
        /// Only this tenant (default: every tenant with an audit log).
        #[arg(long, env = "CRM_TENANT")]
        tenant: Option<String>,
    },
    /// Export a tenant's audit log, in chain order, to a file or standard output.
    Export {
        /// The tenant.
        #[arg(long, env = "CRM_TENANT")]
        tenant: String,
        /// The format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// The output file (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Only entries by this agent.
        #[arg(long)]
        actor: Option<String>,
        /// Only this action (`case_created` …).
        #[arg(long)]
        action: Option<String>,
        /// Only entries at or after this instant (RFC 3339).
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// Only entries before this instant (RFC 3339).
        #[arg(long)]
        to: Option<DateTime<Utc>>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// CSV with a header row.
    Csv,
}

/// A progress bar on a terminal, nothing otherwise.
fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what} {{elapsed}}"))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Runs an audit command on the use cases; `Ok(false)` when a chain does not verify.
///
/// # Errors
/// Bad arguments, store and output failures.
pub async fn run(crm: &Crm, command: AuditCommand) -> Result<bool> {
    match command {
        AuditCommand::Verify { tenant } => {
            let heads = crm.audit_chains().await?;
            let heads: Vec<_> = match tenant {
                Some(raw) => {
                    let tenant = csv_io::parse_tenant(&raw)?;
                    let head = heads.into_iter().find(|h| h.tenant == tenant);
                    vec![head.with_context(|| format!("tenant {tenant} has no audit log"))?]
                }
                None => heads,
            };
            let total: u64 = heads.iter().map(|h| (h.seq + 1).saturating_sub(h.anchor_seq)).sum();
            let progress = bar(total, "entries");
            let mut intact = true;
            let mut done = 0;
            for head in &heads {
                let report: ChainReport =
                    crm.verify_audit(head.tenant, &mut |n| progress.set_position(done + n)).await?;
                done += (head.seq + 1).saturating_sub(head.anchor_seq);
                progress.set_position(done);
                match &report.broken {
                    None => progress.println(format!("tenant {}: {} entries verified", report.tenant, report.checked)),
                    Some(broken) => {
                        intact = false;
                        progress.println(format!("tenant {}: TAMPERED at {broken}", report.tenant));
                    }
                }
            }
            progress.finish_and_clear();
            eprintln!("{} chain(s), {total} entries: {}", heads.len(), if intact { "intact" } else { "TAMPERED" });
            Ok(intact)
        }
        AuditCommand::Export { tenant, format, output, actor, action, from, to } => {
            let tenant = csv_io::parse_tenant(&tenant)?;
            let actor = match actor {
                Some(raw) => {
                    Some(raw.trim().parse::<AgentId>().map_err(|_| anyhow::anyhow!("{raw:?} is not an agent id"))?)
                }
                None => None,
            };
            let filter = AuditFilter { actor, action, from, to, ..AuditFilter::default() };
            let head = crm.audit_chains().await?.into_iter().find(|h| h.tenant == tenant);
            let Some(head) = head else { bail!("tenant {tenant} has no audit log") };
            let mut out: Box<dyn Write + Send> = match &output {
                Some(path) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            if format == ExportFormat::Csv {
                writeln!(out, "{CSV_HEADER}")?;
            }
            let progress = bar((head.seq + 1).saturating_sub(head.anchor_seq), "entries");
            let mut failed: Option<std::io::Error> = None;
            let n = crm
                .scan_audit(tenant, &filter, &mut |r| {
                    progress.set_position(r.seq + 1 - head.anchor_seq);
                    let line = match format {
                        ExportFormat::Jsonl => serde_json::to_string(r).unwrap_or_default(),
                        ExportFormat::Csv => r.csv_row(),
                    };
                    if let Err(e) = writeln!(out, "{line}") {
                        failed = Some(e);
                        return Err(crm_core::Error::invalid("output", "could not be written"));
                    }
                    Ok(())
                })
                .await;
            progress.finish_and_clear();
            if let Some(e) = failed {
                return Err(e).context("writing the export");
            }
            let n = n?;
            out.flush()?;
            eprintln!("exported {n} audit entries");
            Ok(true)
        }
    }
}
