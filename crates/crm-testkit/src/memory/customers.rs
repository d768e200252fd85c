//! [`CustomerStore`] for [`MemoryStore`]: customers, lookups, search, relations, merge and undo.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::customer::{
    AccountNumber, Customer, CustomerSearch, IdentityKey, MergePlan, MergeRecord, MovedRecords, Relation, UndoPlan,
};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, CustomerId, MergeId, RelationId, TenantId};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{CustomerStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, limit, paginate};

impl State {
    fn account_taken(&self, tenant: TenantId, account: &AccountNumber, except: Option<CustomerId>) -> bool {
        self.customers.values().any(|c| c.tenant == tenant && c.account_number() == account && Some(c.id) != except)
    }

    /// What [`CustomerStore::insert_customer`] refuses for `customer` (an id or account
    /// number taken); changes nothing.
    pub(super) fn check_new_customer(&self, customer: &Customer) -> StoreResult<()> {
        if self.customers.contains_key(&customer.id) {
            return Err(StoreError::duplicate("id", customer.id.to_string()));
        }
        if self.account_taken(customer.tenant, customer.account_number(), None) {
            return Err(StoreError::duplicate("account_number", customer.account_number().as_str()));
        }
        Ok(())
    }

    /// What [`CustomerStore::update_customer`] refuses for `customer` read at `expected`
    /// (missing, stale, an account number taken); changes nothing.
    pub(super) fn check_customer_update(&self, customer: &Customer, expected: u64) -> StoreResult<()> {
        self.checked_customer(customer.tenant, customer.id, expected)?;
        if self.account_taken(customer.tenant, customer.account_number(), Some(customer.id)) {
            return Err(StoreError::duplicate("account_number", customer.account_number().as_str()));
        }
        Ok(())
    }

    /// The stored customer of the tenant, checked against `expected`.
    fn checked_customer(&self, tenant: TenantId, id: CustomerId, expected: u64) -> StoreResult<&Customer> {
        let stored = self
            .customers
            .get(&id)
            .filter(|c| c.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("customer", id))?;
        check_version("customer", id, stored.version(), expected)?;
        Ok(stored)
    }

    /// Re-points every child of `from` to `to`, only the listed ones when `only` is given;
    /// bumps the moved records' versions (someone holding the old record must reload it
    /// rather than silently move it back). Returns what moved.
    fn move_children(
        &mut self,
        tenant: TenantId,
        from: CustomerId,
        to: CustomerId,
        only: Option<&MovedRecords>,
    ) -> MovedRecords {
        let mut moved = MovedRecords::default();
        let mut cases: Vec<_> = self
            .cases
            .values_mut()
            .filter(|c| c.tenant == tenant && c.customer() == from && only.is_none_or(|m| m.cases.contains(&c.id)))
            .collect();
        cases.sort_by_key(|c| c.id);
        for c in cases {
            c.move_to_customer(to);
            moved.cases.push(c.id);
        }
        let mut tasks: Vec<_> = self
            .tasks
            .values_mut()
            .filter(|t| t.tenant == tenant && t.customer() == from && only.is_none_or(|m| m.tasks.contains(&t.id)))
            .collect();
        tasks.sort_by_key(|t| t.id);
        for t in tasks {
            t.move_to_customer(to);
            moved.tasks.push(t.id);
        }
        let mut interactions: Vec<_> = self
            .interactions
            .values_mut()
            .filter(|i| {
                i.tenant == tenant && i.customer() == Some(from) && only.is_none_or(|m| m.interactions.contains(&i.id))
            })
            .collect();
        interactions.sort_by_key(|i| i.id);
        for i in interactions {
            i.move_to_customer(to);
            moved.interactions.push(i.id);
        }
        moved
    }
}

#[async_trait]
impl CustomerStore for MemoryStore {
    async fn next_account_sequence(&self, tenant: TenantId) -> StoreResult<u64> {
        let mut state = self.write()?;
        // Past every number in the generator's form a customer was written with.
        let highest = state
            .customers
            .values()
            .filter(|c| c.tenant == tenant)
            .filter_map(|c| c.account_number().generated_sequence())
            .max()
            .unwrap_or(0);
        let seq = state.account_sequences.entry(tenant).or_insert(0);
        *seq = (*seq).max(highest) + 1;
        Ok(*seq)
    }

    async fn insert_customer(&self, customer: &Customer, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_new_customer(customer)?;
        let rows = state.stage_events(events)?;
        state.customers.insert(customer.id, customer.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn update_customer(
        &self,
        customer: &Customer,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.check_customer_update(customer, expected_version)?;
        let rows = state.stage_events(events)?;
        state.customers.insert(customer.id, customer.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn delete_customer(
        &self,
        tenant: TenantId,
        id: CustomerId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        state.checked_customer(tenant, id, expected_version)?;
        let referenced = state.cases.values().any(|c| c.tenant == tenant && c.customer() == id)
            || state.tasks.values().any(|t| t.tenant == tenant && t.customer() == id)
            || state.interactions.values().any(|i| i.tenant == tenant && i.customer() == Some(id));
        if referenced {
            return Err(StoreError::InvalidReference {
                field: "customer".into(),
                reason: format!("customer {id} still has cases, tasks or interactions"),
            });
        }
        let rows = state.stage_events(events)?;
        state.customers.remove(&id);
        state.relations.retain(|_, r| !(r.tenant == tenant && (r.from == id || r.to == id)));
        state.outbound.forget_customer(tenant, id);
        state.commit_events(rows);
        Ok(())
    }

    async fn get_customer(&self, tenant: TenantId, id: CustomerId) -> StoreResult<Option<Customer>> {
        let state = self.read()?;
        Ok(state.customers.get(&id).filter(|c| c.tenant == tenant).cloned())
    }

    async fn find_by_identity(&self, tenant: TenantId, key: &IdentityKey, limit_: u32) -> StoreResult<Vec<Customer>> {
        let state = self.read()?;
        let mut found: Vec<&Customer> = state
            .customers
            .values()
            .filter(|c| c.tenant == tenant && !c.is_merged() && c.identities().iter().any(|i| i.key() == *key))
            .collect();
        // Most recently contacted first, never contacted last, then by id.
        found.sort_by_key(|c| (c.last_contact_at().is_none(), Reverse(c.last_contact_at()), c.id));
        Ok(found.into_iter().take(limit(limit_)).cloned().collect())
    }

    async fn find_by_account(&self, tenant: TenantId, account: &AccountNumber) -> StoreResult<Option<Customer>> {
        let state = self.read()?;
        Ok(state.customers.values().find(|c| c.tenant == tenant && c.account_number() == account).cloned())
    }

    async fn search_customers(
        &self,
        tenant: TenantId,
        search: &CustomerSearch,
        page: &PageRequest,
    ) -> StoreResult<Page<Customer>> {
        let after: Option<(String, CustomerId)> = decode_cursor(page)?;
        let state = self.read()?;
        let mut found: Vec<(String, &Customer)> = state
            .customers
            .values()
            .filter(|c| c.tenant == tenant && !c.is_merged() && search.matches(c))
            .map(|c| (c.folded_name(), c))
            .filter(|(name, c)| after.as_ref().is_none_or(|(an, aid)| (name, &c.id) > (an, aid)))
            .collect();
        found.sort_by(|(an, a), (bn, b)| (an, a.id).cmp(&(bn, b.id)));
        Ok(paginate(found.into_iter().map(|(_, c)| c).collect(), page, |c: &Customer| (c.folded_name(), c.id)))
    }

    async fn find_by_phonetic(&self, tenant: TenantId, codes: &[String], limit_: u32) -> StoreResult<Vec<Customer>> {
        let state = self.read()?;
        let codes: BTreeSet<&String> = codes.iter().collect();
        let mut found: Vec<(String, &Customer)> = state
            .customers
            .values()
            .filter(|c| c.tenant == tenant && !c.is_merged())
            .filter(|c| c.name_keys().phonetic.iter().any(|code| codes.contains(code)))
            .map(|c| (c.folded_name(), c))
            .collect();
        found.sort_by(|(an, a), (bn, b)| (an, a.id).cmp(&(bn, b.id)));
        Ok(found.into_iter().take(limit(limit_)).map(|(_, c)| c.clone()).collect())
    }

    async fn insert_relation(&self, relation: &Relation, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if !state.customer_exists(relation.tenant, relation.from) {
            return Err(invalid_reference("from", format_args!("customer {}", relation.from)));
        }
        if !state.customer_exists(relation.tenant, relation.to) {
            return Err(invalid_reference("to", format_args!("customer {}", relation.to)));
        }
        if state.relations.contains_key(&relation.id) {
            return Err(StoreError::duplicate("id", relation.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        state.relations.insert(relation.id, relation.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn delete_relation(&self, tenant: TenantId, id: RelationId, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.relations.get(&id).is_none_or(|r| r.tenant != tenant) {
            return Err(StoreError::not_found("relation", id));
        }
        let rows = state.stage_events(events)?;
        state.relations.remove(&id);
        state.commit_events(rows);
        Ok(())
    }

    async fn relations_of(&self, tenant: TenantId, customer: CustomerId) -> StoreResult<Vec<Relation>> {
        let state = self.read()?;
        Ok(state
            .relations
            .values()
            .filter(|r| r.tenant == tenant && (r.from == customer || r.to == customer))
            .cloned()
            .collect())
    }

    async fn merge_customers(
        &self,
        plan: &MergePlan,
        record: &MergeRecord,
        events: &[DomainEvent],
    ) -> StoreResult<MovedRecords> {
        let mut state = self.write()?;
        let tenant = plan.target.tenant;
        let (target, source) = (plan.target.id, plan.tombstone.id);
        if plan.tombstone.tenant != tenant || record.tenant != tenant {
            return Err(StoreError::not_found("customer", source));
        }
        if record.target != target || record.source != source || record.id != plan.id {
            return Err(StoreError::InvalidReference {
                field: "merge".into(),
                reason: "the merge record does not describe the plan".into(),
            });
        }
        state.checked_customer(tenant, target, plan.target.version().wrapping_sub(1))?;
        state.checked_customer(tenant, source, plan.tombstone.version().wrapping_sub(1))?;
        if state.merges.contains_key(&record.id) {
            return Err(StoreError::duplicate("id", record.id.to_string()));
        }
        let rows = state.stage_events(events)?;
        let mut moved = state.move_children(tenant, source, target, None);
        let mut relations: Vec<&mut Relation> = state.relations.values_mut().filter(|r| r.tenant == tenant).collect();
        relations.sort_by_key(|r| r.id);
        for r in relations {
            // Relations between the two cards stay on the tombstone.
            let (from, to) = (r.from, r.to);
            if from == source && to != target {
                r.from = target;
                moved.relations_from.push(r.id);
            }
            if to == source && from != target {
                r.to = target;
                moved.relations_to.push(r.id);
            }
        }
        state.customers.insert(target, plan.target.clone());
        state.customers.insert(source, plan.tombstone.clone());
        let mut stored = record.clone();
        stored.moved = moved.clone();
        state.merges.insert(stored.id, stored);
        state.commit_events(rows);
        Ok(moved)
    }

    async fn get_merge(&self, tenant: TenantId, id: MergeId) -> StoreResult<Option<MergeRecord>> {
        let state = self.read()?;
        Ok(state.merges.get(&id).filter(|m| m.tenant == tenant).cloned())
    }

    async fn undo_merge(
        &self,
        tenant: TenantId,
        merge: MergeId,
        plan: &UndoPlan,
        by: AgentId,
        at: DateTime<Utc>,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let record = state
            .merges
            .get(&merge)
            .filter(|m| m.tenant == tenant)
            .ok_or_else(|| StoreError::not_found("merge", merge))?;
        if record.undone_at.is_some() {
            return Err(Conflict::State(format!("merge {merge} was already undone")).into());
        }
        let (target, source, moved) = (record.target, record.source, record.moved.clone());
        if plan.target.id != target
            || plan.source.id != source
            || plan.target.tenant != tenant
            || plan.source.tenant != tenant
        {
            return Err(StoreError::InvalidReference {
                field: "merge".into(),
                reason: "the undo plan does not restore this merge's cards".into(),
            });
        }
        state.checked_customer(tenant, target, plan.target.version().wrapping_sub(1))?;
        state.checked_customer(tenant, source, plan.source.version().wrapping_sub(1))?;
        let rows = state.stage_events(events)?;
        state.move_children(tenant, target, source, Some(&moved));
        for id in &moved.relations_from {
            if let Some(r) = state.relations.get_mut(id).filter(|r| r.tenant == tenant) {
                r.from = source;
            }
        }
        for id in &moved.relations_to {
            if let Some(r) = state.relations.get_mut(id).filter(|r| r.tenant == tenant) {
                r.to = source;
            }
        }
        state.customers.insert(target, plan.target.clone());
        state.customers.insert(source, plan.source.clone());
        if let Some(record) = state.merges.get_mut(&merge) {
            record.undone_at = Some(at);
            record.undone_by = Some(by);
        }
        state.commit_events(rows);
        Ok(())
    }
}
