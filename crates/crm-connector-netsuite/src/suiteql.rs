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

/// Customer columns read by searches.
pub const CUSTOMER_COLUMNS: &str =
    "id, entityid, companyname, firstname, lastname, email, phone, altphone, mobilephone";
/// Contact columns read by searches.
pub const CONTACT_COLUMNS: &str = "id, entityid, firstname, lastname, email, phone, mobilephone, officephone, company";

/// The phone searches: customers, then contacts (skipping a table with no columns).
/// Phone columns hold what users typed \[U: no phone-normalised SuiteQL column is
/// documented\], so a row is a candidate when a phone column equals one of the number's
/// written `forms` or ends with `suffix` (its last digits, `LIKE '%…'`); the caller keeps
/// only the candidates whose numbers read back as the searched one.
pub fn phone_queries(forms: &[String], suffix: &str, mapping: &NetSuiteMapping) -> Vec<(Table, String)> {
    let mut out = Vec::new();
    if !mapping.customer_phone_columns.is_empty() {
        out.push((
            Table::Customer,
            format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customer WHERE {}",
                phone_condition(&mapping.customer_phone_columns, forms, suffix)
            ),
        ));
    }
    if !mapping.contact_phone_columns.is_empty() {
        out.push((
            Table::Contact,
            format!(
                "SELECT {CONTACT_COLUMNS} FROM contact WHERE {}",
                phone_condition(&mapping.contact_phone_columns, forms, suffix)
            ),
        ));
    }
    out
}

/// `col = 'f1' OR col = 'f2' … OR col LIKE '%suffix'` over `columns`.
fn phone_condition(columns: &[String], forms: &[String], suffix: &str) -> String {
    let mut terms = Vec::new();
    for column in columns {
        terms.extend(forms.iter().map(|form| format!("{column} = {}", literal(form))));
        terms.push(format!("{column} LIKE {}", literal(&format!("%{suffix}"))));
    }
    terms.join(" OR ")
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
    fn phone_queries_match_written_forms_or_the_last_digits() {
        let mapping = NetSuiteMapping { contact_phone_columns: vec!["phone".into()], ..NetSuiteMapping::default() };
        let queries = phone_queries(&["+14155550103".into(), "(415) 555-0103".into()], "0103", &mapping);
        assert!(
            queries[1].1.ends_with(
                "FROM contact WHERE phone = '+14155550103' OR phone = '(415) 555-0103' OR phone LIKE '%0103'"
            ),
            "{}",
            queries[1].1
        );
    }

    #[test]
    fn email_queries_compare_lower_case() {
        let q = email_queries("Jane@X.com");
        assert!(q[0].1.ends_with("FROM customer WHERE LOWER(email) = 'jane@x.com'"));
    }
}
