//! A fake NetSuite account on `wiremock`, copying the spec (§3, §5): the M2M token
//! endpoint (checks `client_assertion_type`, verifies the assertion with the test's public
//! key, its `kid`, `aud`, `iss`, `scope` and `exp - iat` under an hour, answers
//! `expires_in` as a string), bearer checks and TBA checks (recomputes HMAC-SHA256 over
//! the RFC 5849 base string, ±300 s timestamps, no reused nonce, the upper-case realm),
//! SuiteQL (`Prefer: transient` required, `col = '…'`/`LOWER(col) = '…'`/`col LIKE '%…'`
//! joined by `OR`,
//! `limit`/`offset`/`hasMore`/`links`), record creates (204 + absolute `Location`, or 204
//! from a `PUT …/eid:<key>` upsert, and reads by `eid:`), the
//! `eid:` PUT upsert of phoneCall and its read by `eid:`, `nsError` bodies, and fault injection: the common faults
//! in NetSuite's spelling (a rate limit that clears is 429 `CONCURRENCY_LIMIT_EXCEEDED`, a
//! refused token 401 `INVALID_LOGIN`); NetSuite has no faults of its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine;
use crm_testkit::fake_api::{
    FakeApi, FakeServer, Faults, Injected, Meeting, NoVendorFault, Seen, Tokens, VendorSpelling, delayed, header,
    unix_now,
};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::{Request, ResponseTemplate};

pub(crate) const ACCOUNT: &str = "1234567_SB1";
pub(crate) const CLIENT_ID: &str = "ns-integration-client-id";
pub(crate) const CERTIFICATE_ID: &str = "cert-3f2a9c";
pub(crate) const CONSUMER_KEY: &str = "ns-consumer-key";
pub(crate) const CONSUMER_SECRET: &str = "ns-consumer-secret-value";
pub(crate) const TOKEN_ID: &str = "ns-token-id";
pub(crate) const TOKEN_SECRET: &str = "ns-token-secret-value";
pub(crate) const RSA_PRIVATE: &str = include_str!("fixtures/rsa_private.pem");
pub(crate) const EC_PRIVATE: &str = include_str!("fixtures/ec_private.pem");
pub(crate) const EC384_PRIVATE: &str = include_str!("fixtures/ec384_private.pem");
pub(crate) const EC521_PRIVATE: &str = include_str!("fixtures/ec521_private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/rsa_public.pem");
const EC_PUBLIC: &str = include_str!("fixtures/ec_public.pem");
const EC384_PUBLIC: &str = include_str!("fixtures/ec384_public.pem");

#[derive(Debug, Default)]
pub(crate) struct State {
    pub uri: String,
    pub tokens: Tokens,
    pub assertion_algorithms: Vec<String>,
    pub nonces: HashSet<String>,
    pub tba_checked: usize,
    pub tables: BTreeMap<String, Vec<Value>>,
    pub phone_calls: BTreeMap<String, Value>,
    pub next_id: u32,
    /// Customers, contacts and support cases created (by POST or by an `eid:` upsert).
    pub created_records: usize,
    pub faults: Faults<NoVendorFault>,
    pub seen: Vec<Seen>,
}

/// The fake service: its state is [`State`].
pub(crate) type Fake = FakeServer<State>;

impl State {
    pub(crate) fn seed(&mut self, table: &str, row: Value) {
        self.tables.entry(table.to_owned()).or_default().push(row);
    }
}

fn ns_error(status: u16, title: &str, code: &str, detail: &str, path: Option<&str>) -> ResponseTemplate {
    let mut entry = json!({"detail": detail, "o:errorCode": code});
    if let Some(path) = path {
        entry["o:errorPath"] = json!(path);
    }
    let body = json!({"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1", "title": title, "status": status, "o:errorDetails": [entry]});
    ResponseTemplate::new(status)
        .set_body_raw(body.to_string().into_bytes(), "application/vnd.oracle.resource+json; type=error")
}

fn unauthorized() -> ResponseTemplate {
    ns_error(
        401,
        "Unauthorized",
        "INVALID_LOGIN",
        "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.",
        None,
    )
}

impl VendorSpelling for State {
    fn unauthorized() -> ResponseTemplate {
        unauthorized()
    }

    fn throttled() -> ResponseTemplate {
        ns_error(
            429,
            "Too Many Requests",
            "CONCURRENCY_LIMIT_EXCEEDED",
            "Concurrent request limit exceeded. Request blocked.",
            None,
        )
    }

    fn malformed() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw("{\"items\": [", "application/json")
    }
}

impl FakeApi for State {
    type Fault = Injected<NoVendorFault>;

    fn new(uri: String) -> Self {
        State { uri, next_id: 600, ..State::default() }
    }

    fn inject(&mut self, fault: Injected<NoVendorFault>) {
        self.faults.push(fault);
    }

    fn respond(&mut self, request: &Request) -> ResponseTemplate {
        let state = self;
        let path = request.url.path().to_owned();
        if path == "/services/rest/auth/oauth2/v1/token" && request.method.as_str() == "POST" {
            return token(state, request);
        }
        if !path.starts_with("/services/rest/") {
            return ns_error(404, "Not Found", "NONEXISTENT_ID", "The record instance does not exist.", None);
        }
        api(state, request, &path)
    }
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Claims {
    iss: String,
    scope: Value,
    aud: String,
    iat: i64,
    exp: i64,
}

fn token(state: &mut State, request: &Request) -> ResponseTemplate {
    let form = state.tokens.grant(request);
    let refused = |why: &str| {
        ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_request", "error_description": why}))
    };
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return refused("grant_type");
    }
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return refused("client_assertion_type");
    }
    let Some(assertion) = form.get("client_assertion") else { return refused("client_assertion") };
    // The header is read by hand: `jsonwebtoken` has no ES512.
    let Some(head) =
        assertion.split('.').next().and_then(|h| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(h).ok())
    else {
        return refused("header");
    };
    let Ok(head) = serde_json::from_slice::<Value>(&head) else { return refused("header") };
    if head["kid"].as_str() != Some(CERTIFICATE_ID) {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_client"}));
    }
    let alg = head["alg"].as_str().unwrap_or_default().to_owned();
    let audience = format!("{}/services/rest/auth/oauth2/v1/token", state.uri);
    let claims = match alg.as_str() {
        "ES512" => verify_es512(assertion),
        _ => verify_with_jsonwebtoken(assertion, &alg, &audience),
    };
    let Some(claims) = claims else {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
    };
    if claims.aud != audience || claims.iss != CLIENT_ID || claims.exp <= unix_now() {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
    }
    // The doc says "separated by a comma" but its example is an array: accept both.
    let scopes: Vec<String> = match &claims.scope {
        Value::Array(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Value::String(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
        _ => Vec::new(),
    };
    if claims.exp - claims.iat >= 3600 || !scopes.iter().any(|s| s == "rest_webservices") {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "invalid_grant"}));
    }
    state.assertion_algorithms.push(alg);
    let token = state.tokens.mint("eyJraWQiOiJ.ns.");
    ResponseTemplate::new(200)
        .set_body_json(json!({"access_token": token, "expires_in": "3600", "token_type": "Bearer"}))
}

/// The claims of an assertion NetSuite accepts for `alg`, checked by `jsonwebtoken`.
fn verify_with_jsonwebtoken(assertion: &str, alg: &str, audience: &str) -> Option<Claims> {
    let alg: Algorithm = alg.parse().ok()?;
    let key = match alg {
        Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512 | Algorithm::RS256 => {
            DecodingKey::from_rsa_pem(RSA_PUBLIC.as_bytes())
        }
        Algorithm::ES256 => DecodingKey::from_ec_pem(EC_PUBLIC.as_bytes()),
        Algorithm::ES384 => DecodingKey::from_ec_pem(EC384_PUBLIC.as_bytes()),
        _ => return None,
    }
    .ok()?;
    let mut validation = Validation::new(alg);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    jsonwebtoken::decode::<Claims>(assertion, &key, &validation).ok().map(|data| data.claims)
}

/// The claims of an ES512 assertion: the JWS signature (`r ‖ s`, 66 bytes each) verified
/// against the P-521 test key's public point.
fn verify_es512(assertion: &str) -> Option<Claims> {
    use aws_lc_rs::signature::{ECDSA_P521_SHA512_FIXED, ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (input, signature) = assertion.rsplit_once('.')?;
    let der = pem::parse(EC521_PRIVATE).ok()?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_FIXED_SIGNING, der.contents()).ok()?;
    let public = aws_lc_rs::signature::UnparsedPublicKey::new(&ECDSA_P521_SHA512_FIXED, pair.public_key().as_ref());
    public.verify(input.as_bytes(), &b64.decode(signature).ok()?).ok()?;
    serde_json::from_slice(&b64.decode(input.split_once('.')?.1).ok()?).ok()
}

/// RFC 3986 encoding, written independently of the connector's.
fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn dec(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// Verifies an OAuth 1.0a TBA header.
fn tba_ok(state: &mut State, request: &Request, authorization: &str) -> bool {
    let Some(params) = authorization.strip_prefix("OAuth ") else { return false };
    let mut fields = HashMap::new();
    for part in params.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else { return false };
        fields.insert(k.to_owned(), dec(v.trim_matches('"')));
    }
    let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
    if get("realm") != ACCOUNT
        || get("oauth_consumer_key") != CONSUMER_KEY
        || get("oauth_token") != TOKEN_ID
        || get("oauth_signature_method") != "HMAC-SHA256"
        || get("oauth_version") != "1.0"
    {
        return false;
    }
    let Ok(timestamp) = get("oauth_timestamp").parse::<i64>() else { return false };
    if (timestamp - unix_now()).abs() > 300 || !state.nonces.insert(get("oauth_nonce")) {
        return false;
    }
    let url = &request.url;
    // wiremock's request URL names `localhost`; the client signed the host it dialled,
    // which the Host header carries (with the port, as RFC 5849 wants for non-default ports).
    let host = header(request, "host").unwrap_or_default().to_lowercase();
    let base_url = format!("http://{host}{}", url.path());
    let mut pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (enc(&k), enc(&v))).collect();
    for (k, v) in &fields {
        if k.starts_with("oauth_") && k != "oauth_signature" {
            pairs.push((enc(k), enc(v)));
        }
    }
    pairs.sort();
    let normalized = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let base = format!("{}&{}&{}", request.method.as_str(), enc(&base_url), enc(&normalized));
    let key = format!("{}&{}", enc(CONSUMER_SECRET), enc(TOKEN_SECRET));
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key.as_bytes()) else { return false };
    mac.update(base.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    state.tba_checked += 1;
    expected == get("oauth_signature")
}

fn api(state: &mut State, request: &Request, path: &str) -> ResponseTemplate {
    let authorization = header(request, "authorization").unwrap_or_default();
    let authorised = match authorization.strip_prefix("Bearer ") {
        Some(token) => state.tokens.accepts(token),
        None => tba_ok(state, request, &authorization),
    };
    if !authorised {
        return unauthorized();
    }
    let body = Seen::record(&mut state.seen, request);
    let delay = match state.faults.meet::<State>(&mut state.tokens) {
        Meeting::Answer(answer) => return answer,
        Meeting::Vendor(never) => match never {},
        Meeting::Proceed(delay) => delay,
        Meeting::ProceedThenAnswer(answer) => {
            route(state, request, path, &body);
            return answer;
        }
    };
    delayed(route(state, request, path, &body), delay)
}

fn route(state: &mut State, request: &Request, path: &str, body: &Value) -> ResponseTemplate {
    let method = request.method.as_str();
    if path == "/services/rest/query/v1/suiteql" && method == "POST" {
        return suiteql(state, request, body);
    }
    let Some(rest) = path.strip_prefix("/services/rest/record/v1/") else {
        return ns_error(404, "Not Found", "NONEXISTENT_ID", "The record instance does not exist.", None);
    };
    let segments: Vec<&str> = rest.split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", [record_type @ ("customer" | "contact" | "supportCase")]) => create(state, record_type, body),
        ("PUT", ["phoneCall", key]) => match dec(key).strip_prefix("eid:") {
            Some(eid) => upsert_call(state, eid, body),
            None => ns_error(400, "Bad Request", "INVALID_REQUEST", "PUT needs an external id", None),
        },
        ("PUT", [record_type @ ("customer" | "contact" | "supportCase"), key]) => match dec(key).strip_prefix("eid:") {
            Some(eid) => upsert(state, record_type, eid, body),
            None => ns_error(400, "Bad Request", "INVALID_REQUEST", "PUT needs an external id", None),
        },
        ("GET", [record_type @ ("customer" | "contact" | "supportCase"), key]) => {
            let table = record_type.to_lowercase();
            let eid = dec(key);
            let eid = eid.strip_prefix("eid:").unwrap_or_default();
            let row = state.tables.get(&table).into_iter().flatten().find(|r| r["externalId"] == eid);
            match row {
                Some(row) => ResponseTemplate::new(200).set_body_json(row),
                None => ns_error(404, "Not Found", "NONEXISTENT_ID", "The record instance does not exist.", None),
            }
        }
        ("GET", ["phoneCall", key]) => match dec(key).strip_prefix("eid:").and_then(|eid| state.phone_calls.get(eid)) {
            Some(call) => ResponseTemplate::new(200).set_body_json(call),
            None => ns_error(404, "Not Found", "NONEXISTENT_ID", "The record instance does not exist.", None),
        },
        _ => ns_error(404, "Not Found", "NONEXISTENT_ID", "The record instance does not exist.", None),
    }
}

/// Evaluates `col = 'v'` / `LOWER(col) = 'v'` / `col LIKE '%v'` terms joined by ` OR `.
fn matches(row: &Value, condition: &str) -> bool {
    condition.split(" OR ").any(|term| {
        if let Some((column, pattern)) = term.trim().split_once(" LIKE ") {
            let pattern = pattern.trim().trim_start_matches('\'').trim_end_matches('\'').replace("''", "'");
            let Some(suffix) = pattern.strip_prefix('%') else { return false };
            return row.get(column.trim()).and_then(Value::as_str).is_some_and(|stored| stored.ends_with(suffix));
        }
        let Some((left, right)) = term.trim().split_once(" = ") else { return false };
        let value = right.trim().trim_start_matches('\'').trim_end_matches('\'').replace("''", "'");
        let (column, lower) = match left.strip_prefix("LOWER(").and_then(|c| c.strip_suffix(')')) {
            Some(column) => (column, true),
            None => (left, false),
        };
        row.get(column.trim())
            .and_then(Value::as_str)
            .is_some_and(|stored| if lower { stored.to_lowercase() == value } else { stored == value })
    })
}

/// A row as a SELECT list reads it: `col` (absent when the row has none: SuiteQL leaves
/// empty columns out), `'text' AS name`, `NULL AS name` (left out).
fn project(row: &Value, items: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for item in items {
        match item.split_once(" AS ") {
            Some((value, name)) => {
                if let Some(text) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                    out.insert(name.trim().to_owned(), json!(text));
                }
            }
            None => {
                if let Some(value) = row.get(item.trim()) {
                    out.insert(item.trim().to_owned(), value.clone());
                }
            }
        }
    }
    Value::Object(out)
}

fn suiteql(state: &mut State, request: &Request, body: &Value) -> ResponseTemplate {
    if header(request, "prefer").as_deref() != Some("transient") {
        return ns_error(400, "Bad Request", "INVALID_PARAMETER", "Prefer: transient is required for SuiteQL", None);
    }
    let params: HashMap<String, String> =
        request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let limit: usize = params.get("limit").and_then(|l| l.parse().ok()).unwrap_or(1000);
    let offset: usize = params.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    if limit == 0 || limit > 1000 || !offset.is_multiple_of(limit) {
        return ns_error(400, "Bad Request", "INVALID_PARAMETER", "offset must be a multiple of limit", Some("offset"));
    }
    let q = body.get("q").and_then(Value::as_str).unwrap_or_default();
    let mut rows: Vec<Value> = Vec::new();
    let mut width = None;
    for branch in q.split(" UNION ALL ") {
        let (Some(select), Some(from), Some(filter)) =
            (branch.strip_prefix("SELECT "), branch.find(" FROM "), branch.find(" WHERE "))
        else {
            return ns_error(400, "Bad Request", "INVALID_PARAMETER", "unsupported query", None);
        };
        let items: Vec<&str> = select[..from - 7].split(", ").collect();
        if *width.get_or_insert(items.len()) != items.len() {
            return ns_error(400, "Bad Request", "INVALID_PARAMETER", "UNION branches select different columns", None);
        }
        let table = branch[from + 6..filter].trim();
        for row in state.tables.get(table).into_iter().flatten().filter(|r| matches(r, &branch[filter + 7..])) {
            rows.push(project(row, &items));
        }
    }
    let total = rows.len();
    let items: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|mut r| {
            r["links"] = json!([]);
            r
        })
        .collect();
    let has_more = offset + items.len() < total;
    let link = |o: usize| format!("{}/services/rest/query/v1/suiteql?limit={limit}&offset={o}", state.uri);
    let mut links = vec![json!({"rel": "self", "href": link(offset)})];
    if has_more {
        links.insert(0, json!({"rel": "next", "href": link(offset + limit)}));
    }
    ResponseTemplate::new(200).set_body_json(json!({
        "links": links, "count": items.len(), "hasMore": has_more, "offset": offset, "totalResults": total, "items": items}))
}

fn exists(state: &State, table: &str, id: &str) -> bool {
    state.tables.get(table).into_iter().flatten().any(|r| r.get("id").and_then(Value::as_str) == Some(id))
}

fn check_refs(state: &State, body: &Value) -> Option<ResponseTemplate> {
    for (field, table) in [("company", "customer"), ("contact", "contact"), ("supportCase", "supportcase")] {
        if let Some(id) = body.get(field).and_then(|r| r.get("id")).and_then(Value::as_str)
            && !exists(state, table, id)
        {
            return Some(ns_error(
                400,
                "Bad Request",
                "INVALID_KEY_OR_REF",
                &format!("Invalid {field} reference key {id}."),
                Some(field),
            ));
        }
    }
    None
}

fn create(state: &mut State, record_type: &str, body: &Value) -> ResponseTemplate {
    if let Some(refusal) = check_refs(state, body) {
        return refusal;
    }
    let missing = match record_type {
        "contact" => body.get("lastName").is_none().then_some("lastName"),
        "supportCase" => body.get("company").is_none().then_some("company"),
        _ => None,
    };
    if let Some(field) = missing {
        return ns_error(400, "Bad Request", "USER_ERROR", &format!("Please enter value(s) for: {field}"), Some(field));
    }
    state.next_id += 1;
    state.created_records += 1;
    let id = state.next_id.to_string();
    let mut row = body.clone();
    row["id"] = json!(id);
    state.tables.entry(record_type.to_lowercase()).or_default().push(row);
    ResponseTemplate::new(204)
        .insert_header("Location", format!("{}/services/rest/record/v1/{record_type}/{id}", state.uri).as_str())
}

/// A record upserted on its external id: updated when one carries it, else created (the
/// checks of [`create`]); 204 without `Location`.
fn upsert(state: &mut State, record_type: &str, eid: &str, body: &Value) -> ResponseTemplate {
    if !eid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return ns_error(400, "Bad Request", "INVALID_ID", "invalid external id", None);
    }
    let table = record_type.to_lowercase();
    if let Some(row) = state.tables.get_mut(&table).into_iter().flatten().find(|r| r["externalId"] == eid) {
        if let (Some(target), Some(update)) = (row.as_object_mut(), body.as_object()) {
            target.extend(update.clone());
        }
        return ResponseTemplate::new(204);
    }
    let mut body = body.clone();
    body["externalId"] = json!(eid);
    let answer = create(state, record_type, &body);
    let created = state.tables.get(&table).into_iter().flatten().any(|r| r["externalId"] == eid);
    if created { ResponseTemplate::new(204) } else { answer }
}

fn upsert_call(state: &mut State, eid: &str, body: &Value) -> ResponseTemplate {
    if !eid.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return ns_error(400, "Bad Request", "INVALID_ID", "invalid external id", None);
    }
    if let Some(refusal) = check_refs(state, body) {
        return refusal;
    }
    let id = match state.phone_calls.get(eid).and_then(|c| c.get("id")).and_then(Value::as_str) {
        Some(id) => id.to_owned(),
        None => {
            state.next_id += 1;
            state.next_id.to_string()
        }
    };
    let mut call = body.clone();
    call["id"] = json!(id);
    call["externalId"] = json!(eid);
    state.phone_calls.insert(eid.to_owned(), call);
    ResponseTemplate::new(204)
}
