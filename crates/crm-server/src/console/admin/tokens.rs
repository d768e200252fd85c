//! API tokens (ADM-3): the tenant's tokens (never their secret), a new token for an agent
//! (its secret shown once, on the answer to the form, never again: the server keeps only
//! its hash, as `POST /api/v1/tokens`), and revocation (as `DELETE /api/v1/tokens/{id}`,
//! refused on this replica at once).

use axum::extract::{Path, Query, RawForm, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use maud::html;

use crm_core::access::Role;
use crm_core::ids::{AgentId, TokenId};

use super::{Issues, Posted, SavedQuery, Section, gate, page, role_label, saved_notice, text_field};
use crate::console::i18n::Msg;
use crate::console::pages::{refusal, zone};
use crate::console::session::SignedIn;
use crate::console::views::{self, csrf_field};
use crate::state::AppState;

const ROLES: [Role; 3] = [Role::Agent, Role::Supervisor, Role::Administrator];

/// How long a new token may live: days (0: no end).
const LIFETIMES: [(i64, Msg); 4] = [(0, Msg::Never), (30, Msg::Days30), (90, Msg::Days90), (365, Msg::Days365)];

/// What the new token form showed.
#[derive(Debug, Default)]
struct TokenValues {
    agent: String,
    role: String,
    label: String,
    days: String,
}

/// `GET /console/admin/tokens`: the tokens and the new token form.
pub(crate) async fn list(State(st): State<AppState>, s: SignedIn, Query(q): Query<SavedQuery>) -> Response {
    render(&st, &s, TokenValues::default(), Issues::default(), None, q.saved.is_some()).await
}

async fn render(
    st: &AppState,
    s: &SignedIn,
    values: TokenValues,
    issues: Issues,
    secret: Option<(String, String)>,
    saved: bool,
) -> Response {
    if let Some(refused) = gate(s, Section::Tokens) {
        return refused;
    }
    let lang = s.lang;
    let (tokens, agents) = match futures::try_join!(st.crm.list_api_tokens(&s.actor), st.crm.list_agents(&s.actor)) {
        Ok(found) => found,
        Err(e) => return refusal(lang, e),
    };
    let zone = zone(st, s).await;
    let now = st.crm.clock().now();
    let agent_name =
        |id: AgentId| agents.iter().find(|a| a.id == id).map_or_else(|| id.to_string(), |a| a.name.clone());
    let body = html! {
        h1 { (lang.t(Msg::AdminTokens)) }
        (saved_notice(lang, saved))
        @if let Some((label, token)) = &secret {
            section.secret role="status" aria-labelledby="secret-title" {
                h2 #secret-title { (lang.t(Msg::TokenCreated)) " " (label) }
                p { (lang.t(Msg::TokenShownOnce)) }
                label for="secret" { (lang.t(Msg::Token)) }
                input #secret type="text" readonly value=(token) autocomplete="off" spellcheck="false";
            }
        }
        section.new-token aria-labelledby="new-token" {
            h2 #new-token { (lang.t(Msg::NewToken)) }
            (issues.summary(lang, &["agent", "role", "label", "expires_at"]))
            form.new-token method="post" action="/console/admin/tokens" {
                (csrf_field(&s.csrf))
                label for="token-agent" { (lang.t(Msg::TokenAgent)) }
                select #token-agent name="agent" required aria-invalid=[issues.invalid("agent")]
                    aria-describedby=[issues.described("agent", "token-agent")] {
                    option value="" { (lang.t(Msg::ChooseDisposition)) }
                    @for a in agents.iter().filter(|a| a.active) {
                        option value=(a.id) selected[values.agent == a.id.to_string()] { (a.name) " · " (a.email.to_string()) }
                    }
                }
                (issues.error("agent", "token-agent"))
                label for="token-role" { (lang.t(Msg::TokenRole)) }
                select #token-role name="role" aria-describedby="token-role-hint" aria-invalid=[issues.invalid("role")] {
                    @for r in ROLES { option value=(r.as_str()) selected[values.role == r.as_str()] { (role_label(lang, r)) } }
                }
                p.hint #token-role-hint { (lang.t(Msg::TokenRoleHint)) }
                (issues.error("role", "token-role"))
                (text_field(&issues, lang.t(Msg::Label), "label", "token-label", "text", &values.label, false))
                label for="token-days" { (lang.t(Msg::Expires)) }
                select #token-days name="days" aria-invalid=[issues.invalid("expires_at")]
                    aria-describedby=[issues.described("expires_at", "token-days")] {
                    @for (d, m) in LIFETIMES { option value=(d) selected[values.days == d.to_string()] { (lang.t(m)) } }
                }
                (issues.error("expires_at", "token-days"))
                div { button type="submit" { (lang.t(Msg::Create)) } }
            }
        }
        h2 #token-list { (lang.t(Msg::AdminTokens)) }
        @if tokens.is_empty() { p.empty { (lang.t(Msg::NoTokens)) } }
        @else {
            table #tokens aria-labelledby="token-list" {
                thead { tr {
                    th scope="col" { (lang.t(Msg::Label)) }
                    th scope="col" { (lang.t(Msg::TokenAgent)) }
                    th scope="col" { (lang.t(Msg::TokenRole)) }
                    th scope="col" { (lang.t(Msg::ColCreated)) }
                    th scope="col" { (lang.t(Msg::Expires)) }
                    th scope="col" { (lang.t(Msg::LastUsed)) }
                    th scope="col" { (lang.t(Msg::State)) }
                } }
                tbody { @for t in &tokens {
                    @let expired = t.expires_at.is_some_and(|at| at <= now);
                    tr data-token=(t.id) {
                        td { (t.label) }
                        td { (agent_name(t.agent)) }
                        td { (role_label(lang, t.role)) }
                        td { (views::when(t.created_at, zone)) }
                        td { @match t.expires_at { Some(at) => (views::when(at, zone)), None => (lang.t(Msg::Never)) } }
                        td { @match t.last_used_at { Some(at) => (views::when(at, zone)), None => "—" } }
                        td {
                            @if let Some(at) = t.revoked_at { span.badge.revoked { (lang.t(Msg::Revoked)) } " " (views::when(at, zone)) }
                            @else if expired { span.badge { (lang.t(Msg::Expired)) } }
                            @else {
                                form.inline.revoke method="post" action={ "/console/admin/tokens/" (t.id) "/revoke" } {
                                    (csrf_field(&s.csrf))
                                    button type="submit" aria-label={ (lang.t(Msg::Revoke)) " " (t.label) } { (lang.t(Msg::Revoke)) }
                                }
                            }
                        }
                    }
                } }
            }
        }
    };
    page(s, Some(Section::Tokens), lang.t(Msg::AdminTokens), issues.status(), body)
}

/// `POST /console/admin/tokens`: issues a token; the answer shows its secret, once.
pub(crate) async fn create(State(st): State<AppState>, s: SignedIn, RawForm(raw): RawForm) -> Response {
    let f = Posted::of(&raw);
    let values = TokenValues { agent: f.get("agent"), role: f.get("role"), label: f.get("label"), days: f.get("days") };
    let Ok(agent) = values.agent.parse::<AgentId>() else {
        return render(&st, &s, values, Issues::field("agent", "choose an agent"), None, false).await;
    };
    let role = match values.role.parse::<Role>() {
        Ok(r) => r,
        Err(e) => return render(&st, &s, values, Issues::field(&e.field, &e.reason), None, false).await,
    };
    let days: i64 = values.days.trim().parse().unwrap_or(0);
    let now = st.crm.clock().now();
    let expires_at = (days > 0).then(|| now + Duration::days(days));
    let label = values.label.trim().to_owned();
    match st.tokens.issue(&s.actor, agent, role, &label, expires_at).await {
        Ok((token, record)) => {
            tracing::info!(token = %record.id, agent = %s.actor.agent, "API token issued from the console");
            render(&st, &s, TokenValues::default(), Issues::default(), Some((label, token)), false).await
        }
        Err(e) => match Issues::of(e) {
            Ok(issues) => render(&st, &s, values, issues, None, false).await,
            Err(e) => refusal(s.lang, e),
        },
    }
}

/// `POST /console/admin/tokens/{id}/revoke`: revokes a token.
pub(crate) async fn revoke(State(st): State<AppState>, s: SignedIn, Path(id): Path<TokenId>) -> Response {
    match st.crm.revoke_api_token(&s.actor, id).await {
        Ok(_) => {
            st.tokens.forget_token(id);
            Redirect::to("/console/admin/tokens?saved=1").into_response()
        }
        Err(e) => refusal(s.lang, e),
    }
}
