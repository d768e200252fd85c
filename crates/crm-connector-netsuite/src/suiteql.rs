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

/// Customer columns read by searches, besides the mapping's phone columns.
const CUSTOMER_COLUMNS: &[&str] = &["id", "entityid", "companyname", "firstname", "lastname", "email"];
/// Contact columns read by searches, besides the mapping's phone columns.
const CONTACT_COLUMNS: &[&str] = &["id", "entityid", "firstname", "lastname", "email", "company"];

/// The column naming each row's table in a search ([`search_query`]).
pub const TABLE_COLUMN: &str = "rectype";

/// The phone conditions: customers, then contacts (skipping a table with no columns).
/// Phone columns hold what users typed \[U: no phone-normalised SuiteQL column is
/// documented\], so a row is a candidate when a phone column equals one of the number's
/// written `forms` or ends with `suffix` (its last digits, `LIKE '%…'`); the caller keeps
/// only the candidates whose numbers read back as the searched one.
pub fn phone_conditions(forms: &[String], suffix: &str, mapping: &NetSuiteMapping) -> Vec<(Table, String)> {
    let mut out = Vec::new();
    if !mapping.customer_phone_columns.is_empty() {
        out.push((Table::Customer, phone_condition(&mapping.customer_phone_columns, forms, suffix)));
    }
    if !mapping.contact_phone_columns.is_empty() {
        out.push((Table::Contact, phone_condition(&mapping.contact_phone_columns, forms, suffix)));
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

/// The email conditions, case-insensitive through `LOWER`.
pub fn email_conditions(email: &str) -> Vec<(Table, String)> {
    let email = literal(&email.to_lowercase());
    vec![(Table::Customer, format!("LOWER(email) = {email}")), (Table::Contact, format!("LOWER(email) = {email}"))]
}

/// ONE SuiteQL reading every table of `conditions` (`UNION ALL`), so a screen pop's search
/// costs one request \[U: set operators in SuiteQL over REST are not listed in the REST
/// guide; NetSuite's Connect documentation describes UNION processing\]. Every branch
/// selects the same columns, in the same order: the tables' own and the mapping's phone
/// columns, `NULL` where a table has none, and [`TABLE_COLUMN`] naming the table. `None`
/// when there is nothing to search.
pub fn search_query(conditions: &[(Table, String)], mapping: &NetSuiteMapping) -> Option<String> {
    let columns_of = |table: Table| -> Vec<&str> {
        let (base, phones) = match table {
            Table::Customer => (CUSTOMER_COLUMNS, &mapping.customer_phone_columns),
            Table::Contact => (CONTACT_COLUMNS, &mapping.contact_phone_columns),
        };
        base.iter().copied().chain(phones.iter().map(String::as_str)).collect()
    };
    let mut all: Vec<&str> = Vec::new();
    for (table, _) in conditions {
        for column in columns_of(*table) {
            if !all.contains(&column) {
                all.push(column);
            }
        }
    }
    let branches: Vec<String> = conditions
        .iter()
        .map(|(table, condition)| {
            let own = columns_of(*table);
            let select: Vec<String> = std::iter::once(format!("'{}' AS {TABLE_COLUMN}", table.name()))
                .chain(all.iter().map(|c| if own.contains(c) { (*c).to_owned() } else { format!("NULL AS {c}") }))
                .collect();
            format!("SELECT {} FROM {} WHERE {condition}", select.join(", "), table.name())
        })
        .collect();
    (!branches.is_empty()).then(|| branches.join(" UNION ALL "))
}

/// Which table a query reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `customer` (companies, and leads/prospects by stage).
    Customer,
    /// `contact`.
    Contact,
}

impl Table {
    /// The SuiteQL table name.
    pub const fn name(self) -> &'static str {
        match self {
            Table::Customer => "customer",
            Table::Contact => "contact",
        }
    }

    /// The table a search row names in [`TABLE_COLUMN`].
    pub fn of_row(row: &Value) -> Option<Self> {
        match row.get(TABLE_COLUMN).and_then(Value::as_str) {
            Some("customer") => Some(Table::Customer),
            Some("contact") => Some(Table::Contact),
            _ => None,
        }
    }
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
    fn one_query_reads_both_tables_with_aligned_columns() {
        let mapping = NetSuiteMapping {
            customer_phone_columns: vec!["phone".into(), "altphone".into()],
            contact_phone_columns: vec!["phone".into(), "officephone".into()],
            ..NetSuiteMapping::default()
        };
        let conditions = phone_conditions(&["+14155550103".into(), "(415) 555-0103".into()], "0103", &mapping);
        let q = search_query(&conditions, &mapping).expect("a query");
        let branches: Vec<&str> = q.split(" UNION ALL ").collect();
        assert_eq!(branches.len(), 2, "{q}");
        assert!(
            branches[1].ends_with(
                "FROM contact WHERE phone = '+14155550103' OR phone = '(415) 555-0103' OR phone LIKE '%0103' \
                 OR officephone = '+14155550103' OR officephone = '(415) 555-0103' OR officephone LIKE '%0103'"
            ),
            "{q}"
        );
        let select = |b: &str| b[7..b.find(" FROM ").expect("FROM")].split(", ").count();
        assert_eq!(select(branches[0]), select(branches[1]), "both branches select as many columns: {q}");
        assert!(branches[0].starts_with("SELECT 'customer' AS rectype, id, entityid, companyname,"), "{q}");
        assert!(branches[0].contains("NULL AS company") && branches[0].contains("NULL AS officephone"), "{q}");
        assert!(branches[1].contains("NULL AS companyname") && branches[1].contains("NULL AS altphone"), "{q}");
    }

    #[test]
    fn email_conditions_compare_lower_case() {
        let q = search_query(&email_conditions("Jane@X.com"), &NetSuiteMapping::default()).expect("a query");
        assert!(q.contains("FROM customer WHERE LOWER(email) = 'jane@x.com' UNION ALL SELECT 'contact'"), "{q}");
        assert!(q.ends_with("FROM contact WHERE LOWER(email) = 'jane@x.com'"), "{q}");
    }
}
