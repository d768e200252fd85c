//! Name search (CUS-5) has one home per backend (ADR 0012):
//!
//! - **PostgreSQL**: the `customer_name_terms` rows, one per folded name word (`w`) and
//!   per Double Metaphone code (`p`) of a customer, in a B-tree on `(tenant, kind, term)`.
//! - **SQLite**: ONE row per customer in the FTS5 table `customer_names` (`words`,
//!   `codes`), keyed by the customer's `name_key`. A SQLite bulk load spent over a third of
//!   its time inserting name terms into two B-trees in random key order; FTS5 collects a
//!   transaction's terms in memory and writes them as one sorted segment.
//!
//! Both give the semantics of [`crm_core::customer::CustomerSearch::matches`]: a search
//! term matches a customer when one of its name words starts with the term's prefix, or
//! when one of its phonetic codes is among the term's.
//!
//! The FTS5 table uses the `ascii` tokenizer: ASCII letters and digits and every non-ASCII
//! character are token characters, everything else separates. The words it indexes are
//! `crm_core::text::words` (letters and digits only, lower case) and the codes upper-case
//! ASCII, so each word and each code is exactly one token; the tokenizer folds the codes'
//! case the same way in the index and in queries. `detail=column` keeps which column a
//! token is in (for `words :` / `codes :`) but no positions, which single-token queries do
//! not need.
//!
//! `name_key` is a column of its own, not SQLite's implicit rowid, because a dump and
//! reload (`.dump`) renumbers implicit rowids.

use sea_orm::{ConnectionTrait, DbBackend, Value};

use crm_core::customer::{Customer, NameTerm};
use crm_core::ids::CustomerId;
use crm_core::ports::StoreResult;

use crate::error::db;
use crate::sql::{exec, text, uid};

/// Whether `backend` keeps name search in the FTS5 table (SQLite) rather than in
/// `customer_name_terms` rows (PostgreSQL).
pub(crate) fn in_fts(backend: DbBackend) -> bool {
    backend == DbBackend::Sqlite
}

/// The next free `name_key`, as an SQL expression (SQLite: one writer at a time, so the
/// maximum cannot move under a transaction that reads it; `customers_by_name_key` serves it).
pub(crate) const NEXT_NAME_KEY: &str = "(SELECT coalesce(max(name_key), 0) + 1 FROM customers)";

/// The last `name_key` in use (0 when there is none), as a query returning `k` (bulk seeds).
#[cfg(feature = "bench")]
pub(crate) const LAST_NAME_KEY: &str = "SELECT coalesce(max(name_key), 0) AS k FROM customers";

/// The FTS5 row of a customer: its name words, then its phonetic codes, each space-separated.
pub(crate) fn fts_columns(customer: &Customer) -> [String; 2] {
    let keys = customer.name_keys();
    [keys.words.join(" "), keys.phonetic.join(" ")]
}

/// Writes (or rewrites) the FTS5 row of `customer`, whose row in `customers` is written.
pub(crate) async fn write_fts<C: ConnectionTrait>(c: &C, customer: &Customer) -> StoreResult<()> {
    let [words, codes] = fts_columns(customer);
    exec(
        c,
        "INSERT OR REPLACE INTO customer_names (rowid, words, codes) SELECT name_key, ?, ? FROM customers WHERE id = ?",
        vec![text(words), text(codes), uid(customer.id)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// Deletes the FTS5 row of customer `id`, whose row in `customers` is still there.
pub(crate) async fn delete_fts<C: ConnectionTrait>(c: &C, id: CustomerId) -> StoreResult<()> {
    exec(c, "DELETE FROM customer_names WHERE rowid = (SELECT name_key FROM customers WHERE id = ?)", vec![uid(id)])
        .await
        .map_err(db)?;
    Ok(())
}

/// How a customer query (`… FROM {from} WHERE … {condition} …`) keeps the customers `c`
/// whose name matches: the `FROM` clause and its values (bound before the `WHERE`
/// clause's), and a condition to append to the `WHERE` clause and its values.
pub(crate) struct NameFilter {
    pub(crate) from: &'static str,
    from_values: Vec<Value>,
    pub(crate) condition: String,
    values: Vec<Value>,
}

/// Every customer, no name condition.
const CUSTOMERS: &str = "customers c";

/// On SQLite the matches drive the query: FTS5 finds them, then each one's customer is
/// read by `name_key`. `CROSS JOIN` keeps that order whatever the planner's statistics
/// (without them it walked every customer in name order probing the matches, seconds at
/// 1M customers for a whole name).
const FTS_MATCHES: &str = "customer_names(?) f CROSS JOIN customers c ON c.name_key = f.rowid";

impl NameFilter {
    /// The values of a query `… FROM {from} WHERE c.tenant_id = ? …{condition}`, in the order
    /// of its placeholders: the `FROM` clause's, `tenant`, the condition's.
    pub(crate) fn values_with_tenant(self, tenant: Value) -> Vec<Value> {
        let mut values = self.from_values;
        values.push(tenant);
        values.extend(self.values);
        values
    }

    fn none() -> Self {
        Self { from: CUSTOMERS, from_values: Vec::new(), condition: String::new(), values: Vec::new() }
    }

    fn fts(query: String) -> Self {
        Self { from: FTS_MATCHES, from_values: vec![text(query)], condition: String::new(), values: Vec::new() }
    }

    /// Customers whose name matches every term.
    pub(crate) fn terms(backend: DbBackend, tenant: &Value, terms: &[NameTerm]) -> Self {
        if terms.is_empty() {
            return Self::none();
        }
        if in_fts(backend) {
            return Self::fts(terms.iter().map(term_query).collect::<Vec<_>>().join(" AND "));
        }
        let mut filter = Self::none();
        for term in terms {
            filter.condition.push_str(
                " AND EXISTS (SELECT 1 FROM customer_name_terms t WHERE t.customer_id = c.id AND t.tenant_id = ? \
                 AND ((t.kind = 'w' AND t.term LIKE ? ESCAPE '\\')",
            );
            filter.values.push(tenant.clone());
            filter.values.push(text(format!("{}%", crate::sql::like_escape(&term.prefix))));
            if !term.phonetic.is_empty() {
                let marks = crate::sql::marks(term.phonetic.len());
                filter.condition.push_str(&format!(" OR (t.kind = 'p' AND t.term IN ({marks}))"));
                filter.values.extend(term.phonetic.iter().map(|p| text(p.as_str())));
            }
            filter.condition.push_str("))");
        }
        filter
    }

    /// Customers with one of `codes` (not empty) among their phonetic codes.
    pub(crate) fn phonetic(backend: DbBackend, tenant: &Value, codes: &[String]) -> Self {
        if in_fts(backend) {
            return Self::fts(codes_query(codes));
        }
        let mut filter = Self::none();
        filter.condition = format!(
            " AND EXISTS (SELECT 1 FROM customer_name_terms t WHERE t.customer_id = c.id AND t.tenant_id = ? \
             AND t.kind = 'p' AND t.term IN ({}))",
            crate::sql::marks(codes.len())
        );
        filter.values.push(tenant.clone());
        filter.values.extend(codes.iter().map(|p| text(p.as_str())));
        filter
    }
}

/// An FTS5 string literal.
fn quoted(token: &str) -> String {
    format!("\"{}\"", token.replace('"', "\"\""))
}

/// One search term as an FTS5 query: a word with the prefix, or one of the codes.
fn term_query(term: &NameTerm) -> String {
    let prefix = format!("words : {} *", quoted(&term.prefix));
    if term.phonetic.is_empty() {
        return format!("({prefix})");
    }
    format!("({prefix} OR {})", codes_query(&term.phonetic))
}

fn codes_query(codes: &[String]) -> String {
    let any = codes.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(" OR ");
    format!("codes : ({any})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(prefix: &str, phonetic: &[&str]) -> NameTerm {
        NameTerm { prefix: prefix.into(), phonetic: phonetic.iter().map(|p| (*p).to_owned()).collect() }
    }

    #[test]
    fn a_term_is_a_word_prefix_or_one_of_its_codes() {
        assert_eq!(term_query(&term("dup", &["TPNT"])), r#"(words : "dup" * OR codes : ("TPNT"))"#);
        assert_eq!(term_query(&term("x", &[])), r#"(words : "x" *)"#);
        assert_eq!(codes_query(&["A".into(), "B".into()]), r#"codes : ("A" OR "B")"#);
        assert_eq!(quoted(r#"a"b"#), r#""a""b""#);
    }

    /// The queries against a real FTS5 table of the same definition as the migration's.
    #[test]
    fn fts5_answers_the_queries_as_the_reference_semantics_do() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::migration::CUSTOMER_NAMES_FTS).unwrap();
        let rows = [(1, "marie dupond", "MR TPNT"), (2, "eloise durand", "ALS TRNT"), (3, "zoe ωmega 12", "S AMK")];
        for (key, words, codes) in rows {
            conn.execute("INSERT INTO customer_names (rowid, words, codes) VALUES (?, ?, ?)", (key, words, codes))
                .unwrap();
        }
        let found = |query: &str| -> Vec<i64> {
            let mut s =
                conn.prepare("SELECT rowid FROM customer_names WHERE customer_names MATCH ? ORDER BY rowid").unwrap();
            s.query_map([query], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        let q = |terms: &[NameTerm]| terms.iter().map(term_query).collect::<Vec<_>>().join(" AND ");
        assert_eq!(found(&q(&[term("du", &[])])), vec![1, 2]);
        assert_eq!(found(&q(&[term("marie", &[]), term("dup", &[])])), vec![1]);
        assert_eq!(found(&q(&[term("dupont", &["TPNT"])])), vec![1], "by its code");
        assert_eq!(found(&q(&[term("tpnt", &[])])), Vec::<i64>::new(), "a code is no word");
        assert_eq!(found(&q(&[term("mr", &[])])), Vec::<i64>::new(), "nor a word prefix of a code");
        assert_eq!(found(&q(&[term("ωm", &[])])), vec![3], "non-ASCII words are tokens");
        assert_eq!(found(&q(&[term("1", &[])])), vec![3]);
        assert_eq!(found(&codes_query(&["ALS".into(), "S".into()])), vec![2, 3]);
        // Rewritten and deleted rows leave the index.
        conn.execute(
            "INSERT OR REPLACE INTO customer_names (rowid, words, codes) VALUES (1, 'marie curie', 'MR KR')",
            [],
        )
        .unwrap();
        assert_eq!(found(&q(&[term("dup", &[])])), Vec::<i64>::new());
        assert_eq!(found(&q(&[term("cur", &[])])), vec![1]);
        conn.execute("DELETE FROM customer_names WHERE rowid = 2", []).unwrap();
        assert_eq!(found(&q(&[term("du", &[])])), Vec::<i64>::new());
    }
}
