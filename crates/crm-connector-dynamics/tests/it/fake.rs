//! A fake Dataverse environment and Entra ID token endpoint on `wiremock`, copying the
//! spec (§2, §5): client-credentials tokens with `scope=<environment>/.default`, bearer
//! checks (401, empty body, `WWW-Authenticate`), the OData headers, a `$filter` subset
//! (`eq`, `or`, `contains`), `$batch` of those queries (`multipart/mixed`), paging with `odata.maxpagesize` and `@odata.nextLink`,
//! creates answering 204 + `OData-EntityId` (201 with `Prefer: return=representation`),
//! PATCH upsert semantics with `If-Match`/`If-None-Match` (phonecalls, and creates of
//! contacts, leads, accounts and incidents on a client-chosen key), reads by key, and fault
//! injection: the common
//! faults in Dataverse's spelling (a rate limit that clears is 429 with `Retry-After: 0`,
//! a refused token 401 with `WWW-Authenticate`) and [`Fault`]s of its own.

use std::collections::{BTreeMap, HashMap};

use crm_testkit::fake_api::{
    FakeApi, FakeServer, Faults, Injected, Meeting, Seen, Tokens, VendorSpelling, delayed, header,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::{Request, ResponseTemplate};

pub(crate) const TENANT: &str = "contoso.onmicrosoft.com";
pub(crate) const CLIENT_ID: &str = "11111111-1111-1111-1111-111111111111";
pub(crate) const CLIENT_SECRET: &str = "entra-client-secret-value";
/// The app registration's certificate and its key (a self-signed test certificate).
pub(crate) const CERTIFICATE: &str = include_str!("fixtures/cert.pem");
pub(crate) const CERTIFICATE_KEY: &str = include_str!("fixtures/cert_private.pem");
const CERTIFICATE_PUBLIC: &str = include_str!("fixtures/cert_public.pem");

/// A failure only Dataverse has, met by the next API request.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Fault {
    /// 429 with `Retry-After: <seconds>` and the service-protection body.
    RetryAfter(u64),
    /// 412.
    PreconditionFailed,
}

impl From<Fault> for Injected<Fault> {
    fn from(fault: Fault) -> Self {
        Injected::Vendor(fault)
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub uri: String,
    pub token_lifetime: u64,
    pub tokens: Tokens,
    /// Client assertions accepted.
    pub assertions: usize,
    pub rows: BTreeMap<String, Vec<Value>>,
    pub phonecalls: BTreeMap<Uuid, Value>,
    /// Contacts, leads, accounts and incidents created (by POST or by a keyed PATCH).
    pub created_records: usize,
    pub faults: Faults<Fault>,
    pub cursors: HashMap<String, (String, Vec<Value>)>,
    pub next_cursor: u32,
    pub seen: Vec<Seen>,
    /// The GETs received inside `$batch` requests, in order.
    pub batched: Vec<BatchedGet>,
}

/// A GET received inside a `$batch`.
#[derive(Clone, Debug)]
pub(crate) struct BatchedGet {
    /// The URL's path.
    pub path: String,
    /// The query's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The part's headers, names in lower case.
    pub headers: HashMap<String, String>,
}

/// The fake service: its state is [`State`].
pub(crate) type Fake = FakeServer<State>;

impl State {
    pub(crate) fn seed(&mut self, set: &str, row: Value) {
        self.rows.entry(set.to_owned()).or_default().push(row);
    }
}

fn odata_error_body(code: &str, message: &str) -> Value {
    json!({"error": {"code": code, "message": message}})
}

fn odata_error(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(odata_error_body(code, message))
}

fn key_of(set: &str) -> &'static str {
    match set {
        "contacts" => "contactid",
        "leads" => "leadid",
        "accounts" => "accountid",
        "incidents" => "incidentid",
        _ => "activityid",
    }
}

/// The service-protection answer: 429 with `Retry-After: <seconds>`.
fn throttled(seconds: u64) -> ResponseTemplate {
    odata_error(429, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
        .insert_header("Retry-After", seconds.to_string().as_str())
}

impl VendorSpelling for State {
    fn unauthorized() -> ResponseTemplate {
        ResponseTemplate::new(401).insert_header(
            "WWW-Authenticate",
            "Bearer error=invalid_token, error_description=\"Error during token validation!\", authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize",
        )
    }

    fn throttled() -> ResponseTemplate {
        throttled(0)
    }

    fn malformed() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw("{\"value\": [", "application/json")
    }
}

impl FakeApi for State {
    type Fault = Injected<Fault>;

    fn new(uri: String) -> Self {
        State { uri, token_lifetime: 3599, ..State::default() }
    }

    fn inject(&mut self, fault: Injected<Fault>) {
        self.faults.push(fault);
    }

    fn respond(&mut self, request: &Request) -> ResponseTemplate {
        let state = self;
        let path = request.url.path().to_owned();
        if path == format!("/{TENANT}/oauth2/v2.0/token") && request.method.as_str() == "POST" {
            return token(state, request);
        }
        match path.strip_prefix("/api/data/v9.2/") {
            Some(rest) => {
                let rest = rest.to_owned();
                api(state, request, &rest)
            }
            None => odata_error(404, "0x8006088a", "Resource not found for the segment"),
        }
    }
}

fn token(state: &mut State, request: &Request) -> ResponseTemplate {
    let form = state.tokens.grant(request);
    let expected_scope = format!("{}/.default", state.uri);
    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_grant_type"}));
    }
    if form.get("scope") != Some(&expected_scope) {
        return ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_scope", "error_description": "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
            "error_codes": [70011], "timestamp": "2026-11-23 10:00:00Z", "trace_id": "t", "correlation_id": "c"}));
    }
    if form.contains_key("client_assertion") || form.contains_key("client_assertion_type") {
        return match check_assertion(&form, &state.uri) {
            Ok(()) => {
                state.assertions += 1;
                let token = state.tokens.mint("eyJ0eXAiOiJKV1QifQ.fake.");
                ResponseTemplate::new(200).set_body_json(json!({
                    "token_type": "Bearer", "expires_in": state.token_lifetime, "access_token": token}))
            }
            Err(why) => ResponseTemplate::new(401).set_body_json(json!({
                "error": "invalid_client", "error_description": format!("AADSTS700027: {why}")})),
        };
    }
    if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}));
    }
    let token = state.tokens.mint("eyJ0eXAiOiJKV1QifQ.fake.");
    ResponseTemplate::new(200).set_body_json(json!({
        "token_type": "Bearer", "expires_in": state.token_lifetime, "ext_expires_in": state.token_lifetime, "access_token": token}))
}

/// Entra ID's checks of a certificate's client assertion, written from its documentation:
/// the assertion type, a PS256 (or RS256) signature by the registered certificate's key,
/// that certificate named by its SHA-256 thumbprint (`x5t#S256`) or SHA-1 one (`x5t`),
/// `aud` the token URL, `iss` = `sub` = the client id, a `jti`, a live `exp`.
fn check_assertion(form: &HashMap<String, String>, uri: &str) -> Result<(), String> {
    use aws_lc_rs::digest;
    use base64::Engine as _;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err("client_assertion_type".into());
    }
    if form.contains_key("client_secret") || form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return Err("client_id".into());
    }
    let assertion = form.get("client_assertion").ok_or("client_assertion")?;
    let head = jsonwebtoken::decode_header(assertion).map_err(|e| format!("header: {e}"))?;
    if !matches!(head.alg, Algorithm::PS256 | Algorithm::RS256) || head.typ.as_deref() != Some("JWT") {
        return Err(format!("alg {:?} typ {:?}", head.alg, head.typ));
    }
    let der = pem::parse(CERTIFICATE).map_err(|e| e.to_string())?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let s256 = b64.encode(digest::digest(&digest::SHA256, der.contents()));
    let s1 = b64.encode(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der.contents()));
    if head.x5t_s256.as_deref() != Some(s256.as_str()) && head.x5t.as_deref() != Some(s1.as_str()) {
        return Err("no registered certificate has this thumbprint".into());
    }
    let key = DecodingKey::from_rsa_pem(CERTIFICATE_PUBLIC.as_bytes()).map_err(|e| e.to_string())?;
    let audience = format!("{uri}/{TENANT}/oauth2/v2.0/token");
    let mut validation = Validation::new(head.alg);
    validation.set_audience(&[audience.as_str()]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "nbf"]);
    let claims = jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|e| format!("signature: {e}"))?;
    if claims.claims["sub"] != CLIENT_ID || claims.claims["jti"].as_str().is_none_or(str::is_empty) {
        return Err("sub or jti".into());
    }
    Ok(())
}

fn api(state: &mut State, request: &Request, rest: &str) -> ResponseTemplate {
    if !state.tokens.accepts_bearer(request) {
        return State::unauthorized();
    }
    let body = Seen::record(&mut state.seen, request);
    if header(request, "odata-version").as_deref() != Some("4.0")
        || header(request, "odata-maxversion").as_deref() != Some("4.0")
        || header(request, "accept").as_deref() != Some("application/json")
    {
        return odata_error(400, "0x80048d19", "missing OData headers");
    }
    let delay = match state.faults.meet::<State>(&mut state.tokens) {
        Meeting::Answer(answer) => return answer,
        Meeting::Vendor(Fault::RetryAfter(seconds)) => return throttled(seconds),
        Meeting::Vendor(Fault::PreconditionFailed) => {
            return odata_error(
                412,
                "0x80060882",
                "The version of the existing record doesn't match the RowVersion property provided.",
            );
        }
        Meeting::Proceed(delay) => delay,
        Meeting::ProceedThenAnswer(answer) => {
            route(state, request, rest, &body);
            return answer;
        }
    };
    delayed(route(state, request, rest, &body), delay)
}

fn route(state: &mut State, request: &Request, rest: &str, body: &Value) -> ResponseTemplate {
    let method = request.method.as_str();
    if let Some(inner) = rest.strip_prefix("phonecalls(").and_then(|r| r.strip_suffix(')')) {
        let Ok(id) = Uuid::parse_str(inner) else { return odata_error(400, "0x80060888", "bad key") };
        return match method {
            "PATCH" => patch_phonecall(state, request, id, body),
            "GET" => match state.phonecalls.get(&id) {
                Some(row) => ResponseTemplate::new(200).set_body_json(row),
                None => not_exist("phonecall", id),
            },
            _ => odata_error(405, "0x80060888", "method not allowed"),
        };
    }
    if let Some((set, inner)) = rest.strip_suffix(')').and_then(|r| r.split_once('('))
        && matches!(set, "contacts" | "leads" | "accounts" | "incidents")
    {
        if let Some((column, literal)) = inner.split_once('=') {
            return alternate_key(state, request, set, column, &unquote(literal), body);
        }
        let Ok(id) = Uuid::parse_str(inner) else { return odata_error(400, "0x80060888", "bad key") };
        let id = id.to_string();
        let row = state.rows.get(set).into_iter().flatten().find(|r| r[key_of(set)] == id.as_str()).cloned();
        return match (method, row) {
            ("GET", Some(row)) => ResponseTemplate::new(200).set_body_json(row),
            ("GET", None) => not_exist(set.trim_end_matches('s'), &id),
            ("PATCH", Some(_)) if header(request, "if-none-match").as_deref() == Some("*") => {
                odata_error(412, "0x80040237", "A record with matching key values already exists.")
            }
            ("PATCH", None) => create_with_id(state, request, set, body, id),
            _ => odata_error(405, "0x80060888", "method not allowed"),
        };
    }
    match (method, rest) {
        ("GET", set @ ("contacts" | "leads" | "accounts")) => query(state, request, set),
        ("POST", "$batch") => batch(state, request),
        ("POST", set @ ("contacts" | "leads" | "accounts" | "incidents")) => create(state, request, set, body),
        _ => odata_error(404, "0x8006088a", "Resource not found for the segment"),
    }
}

/// A row addressed by an alternate key (`contacts(crm_key='…')`): only `crm_key` is
/// defined (tables have no alternate keys unless customised). GET reads the row; PATCH with
/// `If-None-Match: *` creates it (the key column set from the address) or answers 412.
fn alternate_key(
    state: &mut State,
    request: &Request,
    set: &str,
    column: &str,
    value: &str,
    body: &Value,
) -> ResponseTemplate {
    if column != "crm_key" {
        return odata_error(
            400,
            "0x80060888",
            &format!("The key in the request URI is not valid for resource '{set}'"),
        );
    }
    let row = state.rows.get(set).into_iter().flatten().find(|r| r["crm_key"] == value).cloned();
    match (request.method.as_str(), row) {
        ("GET", Some(row)) => ResponseTemplate::new(200).set_body_json(row),
        ("GET", None) => not_exist(set.trim_end_matches('s'), format!("crm_key = {value}")),
        ("PATCH", Some(_)) if header(request, "if-none-match").as_deref() == Some("*") => {
            odata_error(412, "0x80040237", "A record with matching key values already exists.")
        }
        ("PATCH", None) => {
            let mut body = body.clone();
            body["crm_key"] = json!(value);
            create_with_id(state, request, set, &body, Uuid::now_v7().to_string())
        }
        _ => odata_error(405, "0x80060888", "method not allowed"),
    }
}

fn not_exist(table: &str, id: impl std::fmt::Display) -> ResponseTemplate {
    odata_error(404, "0x80040217", &format!("{table} With Id = {id} Does Not Exist"))
}

fn page_size(prefer: Option<&str>) -> usize {
    prefer
        .and_then(|p| {
            p.split(',').find_map(|part| part.trim().strip_prefix("odata.maxpagesize=").and_then(|n| n.parse().ok()))
        })
        .unwrap_or(5000)
}

/// Evaluates the `$filter` subset: `col eq 'v'`, `contains(col,'v')` and
/// `endswith(col,'v')` joined by ` or `.
fn matches(row: &Value, filter: &str) -> bool {
    filter.split(" or ").any(|term| {
        let term = term.trim();
        if let Some(inner) = term.strip_prefix("contains(").and_then(|t| t.strip_suffix(')')) {
            let Some((column, value)) = inner.split_once(',') else { return false };
            let value = unquote(value.trim());
            return row
                .get(column.trim())
                .and_then(Value::as_str)
                .is_some_and(|v| v.to_lowercase().contains(&value.to_lowercase()));
        }
        if let Some(inner) = term.strip_prefix("endswith(").and_then(|t| t.strip_suffix(')')) {
            let Some((column, value)) = inner.split_once(',') else { return false };
            let value = unquote(value.trim()).to_lowercase();
            return row.get(column.trim()).and_then(Value::as_str).is_some_and(|v| v.to_lowercase().ends_with(&value));
        }
        let Some((column, value)) = term.split_once(" eq ") else { return false };
        let value = unquote(value.trim());
        row.get(column.trim()).and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(&value))
    })
}

fn unquote(literal: &str) -> String {
    literal.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')).unwrap_or(literal).replace("''", "'")
}

fn query(state: &mut State, request: &Request, set: &str) -> ResponseTemplate {
    let (status, body, applied) = query_answer(state, &request.url, header(request, "prefer"), set);
    let mut template = ResponseTemplate::new(status).set_body_json(body);
    if let Some(applied) = applied {
        template = template.insert_header("Preference-Applied", applied.as_str());
    }
    template
}

/// A `$filter` query on `set` as `url` and `prefer` ask: status, body and the
/// `Preference-Applied` value, if any.
fn query_answer(
    state: &mut State,
    url: &reqwest::Url,
    prefer: Option<String>,
    set: &str,
) -> (u16, Value, Option<String>) {
    let params: HashMap<String, String> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let rows: Vec<Value> = if let Some(token) = params.get("$skiptoken") {
        match state.cursors.remove(token) {
            Some((_, rows)) => rows,
            None => return (400, odata_error_body("0x80040203", "invalid skip token"), None),
        }
    } else {
        let filter = params.get("$filter").cloned().unwrap_or_default();
        state
            .rows
            .get(set)
            .into_iter()
            .flatten()
            .filter(|r| filter.is_empty() || matches(r, &filter))
            .cloned()
            .collect()
    };
    let size = page_size(prefer.as_deref());
    let mut rows = rows;
    let rest = if rows.len() > size { rows.split_off(size) } else { Vec::new() };
    let value: Vec<Value> = rows
        .into_iter()
        .map(|mut r| {
            r["@odata.etag"] = json!("W/\"72201545\"");
            r
        })
        .collect();
    let mut answer = json!({"@odata.context": format!("{}/api/data/v9.2/$metadata#{set}", state.uri), "value": value});
    if !rest.is_empty() {
        state.next_cursor += 1;
        let token = format!("cursor{}", state.next_cursor);
        answer["@odata.nextLink"] = json!(format!("{}/api/data/v9.2/{set}?$skiptoken={token}", state.uri));
        state.cursors.insert(token, (set.to_owned(), rest));
    }
    (200, answer, (size != 5000).then(|| format!("odata.maxpagesize={size}")))
}

/// `POST $batch` (`multipart/mixed`) of GET queries: each part an `application/http`
/// request on this environment, answered by an `application/http` response in a
/// `multipart/mixed` answer, in order; a part that is not a supported GET is a 400 part.
fn batch(state: &mut State, request: &Request) -> ResponseTemplate {
    let content_type = header(request, "content-type").unwrap_or_default();
    let Some(boundary) = content_type
        .strip_prefix("multipart/mixed; boundary=")
        .or_else(|| content_type.strip_prefix("multipart/mixed;boundary="))
    else {
        return odata_error(400, "0x80048d19", "a $batch is multipart/mixed with a boundary");
    };
    let body = String::from_utf8_lossy(&request.body).into_owned();
    let delimiter = format!("--{boundary}");
    if !body.trim_end().ends_with(&format!("{delimiter}--")) {
        return odata_error(400, "0x80048d19", "the $batch body does not close its boundary");
    }
    let mut answer = String::new();
    let out = "batchresponse_fake";
    for part in body.split(delimiter.as_str()).skip(1).filter(|p| !p.starts_with("--")) {
        let (status, json) = match batch_part(state, part) {
            Ok((status, json)) => (status, json),
            Err(message) => (400, odata_error_body("0x80048d19", &message)),
        };
        let reason = if status == 200 { "OK" } else { "Bad Request" };
        answer.push_str(&format!(
            "--{out}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
             HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n{json}\r\n"
        ));
    }
    answer.push_str(&format!("--{out}--\r\n"));
    ResponseTemplate::new(200)
        .insert_header("Content-Type", format!("multipart/mixed; boundary={out}").as_str())
        .insert_header("OData-Version", "4.0")
        .set_body_raw(answer.into_bytes(), &format!("multipart/mixed; boundary={out}"))
}

/// One part of a `$batch`: its GET, checked and run.
fn batch_part(state: &mut State, part: &str) -> Result<(u16, Value), String> {
    let part = part.trim_start_matches(['\r', '\n']);
    let (head, http) = part.split_once("\r\n\r\n").ok_or("a part without headers")?;
    if !head.lines().any(|l| l.eq_ignore_ascii_case("Content-Type: application/http")) {
        return Err("a part that is not application/http".into());
    }
    let mut lines = http.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut words = request_line.split(' ');
    let (Some("GET"), Some(url), Some("HTTP/1.1")) = (words.next(), words.next(), words.next()) else {
        return Err(format!("unsupported request line {request_line:?}"));
    };
    let headers: HashMap<String, String> = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned())))
        .collect();
    if headers.get("accept").map(String::as_str) != Some("application/json") {
        return Err("a part without Accept: application/json".into());
    }
    let url = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    let set = url
        .path()
        .strip_prefix("/api/data/v9.2/")
        .filter(|set| matches!(*set, "contacts" | "leads" | "accounts"))
        .ok_or("an unsupported entity set")?
        .to_owned();
    if !url.as_str().starts_with(&state.uri) {
        return Err("a part addressed to another environment".into());
    }
    state.batched.push(BatchedGet {
        path: url.path().to_owned(),
        query: url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
        headers: headers.clone(),
    });
    let (status, body, _) = query_answer(state, &url, headers.get("prefer").cloned(), &set);
    Ok((status, body))
}

/// Checks every `…@odata.bind` of a body against the stored rows.
fn check_binds(state: &State, body: &Value) -> Option<ResponseTemplate> {
    let object = body.as_object()?;
    for (key, value) in object {
        let binds: Vec<&Value> = if key.ends_with("@odata.bind") {
            vec![value]
        } else if key == "phonecall_activity_parties" {
            value
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_object())
                .flat_map(|p| p.iter().filter(|(k, _)| k.ends_with("@odata.bind")).map(|(_, v)| v))
                .collect()
        } else {
            continue;
        };
        for bind in binds {
            let path = bind.as_str().unwrap_or_default();
            let Some((set, id)) = path.trim_start_matches('/').split_once('(') else {
                return Some(odata_error(400, "0x80048d19", "bad bind"));
            };
            let id = id.trim_end_matches(')');
            let exists = state
                .rows
                .get(set)
                .into_iter()
                .flatten()
                .any(|r| r.get(key_of(set)).and_then(Value::as_str) == Some(id));
            if !exists {
                return Some(not_exist(set.trim_end_matches('s'), id));
            }
        }
    }
    None
}

fn create(state: &mut State, request: &Request, set: &str, body: &Value) -> ResponseTemplate {
    create_with_id(state, request, set, body, Uuid::now_v7().to_string())
}

/// A create (POST, or a PATCH upsert on a client-chosen key that finds no row).
fn create_with_id(state: &mut State, request: &Request, set: &str, body: &Value, id: String) -> ResponseTemplate {
    if let Some(refusal) = check_binds(state, body) {
        return refusal;
    }
    let missing = match set {
        "contacts" | "leads" => body.get("lastname").is_none(),
        "incidents" => {
            !(body.get("customerid_account@odata.bind").is_some()
                || body.get("customerid_contact@odata.bind").is_some())
        }
        _ => false,
    };
    if missing {
        return odata_error(400, "0x80040200", "A required field is missing.");
    }
    state.created_records += 1;
    let mut row = body.clone();
    row[key_of(set)] = json!(id);
    state.rows.entry(set.to_owned()).or_default().push(row.clone());
    if header(request, "prefer").is_some_and(|p| p.contains("return=representation")) {
        row["@odata.context"] = json!(format!("{}/api/data/v9.2/$metadata#{set}/$entity", state.uri));
        return ResponseTemplate::new(201).set_body_json(row);
    }
    ResponseTemplate::new(204)
        .insert_header("OData-EntityId", format!("{}/api/data/v9.2/{set}({id})", state.uri).as_str())
}

fn patch_phonecall(state: &mut State, request: &Request, id: Uuid, body: &Value) -> ResponseTemplate {
    let exists = state.phonecalls.contains_key(&id);
    let if_match = header(request, "if-match");
    let if_none_match = header(request, "if-none-match");
    if if_none_match.as_deref() == Some("*") && exists {
        return odata_error(412, "0x80040237", "A record with matching key values already exists.");
    }
    if if_match.as_deref() == Some("*") && !exists {
        return not_exist("phonecall", id);
    }
    if let Some(refusal) = check_binds(state, body) {
        return refusal;
    }
    match state.phonecalls.get_mut(&id) {
        Some(row) => {
            let closed = row.get("statecode").and_then(Value::as_i64) == Some(1);
            if closed {
                return odata_error(400, "0x80040203", "This phonecall is closed or canceled and cannot be edited.");
            }
            if let (Some(target), Some(update)) = (row.as_object_mut(), body.as_object()) {
                target.extend(update.clone());
            }
        }
        None => {
            if body.get("statecode").is_some() {
                return odata_error(400, "0x80040203", "statecode cannot be set on create");
            }
            let mut row = body.clone();
            row["activityid"] = json!(id.to_string());
            row["statecode"] = json!(0);
            state.phonecalls.insert(id, row);
        }
    }
    ResponseTemplate::new(204)
        .insert_header("OData-EntityId", format!("{}/api/data/v9.2/phonecalls({id})", state.uri).as_str())
}
