//! Organisations and leads (issue 27, INT-7): CRUD, an organisation's card and members, a
//! customer's membership, the organisation lookup (beside the customer screen pop, whose
//! answer stays a list of customer cards), and leads or customers created during an
//! interaction, and the conversion of a lead.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crm_core::customer::{Customer, NewCustomer};
use crm_core::ids::{CustomerId, InteractionId, LeadId, OrganisationId};
use crm_core::lead::{ConvertLead, Lead, LeadConversion, LeadPatch, LeadStatus, NewLead};
use crm_core::organisation::{NewOrganisation, Organisation, OrganisationCard, OrganisationPatch};
use crm_core::service::OrganisationLookup;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

fn tagged_organisation(o: Organisation) -> Reply<Organisation> {
    let v = o.version();
    Reply::ok(o).tagged(v)
}

fn tagged_lead(l: Lead) -> Reply<Lead> {
    let v = l.version();
    Reply::ok(l).tagged(v)
}

/// Creates an organisation.
#[utoipa::path(post, path = "/api/v1/organisations", operation_id = "create_organisation", tag = "organisations",
    request_body = NewOrganisation,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Organisation)))]
pub async fn create_organisation(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewOrganisation>,
) -> ApiResult<Reply<Organisation>> {
    let o = crm.create_organisation(&actor, input).await?;
    let location = format!("/api/v1/organisations/{}", o.id);
    let v = o.version();
    Ok(Reply::created(o, location).tagged(v))
}

/// Organisation list parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationListParams {
    /// Name words: each must start a word of the name (accents and case ignored).
    #[serde(default)]
    pub q: Option<String>,
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Organisations by name, or those whose name matches `q`.
#[utoipa::path(get, path = "/api/v1/organisations", operation_id = "list_organisations", tag = "organisations",
    params(OrganisationListParams), responses((status = 200, body = PageBody<Organisation>)))]
pub async fn list_organisations(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<OrganisationListParams>,
) -> ApiResult<Reply<PageBody<Organisation>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Reply::ok(st.crm.list_organisations(&actor, q.q.as_deref(), &page).await?.into()))
}

/// An organisation; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", operation_id = "get_organisation", tag = "organisations",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Organisation)))]
pub async fn get_organisation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<OrganisationId>,
) -> ApiResult<Reply<Organisation>> {
    Ok(tagged_organisation(st.crm.get_organisation(&actor, id).await?))
}

/// Changes an organisation; needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", operation_id = "update_organisation", tag = "organisations",
    request_body = OrganisationPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Organisation)))]
pub async fn update_organisation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<OrganisationId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<OrganisationPatch>,
) -> ApiResult<Reply<Organisation>> {
    let o = st.crm.update_organisation(&actor, id, version, patch).await.map_err(ApiError::precondition)?;
    Ok(tagged_organisation(o))
}

/// Deletes an organisation no customer belongs to; needs `If-Match`.
#[utoipa::path(delete, path = "/api/v1/organisations/{id}", operation_id = "delete_organisation", tag = "organisations",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header)),
    responses((status = 204, description = "deleted")))]
pub async fn delete_organisation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<OrganisationId>,
    IfMatch(version): IfMatch,
) -> ApiResult<StatusCode> {
    st.crm.delete_organisation(&actor, id, version).await.map_err(ApiError::precondition)?;
    Ok(StatusCode::NO_CONTENT)
}

/// The organisation's card: its first members and their open cases.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/card", operation_id = "organisation_card", tag = "organisations",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = OrganisationCard)))]
pub async fn organisation_card(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<OrganisationId>,
) -> ApiResult<Reply<OrganisationCard>> {
    Ok(Reply::ok(st.crm.organisation_card(&actor, id).await?))
}

/// The customers belonging to the organisation, one page.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/members", operation_id = "organisation_members",
    tag = "organisations", params(("id" = uuid::Uuid, Path), PageParams),
    responses((status = 200, body = PageBody<Customer>)))]
pub async fn organisation_members(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<OrganisationId>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Customer>>> {
    Ok(Reply::ok(st.crm.organisation_members(&actor, id, &page.page()?).await?.into()))
}

/// A customer's organisation (none: `null`), as read and as set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerOrganisation {
    /// The organisation the customer belongs to.
    pub organisation: Option<Organisation>,
}

/// What sets a customer's organisation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetOrganisation {
    /// The organisation to belong to; `null` leaves any.
    pub organisation: Option<OrganisationId>,
}

/// The organisation a customer belongs to.
#[utoipa::path(get, path = "/api/v1/customers/{id}/organisation", operation_id = "customer_organisation",
    tag = "organisations", params(("id" = uuid::Uuid, Path)), responses((status = 200, body = CustomerOrganisation)))]
pub async fn customer_organisation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
) -> ApiResult<Reply<CustomerOrganisation>> {
    Ok(Reply::ok(CustomerOrganisation { organisation: st.crm.customer_organisation(&actor, id).await? }))
}

/// Makes the customer a member of an organisation (a customer belongs to at most one), or
/// of none.
#[utoipa::path(put, path = "/api/v1/customers/{id}/organisation", operation_id = "set_customer_organisation",
    tag = "organisations", request_body = SetOrganisation, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = CustomerOrganisation)))]
pub async fn set_customer_organisation(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<CustomerId>,
    ApiJson(body): ApiJson<SetOrganisation>,
) -> ApiResult<Reply<CustomerOrganisation>> {
    let organisation = st.crm.set_customer_organisation(&actor, id, body.organisation).await?;
    Ok(Reply::ok(CustomerOrganisation { organisation }))
}

/// Organisation lookup keys: give exactly one.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrganisationLookupParams {
    /// A phone number in any written form.
    #[serde(default)]
    pub phone: Option<String>,
    /// An email address.
    #[serde(default)]
    pub email: Option<String>,
}

/// The screen pop of organisations: the cards of the organisations holding a phone number
/// or an email address (the customer screen pop is `GET /api/v1/lookup`).
#[utoipa::path(get, path = "/api/v1/lookup/organisations", operation_id = "lookup_organisations",
    tag = "organisations", params(OrganisationLookupParams),
    responses((status = 200, description = "matching organisation cards", body = Vec<OrganisationCard>)))]
pub async fn lookup_organisations(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<OrganisationLookupParams>,
) -> ApiResult<Reply<Vec<OrganisationCard>>> {
    let key = match (q.phone, q.email) {
        (Some(phone), None) => OrganisationLookup::Phone(phone),
        (None, Some(email)) => OrganisationLookup::Email(email),
        _ => return Err(ApiError::invalid("phone", "give exactly one of phone, email")),
    };
    Ok(Reply::ok(st.crm.lookup_organisations(&actor, &key).await?))
}

/// Creates a lead (INT-7).
#[utoipa::path(post, path = "/api/v1/leads", operation_id = "create_lead", tag = "leads", request_body = NewLead,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Lead)))]
pub async fn create_lead(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(input): ApiJson<NewLead>,
) -> ApiResult<Reply<Lead>> {
    let l = crm.create_lead(&actor, input).await?;
    let location = format!("/api/v1/leads/{}", l.id);
    let v = l.version();
    Ok(Reply::created(l, location).tagged(v))
}

/// Lead list parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeadListParams {
    /// Only leads of this status.
    #[serde(default)]
    pub status: Option<LeadStatus>,
    /// At most this many items (1..=200, default 50).
    #[serde(default)]
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// Leads, newest first.
#[utoipa::path(get, path = "/api/v1/leads", operation_id = "list_leads", tag = "leads", params(LeadListParams),
    responses((status = 200, body = PageBody<Lead>)))]
pub async fn list_leads(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(q): ApiQuery<LeadListParams>,
) -> ApiResult<Reply<PageBody<Lead>>> {
    let page = PageParams { limit: q.limit, cursor: q.cursor }.page()?;
    Ok(Reply::ok(st.crm.list_leads(&actor, q.status, &page).await?.into()))
}

/// A lead; `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/leads/{id}", operation_id = "get_lead", tag = "leads",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Lead)))]
pub async fn get_lead(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<LeadId>,
) -> ApiResult<Reply<Lead>> {
    Ok(tagged_lead(st.crm.get_lead(&actor, id).await?))
}

/// Changes a lead (its qualification status among its fields); needs `If-Match`.
#[utoipa::path(patch, path = "/api/v1/leads/{id}", operation_id = "update_lead", tag = "leads", request_body = LeadPatch,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Lead)))]
pub async fn update_lead(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<LeadId>,
    IfMatch(version): IfMatch,
    ApiJson(patch): ApiJson<LeadPatch>,
) -> ApiResult<Reply<Lead>> {
    Ok(tagged_lead(st.crm.update_lead(&actor, id, version, patch).await.map_err(ApiError::precondition)?))
}

/// Converts a lead into a customer keeping its history (its interactions move to the new
/// card); `If-Match` carries the lead's version.
#[utoipa::path(post, path = "/api/v1/leads/{id}/convert", operation_id = "convert_lead", tag = "leads",
    request_body = ConvertLead,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the lead's ETag")),
    responses((status = 201, description = "the new customer's Location set", body = LeadConversion)))]
pub async fn convert_lead(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<LeadId>,
    IfMatch(version): IfMatch,
    ApiJson(request): ApiJson<ConvertLead>,
) -> ApiResult<Reply<LeadConversion>> {
    let conversion = crm.convert_lead(&actor, id, version, request).await.map_err(ApiError::precondition)?;
    let location = format!("/api/v1/customers/{}", conversion.customer.id);
    Ok(Reply::created(conversion, location))
}

/// Creates a lead during the interaction and links them at once (INT-7); `If-Match` carries
/// the interaction's version.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/lead", operation_id = "create_lead_from_interaction",
    tag = "interactions", request_body = NewLead,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the interaction's ETag")),
    responses((status = 201, body = Lead)))]
pub async fn create_lead_from_interaction(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<NewLead>,
) -> ApiResult<Reply<Lead>> {
    let l = crm.create_lead_from_interaction(&actor, id, version, input).await.map_err(ApiError::precondition)?;
    let location = format!("/api/v1/leads/{}", l.id);
    let v = l.version();
    Ok(Reply::created(l, location).tagged(v))
}

/// Creates a local customer during the interaction and links them at once (INT-7);
/// `If-Match` carries the interaction's version.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/customer", operation_id = "create_customer_from_interaction",
    tag = "interactions", request_body = NewCustomer,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the interaction's ETag")),
    responses((status = 201, body = Customer)))]
pub async fn create_customer_from_interaction(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<InteractionId>,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<NewCustomer>,
) -> ApiResult<Reply<Customer>> {
    let c = crm.create_customer_from_interaction(&actor, id, version, input).await.map_err(ApiError::precondition)?;
    let location = format!("/api/v1/customers/{}", c.id);
    let v = c.version();
    Ok(Reply::created(c, location).tagged(v))
}
