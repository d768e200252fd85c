//! `m0020`: the agents' console sign-in (issue 32). `agent_passwords` holds one argon2id
//! hash per agent (sign-in finds it through the agent's address: `agents_by_email_key`);
//! `console_sessions` the server-side sessions under the SHA-256 of their id, with the
//! anti-forgery token, the creation, last use and absolute expiry (nanoseconds).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// `m0020`: passwords and sessions.
pub(super) struct ConsoleSignIn;

impl MigrationName for ConsoleSignIn {
    fn name(&self) -> &str {
        "m0020_console_sign_in"
    }
}

/// The DDL of `m0020`, both backends.
const CONSOLE_SIGN_IN: &str = "
CREATE TABLE agent_passwords (
    agent_id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT agent_passwords_pkey PRIMARY KEY (agent_id)
);
CREATE INDEX agents_by_email_key ON agents (email_key);
CREATE TABLE console_sessions (
    hash TEXT NOT NULL,
    tenant_id {uuid} NOT NULL,
    agent_id {uuid} NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT console_sessions_pkey PRIMARY KEY (hash)
);
CREATE INDEX console_sessions_by_agent ON console_sessions (tenant_id, agent_id);
CREATE INDEX console_sessions_by_last_seen ON console_sessions (last_seen_at);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)
";

#[async_trait::async_trait]
impl MigrationTrait for ConsoleSignIn {
    /// In one transaction on every backend: the tables land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(CONSOLE_SIGN_IN, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
