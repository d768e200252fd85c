//! `m0018`: knowledge articles (KNO-1, KNO-3). `articles` holds the current version of each
//! (its shortcut unique in the tenant), `article_versions` every version as written, and
//! `article_links` which solutions solve which problem (kept in step with each current
//! version's `solves`).

use sea_orm::{ConnectionTrait, DbErr};
use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use super::statements;

/// `m0018`: the knowledge base's tables.
pub(super) struct KnowledgeArticles;

impl MigrationName for KnowledgeArticles {
    fn name(&self) -> &str {
        "m0018_knowledge_articles"
    }
}

/// The DDL of `m0018`, both backends.
const KNOWLEDGE_ARTICLES: &str = "
CREATE TABLE articles (
    id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    state {text} NOT NULL CHECK (state = 'draft' OR state = 'published' OR state = 'archived'),
    language {text} NOT NULL,
    is_public BIGINT NOT NULL,
    shortcut {text},
    created_at BIGINT NOT NULL,
    version BIGINT NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT articles_pkey PRIMARY KEY (id),
    CONSTRAINT articles_shortcut_key UNIQUE (tenant_id, shortcut)
);
CREATE INDEX articles_by_creation ON articles (tenant_id, created_at, id);
CREATE TABLE article_versions (
    article_id {uuid} NOT NULL,
    version BIGINT NOT NULL,
    tenant_id {uuid} NOT NULL,
    doc TEXT NOT NULL,
    CONSTRAINT article_versions_pkey PRIMARY KEY (article_id, version),
    CONSTRAINT article_versions_article_fk FOREIGN KEY (article_id) REFERENCES articles (id)
);
CREATE TABLE article_links (
    problem_id {uuid} NOT NULL,
    solution_id {uuid} NOT NULL,
    tenant_id {uuid} NOT NULL,
    CONSTRAINT article_links_pkey PRIMARY KEY (problem_id, solution_id),
    CONSTRAINT article_links_problem_fk FOREIGN KEY (problem_id) REFERENCES articles (id),
    CONSTRAINT article_links_solution_fk FOREIGN KEY (solution_id) REFERENCES articles (id)
);
CREATE INDEX article_links_by_solution ON article_links (solution_id)
";

#[async_trait::async_trait]
impl MigrationTrait for KnowledgeArticles {
    /// In one transaction on every backend: the tables land together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    #[allow(elided_lifetimes_in_paths)] // the trait's own signature
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        for statement in statements(KNOWLEDGE_ARTICLES, conn.get_database_backend()) {
            conn.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
