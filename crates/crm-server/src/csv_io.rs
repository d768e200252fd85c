//! Customer import and export in CSV (with a header).
//!
//! Columns: `name` (required), `account_number`, `phones` and `emails` (several separated by
//! `;`), and `custom.<key>` for custom field values. Import validates the whole file first
//! (every row through the same rules as the API, plus account numbers repeated in the file
//! or already taken), reports each bad row with its line number, and writes only then: with
//! [`OnError::Stop`] nothing is written when any row is bad; with [`OnError::Skip`] the good
//! rows are.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};

use serde_json::{Value, json};

use crm_core::Error;
use crm_core::access::Actor;
use crm_core::custom_field::FieldEntity;
use crm_core::customer::{AccountNumber, Customer, CustomerQuery, NewCustomer};
use crm_core::ids::TenantId;
use crm_core::page::PageRequest;

use crate::config::OnError;
use crate::server::Services;

/// A refused row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadRow {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// Why, field by field.
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows read (header excluded).
    pub rows: usize,
    /// Customers created.
    pub imported: usize,
    /// Refused rows.
    pub bad: Vec<BadRow>,
}

/// Why an import failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not CSV or has no `name` column.
    #[error("unreadable csv: {0}")]
    Csv(String),
    /// Bad rows and the policy said stop: nothing was written.
    #[error("{} bad row(s); nothing was imported", .0.bad.len())]
    Refused(ImportReport),
    /// A use case failed while writing.
    #[error(transparent)]
    Core(#[from] Error),
}

/// Progress callbacks (a terminal progress bar, or nothing).
pub trait Progress {
    /// `n` more rows done.
    fn advance(&self, n: u64);
}

/// No progress output.
#[derive(Debug)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _: u64) {}
}

impl Progress for indicatif::ProgressBar {
    fn advance(&self, n: u64) {
        self.inc(n);
    }
}

fn split_list(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// Reads and validates every row; returns the valid inputs with their line numbers.
///
/// # Errors
/// An unreadable file.
pub async fn validate(
    services: &Services,
    actor: &Actor,
    input: impl Read,
) -> Result<(Vec<(u64, NewCustomer)>, ImportReport), ImportError> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(input);
    let headers = reader.headers().map_err(|e| ImportError::Csv(e.to_string()))?.clone();
    if !headers.iter().any(|h| h == "name") {
        return Err(ImportError::Csv("the header has no `name` column".into()));
    }
    for h in headers.iter() {
        if !matches!(h, "name" | "account_number" | "phones" | "emails") && !h.starts_with("custom.") {
            return Err(ImportError::Csv(format!("unknown column {h:?}")));
        }
    }
    let check = services.crm.customer_import_check(actor).await?;
    let mut report = ImportReport::default();
    let mut good = Vec::new();
    let mut accounts = BTreeSet::new();
    for record in reader.records() {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                report.bad.push(BadRow { line, reason: e.to_string() });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let mut row: BTreeMap<&str, &str> = BTreeMap::new();
        for (h, v) in headers.iter().zip(record.iter()) {
            row.insert(h, v);
        }
        let mut identities: Vec<Value> = Vec::new();
        identities.extend(
            split_list(row.get("phones").copied().unwrap_or("")).map(|p| json!({"type": "phone", "number": p})),
        );
        identities.extend(
            split_list(row.get("emails").copied().unwrap_or("")).map(|e| json!({"type": "email", "address": e})),
        );
        let custom: serde_json::Map<String, Value> = row
            .iter()
            .filter_map(|(h, v)| {
                h.strip_prefix("custom.").filter(|_| !v.is_empty()).map(|k| (k.to_owned(), custom_value(v)))
            })
            .collect();
        let account = row.get("account_number").copied().filter(|a| !a.is_empty());
        let value = json!({
            "name": row.get("name").copied().unwrap_or(""),
            "account_number": account,
            "identities": identities,
            "custom": custom,
        });
        let input: NewCustomer = match serde_json::from_value(value) {
            Ok(i) => i,
            Err(e) => {
                report.bad.push(BadRow { line, reason: e.to_string() });
                continue;
            }
        };
        if let Err(e) = check.check(&input) {
            report.bad.push(BadRow { line, reason: e.to_string() });
            continue;
        }
        if let Some(a) = account {
            if !accounts.insert(a.to_owned()) {
                report.bad.push(BadRow { line, reason: format!("account_number: {a:?} appears twice in the file") });
                continue;
            }
            if let Ok(parsed) = AccountNumber::parse(a)
                && services.crm.account_number_in_use(actor, &parsed).await?
            {
                report.bad.push(BadRow { line, reason: format!("account_number: {a:?} is already used") });
                continue;
            }
        }
        good.push((line, input));
    }
    Ok((good, report))
}

/// A custom cell: JSON when it parses as a number, boolean or array, else text.
fn custom_value(cell: &str) -> Value {
    match serde_json::from_str::<Value>(cell) {
        Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Array(_))) => v,
        _ => Value::String(cell.to_owned()),
    }
}

/// Imports customers: validates everything, then writes (see the module docs).
///
/// # Errors
/// An unreadable file; bad rows under [`OnError::Stop`]; a failure while writing.
pub async fn import_customers(
    services: &Services,
    actor: &Actor,
    input: impl Read,
    on_error: OnError,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let (good, mut report) = validate(services, actor, input).await?;
    if !report.bad.is_empty() && on_error == OnError::Stop {
        return Err(ImportError::Refused(report));
    }
    for (line, input) in good {
        services.crm.create_customer(actor, input).await.map_err(|e| {
            tracing::error!(line, error = %e, "import stopped while writing");
            e
        })?;
        report.imported += 1;
        progress.advance(1);
    }
    Ok(report)
}

/// Writes every live customer of the actor's tenant as CSV (the import format).
///
/// # Errors
/// Store failures; write failures (as a validation error on `output`).
pub async fn export_customers(services: &Services, actor: &Actor, output: impl Write) -> Result<usize, Error> {
    let definitions = services.crm.custom_fields(actor, FieldEntity::Customer, true).await?;
    let keys: Vec<String> = definitions.iter().map(|d| d.key.to_string()).collect();
    let mut writer = csv::Writer::from_writer(output);
    let io = |e: csv::Error| Error::invalid("output", e.to_string());
    let mut header = vec!["account_number".to_owned(), "name".into(), "phones".into(), "emails".into()];
    header.extend(keys.iter().map(|k| format!("custom.{k}")));
    writer.write_record(&header).map_err(io)?;
    let mut page = PageRequest::new(Some(200), None)?;
    let mut count = 0;
    loop {
        let result = services.crm.search_customers(actor, &CustomerQuery::default(), &page).await?;
        for c in &result.items {
            writer.write_record(row_of(c, &keys)).map_err(io)?;
            count += 1;
        }
        match result.next {
            Some(next) => page = PageRequest::new(Some(200), Some(next))?,
            None => break,
        }
    }
    writer.flush().map_err(|e| Error::invalid("output", e.to_string()))?;
    Ok(count)
}

fn row_of(c: &Customer, keys: &[String]) -> Vec<String> {
    let phones: Vec<&str> = c.identities().iter().filter_map(|i| i.phone()).map(|p| p.as_e164()).collect();
    let emails: Vec<String> = c.identities().iter().filter_map(|i| i.email()).map(ToString::to_string).collect();
    let mut row = vec![c.account_number().to_string(), c.name().to_owned(), phones.join(";"), emails.join(";")];
    for k in keys {
        let v = c.custom().iter().find(|(key, _)| key.as_str() == k).map(|(_, v)| v.to_json());
        row.push(match v {
            None => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        });
    }
    row
}

/// Parses a tenant id given on the command line.
///
/// # Errors
/// A validation error naming `tenant`.
pub fn parse_tenant(raw: &str) -> Result<TenantId, Error> {
    raw.trim().parse().map_err(|_| Error::invalid("tenant", format!("{raw:?} is not a tenant id")))
}
