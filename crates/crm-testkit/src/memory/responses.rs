//! [`ResponseStore`] for [`MemoryStore`]: standard responses with every version, their
//! folders, the agents' favourites and the suggestion candidates.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use crm_core::error::{Conflict, StoreError};
use crm_core::event::DomainEvent;
use crm_core::ids::{AgentId, ResponseFolderId, ResponseId, TenantId};
use crm_core::knowledge::response::{ResponseFilter, ResponseFolder, StandardResponse, folder_not_empty};
use crm_core::knowledge::{Article, ArticleState};
use crm_core::page::{Page, PageRequest};
use crm_core::ports::{ResponseStore, StoreResult};

use super::{MemoryStore, State, check_version, decode_cursor, invalid_reference, paginate};

/// The responses' part of the memory store.
#[derive(Default)]
pub(crate) struct ResponseState {
    /// Every version of each response, oldest first.
    responses: HashMap<ResponseId, Vec<StandardResponse>>,
    folders: HashMap<ResponseFolderId, ResponseFolder>,
    /// (tenant, agent, response).
    favourites: BTreeSet<(TenantId, AgentId, ResponseId)>,
}

impl ResponseState {
    fn current(&self, tenant: TenantId) -> impl Iterator<Item = &StandardResponse> {
        self.responses.values().filter_map(|v| v.last()).filter(move |r| r.tenant == tenant)
    }
}

/// Checks what a write of `response` needs: its shortcut free in the tenant, its folder a
/// folder of the tenant.
fn check_response(state: &State, response: &StandardResponse) -> StoreResult<()> {
    let r = &state.responses;
    if let Some(code) = &response.shortcut
        && r.current(response.tenant).any(|other| other.id != response.id && other.has_shortcut(code))
    {
        return Err(StoreError::duplicate("shortcut", code.clone()));
    }
    if let Some(folder) = response.folder
        && r.folders.get(&folder).is_none_or(|f| f.tenant != response.tenant)
    {
        return Err(invalid_reference("folder", format_args!("folder {folder}")));
    }
    Ok(())
}

/// Checks a folder's parent exists in its tenant and no sibling has its folded name.
fn check_folder(state: &State, folder: &ResponseFolder) -> StoreResult<()> {
    let r = &state.responses;
    if let Some(parent) = folder.parent
        && r.folders.get(&parent).is_none_or(|p| p.tenant != folder.tenant)
    {
        return Err(invalid_reference("parent", format_args!("folder {parent}")));
    }
    let key = folder.name_key();
    let taken = r
        .folders
        .values()
        .any(|f| f.tenant == folder.tenant && f.id != folder.id && f.parent == folder.parent && f.name_key() == key);
    if taken {
        return Err(StoreError::duplicate("name", folder.name.clone()));
    }
    Ok(())
}

fn stored_response(state: &State, tenant: TenantId, id: ResponseId) -> StoreResult<&StandardResponse> {
    state
        .responses
        .responses
        .get(&id)
        .and_then(|v| v.last())
        .filter(|r| r.tenant == tenant)
        .ok_or_else(|| StoreError::not_found("standard_response", id))
}

#[async_trait]
impl ResponseStore for MemoryStore {
    async fn insert_response(&self, response: &StandardResponse, events: &[DomainEvent]) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.responses.responses.contains_key(&response.id) {
            return Err(StoreError::duplicate("id", response.id.to_string()));
        }
        check_response(&state, response)?;
        let rows = state.stage_events(events)?;
        state.responses.responses.insert(response.id, vec![response.clone()]);
        state.commit_events(rows);
        Ok(())
    }

    async fn update_response(
        &self,
        response: &StandardResponse,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = stored_response(&state, response.tenant, response.id)?;
        check_version("standard_response", response.id, stored.version, expected_version)?;
        check_response(&state, response)?;
        let rows = state.stage_events(events)?;
        state.responses.responses.entry(response.id).or_default().push(response.clone());
        state.commit_events(rows);
        Ok(())
    }

    async fn delete_response(
        &self,
        tenant: TenantId,
        id: ResponseId,
        expected_version: u64,
        events: &[DomainEvent],
    ) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = stored_response(&state, tenant, id)?;
        check_version("standard_response", id, stored.version, expected_version)?;
        let rows = state.stage_events(events)?;
        state.responses.responses.remove(&id);
        state.responses.favourites.retain(|(_, _, r)| *r != id);
        state.commit_events(rows);
        Ok(())
    }

    async fn get_response(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Option<StandardResponse>> {
        let state = self.read()?;
        Ok(stored_response(&state, tenant, id).ok().cloned())
    }

    async fn response_versions(&self, tenant: TenantId, id: ResponseId) -> StoreResult<Vec<StandardResponse>> {
        let state = self.read()?;
        let versions = state.responses.responses.get(&id).map(Vec::as_slice).unwrap_or_default();
        Ok(versions.iter().filter(|r| r.tenant == tenant).cloned().collect())
    }

    async fn response_by_shortcut(&self, tenant: TenantId, shortcut: &str) -> StoreResult<Option<StandardResponse>> {
        let state = self.read()?;
        Ok(state.responses.current(tenant).find(|r| r.has_shortcut(shortcut)).cloned())
    }

    async fn list_responses(
        &self,
        tenant: TenantId,
        filter: &ResponseFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<StandardResponse>> {
        let state = self.read()?;
        let cursor: Option<(DateTime<Utc>, ResponseId)> = decode_cursor(page)?;
        let r = &state.responses;
        let mut found: Vec<&StandardResponse> = r
            .current(tenant)
            .filter(|x| {
                let favourite = filter.favourites_of.is_some_and(|a| r.favourites.contains(&(tenant, a, x.id)));
                filter.admits(x, favourite)
            })
            .filter(|x| cursor.is_none_or(|c| (x.created_at, x.id) > c))
            .collect();
        found.sort_by_key(|x| (x.created_at, x.id));
        Ok(paginate(found, page, |x: &StandardResponse| (x.created_at, x.id)))
    }

    async fn add_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        let mut state = self.write()?;
        stored_response(&state, tenant, response)?;
        state.responses.favourites.insert((tenant, agent, response));
        Ok(())
    }

    async fn remove_favourite(&self, tenant: TenantId, agent: AgentId, response: ResponseId) -> StoreResult<()> {
        let mut state = self.write()?;
        state.responses.favourites.remove(&(tenant, agent, response));
        Ok(())
    }

    async fn count_favourites(&self, tenant: TenantId, agent: AgentId) -> StoreResult<u64> {
        let state = self.read()?;
        Ok(state.responses.favourites.iter().filter(|(t, a, _)| *t == tenant && *a == agent).count() as u64)
    }

    async fn insert_folder(&self, folder: &ResponseFolder) -> StoreResult<()> {
        let mut state = self.write()?;
        if state.responses.folders.contains_key(&folder.id) {
            return Err(StoreError::duplicate("id", folder.id.to_string()));
        }
        check_folder(&state, folder)?;
        state.responses.folders.insert(folder.id, folder.clone());
        Ok(())
    }

    async fn update_folder(&self, folder: &ResponseFolder, expected_version: u64) -> StoreResult<()> {
        let mut state = self.write()?;
        let stored = state
            .responses
            .folders
            .get(&folder.id)
            .filter(|f| f.tenant == folder.tenant)
            .ok_or_else(|| StoreError::not_found("response_folder", folder.id))?;
        check_version("response_folder", folder.id, stored.version, expected_version)?;
        check_folder(&state, folder)?;
        state.responses.folders.insert(folder.id, folder.clone());
        Ok(())
    }

    async fn delete_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<()> {
        let mut state = self.write()?;
        let r = &state.responses;
        if r.folders.get(&id).is_none_or(|f| f.tenant != tenant) {
            return Err(StoreError::not_found("response_folder", id));
        }
        let responses = r.current(tenant).filter(|x| x.folder == Some(id)).count();
        let folders = r.folders.values().filter(|f| f.parent == Some(id)).count();
        if responses > 0 || folders > 0 {
            return Err(StoreError::Conflict(Conflict::State(folder_not_empty(id, responses, folders))));
        }
        state.responses.folders.remove(&id);
        Ok(())
    }

    async fn get_folder(&self, tenant: TenantId, id: ResponseFolderId) -> StoreResult<Option<ResponseFolder>> {
        let state = self.read()?;
        Ok(state.responses.folders.get(&id).filter(|f| f.tenant == tenant).cloned())
    }

    async fn list_folders(&self, tenant: TenantId) -> StoreResult<Vec<ResponseFolder>> {
        let state = self.read()?;
        let mut found: Vec<ResponseFolder> =
            state.responses.folders.values().filter(|f| f.tenant == tenant).cloned().collect();
        found.sort_by_key(|f| (f.name_key(), f.id));
        Ok(found)
    }

    async fn suggestion_candidates(
        &self,
        tenant: TenantId,
        words: &[String],
        limit: u32,
    ) -> StoreResult<(Vec<StandardResponse>, Vec<Article>)> {
        let state = self.read()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let holds = |text: String| words.iter().any(|w| text.contains(w.as_str()));
        let responses =
            state.responses.current(tenant).filter(|r| holds(r.search_text())).take(limit).cloned().collect();
        let articles = state
            .articles
            .values()
            .filter_map(|v| v.last())
            .filter(|a| a.tenant == tenant && a.state == ArticleState::Published && holds(a.search_text()))
            .take(limit)
            .cloned()
            .collect();
        Ok((responses, articles))
    }
}
