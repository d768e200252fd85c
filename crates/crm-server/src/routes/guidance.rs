//! Guidance (GUI-1, GUI-2): interactive scripts (drafts, publication, versions), their runs
//! during an interaction, alert rules, their dry run, and an interaction's alerts.

use axum::extract::State;

use crm_core::alert::Alert;
use crm_core::guidance::{
    AlertDryRun, AlertDryRunResult, AlertRuleSet, AlertRulesInput, NewScriptRun, Script, ScriptAnswer, ScriptRunView,
    ScriptVersion,
};
use crm_core::ids::{CallListEntryId, CallListId, InteractionId, ScriptId, ScriptRunId};
use crm_core::script::ScriptDraft;

use super::{PageBody, PageParams};
use crate::auth::Auth;
use crate::extract::{ApiJson, ApiPath, ApiQuery, IfMatch, Reply};
use crate::idempotency::UseCases;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// Saves a new script draft (needs `guidance.edit`); it is fully checked when published.
#[utoipa::path(post, path = "/api/v1/scripts", tag = "guidance", request_body = ScriptDraft,
    params(("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "created; ETag and Location set", body = Script)))]
pub async fn create_script(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(draft): ApiJson<ScriptDraft>,
) -> ApiResult<Reply<Script>> {
    let s = crm.create_script(&actor, draft).await?;
    let (v, location) = (s.version, format!("/api/v1/scripts/{}", s.id));
    Ok(Reply::created(s, location).tagged(v))
}

/// One page of the tenant's scripts, by name then id (`next` is the cursor of the next
/// page).
#[utoipa::path(get, path = "/api/v1/scripts", tag = "guidance", params(PageParams),
    responses((status = 200, body = PageBody<Script>)))]
pub async fn scripts(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<Reply<PageBody<Script>>> {
    Ok(Reply::ok(st.crm.scripts(&actor, &params.page()?).await?.into()))
}

/// A script with its draft; `ETag` carries the draft's version.
#[utoipa::path(get, path = "/api/v1/scripts/{id}", tag = "guidance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Script)))]
pub async fn script(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptId>,
) -> ApiResult<Reply<Script>> {
    let s = st.crm.script(&actor, id).await?;
    let v = s.version;
    Ok(Reply::ok(s).tagged(v))
}

/// Replaces a script's draft (needs `guidance.edit` and `If-Match`); published versions
/// do not change.
#[utoipa::path(put, path = "/api/v1/scripts/{id}", tag = "guidance", request_body = ScriptDraft,
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 200, body = Script)))]
pub async fn update_script(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptId>,
    IfMatch(version): IfMatch,
    ApiJson(draft): ApiJson<ScriptDraft>,
) -> ApiResult<Reply<Script>> {
    let s = st.crm.update_script(&actor, id, version, draft).await.map_err(ApiError::precondition)?;
    let v = s.version;
    Ok(Reply::ok(s).tagged(v))
}

/// Publishes the draft read (needs `guidance.edit` and `If-Match`) as the next immutable
/// version; an invalid script is a 422 whose `errors` name each fault's path and step
/// (unreachable steps, dead ends, cycles without an exit, dangling references, unmapped
/// choices, unknown placeholders, limits).
#[utoipa::path(post, path = "/api/v1/scripts/{id}/publish", tag = "guidance",
    params(("id" = uuid::Uuid, Path), ("If-Match" = String, Header, description = "the ETag read")),
    responses((status = 201, description = "published; Location set", body = ScriptVersion)))]
pub async fn publish_script(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptId>,
    IfMatch(version): IfMatch,
) -> ApiResult<Reply<ScriptVersion>> {
    let p = st.crm.publish_script(&actor, id, version).await.map_err(ApiError::precondition)?;
    let location = format!("/api/v1/scripts/{id}/versions/{}", p.version);
    Ok(Reply::created(p, location))
}

/// A script's published versions, oldest first.
#[utoipa::path(get, path = "/api/v1/scripts/{id}/versions", tag = "guidance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<ScriptVersion>)))]
pub async fn script_versions(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptId>,
) -> ApiResult<Reply<Vec<ScriptVersion>>> {
    Ok(Reply::ok(st.crm.script_versions(&actor, id).await?))
}

/// One published version of a script.
#[utoipa::path(get, path = "/api/v1/scripts/{id}/versions/{version}", tag = "guidance",
    params(("id" = uuid::Uuid, Path), ("version" = u32, Path)), responses((status = 200, body = ScriptVersion)))]
pub async fn script_version(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((id, version)): ApiPath<(ScriptId, u32)>,
) -> ApiResult<Reply<ScriptVersion>> {
    Ok(Reply::ok(st.crm.script_version(&actor, id, version).await?))
}

/// Starts a run of a script in an interaction, pinned to a published version (the latest
/// unless given); it stands at the first step that waits for the agent.
#[utoipa::path(post, path = "/api/v1/interactions/{id}/script-runs", tag = "guidance", request_body = NewScriptRun,
    params(("id" = uuid::Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "retry-safe create")),
    responses((status = 201, description = "started; ETag and Location set", body = ScriptRunView)))]
pub async fn start_script_run(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiPath(id): ApiPath<InteractionId>,
    ApiJson(input): ApiJson<NewScriptRun>,
) -> ApiResult<Reply<ScriptRunView>> {
    let r = crm.start_script_run(&actor, id, input).await?;
    let (v, location) = (r.version, format!("/api/v1/script-runs/{}", r.id));
    Ok(Reply::created(r, location).tagged(v))
}

/// The script runs of an interaction, oldest first: their paths and answers (its script
/// history).
#[utoipa::path(get, path = "/api/v1/interactions/{id}/script-runs", tag = "guidance",
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<ScriptRunView>)))]
pub async fn script_runs(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
) -> ApiResult<Reply<Vec<ScriptRunView>>> {
    Ok(Reply::ok(st.crm.script_runs_of(&actor, id).await?))
}

/// The script runs started for a call-list entry (`entry` given when they were started),
/// oldest first: their paths and answers.
#[utoipa::path(get, path = "/api/v1/call-lists/{list}/entries/{id}/script-runs", tag = "guidance",
    params(("list" = uuid::Uuid, Path), ("id" = uuid::Uuid, Path)), responses((status = 200, body = Vec<ScriptRunView>)))]
pub async fn entry_script_runs(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath((list, id)): ApiPath<(CallListId, CallListEntryId)>,
) -> ApiResult<Reply<Vec<ScriptRunView>>> {
    Ok(Reply::ok(st.crm.script_runs_of_entry(&actor, list, id).await?))
}

/// A run as it stands (to resume after a reconnect); `ETag` carries its version.
#[utoipa::path(get, path = "/api/v1/script-runs/{id}", tag = "guidance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ScriptRunView)))]
pub async fn script_run(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptRunId>,
) -> ApiResult<Reply<ScriptRunView>> {
    let r = st.crm.script_run(&actor, id).await?;
    let v = r.version;
    Ok(Reply::ok(r).tagged(v))
}

/// Answers the step the run waits at; a wrong step, a wrong type, an unknown choice or a
/// value out of bounds is a 422 naming `step` or `value`.
#[utoipa::path(post, path = "/api/v1/script-runs/{id}/answers", tag = "guidance", request_body = ScriptAnswer,
    params(("id" = uuid::Uuid, Path)), responses((status = 200, body = ScriptRunView)))]
pub async fn answer_script_run(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<ScriptRunId>,
    ApiJson(answer): ApiJson<ScriptAnswer>,
) -> ApiResult<Reply<ScriptRunView>> {
    let r = st.crm.answer_script_run(&actor, id, answer).await?;
    let v = r.version;
    Ok(Reply::ok(r).tagged(v))
}

/// The tenant's alert rules; `ETag` carries the set's version (`"0"` before the first
/// write).
#[utoipa::path(get, path = "/api/v1/alert-rules", tag = "guidance", responses((status = 200, body = AlertRuleSet)))]
pub async fn alert_rules(State(st): State<AppState>, Auth(actor): Auth) -> ApiResult<Reply<AlertRuleSet>> {
    let set = st.crm.alert_rules(&actor).await?;
    let v = set.version;
    Ok(Reply::ok(set).tagged(v))
}

/// Replaces the tenant's alert rules (needs `guidance.edit` and `If-Match`); each fault is
/// a 422 error naming its path (`rules[1].condition.all[0].op`).
#[utoipa::path(put, path = "/api/v1/alert-rules", tag = "guidance", request_body = AlertRulesInput,
    params(("If-Match" = String, Header, description = "the ETag read")), responses((status = 200, body = AlertRuleSet)))]
pub async fn put_alert_rules(
    State(st): State<AppState>,
    Auth(actor): Auth,
    IfMatch(version): IfMatch,
    ApiJson(input): ApiJson<AlertRulesInput>,
) -> ApiResult<Reply<AlertRuleSet>> {
    let set = st.crm.put_alert_rules(&actor, version, input).await.map_err(ApiError::precondition)?;
    let v = set.version;
    Ok(Reply::ok(set).tagged(v))
}

/// Evaluates draft rules (or the stored ones) against a customer now (needs
/// `guidance.edit`): the alerts raised and the facts read.
#[utoipa::path(post, path = "/api/v1/alert-rules/dry-run", tag = "guidance", request_body = AlertDryRun,
    responses((status = 200, body = AlertDryRunResult)))]
pub async fn dry_run_alerts(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiJson(run): ApiJson<AlertDryRun>,
) -> ApiResult<Reply<AlertDryRunResult>> {
    Ok(Reply::ok(st.crm.dry_run_alerts(&actor, run).await?))
}

/// The alerts of an interaction's customer now, during the interaction.
#[utoipa::path(get, path = "/api/v1/interactions/{id}/alerts", tag = "guidance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Alert>)))]
pub async fn interaction_alerts(
    State(st): State<AppState>,
    Auth(actor): Auth,
    ApiPath(id): ApiPath<InteractionId>,
) -> ApiResult<Reply<Vec<Alert>>> {
    Ok(Reply::ok(st.crm.interaction_alerts(&actor, id).await?))
}
