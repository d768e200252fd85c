//! `m0022`: standard responses (KNO-4) and the public self-service search (KNO-1).
//! `standard_responses` holds each response's current version (the columns its list
//! filters on: folder, language, shortcut unique in the tenant, tags as `,a,b,`, the folded
//! `search_text`), `standard_response_versions` every version, `response_folders` the
//! shared folders (a name unique among siblings, compared folded), `response_favourites`
//! each agent's favourites. `tenants` gets its public `slug` (unique), and `articles` a
//! folded `search_text` for the text filter, filled here from each article's document.

use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// `m0022`: the standard responses' tables, the tenants' slug and the articles' text.
pub(super) struct StandardResponses;

impl MigrationName for StandardResponses {
    fn name(&self) -> &str {
        "m0022_standard_responses"
    }
}

/// The DDL of `m0022`, both backends.
const STANDARD_RESPONSES: &str = "
ALTER TABLE tenants ADD COLUMN slug {text};
CREATE UNIQUE INDEX tenants_slug_key ON tenants (slug);
ALTER TABLE articles ADD COLUMN search_text TEXT;
CREATE TABLE response_folders (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    parent_id {uuid},
    parent_key {uuid} NOT NULL,
    name_key {text} NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT response_folders_pkey PRIMARY KEY (id),
    CONSTRAINT response_folders_name_key UNIQUE (tenant_id, parent_key, name_key),
    CONSTRAINT response_folders_parent_fk FOREIGN KEY (parent_id) REFERENCES response_folders (id)
);
CREATE INDEX response_folders_by_parent ON response_folders (parent_id);
CREATE TABLE standard_responses (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    folder_id {uuid},
    language {text} NOT NULL,
    shortcut {text},
    tags_key {text} NOT NULL,
    search_text TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT standard_responses_pkey PRIMARY KEY (id),
    CONSTRAINT standard_responses_shortcut_key UNIQUE (tenant_id, shortcut),
    CONSTRAINT standard_responses_folder_fk FOREIGN KEY (folder_id) REFERENCES response_folders (id)
);
CREATE INDEX standard_responses_by_creation ON standard_responses (tenant_id, created_at, id);
CREATE INDEX standard_responses_by_folder ON standard_responses (folder_id);
CREATE TABLE standard_response_versions (
    response_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    tenant_id {uuid} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT standard_response_versions_pkey PRIMARY KEY (response_id, version),
    CONSTRAINT standard_response_versions_response_fk FOREIGN KEY (response_id) REFERENCES standard_responses (id)
);
CREATE TABLE response_favourites (
    agent_id {uuid} NOT NULL,
    response_id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    CONSTRAINT response_favourites_pkey PRIMARY KEY (agent_id, response_id),
    CONSTRAINT response_favourites_response_fk FOREIGN KEY (response_id) REFERENCES standard_responses (id)
);
CREATE INDEX response_favourites_by_response ON response_favourites (response_id)
";

#[async_trait::async_trait]
impl MigrationTrait for StandardResponses {
    /// In one transaction on every backend: the tables and the backfill land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        for statement in statements(STANDARD_RESPONSES, backend) {
            conn.execute_unprepared(&statement).await?;
        }
        // The articles written before: their folded text, from their documents.
        let rows = conn.query_all_raw(Statement::from_string(backend, "SELECT id, doc FROM articles")).await?;
        for row in rows {
            let doc: String = row.try_get("", "doc")?;
            let article: crm_core::knowledge::Article =
                serde_json::from_str(&doc).map_err(|e| DbErr::Custom(format!("an article's document: {e}")))?;
            crate::sql::exec(
                conn,
                "UPDATE articles SET search_text = ? WHERE id = ?",
                vec![crate::sql::text(article.search_text()), crate::sql::uid(article.id)],
            )
            .await?;
        }
        Ok(())
    }
}
