//! `m0013`: the outbound tables (OUT-1, OUT-2; ADR 0017). An entry's claim columns
//! (`due_at`, `lease_agent`, `lease_until`, `version`) are apart from its document so the
//! claim is one `UPDATE` of columns; the partial index `call_list_entries_claim` holds the
//! open entries of a list in claim order (priority descending, due time, id).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use crate::migration::statements;

/// `m0013`: campaigns, call lists, their entries and the do-not-call list.
pub(crate) struct OutboundCalling;

impl MigrationName for OutboundCalling {
    fn name(&self) -> &str {
        "m0013_outbound_calling"
    }
}

/// The DDL of `m0013`.
const OUTBOUND_CALLING: &str = "
CREATE TABLE campaigns (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT campaigns_pkey PRIMARY KEY (id)
);
CREATE INDEX campaigns_by_tenant ON campaigns (tenant_id, created_at, id);
CREATE TABLE call_lists (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    campaign_id {uuid} NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    zones TEXT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT call_lists_pkey PRIMARY KEY (id),
    CONSTRAINT call_lists_campaign_fk FOREIGN KEY (campaign_id) REFERENCES campaigns (id)
);
CREATE INDEX call_lists_by_campaign ON call_lists (campaign_id, created_at, id);
CREATE TABLE call_list_entries (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    list_id {uuid} NOT NULL,
    customer_id {uuid} NOT NULL,
    phone {text} NOT NULL,
    zone {text} NOT NULL,
    priority INTEGER NOT NULL,
    state {text} NOT NULL,
    closing {text},
    reached INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    due_at BIGINT NOT NULL,
    reserved_for {uuid},
    lease_agent {uuid},
    lease_until BIGINT,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT call_list_entries_pkey PRIMARY KEY (id),
    CONSTRAINT call_list_entries_list_fk FOREIGN KEY (list_id) REFERENCES call_lists (id),
    CONSTRAINT call_list_entries_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
);
CREATE INDEX call_list_entries_claim ON call_list_entries (list_id, priority DESC, due_at, id) WHERE state = 'open';
CREATE INDEX call_list_entries_by_list ON call_list_entries (list_id, id);
CREATE INDEX call_list_entries_by_customer ON call_list_entries (customer_id);
CREATE TABLE do_not_call (
    tenant_id {uuid} NOT NULL,
    phone {text} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT do_not_call_pkey PRIMARY KEY (tenant_id, phone)
)
";

#[async_trait::async_trait]
impl MigrationTrait for OutboundCalling {
    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for sql in statements(OUTBOUND_CALLING, conn.get_database_backend()) {
            conn.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}
