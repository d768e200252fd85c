//! The console's administration (issue 32): agents, groups and their members, roles, API
//! tokens, custom fields, disposition codes and the centre's settings, written through the
//! core's use cases (the API sees every change), stale forms refused with the conflict, a
//! refused value shown next to its field, and an agent without the permissions refused
//! with a 403 page and no navigation entry.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::console::{Browser, location};
use crate::helpers::{Backend, TestServer};
use crate::on_every_store;

/// The value of the hidden `version` field of the form posting to `action`.
fn version_in(html: &str, action: &str) -> String {
    let form = html.split(&format!(r#"action="{action}""#)).nth(1).expect("the form");
    let needle = r#"name="version" value=""#;
    let start = form.find(needle).expect("a version field") + needle.len();
    form[start..].split('"').next().expect("a version").to_owned()
}

/// Posts a form of owned values.
async fn post(b: &Browser, path: String, form: Vec<(&'static str, String)>) -> (StatusCode, HeaderMap, String) {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post(&path, &pairs).await
}

/// The path of a `Location` without its query.
fn created(headers: &HeaderMap) -> String {
    location(headers).split('?').next().unwrap_or_default().to_owned()
}

async fn administration_through_the_core(backend: Backend) {
    let t = TestServer::start(&backend).await;
    let demo = t.demo().clone();
    let mut b = Browser::new(&t.server.url());
    assert_eq!(b.sign_in("admin@demo.example", &demo.admin_password).await, StatusCode::SEE_OTHER);
    let csrf = b.csrf().await;
    let (_, _, home) = b.get("/").await;
    assert!(home.contains(r#"href="/console/admin""#), "the administrator's navigation: {home}");

    let bob = Box::pin(agents(&t, &b, &csrf)).await;
    Box::pin(groups_and_roles(&t, &b, &csrf, &bob)).await;
    Box::pin(codes_and_tokens(&t, &b, &csrf)).await;
    Box::pin(fields_and_tenant(&t, &b, &csrf)).await;
    Box::pin(invitations(&t, &b, &csrf, &bob)).await;
    Box::pin(refusals(&t, &bob)).await;
    t.server.stop().await.expect("clean stop");
}
on_every_store!(administration_through_the_core);

/// Agents: the list, then Bob's form: renamed and put in the support group; Bob's id.
async fn agents(t: &TestServer, b: &Browser, csrf: &str) -> String {
    let demo = t.demo().clone();
    let api = t.admin();
    let csrf = csrf.to_owned();
    // Agents: the list, then Bob's form: renamed and put in the support group.
    let (status, _, html) = b.get("/console/admin/agents").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Bob Agent") && html.contains("alice@demo.example"), "{html}");
    let agents = api.get("/api/v1/agents").await.expect(StatusCode::OK);
    let bob = agents
        .as_array()
        .and_then(|a| a.iter().find(|a| a["email"] == "bob@demo.example"))
        .and_then(|a| a["id"].as_str())
        .expect("bob")
        .to_owned();
    let bob_path = format!("/console/admin/agents/{bob}");
    let (status, _, html) = b.get(&bob_path).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let v = version_in(&html, &bob_path);
    let group = demo.group.to_string();
    let form = |name: &'static str, v: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("version", v.to_owned()),
            ("name", name.to_owned()),
            ("role", "agent".to_owned()),
            ("custom_role", String::new()),
            ("group", group.clone()),
            ("active", "1".to_owned()),
        ]
    };
    // Without the anti-forgery token: refused before any handler.
    let mut forged = form("Robert Agent", &v);
    forged.remove(0);
    assert_eq!(post(b, bob_path.clone(), forged).await.0, StatusCode::FORBIDDEN);
    // An empty name: refused next to its field, with the core's reason.
    let (status, _, html) = post(b, bob_path.clone(), form("  ", &v)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(
        html.contains(r#"id="agent-name-error""#) && html.contains(r#"aria-describedby="agent-name-error""#),
        "{html}"
    );
    let (status, headers, html) = post(b, bob_path.clone(), form("Robert Agent", &v)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    assert_eq!(location(&headers), format!("{bob_path}?saved=1"));
    let stored = api.get(&format!("/api/v1/agents/{bob}")).await.expect(StatusCode::OK);
    assert_eq!(stored["name"], "Robert Agent");
    assert_eq!(stored["groups"], serde_json::json!([group]));
    // The same form again is stale: the conflict, the current name, nothing overwritten.
    let (status, _, html) = post(b, bob_path.clone(), form("Bobby", &v)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains(r#"class="error conflict""#) && html.contains(r#"value="Robert Agent""#), "{html}");
    assert_eq!(api.get(&format!("/api/v1/agents/{bob}")).await.expect(StatusCode::OK)["name"], "Robert Agent");

    bob
}

/// Groups (a member added, deletion refused while in use) and roles.
async fn groups_and_roles(t: &TestServer, b: &Browser, csrf: &str, bob: &str) {
    let api = t.admin();
    let (csrf, bob) = (csrf.to_owned(), bob.to_owned());
    // Groups: a new one, a member added, its deletion refused while in use, then done.
    let (status, headers, html) = post(
        b,
        "/console/admin/groups".into(),
        vec![("_csrf", csrf.clone()), ("name", "Billing".into()), ("mail_addresses", "billing@demo.example".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let billing = created(&headers);
    let id = billing.rsplit('/').next().unwrap_or_default().to_owned();
    let (status, _, html) = post(
        b,
        "/console/admin/groups".into(),
        vec![("_csrf", csrf.clone()), ("name", "Billing".into()), ("mail_addresses", "not an address".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="new-group-mails-error""#), "the address is refused next to its field: {html}");
    let (status, _, _) =
        post(b, format!("{billing}/members"), vec![("_csrf", csrf.clone()), ("agent", bob.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let members = api.get(&format!("/api/v1/groups/{id}/members")).await.expect(StatusCode::OK);
    assert_eq!(members[0]["id"], bob.as_str(), "{members}");
    let (_, _, html) = b.get(&billing).await;
    let v = version_in(&html, &billing);
    let (status, _, html) =
        post(b, format!("{billing}/delete"), vec![("_csrf", csrf.clone()), ("version", v.clone())]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(html.contains("the group is in use: 1 member"), "the core's reason: {html}");
    let (status, _, _) = post(b, format!("{billing}/members/{bob}/remove"), vec![("_csrf", csrf.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, html) = post(b, format!("{billing}/delete"), vec![("_csrf", csrf.clone()), ("version", v)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    api.get(&format!("/api/v1/groups/{id}")).await.problem(404);

    // Roles: a centre role with two permissions; an unknown permission named.
    let (status, headers, html) = post(
        b,
        "/console/admin/roles".into(),
        vec![
            ("_csrf", csrf.clone()),
            ("name", "Quality".into()),
            ("description", "Listens to calls".into()),
            ("permission", "customer.read".into()),
            ("permission", "case.read".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let role = created(&headers).rsplit('/').next().unwrap_or_default().to_owned();
    let stored = api.get(&format!("/api/v1/roles/{role}")).await.expect(StatusCode::OK);
    assert_eq!(stored["permissions"], serde_json::json!(["customer.read", "case.read"]));
    let (status, _, html) = post(
        b,
        "/console/admin/roles".into(),
        vec![("_csrf", csrf.clone()), ("name", "Odd".into()), ("permission", "case.teleport".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="new-role-permissions-error""#), "{html}");
}

/// Disposition codes and API tokens.
async fn codes_and_tokens(t: &TestServer, b: &Browser, csrf: &str) {
    let demo = t.demo().clone();
    let api = t.admin();
    let csrf = csrf.to_owned();
    // Disposition codes: added (the API sees it), a bad code refused next to its field.
    let code = |code: &str, active: bool| {
        let mut f = vec![("_csrf", csrf.clone()), ("code", code.to_owned()), ("label", "Promised to pay".to_owned())];
        if active {
            f.push(("active", "1".to_owned()));
        }
        f
    };
    let (status, _, html) = post(b, "/console/admin/dispositions".into(), code("promise_to_pay", true)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let (status, _, html) = post(b, "/console/admin/dispositions".into(), code("bad code!", true)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="code-code-error""#), "{html}");
    let (status, _, _) = post(b, "/console/admin/dispositions".into(), code("promise_to_pay", false)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let codes = api.get("/api/v1/dispositions").await.expect(StatusCode::OK);
    let stored = codes.as_array().and_then(|c| c.iter().find(|c| c["code"] == "promise_to_pay")).cloned();
    assert_eq!(stored.map(|c| c["active"].clone()), Some(Value::Bool(false)), "retired: {codes}");

    // Tokens: the secret once (it works), never on the list, then revoked (it does not).
    let (status, _, html) = post(
        b,
        "/console/admin/tokens".into(),
        vec![
            ("_csrf", csrf.clone()),
            ("agent", demo.agent.to_string()),
            ("role", "agent".into()),
            ("label", "wallboard".into()),
            ("days", "30".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let needle = r#"id="secret" type="text" readonly value=""#;
    let start = html.find(needle).expect("the secret, shown once") + needle.len();
    let secret = html[start..].split('"').next().expect("a token").to_owned();
    let robot = api.with_token(Some(&secret));
    assert_eq!(robot.get("/api/v1/me").await.expect(StatusCode::OK)["email"], "alice@demo.example");
    let (_, _, list) = b.get("/console/admin/tokens").await;
    assert!(list.contains("wallboard") && !list.contains(&secret), "never shown again: {list}");
    let tokens = api.get("/api/v1/tokens").await.expect(StatusCode::OK);
    let token = tokens
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["label"] == "wallboard"))
        .and_then(|t| t["id"].as_str())
        .expect("the token")
        .to_owned();
    let (status, _, _) = post(b, format!("/console/admin/tokens/{token}/revoke"), vec![("_csrf", csrf.clone())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    robot.get("/api/v1/me").await.problem(401);
}

/// Custom fields and the centre's settings.
async fn fields_and_tenant(t: &TestServer, b: &Browser, csrf: &str) {
    let api = t.admin();
    let csrf = csrf.to_owned();
    // Custom fields: defined, a bad key named, retired (the API sees it), then deleted.
    let field = |key: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("entity", "customer".to_owned()),
            ("key", key.to_owned()),
            ("label", "Loyalty".to_owned()),
            ("field_type", "single_choice".to_owned()),
            ("choices", "gold\nsilver".to_owned()),
        ]
    };
    let (status, _, html) = post(b, "/console/admin/fields".into(), field("Loyalty Tier")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="field-key-error""#), "{html}");
    let (status, headers, html) = post(b, "/console/admin/fields".into(), field("loyalty")).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{html}");
    let path = created(&headers);
    let id = path.rsplit('/').next().unwrap_or_default().to_owned();
    let (_, _, html) = b.get(&path).await;
    let v = version_in(&html, &format!("{path}/retire"));
    let (status, _, _) = post(
        b,
        format!("{path}/retire"),
        vec![("_csrf", csrf.clone()), ("version", v.clone()), ("retired", "1".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(api.get(&format!("/api/v1/custom-fields/{id}")).await.expect(StatusCode::OK)["retired"], true);
    let (status, _, html) = post(b, format!("{path}/delete"), vec![("_csrf", csrf.clone()), ("version", v)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "the version read before retiring is stale: {html}");
    assert!(html.contains(r#"class="error conflict""#), "{html}");
    let (_, _, html) = b.get(&path).await;
    let v = version_in(&html, &format!("{path}/delete"));
    let (status, _, _) = post(b, format!("{path}/delete"), vec![("_csrf", csrf.clone()), ("version", v)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    api.get(&format!("/api/v1/custom-fields/{id}")).await.problem(404);

    // The centre's settings: a zone that does not exist, next to its field; then saved.
    let tenant = |zone: &str| {
        vec![
            ("_csrf", csrf.clone()),
            ("default_region", "FR".to_owned()),
            ("time_zone", zone.to_owned()),
            ("slug", String::new()),
        ]
    };
    let (status, _, html) = post(b, "/console/admin/tenant".into(), tenant("Mars/Olympus")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains(r#"id="tenant-zone-error""#) && html.contains(r#"value="Mars/Olympus""#), "{html}");
    let (status, _, _) = post(b, "/console/admin/tenant".into(), tenant("Europe/Brussels")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(api.get("/api/v1/tenant").await.expect(StatusCode::OK)["time_zone"], "Europe/Brussels");
}

/// An agent: no administration entry, and the core's refusal as a 403 page.
async fn refusals(t: &TestServer, bob: &str) {
    let demo = t.demo().clone();
    let api = t.admin();
    let bob_path = format!("/console/admin/agents/{bob}");
    let group = demo.group.to_string();
    // An agent: no administration entry, and the core's refusal as a 403 page, never a 500.
    let res = api
        .send(
            api.request(reqwest::Method::PUT, &format!("/api/v1/agents/{}/password", demo.agent))
                .json(&serde_json::json!({"password": "alice's long passphrase"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let mut alice = Browser::new(&t.server.url());
    assert_eq!(alice.sign_in("alice@demo.example", "alice's long passphrase").await, StatusCode::SEE_OTHER);
    let alice_csrf = alice.csrf().await;
    let (_, _, home) = alice.get("/").await;
    assert!(!home.contains("/console/admin"), "no administration for an agent: {home}");
    for path in [
        "/console/admin",
        "/console/admin/agents",
        bob_path.as_str(),
        "/console/admin/groups",
        "/console/admin/roles",
        "/console/admin/tokens",
        "/console/admin/fields",
        "/console/admin/dispositions",
        "/console/admin/tenant",
    ] {
        let (status, _, html) = alice.get(path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {html}");
        assert!(html.contains("You may not do this."), "{path}: {html}");
    }
    let (status, _, _) = alice
        .post("/console/admin/dispositions", &[("_csrf", alice_csrf.as_str()), ("code", "x"), ("label", "X")])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let invite = format!("{bob_path}/invitation");
    assert_eq!(alice.post(&invite, &[("_csrf", alice_csrf.as_str())]).await.0, StatusCode::FORBIDDEN);
    let remove = format!("/console/admin/groups/{}/members/{bob}/remove", demo.group);
    let (status, _, _) = alice.post(&remove, &[("_csrf", alice_csrf.as_str())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stored = api.get(&format!("/api/v1/agents/{bob}")).await.expect(StatusCode::OK);
    assert_eq!(stored["groups"], serde_json::json!([group]), "still a member");
}

/// Invitation links: shown once on the agent's page; the agent chooses a password through
/// it (the confirmation and the core's rules checked, next to their field) and signs in
/// with it; the link then dies; a link whose expiry was moved is refused; a new link
/// replaces the password.
async fn invitations(t: &TestServer, b: &Browser, csrf: &str, bob: &str) {
    let invite = || post(b, format!("/console/admin/agents/{bob}/invitation"), vec![("_csrf", csrf.to_owned())]);
    let (status, _, html) = invite().await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let link_of = |html: &str| {
        let needle = r#"id="invitation-link" type="text" readonly value=""#;
        let start = html.find(needle).expect("the link, shown once") + needle.len();
        let link = html[start..].split('"').next().expect("a link");
        assert!(link.starts_with(&t.server.url()), "on the address the console was reached at: {link}");
        link.to_owned()
    };
    let link = link_of(&html);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let open = |url: String| {
        let http = http.clone();
        async move {
            let res = http.get(&url).send().await.expect("sent");
            let status = res.status();
            let cookie = res
                .headers()
                .get_all(reqwest::header::SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|c| c.strip_prefix("crm_sign_in="))
                .map(|c| c.split(';').next().unwrap_or_default().to_owned());
            (status, cookie, res.text().await.unwrap_or_default())
        }
    };
    let submit = |url: &str, token: &str, password: &str, confirm: &str| {
        http.post(url)
            .header(reqwest::header::COOKIE, format!("crm_sign_in={token}"))
            .form(&[("_csrf", token), ("password", password), ("confirm", confirm)])
            .send()
    };
    let (status, cookie, html) = open(link.clone()).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("bob@demo.example"), "{html}");
    let token = cookie.expect("the form's double-submit cookie");
    // The secret the link carries never signs in by itself, even as the stored password.
    let parts: Vec<&str> = link.rsplit('/').next().unwrap_or_default().split('.').collect();
    let stored = format!("crm-invitation:{}.{}", parts[3], parts[2]);
    assert_eq!(Browser::new(&t.server.url()).sign_in("bob@demo.example", &stored).await, StatusCode::UNAUTHORIZED);
    let res = http.post(&link).form(&[("password", "bob's own passphrase"), ("confirm", "bob's own passphrase")]);
    assert_eq!(res.send().await.expect("sent").status(), StatusCode::FORBIDDEN, "without the form's token");
    let res = submit(&link, &token, "bob's own passphrase", "bob's other passphrase").await.expect("sent");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap_or_default().contains(r#"id="confirm-error""#));
    let res = submit(&link, &token, "short", "short").await.expect("sent");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap_or_default().contains(r#"id="password-error""#), "the core's rule");
    let res = submit(&link, &token, "bob's own passphrase", "bob's own passphrase").await.expect("sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap_or_default().contains("Your password is set"));
    let mut bob_browser = Browser::new(&t.server.url());
    assert_eq!(bob_browser.sign_in("bob@demo.example", "bob's own passphrase").await, StatusCode::SEE_OTHER);
    // Used: the link is dead.
    assert_eq!(open(link.clone()).await.0, StatusCode::NOT_FOUND, "one use");
    let res = submit(&link, &token, "a takeover passphrase", "a takeover passphrase").await.expect("sent");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // A new link replaces the password; its expiry cannot be moved.
    let (_, _, html) = invite().await;
    let link = link_of(&html);
    let mut parts: Vec<String> = link.rsplit('/').next().unwrap_or_default().split('.').map(str::to_owned).collect();
    let expires: i64 = parts[2].parse().expect("an expiry");
    parts[2] = (expires + 3_600).to_string();
    let moved = format!("{}/invitation/{}", t.server.url(), parts.join("."));
    assert_eq!(open(moved).await.0, StatusCode::NOT_FOUND, "a forged expiry");
    assert_eq!(open(link).await.0, StatusCode::OK);
    let mut again = Browser::new(&t.server.url());
    assert_eq!(again.sign_in("bob@demo.example", "bob's own passphrase").await, StatusCode::UNAUTHORIZED);
}
