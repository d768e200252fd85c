//! Customers (CUS-1…CUS-7): CRUD, search, the screen-pop lookup, duplicates, merge and undo,
//! relations and the interaction history of a customer.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use crm_core::customer::{
    ConflictRule, Customer, CustomerCard, CustomerPatch, CustomerQuery, DuplicateCandidate, LookupKey, MergeRecord,
    NewCustomer, Relation, RelationKind,
};
use crm_core::ids::{CustomerId, MergeId, RelationId};
use crm_core::interaction::Interaction;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Creates a customer (CUS-1).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = NewCustomer,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Customer)))]
pub async fn create_customer(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewCustomer>,
) -> ApiResult<Reply<Customer>> {
    let c = crm.create_customer(&actor, input).await?;
    let location = format!("/api/v1/customers/{}", c.id);
    let version = c.version();
    Ok(Reply::created(c, location).tagged(version))
}

/// Search parameters (CUS-5).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Free text (name, email, phone, account number): on the search engine, ranked, with
    /// typos and by sound, alone; without an engine, read as `name`.
    #[serde(default)]
    pub q: Option<String>,
    /// Name words, by prefix or sound.
    #[serde(default)]
    pub name: Option<String>,
    /// Digits of a phone number.
    #[serde(default)]
    pub phone: Option<String>,
    /// An email address or its beginning.
    #[serde(default)]
    pub email: Option<String>,
    /// An exact account number.
    #[serde(default)]
    pub account_number: Option<String>,
    /// A custom field key (with `custom_value`).
    #[serde(default)]
    pub custom_key: Option<String>,
    /// Text the custom value contains.
    #[serde(default)]
    pub custom_value: Option<String>,
    /// Page size.
    #[serde(default)]
    pub limit: Option<u32>,
    /// Cursor.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Searches customers (CUS-5).
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(SearchParams),
    responses((status = 200, body = PageBody<Customer>)))]
pub async fn search_customers(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<Reply<PageBody<Customer>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    let query = CustomerQuery {
        q: q.q,
        name: q.name,
        phone: q.phone,
        email: q.email,
        account_number: q.account_number,
        custom_key: q.custom_key,
        custom_value: q.custom_value,
    };
    Ok(Reply::ok(st.crm.search_customers(&actor, &query, &page).await?.into()))
}

/// A customer; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Customer)))]
pub async fn get_customer(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
) -> ApiResult<Reply<Customer>> {
    let c = st.crm.get_customer(&actor, id).await?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Changes a customer; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", request_body = CustomerPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Customer)))]
pub async fn update_customer(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<CustomerPatch>,
) -> ApiResult<Reply<Customer>> {
    let c = st.crm.update_customer(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    let v = c.version();
    Ok(Reply::ok(c).tagged(v))
}

/// Deletes a customer without cases, tasks or interactions; needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)), responses((status = 204, description = "deleted")))]
pub async fn delete_customer(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_customer(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The customer card (CUS-4), following merges.
#[utoipa::path(get, path = "/api/v1/customers/{id}/card", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CustomerCard)))]
pub async fn customer_card(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
) -> ApiResult<Reply<CustomerCard>> {
    Ok(Reply::ok(st.crm.customer_card(&actor, id).await?))
}

/// Duplicate candidates of a card, best first (CUS-6).
#[utoipa::path(get, path = "/api/v1/customers/{id}/duplicates", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<DuplicateCandidate>)))]
pub async fn duplicates(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
) -> ApiResult<Reply<Vec<DuplicateCandidate>>> {
    Ok(Reply::ok(st.crm.duplicate_candidates(&actor, id).await?))
}

/// Filters and paging of a customer's interaction history (INT-5).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Only this channel: voice, email, chat, sms, fax, facebook, twitter, whats_app,
    /// other_social.
    #[serde(default)]
    pub channel: Option<String>,
    /// Only interactions whose notes, contact, context, disposition, transcript or messages
    /// hold this text (case and accents ignored; at most 200 characters).
    #[serde(default)]
    pub q: Option<String>,
}

/// A customer's interactions across channels, newest first, filtered by channel and text
/// (INT-5).
#[utoipa::path(get, path = "/api/v1/customers/{id}/interactions", tag = "customers",
    params(("id" = uuid::Uuid, Path), HistoryParams), responses((status = 200, body = PageBody<Interaction>)))]
pub async fn interaction_history(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> ApiResult<Reply<PageBody<Interaction>>> {
    let page = PageParams { limit: p.limit, cursor: p.cursor }.page()?;
    let channel = p
        .channel
        .as_deref()
        .map(str::parse::<crm_core::interaction::Channel>)
        .transpose()
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    let filter = crm_core::interaction::InteractionFilter::new(channel, p.q.as_deref())
        .map_err(|e| ApiError::invalid(e.field, e.reason))?;
    Ok(Reply::ok(st.crm.interaction_history(&actor, id, &filter, &page).await?.into()))
}

/// A customer's relations (CUS-7).
#[utoipa::path(get, path = "/api/v1/customers/{id}/relations", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Relation>)))]
pub async fn relations(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
) -> ApiResult<Reply<Vec<Relation>>> {
    Ok(Reply::ok(st.crm.relations(&actor, id).await?))
}

/// A new relation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRelation {
    /// The other customer.
    pub to: CustomerId,
    /// `household_member`, `employer`, `employee` or `other`, read from this customer to `to`.
    pub kind: RelationKind,
    /// Free note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Relates this customer to another.
#[utoipa::path(post, path = "/api/v1/customers/{id}/relations", tag = "customers", request_body = NewRelation,
    params(("id" = uuid::Uuid, Path)), responses((status = 201, body = Relation)))]
pub async fn add_relation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    ApiJson(input): ApiJson<NewRelation>,
) -> ApiResult<Reply<Relation>> {
    let r = st.crm.add_relation(&actor, id, input.to, input.kind, input.note).await?;
    let location = format!("/api/v1/customers/{id}/relations/{}", r.id);
    Ok(Reply::created(r, location))
}

/// Removes a relation.
#[utoipa::path(delete, path = "/api/v1/customers/{id}/relations/{relation}", tag = "customers",
    params(("id" = uuid::Uuid, Path), ("relation" = uuid::Uuid, Path)), responses((status = 204, description = "removed")))]
pub async fn remove_relation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, relation)): ApiPath<(CustomerId, RelationId)>,
) -> ApiResult<StatusCode> {
    st.crm.remove_relation(&actor, id, relation).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Screen-pop lookup keys: give exactly one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LookupParams {
    /// A phone number in any written form.
    #[serde(default)]
    pub phone: Option<String>,
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
    /// An account number.
    #[serde(default)]
    pub account: Option<String>,
    /// A case number (`CS-000123`).
    #[serde(default)]
    pub case_number: Option<String>,
}

/// The screen pop (CUS-4): customer cards by phone, email, account or case number.
#[utoipa::path(get, path = "/api/v1/lookup", tag = "customers", params(LookupParams),
    responses((status = 200, description = "matching cards, most recently contacted first", body = Vec<CustomerCard>)))]
pub async fn lookup(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<LookupParams>,
) -> ApiResult<Reply<Vec<CustomerCard>>> {
    let keys: Vec<LookupKey> = [
        q.phone.map(LookupKey::Phone),
        q.email.map(LookupKey::Email),
        q.account.map(LookupKey::Account),
        q.case_number.map(LookupKey::CaseNumber),
    ]
    .into_iter()
    .flatten()
    .collect();
    let [key] = keys.as_slice() else {
        return Err(ApiError::invalid("phone", "give exactly one of phone, email, account, case_number"));
    };
    Ok(Reply::ok(st.crm.lookup(&actor, key).await?))
}

/// A merge request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeRequest {
    /// The surviving card.
    pub target: CustomerId,
    /// The card merged away.
    pub source: CustomerId,
    /// `keep_target` (default) or `keep_source`.
    #[serde(default)]
    pub rule: Option<ConflictRule>,
}

/// Merges `source` into `target` (CUS-6).
#[utoipa::path(post, path = "/api/v1/merges", tag = "customers", request_body = MergeRequest,
    responses((status = 201, body = MergeRecord)))]
pub async fn merge(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(m): ApiJson<MergeRequest>,
) -> ApiResult<Reply<MergeRecord>> {
    let r = st.crm.merge_customers(&actor, m.target, m.source, m.rule.unwrap_or_default()).await?;
    let location = format!("/api/v1/merges/{}", r.id);
    Ok(Reply::created(r, location))
}

/// A merge record.
#[utoipa::path(get, path = "/api/v1/merges/{id}", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = MergeRecord)))]
pub async fn get_merge(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<MergeId>,
) -> ApiResult<Reply<MergeRecord>> {
    Ok(Reply::ok(st.crm.get_merge(&actor, id).await?))
}

/// Both cards after an undo.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = UndoneMerge)]
pub struct UndoBody {
    /// The target as it was.
    pub target: Customer,
    /// The source, live again.
    pub source: Customer,
}

/// Undoes a merge.
#[utoipa::path(post, path = "/api/v1/merges/{id}/undo", tag = "customers", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "both cards as they were", body = UndoBody)))]
pub async fn undo_merge(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<MergeId>,
) -> ApiResult<Reply<UndoBody>> {
    let (target, source) = st.crm.undo_merge(&actor, id).await?;
    Ok(Reply::ok(UndoBody { target, source }))
}
