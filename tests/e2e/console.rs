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

/// A browser without cookie jar or redirects: the test reads every answer itself (the
/// other console test files use it too).
pub(crate) struct Browser {
    base: String,
    http: reqwest::Client,
    session: Option<String>,
}

impl Browser {
    pub(crate) fn new(base: &str) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { base: base.to_owned(), http, session: None }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        // A browser: it accepts HTML (`/` answers other clients with JSON).
        let r = self.http.request(method, format!("{}{path}", self.base)).header(ACCEPT, "text/html,*/*;q=0.8");
        match &self.session {
            Some(s) => r.header(COOKIE, format!("crm_session={s}")),
            None => r,
        }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self.request(Method::GET, path).send().await.expect("sent");
        (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
    }

    pub(crate) async fn post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let res = self.request(Method::POST, path).form(form).send().await.expect("sent");
        (res.status(), res.headers().clone(), res.text().await.unwrap_or_default())
    }

    /// Signs in through the form (its double-submit cookie first); the status.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> StatusCode {
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
    pub(crate) async fn csrf(&self) -> String {
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

/// The path a 303 sends to.
/// The demo agent (alice) signed in to the console with a password set through `api`.
pub(crate) async fn alice_signed_in(api: &crate::helpers::Api, server: &str, agent: crm_core::ids::AgentId) -> Browser {
    let password = "alice's long passphrase";
    let res = api
        .send(
            api.request(Method::PUT, &format!("/api/v1/agents/{agent}/password")).json(&json!({"password": password})),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let mut alice = Browser::new(server);
    assert_eq!(alice.sign_in("alice@demo.example", password).await, StatusCode::SEE_OTHER);
    alice
}

/// Gives `agent` a tenant role "Reader" that may only read customers and cases.
pub(crate) async fn make_reader(api: &crate::helpers::Api, agent: crm_core::ids::AgentId) {
    let role = json!({"name": "Reader", "permissions": ["customer.read", "case.read"]});
    let role =
        api.post("/api/v1/roles", &role).await.expect(StatusCode::CREATED)["id"].as_str().expect("id").to_owned();
    let agent_path = format!("/api/v1/agents/{agent}");
    let etag = api.get(&agent_path).await.etag();
    api.patch(&agent_path, &etag, &json!({"custom_role": role})).await.expect(StatusCode::OK);
}

pub(crate) fn location(headers: &reqwest::header::HeaderMap) -> String {
    headers.get(LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn merge_preview_confirm_and_undo(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    let jane = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Roe", "identities": [{"type": "phone", "number": "+33 6 11 22 33 44"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let jane = jane["id"].as_str().expect("id").to_owned();
    let twin = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Jane Rowe", "identities": [{"type": "phone", "number": "06 11 22 33 44"},
                                                        {"type": "email", "address": "jane.rowe@example.com"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let twin = twin["id"].as_str().expect("id").to_owned();
    let case = api
        .post(
            "/api/v1/cases",
            &json!({"customer": twin, "subject": "Parcel lost", "description": {"format": "text", "body": ""}}),
        )
        .await
        .expect(StatusCode::CREATED);
    let case_path = format!("/api/v1/cases/{}", case["id"].as_str().expect("id"));
    let jane_before = api.get(&format!("/api/v1/customers/{jane}")).await.expect(StatusCode::OK);

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;

    // The card loads its duplicates; each links to the preview.
    let (status, _, html) = b.get(&format!("/console/customers/{jane}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!(r#"hx-get="/console/customers/{jane}/duplicates""#)), "{html}");
    let (status, _, html) = b.get(&format!("/console/customers/{jane}/duplicates")).await;
    assert_eq!(status, StatusCode::OK);
    let preview = format!("/console/customers/{jane}/merge?source={twin}");
    assert!(html.contains("Jane Rowe") && html.contains(&preview.replace('&', "&amp;")), "{html}");

    // The preview writes nothing and shows what each rule keeps.
    let (status, _, html) = b.get(&preview).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"<strong id="merged-name">Jane Roe</strong>"#), "{html}");
    assert!(html.contains(r#"<td class="dropped">Jane Rowe</td>"#), "{html}");
    assert!(html.contains("jane.rowe@example.com"), "the source's identities join: {html}");
    let (_, _, html) = b.get(&format!("{preview}&rule=keep_source")).await;
    assert!(html.contains(r#"<strong id="merged-name">Jane Rowe</strong>"#), "{html}");
    let (status, _, _) = b.get(&format!("/console/customers/{jane}/merge?source={jane}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a card cannot be merged into itself");
    let twin_now = api.get(&format!("/api/v1/customers/{twin}")).await.expect(StatusCode::OK);
    assert_eq!(twin_now["status"]["state"], json!("active"), "{twin_now}");

    // Confirming needs the token; a card changed since the preview merges nothing (409).
    let path = format!("/console/customers/{jane}/merge");
    let version = jane_before["version"].as_u64().expect("version").to_string();
    let twin_version = twin_now["version"].as_u64().expect("version").to_string();
    let form =
        |v: &str| vec![("source", twin.clone()), ("rule", "keep_target".into()), ("target_version", v.to_owned())];
    let (status, _, _) = b.post(&path, &[("source", twin.as_str()), ("target_version", version.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut stale: Vec<(&str, String)> = form("0");
    stale.push(("source_version", twin_version.clone()));
    stale.push(("_csrf", csrf.clone()));
    let stale: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, html) = b.post(&path, &stale).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("changed since the preview"), "{html}");
    let twin_now = api.get(&format!("/api/v1/customers/{twin}")).await.expect(StatusCode::OK);
    assert_eq!(twin_now["status"]["state"], json!("active"), "nothing merged: {twin_now}");

    // The merge: the survivor's card with the undo banner; the case moved.
    let mut ok: Vec<(&str, String)> = form(&version);
    ok.push(("source_version", twin_version));
    ok.push(("_csrf", csrf.clone()));
    let ok: Vec<(&str, &str)> = ok.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, headers, html) = b.post(&path, &ok).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let card = location(&headers);
    assert!(card.starts_with(&format!("/console/customers/{jane}?merged=")), "{card}");
    let merge = card.rsplit('=').next().unwrap_or_default().to_owned();
    let (status, _, html) = b.get(&card).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(r#"action="/console/merges/{merge}/undo""#)) && html.contains("Jane Rowe"),
        "{html}"
    );
    let moved = api.get(&case_path).await.expect(StatusCode::OK);
    assert_eq!(moved["customer"], json!(jane), "{moved}");
    let record = api.get(&format!("/api/v1/merges/{merge}")).await.expect(StatusCode::OK);
    assert_eq!(record["source"], json!(twin));

    // Undo: both cards back, the case on the twin again; the banner is gone; twice is a 409.
    let undo = format!("/console/merges/{merge}/undo");
    let (status, _, _) = b.post(&undo, &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "undo needs the token");
    let (status, headers, html) = b.post(&undo, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let back = location(&headers);
    assert!(back.starts_with(&format!("/console/customers/{twin}?undone=")), "{back}");
    let (_, _, html) = b.get(&back).await;
    assert!(html.contains("The merge was undone") && html.contains("Jane Rowe"), "{html}");
    let twin_now = api.get(&format!("/api/v1/customers/{twin}")).await.expect(StatusCode::OK);
    assert_eq!(twin_now["status"]["state"], json!("active"), "{twin_now}");
    let back_case = api.get(&case_path).await.expect(StatusCode::OK);
    assert_eq!(back_case["customer"], json!(twin), "{back_case}");
    let (_, _, html) = b.get(&card).await;
    assert!(!html.contains("/undo"), "an undone merge offers no undo: {html}");
    let (status, _, _) = b.post(&undo, &[("_csrf", csrf.as_str())]).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // An agent (no customer.merge) sees the duplicates but no merge; the preview is refused.
    let alice = alice_signed_in(&api, &t.server.url(), demo.agent).await;
    let (status, _, html) = alice.get(&format!("/console/customers/{jane}/duplicates")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Jane Rowe") && !html.contains("/merge?"), "{html}");
    assert_eq!(alice.get(&preview).await.0, StatusCode::FORBIDDEN);
}
on_every_store!(merge_preview_confirm_and_undo);

async fn case_list_filters_columns_paging_and_resolve(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let api = t.admin();
    for (key, label) in [("fixed", "Fixed"), ("no_fault", "No fault found")] {
        api.post("/api/v1/case-lists/resolution", &json!({"key": key, "label": label})).await.expect(StatusCode::OK);
    }
    api.post("/api/v1/case-lists/category", &json!({"key": "billing", "label": "Billing"}))
        .await
        .expect(StatusCode::OK);
    let who = api
        .post(
            "/api/v1/customers",
            &json!({"name": "Ada Lovelace", "identities": [{"type": "phone", "number": "+44 20 7946 0001"}]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let who = who["id"].as_str().expect("id").to_owned();
    // 27 urgent cases tagged `batch` (more than a page of 25), one of them billing and VIP; a calm one.
    let mut urgent = Vec::new();
    for i in 0..27 {
        let mut body = json!({"customer": who, "subject": format!("Urgent {i:02}"), "priority": "urgent",
                              "description": {"format": "text", "body": ""}, "assignee": demo.admin, "tags": ["batch"]});
        if i == 3 {
            body["category"] = json!("billing");
            body["tags"] = json!(["batch", "VIP customer"]);
        }
        let c = api.post("/api/v1/cases", &body).await.expect(StatusCode::CREATED);
        urgent.push(c["number"].as_str().expect("number").to_owned());
    }
    let calm = api
        .post(
            "/api/v1/cases",
            &json!({"customer": who, "subject": "Calm one", "priority": "low", "assignee": demo.agent,
                                       "description": {"format": "text", "body": ""}}),
        )
        .await
        .expect(StatusCode::CREATED);
    let calm_id = calm["id"].as_str().expect("id").to_owned();

    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;

    // Filters: priority, category, tag (written as tags are), assignee "me"; a bad value is a 422 page.
    let (status, _, html) = b.get("/console/cases?priority=urgent&tag=batch&sort=number&direction=asc").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(&urgent[0]) && !html.contains("Calm one"), "{html}");
    assert!(!html.contains(&urgent[26]), "the 26th is on the next page: {html}");
    let next = html.split(r#"id="next-page" rel="next" href=""#).nth(1).and_then(|s| s.split('"').next());
    let next = next.expect("a next page link").replace("&amp;", "&");
    let (_, _, html) = b.get(&next).await;
    assert!(html.contains(&urgent[26]) && !html.contains(&format!(">{}<", urgent[0])), "{html}");
    assert!(!html.contains("next-page"), "the last page: {html}");
    let (_, _, html) = b.get("/console/cases?category=billing").await;
    assert!(html.contains("Urgent 03") && !html.contains("Urgent 04"), "{html}");
    let (_, _, html) = b.get("/console/cases?tag=VIP+customer").await;
    assert!(html.contains("Urgent 03") && !html.contains("Urgent 04"), "{html}");
    let (_, _, html) = b.get("/console/cases?assignee=me&priority=low").await;
    assert!(html.contains("No case matches."), "the calm case is another agent's: {html}");
    let (status, _, html) = b.get("/console/cases?priority=whenever").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("priority"), "{html}");

    // Columns: the default set, then the agent's choice, saved in the profile (the API sees it).
    let (_, _, html) = b.get("/console/cases").await;
    assert!(html.contains(r#"data-column="updated_at""#) && !html.contains(r#"data-column="assignee""#), "{html}");
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    let version = me["version"].as_u64().expect("version").to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("back", "priority=urgent"),
        ("column", "number"),
        ("column", "assignee"),
        ("column", "priority"),
    ];
    let (status, headers, html) = b.post("/console/cases/columns", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), "/console/cases?priority=urgent");
    let (_, _, html) = b.get("/console/cases?priority=urgent").await;
    assert!(html.contains(r#"data-column="assignee""#) && !html.contains(r#"data-column="updated_at""#), "{html}");
    assert!(html.contains("Ada Admin"), "the assignee column names the agent: {html}");
    let me = api.get("/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me["profile"]["preferred_case_columns"], json!(["number", "assignee", "priority"]), "{me}");
    let (status, _, _) = b.post("/console/cases/columns", &form).await;
    assert_eq!(status, StatusCode::CONFLICT, "a stale version");
    let bad = [("_csrf", csrf.as_str()), ("version", "2"), ("column", "shoe size")];
    let (status, _, _) = b.post("/console/cases/columns", &bad).await;
    assert!(status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::CONFLICT, "{status}");

    // Resolve with a code picked from the tenant's list; without a code, the core refuses.
    let path = format!("/console/cases/{calm_id}");
    let (_, _, html) = b.get(&path).await;
    assert!(html.contains(r#"<option value="no_fault">No fault found</option>"#), "{html}");
    let v = calm["version"].as_u64().expect("version").to_string();
    let status_path = format!("{path}/status");
    let no_code = [("_csrf", csrf.as_str()), ("version", v.as_str()), ("status", "resolved")];
    let (status, _, _) = b.post(&status_path, &no_code).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a resolve without a code is refused, naming the field");
    let resolve =
        [("_csrf", csrf.as_str()), ("version", v.as_str()), ("status", "resolved"), ("resolution", "no_fault")];
    let (status, _, html) = b.post(&status_path, &resolve).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"id="case-resolution">no_fault</span>"#), "{html}");
    let resolved = api.get(&format!("/api/v1/cases/{calm_id}")).await.expect(StatusCode::OK);
    assert_eq!((resolved["status"].as_str(), resolved["resolution"].as_str()), (Some("resolved"), Some("no_fault")));
}
on_every_store!(case_list_filters_columns_paging_and_resolve);
