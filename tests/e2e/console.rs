//! The agents' console over HTTP (issue 32, ADR 0024): sign-in with the demo password,
//! the session cookie's flags, CSRF refusals, the sign-in throttle, session expiry (idle),
//! sign-out, page statuses (the outbox page only for those who may see it), the security headers, passwords set through the API, and the
//! event stream read with the session cookie. The browser half is `tests/console/`.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Backend, TestServer, test_settings};
use crate::on_every_store;

/// A browser without cookie jar or redirects: the test reads every answer itself.
struct Browser {
    base: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Browser {
    fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base: base.to_owned(), http, session: None }
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        // A browser: it accepts HTML (`/` answers other clients with JSON).
        let r = self.http.request(method, format!("{}{path}", self.base)).header(ACCEPT, "text/html,*/*;q=0.8");
        match &self.session {
            Some(s) => r.header(COOKIE, format!("crm_session={s}")),
            None => r,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self.request(Method::GET, path).send().await.expect("sent");
        (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self.request(Method::POST, path).form(form).send().await.expect("sent");
        (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
    }

    /// Signs in through the form (its double-submit cookie first); the status.
    async fn sign_in(&mut self, email: &str, password: &str) -> StatusCode {
        let res = self.http.get(format!("{}/sign-in", self.base)).send().await.expect("sent");
        let token = cookie_of(res.headers(), "crm_sign_in").expect("the sign-in form's cookie");
        let res = self
            .http
            .post(format!("{}/sign-in", self.base))
            .header(COOKIE, format!("crm_sign_in={token}"))
            .form(&[("email", email), ("password", password), ("_csrf", token.as_str())])
            .send()
            .await
            .expect("sent");
        if res.status() == StatusCode::SEE_OTHER {
            let set: Vec<&str> = res.headers().get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
            let session = set.iter().find(|c| c.starts_with("crm_session=")).expect("a session cookie");
            assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
            assert!(!session.contains("Secure"), "plain HTTP on loopback: {session}");
            self.session = cookie_of(res.headers(), "crm_session");
        }
        res.status()
    }

    /// The session's anti-forgery token, from the home page's meta tag.
    async fn csrf(&self) -> String {
        let (status, _, html) = self.get("/").await;
        assert_eq!(status, StatusCode::OK, "{html}");
        let needle = r#"name="csrf-token" content=""#;
        let start = html.find(needle).expect("the csrf meta tag") + needle.len();
        html[start..].split('"').next().expect("a token").to_owned()
    }
}

fn cookie_of(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next()?.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

async fn sign_in_csrf_pages_and_sign_out(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let mut b = Browser::new(&t.server.url());

    // Not signed in: home and pages go to the sign-in page, which carries the policy.
    let (status, headers, _) = b.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/sign-in");
    let (status, headers, html) = b.get("/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[CONTENT_SECURITY_POLICY].to_str().unwrap_or_default();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(!html.contains("<script>") && !html.contains("style="), "no inline script or style: {html}");
    let (status, _, _) = b.get(&format!("/console/customers/{}", demo.admin)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The sign-in form without its token is forged.
    let (status, _, _) = b.post("/sign-in", &[("email", "admin@demo.example"), ("password", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(b.sign_in("admin@demo.example", "wrong password!!").await, StatusCode::UNAUTHORIZED);
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);

    // Pages render; an unknown record is a 404 page; an asset is cached for long.
    let csrf = b.csrf().await;
    let (status, _, html) = b.get("/console/search?q=Dupont").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Jeanne Dupont"), "{html}");
    let customer = html.split("/console/customers/").nth(1).and_then(|s| s.split('"').next()).expect("a link");
    let (status, headers, html) = b.get(&format!("/console/customers/{customer}")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(headers.contains_key(CONTENT_SECURITY_POLICY));
    let (status, _, _) = b.get(&format!("/console/customers/{}", uuid::Uuid::now_v7())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let asset = html.split(r#"href="/assets/"#).nth(1).and_then(|s| s.split('"').next()).expect("the style sheet");
    let (status, headers, _) = b.get(&format!("/assets/{asset}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["cache-control"].to_str().unwrap_or_default().contains("immutable"));

    // A state-changing request needs the session's token: none or a wrong one is a 403.
    let path = format!("/console/customers/{customer}/cases");
    let (status, _, _) = b.post(&path, &[("subject", "forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = b.post(&path, &[("subject", "forged"), ("_csrf", "not-the-token")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, headers, _) = b.post(&path, &[("subject", "From the console"), ("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let case = headers[LOCATION].to_str().unwrap_or_default().to_owned();
    let res = b
        .request(Method::POST, &format!("{case}/follow-ups"))
        .header("x-csrf-token", &csrf)
        .form(&[("body", "by header")])
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the header is enough");
    // The case was written as the signed-in agent, through the core: the API sees it.
    let created = t.admin().get(&format!("/api/v1/cases/{}", case.rsplit('/').next().unwrap_or_default())).await;
    let created = created.expect(StatusCode::OK);
    assert_eq!(created["subject"], "From the console");

    // The event stream takes the session cookie (no token).
    let res = b.request(Method::GET, "/api/v1/events").send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    drop(res);

    // Signing out ends the session server-side.
    let (status, headers, _) = b.post("/sign-out", &[("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/sign-in");
    let (status, _, _) = b.get("/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old cookie is dead");
    let res = b.request(Method::GET, "/api/v1/events").send().await.expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
on_every_store!(sign_in_csrf_pages_and_sign_out);

async fn passwords_throttle_and_idle_expiry(backend: Backend) {
    let mut settings = test_settings();
    settings.console.sessions.idle = chrono::Duration::seconds(3);
    let t = TestServer::start_with_settings(&backend, settings).await;
    let demo = t.demo().clone();
    let admin = t.admin();

    // Passwords through the API: the core's rules, the permission, a 204.
    let path = format!("/api/v1/agents/{}/password", demo.agent);
    let p = admin.send(admin.request(Method::PUT, &path).json(&json!({"password": "short"}))).await.problem(422);
    assert_eq!(p["errors"][0]["field"], "password", "{p}");
    let alice_password = "alice's long passphrase";
    let res = admin.send(admin.request(Method::PUT, &path).json(&json!({"password": alice_password}))).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let alice = t.client_for(&demo.agent.to_string(), "agent").await;
    let other = format!("/api/v1/agents/{}/password", demo.admin);
    alice.send(alice.request(Method::PUT, &other).json(&json!({"password": "a takeover attempt"}))).await.problem(403);

    // Alice signs in; her session ends when idle longer than the policy.
    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("alice@demo.example", alice_password).await, StatusCode::SEE_OTHER);
    assert_eq!(b.get("/").await.0, StatusCode::OK);
    let (status, _, html) = b.get("/console/outbox").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an agent has no admin.connectors: {html}");
    tokio::time::sleep(Duration::from_millis(3_300)).await;
    assert_eq!(b.get("/").await.0, StatusCode::SEE_OTHER, "idle too long");

    // Five failures lock the account from this address, even for the right password.
    let mut c = Browser::new(&t.server.url());
    for _ in 0..5 {
        assert_eq!(c.sign_in("ALICE@demo.example", "not her password").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(c.sign_in("alice@demo.example", alice_password).await, StatusCode::TOO_MANY_REQUESTS);
    // Another account is not locked.
    assert_eq!(c.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
}
on_every_store!(passwords_throttle_and_idle_expiry);
