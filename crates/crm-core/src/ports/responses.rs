//! [`ResponseStore`]: standard responses (KNO-4), every version of each, their shared
//! folders, the agents' favourites, and the candidates of an interaction's suggestions.

use async_trait::async_trait;

use super::store::StoreResult;
use crate::event::DomainEvent;
use crate::ids::{AgentId, ResponseFolderId, ResponseId, TenantId};
use crate::knowledge::Article;
use crate::knowledge::response::{ResponseFilter, ResponseFolder, StandardResponse};
use crate::page::{Page, PageRequest};

/// Standard responses, their folders and favourites.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait ResponseStore: Send + Sync {
    /// Inserts version 1 of a response (and keeps it as its first version) with `events`,
    /// in one transaction.
    ///
    /// # Errors
    /// MUST return `Duplicate { field: "id" }`; `Duplicate { field: "shortcut" }` when
    /// another response of the tenant has the shortcut; `InvalidReference { field:
    /// "folder" }` when the folder is not a folder of the tenant. Nothing is written then.
    async fn insert_response(&self, response: &StandardResponse, events: &[DomainEvent]) -> StoreResult<()>;

    /// Replaces version `expected_version` by `response` (whose version is the next one),
    /// keeping the previous versions readable, with `events`, in one transaction.
    ///
    /// # Errors
    /// MUST return `NotFound` (also for another tenant's response); `StaleVersion`; the
    /// conflicts of [`ResponseStore::insert_response`]. Nothing is written then.
    async fn update_response(
        &self,
        response: &StandardResponse,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// Deletes version `expected_version` of a response, its versions and every agent's
    /// favourite of it, with `events`, in one transaction.
    ///
    /// # Errors
    /// MUST return `NotFound` (also for another tenant's response); `StaleVersion`.
    /// Nothing is written then.
    async fn delete_response(
        &self,
        tenant: TenantId,
        id: ResponseId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()>;

    /// The current version of a response of `tenant`.
    async fn get_response(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Option<StandardResponse>>;

    /// Every version of a response of `tenant`, oldest first (empty when there is none).
    async fn response_versions(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Vec<StandardResponse>>;

    /// The response of `tenant` with this shortcut code (`#thanks`).
    async fn response_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<StandardResponse>>;

    /// The current responses of `tenant` that `filter` admits (`favourites_of`: those the
    /// agent marked), by creation time then id, cursor-paginated.
    ///
    /// # Errors
    /// MUST return `InvalidReference { field: "cursor" }` for a cursor this list did not
    /// return.
    async fn list_responses(
        &self,
        tenant: TenantId,
        filter: &ResponseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StandardResponse>>;

    /// Marks a response as a favourite of `agent` (marking it again changes nothing).
    ///
    /// # Errors
    /// MUST return `NotFound` when the response is not one of `tenant`.
    async fn add_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()>;

    /// Unmarks a favourite (unmarking one that is not marked changes nothing).
    async fn remove_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()>;

    /// How many favourites `agent` has.
    async fn count_favourites(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64>;

    /// Inserts a folder.
    ///
    /// # Errors
    /// MUST return `Duplicate { field: "name" }` when a sibling (same parent) has the same
    /// folded name; `InvalidReference { field: "parent" }` when the parent is not a folder
    /// of the tenant.
    async fn insert_folder(&self, folder: &ResponseFolder) -> StoreResult<()>;

    /// Renames version `expected_version` of a folder (`folder` holds the next version).
    ///
    /// # Errors
    /// MUST return `NotFound` (also for another tenant's folder); `StaleVersion`;
    /// `Duplicate { field: "name" }` as [`ResponseStore::insert_folder`].
    async fn update_folder(&self, folder: &ResponseFolder, expected_version: u64) -> StoreResult<()>;

    /// Deletes an empty folder.
    ///
    /// # Errors
    /// MUST return `NotFound` (also for another tenant's folder); `Conflict::State`
    /// naming what it holds when it holds responses or folders (nothing is deleted).
    async fn delete_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<()>;

    /// A folder of `tenant`.
    async fn get_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<Option<ResponseFolder>>;

    /// Every folder of `tenant`, by folded name then id (root folders and subfolders mixed:
    /// the caller nests them by `parent`).
    async fn list_folders(&self, tenant: TenantId) -> StoreResult<Vec<ResponseFolder>>;

    /// The suggestion candidates of `tenant` (KNO-4): at most `limit` current responses and
    /// at most `limit` published articles whose folded text holds at least one of `words`
    /// (each a folded word, as [`crate::text::words`] makes them), in no particular order.
    async fn suggestion_candidates(
        &self,
        tenant: TenantId,
        words: &[String],
        limit: u32,
    ) -> StoreResult<(Vec<StandardResponse>, Vec<Article>)>;
}
