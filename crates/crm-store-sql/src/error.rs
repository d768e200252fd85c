//! Backend errors become [`StoreError`]s at the boundary: unique violations name the domain
//! field (`Conflict::Duplicate`), foreign-key violations the referencing field
//! (`InvalidReference`), lost connections and lock time-outs are `Unavailable`, everything
//! else `Backend`. Constraint names are chosen in the migration so PostgreSQL reports them;
//! SQLite reports `table.column` lists, which are mapped the same way.

use sea_orm::{DbErr, RuntimeErr};

use crm_core::StoreError;
use crm_core::error::Conflict;

/// What went wrong, as far as the store cares.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    /// A unique constraint on this domain field.
    Unique(String),
    /// A foreign key; the field when the backend named the constraint.
    ForeignKey(Option<String>),
    /// Retry later.
    Unavailable,
    /// Anything else.
    Other,
}

fn sqlx_error(e: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(s))
        | DbErr::Exec(RuntimeErr::SqlxError(s))
        | DbErr::Query(RuntimeErr::SqlxError(s)) => Some(s),
        _ => None,
    }
}

/// The domain field a unique constraint protects.
fn unique_field(constraint: &str) -> String {
    let last = constraint.rsplit([',', ' ']).next().unwrap_or(constraint);
    let column = last.rsplit('.').next().unwrap_or(last);
    let field = match constraint {
        c if c.ends_with("_pkey") => "id",
        "customers_account_number_key" => "account_number",
        "cases_number_key" => "number",
        "agents_email_key" => "email",
        "agent_groups_name_key" => "name",
        "field_definitions_key_key" => "key",
        "articles_shortcut_key" | "standard_responses_shortcut_key" => "shortcut",
        "response_folders_name_key" => "name",
        "tenants_slug_key" => "slug",
        "tenant_roles_name_key" => "name",
        _ => match column {
            "email_key" => "email",
            "name_key" => "name",
            other => other,
        },
    };
    field.to_owned()
}

/// The referencing field of a named foreign key (`cases_customer_fk` → `customer`).
fn foreign_key_field(constraint: &str) -> Option<String> {
    let stem = constraint.strip_suffix("_fk")?;
    let field = stem.rsplit('_').next()?;
    Some(field.to_owned())
}

fn classify(e: &DbErr) -> Kind {
    match e {
        DbErr::ConnectionAcquire(_) => return Kind::Unavailable,
        DbErr::Conn(_) => return Kind::Unavailable,
        _ => {}
    }
    let Some(sqlx) = sqlx_error(e) else { return Kind::Other };
    use sea_orm::sqlx::Error as S;
    match sqlx {
        S::Io(_) | S::Tls(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed => Kind::Unavailable,
        S::Database(db) => {
            use sea_orm::sqlx::error::ErrorKind;
            match db.kind() {
                ErrorKind::UniqueViolation => {
                    let name = db.constraint().map(str::to_owned).unwrap_or_else(|| {
                        db.message().strip_prefix("UNIQUE constraint failed: ").unwrap_or(db.message()).to_owned()
                    });
                    Kind::Unique(unique_field(&name))
                }
                ErrorKind::ForeignKeyViolation => Kind::ForeignKey(db.constraint().and_then(foreign_key_field)),
                _ => {
                    let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                    // SQLite BUSY / LOCKED (and extended codes); PostgreSQL serialization,
                    // deadlock, shutdown and connection classes.
                    let sqlite_busy = matches!(code.as_str(), "5" | "6" | "261" | "262" | "517");
                    let pg_retry = matches!(code.as_str(), "40001" | "40P01" | "55P03" | "57P01" | "57P02" | "57P03")
                        || code.starts_with("08");
                    if sqlite_busy || pg_retry { Kind::Unavailable } else { Kind::Other }
                }
            }
        }
        _ => Kind::Other,
    }
}

/// Maps a backend error; `fk_field` names the reference when the backend does not.
pub(crate) fn map_db(e: DbErr, fk_field: &str) -> StoreError {
    let kind = classify(&e);
    from_kind(kind, e, fk_field)
}

/// Maps an error of the rusqlite paths (bulk loads) as [`map_db`] maps sqlx's.
#[cfg(feature = "bench")]
pub(crate) fn map_rusqlite(e: rusqlite::Error, fk_field: &str) -> StoreError {
    use rusqlite::ffi;
    let kind = match &e {
        rusqlite::Error::SqliteFailure(failure, message) => match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                let message = message.as_deref().unwrap_or_default();
                Kind::Unique(unique_field(message.strip_prefix("UNIQUE constraint failed: ").unwrap_or(message)))
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Kind::ForeignKey(None),
            _ if matches!(failure.code, ffi::ErrorCode::DatabaseBusy | ffi::ErrorCode::DatabaseLocked) => {
                Kind::Unavailable
            }
            _ => Kind::Other,
        },
        _ => Kind::Other,
    };
    from_kind(kind, e, fk_field)
}

fn from_kind(kind: Kind, e: impl std::error::Error + Send + Sync + 'static, fk_field: &str) -> StoreError {
    match kind {
        Kind::Unique(field) => StoreError::Conflict(Conflict::Duplicate { field, value: String::new() }),
        Kind::ForeignKey(field) => StoreError::InvalidReference {
            field: field.unwrap_or_else(|| fk_field.to_owned()),
            reason: "points at a record that does not exist".into(),
        },
        Kind::Unavailable => StoreError::Unavailable(Box::new(e)),
        Kind::Other => StoreError::Backend(Box::new(e)),
    }
}

/// Maps a backend error with no particular reference in play.
pub(crate) fn db(e: DbErr) -> StoreError {
    map_db(e, "reference")
}

/// Fills the taken value into a `Duplicate` conflict from the record being written.
pub(crate) fn with_value(e: StoreError, value_of: impl Fn(&str) -> Option<String>) -> StoreError {
    match e {
        StoreError::Conflict(Conflict::Duplicate { field, value }) if value.is_empty() => {
            let value = value_of(&field).unwrap_or_default();
            StoreError::Conflict(Conflict::Duplicate { field, value })
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_and_sqlite_messages_name_the_domain_field() {
        assert_eq!(unique_field("customers_account_number_key"), "account_number");
        assert_eq!(unique_field("customers.tenant_id, customers.account_number"), "account_number");
        assert_eq!(unique_field("cases.tenant_id, cases.number"), "number");
        assert_eq!(unique_field("agents.tenant_id, agents.email_key"), "email");
        assert_eq!(unique_field("customers_pkey"), "id");
        assert_eq!(unique_field("customers.id"), "id");
        assert_eq!(foreign_key_field("cases_customer_fk").as_deref(), Some("customer"));
        assert_eq!(foreign_key_field("relations_from_fk").as_deref(), Some("from"));
        assert_eq!(foreign_key_field("cases_pkey"), None);
    }
}
