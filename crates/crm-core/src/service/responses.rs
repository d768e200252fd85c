//! Standard response use cases (KNO-4): write with `knowledge.edit`, read and render as any
//! agent, shared folders (deleted only when empty), personal favourites, and the
//! suggestions for an interaction (the interim ranking of `knowledge::suggest`).

use std::collections::BTreeMap;

use super::{Crm, check_version};
use crate::access::{Actor, Permission};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ids::{CaseId, CustomerId, InteractionId, ResponseFolderId, ResponseId};
use crate::interaction::{Direction, LinkTarget};
use crate::knowledge::response::{
    FolderRename, MAX_FAVOURITES, NewFolder, NewResponse, RenderRequest, RenderedResponse, ResponseFilter,
    ResponseFolder, ResponsePatch, StandardResponse, parse_folder_name, placeholders_in_body, render,
};
use crate::knowledge::suggest::{Candidate, Suggestion, SuggestionKind, query_words, rank};
use crate::page::{Page, PageRequest};
use crate::time::next_id;

/// How many candidates of each kind the suggestions read from the store.
const SUGGESTION_CANDIDATES: u32 = 200;

impl Crm {
    /// Writes version 1 of a standard response (KNO-4).
    ///
    /// # Errors
    /// Forbidden without `knowledge.edit`; invalid fields (an unknown placeholder names
    /// itself on `body`); a shortcut taken by a response or an article of the tenant; a
    /// folder that is not one of the tenant's.
    pub async fn create_response(&self, actor: &Actor, input: NewResponse) -> Result<StandardResponse> {
        actor.require(Permission::KnowledgeEdit)?;
        let response = input.build(next_id(&*self.ids), actor.tenant, actor.agent, self.clock.now())?;
        self.check_response_refs(actor, &response).await?;
        let events = [self.event(actor, EventKind::StandardResponseWritten { response: response.id, version: 1 })];
        self.store.insert_response(&response, &events).await?;
        Ok(response)
    }

    /// A standard response (any agent of the tenant).
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_response(&self, actor: &Actor, id: ResponseId) -> Result<StandardResponse> {
        self.store.get_response(actor.tenant, id).await?.ok_or_else(|| Error::not_found("standard_response", id))
    }

    /// Writes the next version of a response, from version `expected_version`.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version; an empty change; the refusals of
    /// [`Crm::create_response`].
    pub async fn update_response(
        &self,
        actor: &Actor,
        id: ResponseId,
        expected_version: u64,
        patch: ResponsePatch,
    ) -> Result<StandardResponse> {
        actor.require(Permission::KnowledgeEdit)?;
        let current = self.get_response(actor, id).await?;
        let expected_version = check_version("standard_response", id, current.version, expected_version)?;
        if patch.is_empty() {
            return Err(Error::invalid("body", "the change changes nothing"));
        }
        let next = patch.apply(&current, actor.agent, self.clock.now())?;
        self.check_response_refs(actor, &next).await?;
        let events =
            [self.event(actor, EventKind::StandardResponseWritten { response: next.id, version: next.version })];
        self.store.update_response(&next, expected_version, &events).await?;
        Ok(next)
    }

    /// Deletes version `expected_version` of a response (its versions and favourites go).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version.
    pub async fn delete_response(&self, actor: &Actor, id: ResponseId, expected_version: u64) -> Result<()> {
        actor.require(Permission::KnowledgeEdit)?;
        let current = self.get_response(actor, id).await?;
        let expected_version = check_version("standard_response", id, current.version, expected_version)?;
        let events = [self.event(actor, EventKind::StandardResponseDeleted { response: id })];
        Ok(self.store.delete_response(actor.tenant, id, expected_version, &events).await?)
    }

    /// Every version of a response, oldest first.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn response_versions(&self, actor: &Actor, id: ResponseId) -> Result<Vec<StandardResponse>> {
        self.get_response(actor, id).await?;
        Ok(self.store.response_versions(actor.tenant, id).await?)
    }

    /// The responses `filter` admits, by creation; `favourites_of` is always the actor.
    ///
    /// # Errors
    /// A folder that is not one of the tenant's (422 on `folder`); a bad cursor.
    pub async fn list_responses(
        &self,
        actor: &Actor,
        mut filter: ResponseFilter,
        favourites_only: bool,
        page: &PageRequest,
    ) -> Result<Page<StandardResponse>> {
        if let Some(folder) = filter.folder {
            self.require_folder(actor, folder, "folder").await?;
        }
        filter.favourites_of = favourites_only.then_some(actor.agent);
        Ok(self.store.list_responses(actor.tenant, &filter, page).await?)
    }

    /// Renders a response for a customer, a case or an interaction: its placeholders filled
    /// (every value escaped into the HTML), as HTML and plain text.
    ///
    /// # Errors
    /// `NotFound` for the response or a record the actor cannot read; an unknown
    /// placeholder (422 on `body`, naming it); a `customer.*` or `case.*` placeholder
    /// without its record (422 on `customer` or `case`).
    pub async fn render_response(
        &self,
        actor: &Actor,
        id: ResponseId,
        request: &RenderRequest,
    ) -> Result<RenderedResponse> {
        let response = self.get_response(actor, id).await?;
        let used = placeholders_in_body(&response.body)?;
        let (mut customer, mut case) = (request.customer, request.case);
        if let Some(interaction) = request.interaction {
            let inter = self.get_interaction(actor, interaction).await?;
            customer = customer.or_else(|| inter.customer());
            case = case.or_else(|| {
                inter.links().iter().find_map(|l| match l.target {
                    LinkTarget::Case { id } => Some(id),
                    _ => None,
                })
            });
        }
        let values = self.placeholder_values(actor, &used, customer, case).await?;
        let (html, text) = render(&response.body, &values)?;
        Ok(RenderedResponse { response: response.id, version: response.version, html, text })
    }

    /// The values of the placeholders `used`, read from the customer, the case and the
    /// actor (shared by the composer and the rendering of responses).
    pub(super) async fn placeholder_values(
        &self,
        actor: &Actor,
        used: &[&str],
        customer: Option<CustomerId>,
        case: Option<CaseId>,
    ) -> Result<BTreeMap<&'static str, String>> {
        let wants = |prefix: &str| used.iter().find(|p| p.starts_with(prefix)).copied();
        let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
        if let Some(customer) = customer {
            actor.require(Permission::CustomerRead)?;
            let c = self.load_customer(actor, customer).await?;
            values.insert("customer.name", c.name().to_owned());
            values.insert("customer.account_number", c.account_number().as_str().to_owned());
        } else if let Some(p) = wants("customer.") {
            return Err(Error::invalid("customer", format!("is required by the placeholder {{{{{p}}}}}")));
        }
        if let Some(case) = case {
            let c = self.get_case(actor, case).await?;
            values.insert("case.number", c.number.to_string());
            values.insert("case.subject", c.subject().to_owned());
        } else if let Some(p) = wants("case.") {
            return Err(Error::invalid("case", format!("is required by the placeholder {{{{{p}}}}}")));
        }
        if wants("agent.").is_some()
            && let Some(agent) = self.store.get_agent(actor.tenant, actor.agent).await?
        {
            values.insert("agent.name", agent.name.clone());
            values.insert("agent.email", agent.email.to_string());
        }
        Ok(values)
    }

    /// Marks a response as one of the actor's favourites.
    ///
    /// # Errors
    /// `NotFound`; more than [`MAX_FAVOURITES`] favourites (422 on `response`).
    pub async fn add_favourite(&self, actor: &Actor, id: ResponseId) -> Result<()> {
        self.get_response(actor, id).await?;
        if self.store.count_favourites(actor.tenant, actor.agent).await? >= MAX_FAVOURITES as u64 {
            return Err(Error::invalid("response", format!("at most {MAX_FAVOURITES} favourites")));
        }
        Ok(self.store.add_favourite(actor.tenant, actor.agent, id).await?)
    }

    /// Unmarks one of the actor's favourites (unmarking one not marked changes nothing).
    ///
    /// # Errors
    /// A store failure.
    pub async fn remove_favourite(&self, actor: &Actor, id: ResponseId) -> Result<()> {
        Ok(self.store.remove_favourite(actor.tenant, actor.agent, id).await?)
    }

    /// Creates a shared folder (at the root or in a root folder).
    ///
    /// # Errors
    /// Forbidden; a bad name; a parent that is not a root folder of the tenant (422 on
    /// `parent`); a sibling of the same name (409 on `name`).
    pub async fn create_folder(&self, actor: &Actor, input: NewFolder) -> Result<ResponseFolder> {
        actor.require(Permission::KnowledgeEdit)?;
        let parent = match input.parent {
            Some(p) => self.store.get_folder(actor.tenant, p).await?,
            None => None,
        };
        let folder = input.build(next_id(&*self.ids), actor.tenant, parent.as_ref(), self.clock.now())?;
        self.store.insert_folder(&folder).await?;
        Ok(folder)
    }

    /// Renames version `expected_version` of a folder (its responses and subfolders stay in
    /// it: they name it by id).
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a stale version; a bad name; a sibling of the same name.
    pub async fn rename_folder(
        &self,
        actor: &Actor,
        id: ResponseFolderId,
        expected_version: u64,
        input: FolderRename,
    ) -> Result<ResponseFolder> {
        actor.require(Permission::KnowledgeEdit)?;
        let current = self.get_folder(actor, id).await?;
        let expected_version = check_version("response_folder", id, current.version, expected_version)?;
        let name = parse_folder_name(&input.name)?;
        let next = ResponseFolder { name, version: current.version + 1, ..current };
        self.store.update_folder(&next, expected_version).await?;
        Ok(next)
    }

    /// Deletes an empty folder.
    ///
    /// # Errors
    /// Forbidden; `NotFound`; a folder holding responses or folders (409, saying what).
    pub async fn delete_folder(&self, actor: &Actor, id: ResponseFolderId) -> Result<()> {
        actor.require(Permission::KnowledgeEdit)?;
        Ok(self.store.delete_folder(actor.tenant, id).await?)
    }

    /// A folder.
    ///
    /// # Errors
    /// `NotFound`.
    pub async fn get_folder(&self, actor: &Actor, id: ResponseFolderId) -> Result<ResponseFolder> {
        self.store.get_folder(actor.tenant, id).await?.ok_or_else(|| Error::not_found("response_folder", id))
    }

    /// Every folder of the tenant, by name.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list_folders(&self, actor: &Actor) -> Result<Vec<ResponseFolder>> {
        Ok(self.store.list_folders(actor.tenant).await?)
    }

    /// Suggestions for an interaction (KNO-4): standard responses and published articles
    /// ranked by the words of its last inbound message (a conversation's message, else its
    /// transcript's last line from the customer) — by the search engine when one is
    /// configured (stems, typos, sound: `suggest_on_engine`), else by the interim scorer
    /// (exact folded words, [`rank`]). No inbound text: no suggestion.
    ///
    /// # Errors
    /// Forbidden without `interaction.handle`; `NotFound`.
    pub async fn suggestions(&self, actor: &Actor, id: InteractionId) -> Result<Vec<Suggestion>> {
        actor.require(Permission::InteractionHandle)?;
        let inter = self.load_interaction(actor, id).await?;
        let mut last: Option<String> = None;
        let mut page = PageRequest::new(Some(200), None)?;
        loop {
            let result = self.store.messages_of(actor.tenant, id, &page).await?;
            if let Some(m) = result.items.iter().rev().find(|m| m.direction == Direction::Inbound) {
                last = Some(m.body.clone());
            }
            match result.next {
                Some(next) => page = PageRequest::new(Some(200), Some(next))?,
                None => break,
            }
        }
        let text =
            last.or_else(|| inter.transcript().iter().rev().find(|m| m.from == "customer").map(|m| m.text.clone()));
        let query = query_words(text.as_deref().unwrap_or_default());
        if query.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(ranked) = self.suggest_on_engine(actor.tenant, &query).await? {
            return Ok(ranked);
        }
        let (responses, articles) =
            self.store.suggestion_candidates(actor.tenant, &query, SUGGESTION_CANDIDATES).await?;
        let candidates: Vec<Candidate> =
            responses
                .into_iter()
                .map(|r| Candidate { kind: SuggestionKind::Response, id: r.id.as_uuid(), title: r.title, body: r.body })
                .chain(articles.into_iter().filter(|a| a.state == crate::knowledge::ArticleState::Published).map(|a| {
                    Candidate { kind: SuggestionKind::Article, id: a.id.as_uuid(), title: a.title, body: a.body }
                }))
                .collect();
        Ok(rank(&query, &candidates))
    }

    /// Checks a response's folder is one of the tenant's and its shortcut is not an
    /// article's (the two share the composer's namespace).
    async fn check_response_refs(&self, actor: &Actor, response: &StandardResponse) -> Result<()> {
        if let Some(folder) = response.folder {
            self.require_folder(actor, folder, "folder").await?;
        }
        if let Some(code) = &response.shortcut
            && self.store.article_by_shortcut(actor.tenant, code).await?.is_some()
        {
            return Err(crate::error::Conflict::Duplicate { field: "shortcut".into(), value: code.clone() }.into());
        }
        Ok(())
    }

    /// Checks `folder` is a folder of the tenant; the error names `field`.
    async fn require_folder(&self, actor: &Actor, folder: ResponseFolderId, field: &str) -> Result<()> {
        match self.store.get_folder(actor.tenant, folder).await? {
            Some(_) => Ok(()),
            None => Err(Error::invalid(field, format!("folder {folder} does not exist"))),
        }
    }
}
