//! SuiteQL (spec §3.5): `POST /services/rest/query/v1/suiteql?limit=N&offset=K` with
//! `Prefer: transient` and `{"q": "..."}`. Literals double `'`; column keys come back lower
//! case and values as strings. `offset` stays a multiple of `limit`.

use serde::Deserialize;
use serde_json::Value;

use crate::config::NetSuiteMapping;

/// A SuiteQL string literal.
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn any_equals(columns: &[String], value: &str) -> String {
    let value = literal(value);
    columns.iter().map(|c| format!("{c} = {value}")).collect::<Vec<_>>().join(" OR ")
}

/// Customer columns read by searches.
pub const CUSTOMER_COLUMNS: &str =
    "id, entityid, companyname, firstname, lastname, email, phone, altphone, mobilephone";
/// Contact columns read by searches.
pub const CONTACT_COLUMNS: &str = "id, entityid, firstname, lastname, email, phone, mobilephone, officephone, company";

/// The phone searches: customers, then contacts (skipping a table with no columns).
/// Phone columns hold what users typed, so an exact match on E.164 misses other formats
/// \[U\]; the columns are configurable.
pub fn phone_queries(phone: &str, mapping: &NetSuiteMapping) -> Vec<(Table, String)> {
    let mut out = Vec::new();
    if !mapping.customer_phone_columns.is_empty() {
        out.push((
            Table::Customer,
            format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customer WHERE {}",
                any_equals(&mapping.customer_phone_columns, phone)
            ),
        ));
    }
    if !mapping.contact_phone_columns.is_empty() {
        out.push((
            Table::Contact,
            format!(
                "SELECT {CONTACT_COLUMNS} FROM contact WHERE {}",
                any_equals(&mapping.contact_phone_columns, phone)
            ),
        ));
    }
    out
}

/// The email searches, case-insensitive through `LOWER`.
pub fn email_queries(email: &str) -> Vec<(Table, String)> {
    let email = literal(&email.to_lowercase());
    vec![
        (Table::Customer, format!("SELECT {CUSTOMER_COLUMNS} FROM customer WHERE LOWER(email) = {email}")),
        (Table::Contact, format!("SELECT {CONTACT_COLUMNS} FROM contact WHERE LOWER(email) = {email}")),
    ]
}

/// Which table a query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `customer` (companies, and leads/prospects by stage).
    Customer,
    /// `contact`.
    Contact,
}

/// One page of a SuiteQL answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// The rows.
    #[serde(default)]
    pub items: Vec<Value>,
    /// Whether more rows follow.
    #[serde(default)]
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled() {
        assert_eq!(literal("o'brien"), "'o''brien'");
    }

    #[test]
    fn email_queries_compare_lower_case() {
        let q = email_queries("Jane@X.com");
        assert!(q[0].1.ends_with("FROM customer WHERE LOWER(email) = 'jane@x.com'"));
    }
}
