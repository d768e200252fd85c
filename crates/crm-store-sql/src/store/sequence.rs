//! Per-tenant counters (account numbers, case numbers): a row of the `sequences` table
//! bumped by one upsert, atomic on both backends (PostgreSQL locks the row for the upsert,
//! SQLite has a single writer). Concurrent callers of one process share upserts: SQLite's
//! write queue and PostgreSQL's draw rounds (`crate::draws`) draw for several at once.

use sea_orm::ConnectionTrait;

use crm_core::StoreError;
use crm_core::customer::Customer;
use crm_core::ids::TenantId;
use crm_core::ports::StoreResult;

use crate::connect::SqlStore;
use crate::error::db;
use crate::sql::{col, exec, int, one, uid};

/// The counters there are (the `sequences.name` check constraint lists the same).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counter {
    Account,
    Case,
}

impl Counter {
    fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Case => "case",
        }
    }
}

impl SqlStore {
    /// The counter's next value for the tenant (from 1): unique and increasing under
    /// concurrent callers, also across server replicas; values may be skipped.
    pub(crate) async fn next_sequence(&self, tenant: TenantId, counter: Counter) -> StoreResult<u64> {
        if let Some(queue) = &self.queue {
            return queue.draw(tenant.as_uuid(), counter.as_str()).await.map_err(db);
        }
        match &self.draws {
            Some(draws) => draws.draw(tenant.as_uuid(), counter.as_str()).await.map_err(db),
            None => Err(StoreError::Backend("this store has no counter path".into())),
        }
    }
}

/// Raises the tenant's account counter to the sequence value of `customer`'s account number
/// when it is written in the generator's form (`AC-000006`, given by hand or imported), in
/// the caller's transaction, so the next generated number is past it. Reads first: the
/// counter is already past nearly every number (those it generated), and the read takes no
/// row lock.
pub(crate) async fn raise_account_counter<C: ConnectionTrait>(c: &C, customer: &Customer) -> StoreResult<()> {
    let Some(sequence) = customer.account_number().generated_sequence() else { return Ok(()) };
    let tenant = uid(customer.tenant);
    let current = one(c, "SELECT value FROM sequences WHERE tenant_id = ? AND name = 'account'", vec![tenant.clone()])
        .await
        .map_err(db)?;
    if let Some(row) = current
        && u64::try_from(col::<i64>(&row, "value")?).unwrap_or(0) >= sequence
    {
        return Ok(());
    }
    exec(
        c,
        "INSERT INTO sequences (tenant_id, name, value) VALUES (?, 'account', ?) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET value = \
         CASE WHEN sequences.value < excluded.value THEN excluded.value ELSE sequences.value END",
        vec![tenant, int(sequence)],
    )
    .await
    .map_err(db)?;
    Ok(())
}

/// [`raise_account_counter`] for a bulk load: each tenant's counter raised once, to the
/// highest generated-form account number among `customers`.
#[cfg(feature = "bench")]
pub(crate) async fn raise_account_counters<C: ConnectionTrait>(c: &C, customers: &[Customer]) -> StoreResult<()> {
    let mut highest: std::collections::HashMap<TenantId, (u64, &Customer)> = std::collections::HashMap::new();
    for customer in customers {
        if let Some(sequence) = customer.account_number().generated_sequence() {
            let entry = highest.entry(customer.tenant).or_insert((sequence, customer));
            if sequence > entry.0 {
                *entry = (sequence, customer);
            }
        }
    }
    for (_, customer) in highest.into_values() {
        raise_account_counter(c, customer).await?;
    }
    Ok(())
}
