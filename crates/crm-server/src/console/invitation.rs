//! Invitation links (issue 32's sign-in: a password "set by an admin or an invitation
//! link"). An administrator creates, from the agent's page, a link the agent opens to
//! choose their password: one use, [`LIFETIME_HOURS`] hours.
//!
//! Nothing new is stored, and nothing in the store lets anyone forge a link. Creating a
//! link draws a random secret (32 bytes) and sets the agent's password to
//! `crm-invitation:<secret>.<expiry>` (through the core's `set_agent_password`:
//! `admin.agents`, the password rules, the agent's sessions end): the store keeps only its
//! argon2id hash. The link carries the tenant, the agent, the expiry and the secret; opening
//! it checks the secret and expiry against that hash, so the expiry cannot be moved and a
//! database reader learns nothing usable. The link dies when the hash changes: the agent
//! choosing a password through it (one use), a newer link, a password set by an
//! administrator; and when the agent is deactivated (inactive agents have no credential).
//! The sign-in form refuses any password with the invitation prefix, so the secret never
//! signs in by itself (after the expiry included). A link for an agent who had a password
//! replaces it: it is also a reset.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use crm_core::access::{Actor, Agent};
use crm_core::ids::{AgentId, TenantId};

use super::i18n::{Lang, Msg};
use super::session::{self, SIGN_IN_COOKIE, SignedIn};
use super::views::{self, csrf_field};
use crate::state::AppState;

/// How long a link works.
pub(crate) const LIFETIME_HOURS: i64 = 72;

/// The start of an invitation's password (the sign-in form refuses it).
pub(crate) const PREFIX: &str = "crm-invitation:";

/// The password an invitation stands for.
fn password_of(secret: &str, expires: i64) -> String {
    format!("{PREFIX}{secret}.{expires}")
}

/// What a link names.
#[derive(Debug, PartialEq, Eq)]
struct Invitation {
    tenant: TenantId,
    agent: AgentId,
    expires: i64,
    secret: String,
}

impl Invitation {
    fn parse(token: &str) -> Option<Self> {
        let mut parts = token.split('.');
        let invitation = Self {
            tenant: parts.next()?.parse().ok()?,
            agent: parts.next()?.parse().ok()?,
            expires: parts.next()?.parse().ok()?,
            secret: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(invitation)
    }

    fn token(&self) -> String {
        format!("{}.{}.{}.{}", self.tenant, self.agent, self.expires, self.secret)
    }
}

/// Creates a link's token for an agent of the actor's tenant (replacing their password).
pub(crate) async fn create(st: &AppState, actor: &Actor, agent: AgentId) -> Result<String, crm_core::Error> {
    let secret = session::secret();
    let expires = (st.crm.clock().now() + chrono::Duration::hours(LIFETIME_HOURS)).timestamp();
    let hash = |p: &str| super::hash_password(p);
    st.crm.set_agent_password(actor, agent, &password_of(&secret, expires), &hash).await?;
    Ok(Invitation { tenant: actor.tenant, agent, expires, secret }.token())
}

/// The link of a token, on the address the administrator reached the console at.
pub(crate) fn link(headers: &HeaderMap, token: &str) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let scheme = if session::is_loopback(headers) { "http" } else { "https" };
    format!("{scheme}://{host}/invitation/{token}")
}

/// The agent a token invites, while the link is good.
async fn invited(st: &AppState, token: &str) -> Result<Option<(Invitation, Agent)>, crm_core::Error> {
    let Some(invitation) = Invitation::parse(token) else { return Ok(None) };
    if invitation.expires <= st.crm.clock().now().timestamp() {
        return Ok(None);
    }
    let agents = match st.crm.operator_agents(invitation.tenant).await {
        Ok(agents) => agents,
        Err(crm_core::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(agent) = agents.into_iter().find(|a| a.id == invitation.agent && a.active) else { return Ok(None) };
    let hashes: Vec<String> = st
        .crm
        .sign_in_credentials(agent.email.as_str())
        .await?
        .into_iter()
        .filter(|c| c.agent == agent.id && c.tenant == agent.tenant)
        .map(|c| c.hash)
        .collect();
    let password = password_of(&invitation.secret, invitation.expires);
    // argon2 is slow on purpose: off the async workers.
    let good = tokio::task::spawn_blocking(move || hashes.iter().any(|h| super::verify_password(&password, h)))
        .await
        .unwrap_or(false);
    Ok(good.then_some((invitation, agent)))
}

fn gone(lang: Lang) -> Response {
    views::failure(lang, StatusCode::NOT_FOUND, Msg::InvitationInvalid)
}

/// The form as posted.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InvitationForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// The page of a good link: the agent chooses a password.
fn form_page(
    headers: &HeaderMap,
    signed: Option<&SignedIn>,
    agent: &Agent,
    token: &str,
    status: StatusCode,
    problem: Option<(&str, String)>,
) -> Response {
    let lang = Lang::of(headers);
    // Double submit, as the sign-in form (a signed-in browser uses its session's token).
    let (csrf, cookie) = match signed {
        Some(s) => (s.csrf.clone(), None),
        None => {
            let t = session::secret();
            (t.clone(), Some(session::set_cookie(headers, SIGN_IN_COOKIE, &t, None)))
        }
    };
    let error = |field: &str| problem.as_ref().filter(|(f, _)| *f == field).map(|(_, r)| r.clone());
    let (password_error, confirm_error) = (error("password"), error("confirm"));
    let body = html! {
        section.sign-in.invitation {
            h1 { (lang.t(Msg::ChoosePassword)) }
            p { (agent.name) " · " (agent.email.to_string()) }
            p.hint #password-rules { (lang.t(Msg::PasswordRules)) }
            @if problem.is_some() { p.error { (lang.t(Msg::FixBelow)) } }
            form.invitation method="post" action={ "/invitation/" (token) } {
                (csrf_field(&csrf))
                input type="hidden" name="username" value=(agent.email.to_string()) autocomplete="username";
                label for="password" { (lang.t(Msg::Password)) }
                input #password type="password" name="password" autocomplete="new-password" required autofocus
                    aria-invalid=[password_error.as_ref().map(|_| "true")]
                    aria-describedby=(if password_error.is_some() { "password-rules password-error" } else { "password-rules" });
                @if let Some(e) = &password_error { p.error.field-error #password-error role="alert" { "password: " (e) } }
                label for="confirm" { (lang.t(Msg::ConfirmPassword)) }
                input #confirm type="password" name="confirm" autocomplete="new-password" required
                    aria-invalid=[confirm_error.as_ref().map(|_| "true")]
                    aria-describedby=[confirm_error.as_ref().map(|_| "confirm-error")];
                @if let Some(e) = &confirm_error { p.error.field-error #confirm-error role="alert" { (e) } }
                button type="submit" { (lang.t(Msg::SetPassword)) }
            }
        }
    };
    let mut res = (status, views::page(lang, lang.t(Msg::ChoosePassword), None, body)).into_response();
    if let Some(cookie) = cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

/// `GET /invitation/{token}`: the form, while the link is good (a 404 page otherwise).
pub(crate) async fn open(
    State(st): State<AppState>,
    signed: Option<SignedIn>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match invited(&st, &token).await {
        Ok(Some((_, agent))) => form_page(&headers, signed.as_ref(), &agent, &token, StatusCode::OK, None),
        Ok(None) => gone(Lang::of(&headers)),
        Err(e) => super::pages::refusal(Lang::of(&headers), e),
    }
}

/// `POST /invitation/{token}`: sets the password the agent chose (the core's rules, refused
/// next to the field), which ends the link; then says to sign in.
pub(crate) async fn accept(
    State(st): State<AppState>,
    signed: Option<SignedIn>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<InvitationForm>,
) -> Response {
    let lang = Lang::of(&headers);
    let (invitation, agent) = match invited(&st, &token).await {
        Ok(Some(found)) => found,
        Ok(None) => return gone(lang),
        Err(e) => return super::pages::refusal(lang, e),
    };
    let signed = signed.as_ref();
    if form.password != form.confirm {
        let problem = Some(("confirm", lang.t(Msg::PasswordsDiffer).to_owned()));
        return form_page(&headers, signed, &agent, &token, StatusCode::UNPROCESSABLE_ENTITY, problem);
    }
    let hash = |p: &str| super::hash_password(p);
    let set = st.crm.set_agent_password_as_operator(invitation.tenant, invitation.agent, &form.password, &hash).await;
    match set {
        Ok(()) => {
            tracing::info!(agent = %agent.id, "console password chosen through an invitation link");
            let body = html! {
                p.notice role="status" { (lang.t(Msg::PasswordChosen)) }
                p { a.button href="/sign-in" { (lang.t(Msg::SignIn)) } }
            };
            views::page(lang, lang.t(Msg::PasswordChosen), None, body).into_response()
        }
        Err(crm_core::Error::Validation(errors)) => {
            let reason = errors.errors().iter().map(|e| e.reason.clone()).collect::<Vec<_>>().join("; ");
            form_page(&headers, signed, &agent, &token, StatusCode::UNPROCESSABLE_ENTITY, Some(("password", reason)))
        }
        Err(e) => super::pages::refusal(lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_names_tenant_agent_expiry_and_secret_and_nothing_else() {
        let tenant: TenantId = "0193a4f2-0000-7000-8000-000000000001".parse().expect("id");
        let agent: AgentId = "0193a4f2-0000-7000-8000-000000000002".parse().expect("id");
        let secret = session::secret();
        assert!(!secret.contains('.'), "base64url: the separator never appears in a secret");
        let invitation = Invitation { tenant, agent, expires: 1_900_000_000, secret: secret.clone() };
        assert_eq!(Invitation::parse(&invitation.token()), Some(invitation));
        assert_eq!(Invitation::parse("a.b.c"), None);
        assert_eq!(Invitation::parse(&format!("{tenant}.{agent}.1.{secret}.extra")), None);
    }

    #[test]
    fn the_password_binds_the_expiry_and_passes_the_cores_rules() {
        let secret = session::secret();
        let phc = crate::console::hash_password(&password_of(&secret, 1_900_000_000));
        assert!(crate::console::verify_password(&password_of(&secret, 1_900_000_000), &phc));
        assert!(!crate::console::verify_password(&password_of(&secret, 1_900_003_600), &phc), "a moved expiry");
        let email = crm_core::customer::EmailAddress::parse("bob@demo.example").expect("address");
        assert!(crm_core::console::check_password(&password_of(&secret, 1_900_000_000), &email).is_ok());
    }
}
