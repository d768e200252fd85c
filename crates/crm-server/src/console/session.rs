//! Console sign-in: passwords hashed with argon2id, server-side sessions (the core's
//! [`SessionPolicy`] decides when one ends), the session cookie (`HttpOnly`,
//! `SameSite=Lax`, `Secure` unless the console is reached on a loopback address), the
//! anti-forgery token every state-changing request carries (header `X-CSRF-Token`, set by
//! the console's script from a meta tag, or a form's hidden `_csrf` field), and the
//! throttle of failed sign-ins per account and address (the core's [`LoginThrottle`]).
//!
//! `resolve` runs before every console route: it turns the cookie into a [`SignedIn`]
//! (the same [`Actor`] the API builds from a token, through the core's rule) and refuses a
//! state-changing request whose token does not match with a 403.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, RequestPartsExt as _};
use rand::RngCore as _;
use serde::Deserialize;

use crm_core::access::Actor;
use crm_core::audit::{Channel, RequestContext};
use crm_core::console::{Credential, LoginFailures, LoginThrottle, SessionPolicy};

use super::i18n::{Lang, Msg};
use super::views;
use crate::auth::hash_token;
use crate::state::AppState;

/// The session cookie.
pub const COOKIE: &str = "crm_session";
/// The sign-in form's own anti-forgery cookie (double submit: there is no session yet).
pub const SIGN_IN_COOKIE: &str = "crm_sign_in";
/// The form field of the anti-forgery token.
pub const CSRF_FIELD: &str = "_csrf";
/// The header of the anti-forgery token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body the anti-forgery check reads.
const FORM_LIMIT: usize = 256 * 1024;

/// The console's tunables (part of the server's settings).
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsoleSettings {
    /// When sessions end.
    pub sessions: SessionPolicy,
    /// How many failed sign-ins are allowed.
    pub throttle: LoginThrottle,
}

/// The console's state on this replica: the recent failed sign-ins per account and
/// address.
#[derive(Debug, Default)]
pub struct ConsoleState {
    failures: Mutex<HashMap<(String, Option<IpAddr>), LoginFailures>>,
}

/// A random secret (32 bytes, base64url).
pub(crate) fn secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The argon2id hash (PHC string) of a password, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let hashed = SaltString::encode_b64(&salt)
        .and_then(|salt| argon2::Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()));
    // Encoding 16 bytes of salt and hashing with the default parameters cannot fail; an
    // unusable hash refuses every sign-in rather than panicking.
    hashed.unwrap_or_default()
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A signed-in agent, as the console's handlers receive it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// Who acts (the core's rule: the agent's role, while active).
    pub actor: Actor,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// The agent's language: their preference, else the browser's.
    pub lang: Lang,
    /// The agent's own time zone, when they chose one (the tenant's otherwise).
    pub zone: Option<chrono_tz::Tz>,
    hash: String,
}

/// A cookie's value from the request's headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty() && v.len() <= 200)
}

/// Whether the request reached us through a loopback name or address (no TLS expected).
pub(crate) fn is_loopback(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A `Set-Cookie` value for the console.
pub(crate) fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let secure = if is_loopback(headers) { "" } else { "; Secure" };
    let age = max_age.map(|s| format!("; Max-Age={s}")).unwrap_or_default();
    let value = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}");
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("crm_invalid=1"))
}

/// The audit log's view of a console request.
fn context(parts: &Parts) -> RequestContext {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    RequestContext {
        request_id: header("x-request-id").filter(|id| !id.is_empty()).map(|id| id.chars().take(200).collect()),
        source_ip: peer(parts).map(|ip| ip.to_string()),
        channel: Channel::Console,
        token: None,
    }
}

fn peer(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

/// Middleware of the console's routes: resolves the session cookie into a [`SignedIn`]
/// and checks the anti-forgery token of every state-changing request (403 without it).
pub(crate) async fn resolve(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(signed) = signed_in(&st, &parts).await else {
        return views::failure(Lang::of(&parts.headers), StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable);
    };
    let mutating = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut body = body;
    if mutating {
        let expected = match &signed {
            Some(s) => Some(s.csrf.clone()),
            // The sign-in form and an invitation's have no session yet: double submit.
            None if parts.uri.path() == "/sign-in" || parts.uri.path().starts_with("/invitation/") => {
                cookie(&parts.headers, SIGN_IN_COOKIE).map(str::to_owned)
            }
            None => None,
        };
        let mut presented = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        if presented.is_none() {
            let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
                return views::failure(Lang::of(&parts.headers), StatusCode::PAYLOAD_TOO_LARGE, Msg::Refused);
            };
            presented = form_urlencoded::parse(&bytes).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
            body = Body::from(bytes);
        }
        let matches = matches!((&expected, &presented), (Some(e), Some(p)) if constant_eq(e, p));
        if !matches {
            return views::failure(Lang::of(&parts.headers), StatusCode::FORBIDDEN, Msg::Forged);
        }
    }
    if let Some(signed) = signed {
        parts.extensions.insert(signed);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Compares two secrets in time independent of where they differ.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The session of the request's cookie, when it is alive.
async fn signed_in(st: &AppState, parts: &Parts) -> Result<Option<SignedIn>, ()> {
    let Some(id) = cookie(&parts.headers, COOKIE) else { return Ok(None) };
    let hash = hash_token(id);
    let found = st.crm.session(&hash, &st.settings.console.sessions).await.map_err(|error| {
        tracing::warn!(%error, "reading a console session failed");
    })?;
    let Some((session, mut actor, profile)) = found else { return Ok(None) };
    if st.tokens.suspension(session.tenant).await.map_err(|_| ())?.is_some() {
        return Ok(None);
    }
    actor.context = context(parts);
    // The agent's preferences (language, time zone), read with the session.
    let lang = profile.language.as_deref().and_then(Lang::from_code).unwrap_or_else(|| Lang::of(&parts.headers));
    Ok(Some(SignedIn { actor, csrf: session.csrf, lang, zone: profile.time_zone, hash }))
}

/// The actor of a request signed in to the console, for routes outside it (the event
/// stream): `None` without a live session.
pub(crate) async fn session_actor(st: &AppState, parts: &Parts) -> Option<Actor> {
    signed_in(st, parts).await.ok().flatten().map(|s| s.actor)
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(signed) = parts.extensions.get::<SignedIn>() {
            return Ok(signed.clone());
        }
        let headers: HeaderMap = parts.extract().await.unwrap_or_default();
        if headers.contains_key("hx-request") {
            // htmx follows this header with a full page load.
            return Err((StatusCode::UNAUTHORIZED, [("hx-redirect", "/sign-in")]).into_response());
        }
        Err(Redirect::to("/sign-in").into_response())
    }
}

/// `GET /sign-in`: the form (or home, when signed in already).
pub(crate) async fn sign_in_page(signed: Option<SignedIn>, headers: HeaderMap) -> Response {
    if signed.is_some() {
        return Redirect::to("/").into_response();
    }
    sign_in_form(&headers, StatusCode::OK, None, "")
}

fn sign_in_form(headers: &HeaderMap, status: StatusCode, problem: Option<Msg>, email: &str) -> Response {
    let token = secret();
    let lang = Lang::of(headers);
    let page = views::sign_in(lang, &token, problem, email);
    let mut res = (status, page).into_response();
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(headers, SIGN_IN_COOKIE, &token, None));
    res
}

impl axum::extract::OptionalFromRequestParts<AppState> for SignedIn {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<SignedIn>().cloned())
    }
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /sign-in`: checks the password (throttled per account and address), opens a
/// session, sets the cookie and goes home.
pub(crate) async fn sign_in(State(st): State<AppState>, parts: Parts, Form(form): Form<SignInForm>) -> Response {
    let headers = &parts.headers;
    let now = st.crm.clock().now();
    let throttle = st.settings.console.throttle;
    let key = (form.email.trim().to_lowercase(), peer(&parts));
    let refused_until =
        st.console.failures.lock().ok().and_then(|f| f.get(&key).and_then(|failures| failures.refusal(&throttle, now)));
    if refused_until.is_some() {
        return sign_in_form(headers, StatusCode::TOO_MANY_REQUESTS, Some(Msg::TooManyAttempts), &form.email);
    }
    let credentials = match st.crm.sign_in_credentials(&form.email).await {
        Ok(c) => c,
        Err(error) => {
            tracing::warn!(%error, "reading credentials failed");
            return views::failure(Lang::of(headers), StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable);
        }
    };
    // An invitation's password never signs in by itself (its link is the way in).
    let password =
        Some(form.password.clone()).filter(|p| !p.starts_with(super::invitation::PREFIX)).unwrap_or_default();
    // argon2 is slow on purpose: off the async workers.
    let matched: Option<Credential> =
        tokio::task::spawn_blocking(move || credentials.into_iter().find(|c| verify_password(&password, &c.hash)))
            .await
            .ok()
            .flatten();
    let Some(credential) = matched else {
        if let Ok(mut failures) = st.console.failures.lock() {
            failures.retain(|_, f| !f.is_stale(&throttle, now));
            failures.entry(key).or_default().fail(&throttle, now);
        }
        return sign_in_form(headers, StatusCode::UNAUTHORIZED, Some(Msg::WrongCredentials), &form.email);
    };
    if let Ok(mut failures) = st.console.failures.lock() {
        failures.remove(&key);
    }
    let id = secret();
    let opened = st.crm.open_session(&hash_token(&id), &credential, secret(), &st.settings.console.sessions).await;
    if let Err(error) = opened {
        tracing::warn!(%error, "opening a console session failed");
        return views::failure(Lang::of(headers), StatusCode::SERVICE_UNAVAILABLE, Msg::Unavailable);
    }
    let mut res = Redirect::to("/").into_response();
    let h = res.headers_mut();
    h.append(header::SET_COOKIE, set_cookie(headers, COOKIE, &id, None));
    h.append(header::SET_COOKIE, set_cookie(headers, SIGN_IN_COOKIE, "", Some(0)));
    res
}

/// `POST /sign-out`: ends the session and clears the cookie.
pub(crate) async fn sign_out(State(st): State<AppState>, signed: SignedIn, headers: HeaderMap) -> Response {
    if let Err(error) = st.crm.end_session(&signed.hash).await {
        tracing::warn!(%error, "ending a console session failed");
    }
    let mut res = Redirect::to("/sign-in").into_response();
    res.headers_mut().insert(header::SET_COOKIE, set_cookie(&headers, COOKIE, "", Some(0)));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let phc = hash_password("correct horse battery");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a hash"));
        assert_ne!(phc, hash_password("correct horse battery"), "salted");
    }

    #[test]
    fn cookies_are_read_by_name_and_secure_outside_loopback() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; crm_session=abc ; b=2"));
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        for (host, loopback) in
            [("127.0.0.1:8080", true), ("localhost:80", true), ("[::1]:8080", true), ("crm.example.com", false)]
        {
            h.insert(header::HOST, HeaderValue::from_static(host));
            let set = set_cookie(&h, COOKIE, "x", None);
            let set = set.to_str().unwrap();
            assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
            assert_eq!(!set.contains("Secure"), loopback, "{host}: {set}");
        }
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_eq("abc", "abc"));
        assert!(!constant_eq("abc", "abd"));
        assert!(!constant_eq("abc", "ab"));
    }
}
