//! A fake Salesforce org on `wiremock`, copying the spec's requests and answers (§1, §5):
//! the token endpoint (JWT bearer with a verified RS256 assertion, client credentials),
//! bearer checks with `INVALID_SESSION_ID`, SOSL `IN PHONE FIELDS`, SOQL `WHERE Email =`,
//! paging through `nextRecordsUrl`, creates (201 by POST, or 201/200 upserted on the
//! `Crm_Key__c` external id and read back by it), the Task ext-id upsert (201/200/300,
//! `TaskSubtype` not updateable), `Sforce-Limit-Info`, and fault injection through
//! `POST /__fake__/fault` or `Fake::inject`: the common faults in Salesforce's spelling
//! (a rate limit that clears is 403 `REQUEST_LIMIT_EXCEEDED` for concurrent long
//! transactions, a refused token 401 `INVALID_SESSION_ID`) and [`Fault`]s of its own.

use std::collections::{BTreeMap, HashMap, HashSet};

use crm_testkit::fake_api::{
    FakeApi, FakeServer, Faults, Injected, Meeting, Seen, Tokens, VendorSpelling, delayed, unix_now,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::{Request, ResponseTemplate};

pub(crate) const CONSUMER_KEY: &str = "3MVG9-test-consumer-key";
pub(crate) const USERNAME: &str = "integration@acme.example";
pub(crate) const CLIENT_ID: &str = "cc-client-id";
pub(crate) const CLIENT_SECRET: &str = "cc-client-secret-value";
pub(crate) const PRIVATE_KEY: &str = include_str!("fixtures/rsa_private.pem");
const PUBLIC_KEY: &str = include_str!("fixtures/rsa_public.pem");

/// A failure only Salesforce has, met by the next API request.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Fault {
    /// 403 `REQUEST_LIMIT_EXCEEDED` (24 h quota).
    RequestLimit,
    /// 404 `ENTITY_IS_DELETED`.
    EntityDeleted,
    /// 400 `DUPLICATES_DETECTED` (with the real `duplicateResut` spelling).
    Duplicates,
}

impl From<Fault> for Injected<Fault> {
    fn from(fault: Fault) -> Self {
        Injected::Vendor(fault)
    }
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub uri: String,
    pub tokens: Tokens,
    pub refuse_grant: bool,
    pub records: Vec<Value>,
    pub deleted: HashSet<String>,
    pub tasks: BTreeMap<String, (String, Value)>,
    pub ambiguous_keys: HashSet<String>,
    /// Answer updates of existing Tasks with 204 and no body, as before API v46.
    pub legacy_upsert: bool,
    pub next_id: u32,
    /// Contacts, leads and cases created (by POST or by a keyed upsert).
    pub created_records: usize,
    /// The record of each (object, `Crm_Key__c`) upserted.
    pub keyed: BTreeMap<(String, String), String>,
    pub faults: Faults<Fault>,
    pub query_page_size: usize,
    pub cursors: HashMap<String, Vec<Value>>,
    pub seen: Vec<Seen>,
}

/// The fake service: its state is [`State`].
pub(crate) type Fake = FakeServer<State>;

impl State {
    /// Adds a record of `kind` with the given fields.
    pub(crate) fn seed(&mut self, kind: &str, id: &str, fields: Value) {
        let mut record = json!({"attributes": {"type": kind, "url": format!("/services/data/v62.0/sobjects/{kind}/{id}")}, "Id": id});
        if let (Some(target), Some(extra)) = (record.as_object_mut(), fields.as_object()) {
            target.extend(extra.clone());
        }
        self.records.push(record);
    }
}

fn error(status: u16, code: &str, message: &str, fields: &[&str]) -> ResponseTemplate {
    let (status, body) = error_value(status, code, message, fields);
    ResponseTemplate::new(status).set_body_json(body)
}

fn error_value(status: u16, code: &str, message: &str, fields: &[&str]) -> (u16, Value) {
    (status, json!([{"message": message, "errorCode": code, "fields": fields}]))
}

/// An answer as a status and a JSON body (what the Composite API nests).
fn answer((status, body): (u16, Value)) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// Reads a SOSL/SOQL escaped text: `\x` is `x`.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: i64,
}

impl VendorSpelling for State {
    fn unauthorized() -> ResponseTemplate {
        error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[])
    }

    fn throttled() -> ResponseTemplate {
        error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", &[])
    }

    fn malformed() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw("{\"searchRecords\": [", "application/json")
    }
}

impl FakeApi for State {
    type Fault = Injected<Fault>;

    fn new(uri: String) -> Self {
        State { uri, query_page_size: 2000, ..State::default() }
    }

    fn inject(&mut self, fault: Injected<Fault>) {
        self.faults.push(fault);
    }

    fn respond(&mut self, request: &Request) -> ResponseTemplate {
        let state = self;
        let path = request.url.path().to_owned();
        if path == "/services/oauth2/token" && request.method.as_str() == "POST" {
            return token(state, request);
        }
        let Some(rest) = api_path(&path) else {
            return error(404, "NOT_FOUND", "The requested resource does not exist", &[]);
        };
        api(state, request, &rest)
    }
}

/// The part after `/services/data/vNN.N/` (any version is accepted).
fn api_path(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/services/data/v")?;
    let (version, rest) = rest.split_once('/')?;
    let (major, minor) = version.split_once('.')?;
    (major.chars().chain(minor.chars()).all(|c| c.is_ascii_digit())).then(|| rest.to_owned())
}

fn token(state: &mut State, request: &Request) -> ResponseTemplate {
    let form = state.tokens.grant(request);
    let refused = ResponseTemplate::new(400)
        .set_body_json(json!({"error": "invalid_grant", "error_description": "user hasn't approved this consumer"}));
    if state.refuse_grant {
        return refused;
    }
    match form.get("grant_type").map(String::as_str) {
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let Some(assertion) = form.get("assertion") else { return refused };
            let key = DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("public key");
            let mut validation = Validation::new(Algorithm::RS256);
            validation.set_audience(&["https://login.salesforce.com"]);
            validation.set_issuer(&[CONSUMER_KEY]);
            validation.sub = Some(USERNAME.to_owned());
            validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
            let Ok(data) = jsonwebtoken::decode::<Claims>(assertion, &key, &validation) else { return refused };
            // "A few minutes ahead": refuse assertions valid for more than five.
            if data.claims.exp > unix_now() + 300 || form.contains_key("client_secret") {
                return refused;
            }
        }
        Some("client_credentials") => {
            if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
            {
                return ResponseTemplate::new(400).set_body_json(
                    json!({"error": "invalid_client", "error_description": "invalid client credentials"}),
                );
            }
        }
        _ => return ResponseTemplate::new(400).set_body_json(json!({"error": "unsupported_grant_type"})),
    }
    let token = state.tokens.mint("00Dfake!AR.token-");
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": token, "scope": "web openid api full", "instance_url": state.uri,
        "id": format!("https://login.salesforce.com/id/00D000000000001/005000000000001"), "token_type": "Bearer",
        "issued_at": "1700000000000", "signature": "c2lnbmF0dXJl"
    }))
}

fn api(state: &mut State, request: &Request, rest: &str) -> ResponseTemplate {
    if !state.tokens.accepts_bearer(request) {
        return State::unauthorized();
    }
    let body = Seen::record(&mut state.seen, request);
    let usage = format!("api-usage={}/5000", state.seen.len());
    let delay = match state.faults.meet::<State>(&mut state.tokens) {
        Meeting::Answer(answer) => return answer,
        Meeting::Vendor(Fault::RequestLimit) => {
            return error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", &[]);
        }
        Meeting::Vendor(Fault::EntityDeleted) => return error(404, "ENTITY_IS_DELETED", "entity is deleted", &[]),
        // An alert-level duplicate rule: the create is saved when the request says
        // `allowSave=true` in its `Sforce-Duplicate-Rule-Header`, refused otherwise.
        Meeting::Vendor(Fault::Duplicates) if !allows_save(request) => {
            return ResponseTemplate::new(400).set_body_json(duplicates());
        }
        Meeting::Vendor(Fault::Duplicates) => None,
        Meeting::Proceed(delay) => delay,
        Meeting::ProceedThenAnswer(answer) => {
            route(state, request, rest, &body);
            return answer;
        }
    };
    let answer = route(state, request, rest, &body).insert_header("Sforce-Limit-Info", usage.as_str());
    delayed(answer, delay)
}

fn allows_save(request: &Request) -> bool {
    request
        .headers
        .get("sforce-duplicate-rule-header")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|part| part.trim().eq_ignore_ascii_case("allowSave=true")))
}

fn duplicates() -> Value {
    json!([{"duplicateResut":{"allowSave":false,"duplicateRule":"Standard_Contact_Duplicate_Rule","duplicateRuleEntityType":"Contact",
        "errorMessage":"You're creating a duplicate record. We recommend you use an existing record instead.",
        "matchResults":[{"entityType":"Contact","errors":[],"matchEngine":"FuzzyMatchEngine","matchRecords":[{"additionalInformation":[],
        "fieldDiffs":[],"matchConfidence":100.0,"record":{"attributes":{"type":"Contact","url":"/services/data/v54.0/sobjects/Contact/003D000000DUPE1"},
        "Id":"003D000000DUPE1"}}],"rule":"Standard_Contact_Match_Rule_v1_1","size":1,"success":true}]},
        "errorCode":"DUPLICATES_DETECTED","message":"You're creating a duplicate record. We recommend you use an existing record instead."}])
}

fn query_param(request: &Request, name: &str) -> Option<String> {
    request.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn route(state: &mut State, request: &Request, rest: &str, body: &Value) -> ResponseTemplate {
    let method = request.method.as_str();
    let segments: Vec<&str> = rest.split('/').collect();
    match (method, segments.as_slice()) {
        ("GET", ["search", ""]) => search(state, &query_param(request, "q").unwrap_or_default()),
        ("GET", ["query", ""]) => answer(query(state, &query_param(request, "q").unwrap_or_default())),
        ("GET", ["query", cursor]) => match state.cursors.remove(*cursor) {
            Some(rows) => answer(page(state, rows)),
            None => error(400, "INVALID_QUERY_LOCATOR", "invalid query locator", &[]),
        },
        ("POST", ["composite"]) => composite(state, body),
        ("POST", ["sobjects", object, ""]) => create(state, object, body),
        ("PATCH", ["sobjects", "Task", field, key]) => upsert_task(state, field, &decode(key), body),
        ("PATCH", ["sobjects", object, field, key]) => upsert_record(state, object, field, &decode(key), body),
        ("GET", ["sobjects", object @ ("Contact" | "Lead" | "Case"), "Crm_Key__c", key]) => {
            match state.keyed.get(&((*object).to_owned(), decode(key))) {
                Some(id) => ResponseTemplate::new(200).set_body_json(json!({"attributes": {"type": object}, "Id": id})),
                None => error(404, "NOT_FOUND", "The requested resource does not exist", &[]),
            }
        }
        ("GET", ["sobjects", "Task", field, key]) => {
            let key = decode(key);
            match state.tasks.get(&key) {
                Some((id, _)) if *field == "Interaction_Id__c" => {
                    ResponseTemplate::new(200).set_body_json(json!({"attributes": {"type": "Task"}, "Id": id}))
                }
                _ => error(404, "NOT_FOUND", "The requested resource does not exist", &[]),
            }
        }
        _ => error(404, "NOT_FOUND", "The requested resource does not exist", &[]),
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

fn search(state: &State, sosl: &str) -> ResponseTemplate {
    let (Some(start), Some(end)) = (sosl.find("FIND {"), sosl.find("} IN PHONE FIELDS RETURNING ")) else {
        return error(400, "MALFORMED_SEARCH", "unexpected SOSL", &[]);
    };
    if !(sosl.contains("Contact(") && sosl.contains("Lead(") && sosl.contains("Account(")) {
        return error(400, "MALFORMED_SEARCH", "missing RETURNING objects", &[]);
    }
    let term = digits(&unescape(&sosl[start + 6..end]));
    let hits: Vec<Value> = state
        .records
        .iter()
        .filter(|r| {
            ["Phone", "MobilePhone"].iter().any(|f| {
                r.get(*f).and_then(Value::as_str).is_some_and(|p| {
                    let stored = digits(p);
                    !stored.is_empty() && (stored.ends_with(&term) || term.ends_with(&stored))
                })
            })
        })
        .cloned()
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({ "searchRecords": hits }))
}

/// The Composite API (`POST /composite`): each subrequest a GET of `…/query/?q=…`, answered
/// in order as `{body, httpHeaders, httpStatusCode, referenceId}`; at most 25.
fn composite(state: &mut State, body: &Value) -> ResponseTemplate {
    let Some(requests) = body["compositeRequest"].as_array() else {
        return error(400, "JSON_PARSER_ERROR", "compositeRequest is required", &[]);
    };
    if requests.is_empty() || requests.len() > 25 {
        return error(400, "INVALID_BATCH_REQUEST", "between 1 and 25 subrequests", &[]);
    }
    let mut answers = Vec::new();
    for sub in requests {
        let url = sub["url"].as_str().unwrap_or_default();
        let (status, body) = match (sub["method"].as_str(), Url::parse(&format!("http://x{url}"))) {
            (Some("GET"), Ok(parsed)) if api_path(parsed.path()).as_deref() == Some("query/") => {
                let q = parsed.query_pairs().find(|(k, _)| k == "q").map(|(_, v)| v.into_owned());
                query(state, &q.unwrap_or_default())
            }
            _ => error_value(400, "NOT_FOUND", "unsupported subrequest", &[]),
        };
        answers.push(
            json!({"body": body, "httpHeaders": {}, "httpStatusCode": status, "referenceId": sub["referenceId"]}),
        );
    }
    ResponseTemplate::new(200).set_body_json(json!({"compositeResponse": answers}))
}

fn query(state: &mut State, soql: &str) -> (u16, Value) {
    let Some(from) = soql.find(" FROM ") else { return error_value(400, "MALFORMED_QUERY", "no FROM", &[]) };
    let object: String = soql[from + 6..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let Some(at) = soql.find("WHERE Email = '") else {
        return error_value(400, "MALFORMED_QUERY", "unsupported", &[]);
    };
    // The literal ends at the first unescaped quote.
    let mut literal = String::new();
    let mut chars = soql[at + 15..].chars();
    loop {
        match chars.next() {
            Some('\\') => {
                if let Some(n) = chars.next() {
                    literal.push(n);
                }
            }
            Some('\'') => break,
            Some(c) => literal.push(c),
            None => return error_value(400, "MALFORMED_QUERY", "unterminated literal", &[]),
        }
    }
    let rows: Vec<Value> = state
        .records
        .iter()
        .filter(|r| r["attributes"]["type"] == object.as_str())
        .filter(|r| r.get("Email").and_then(Value::as_str).is_some_and(|e| e.eq_ignore_ascii_case(&literal)))
        .cloned()
        .collect();
    page(state, rows)
}

fn page(state: &mut State, mut rows: Vec<Value>) -> (u16, Value) {
    let total = rows.len();
    let rest = if rows.len() > state.query_page_size { rows.split_off(state.query_page_size) } else { Vec::new() };
    let mut answer = json!({"totalSize": total, "done": rest.is_empty(), "records": rows});
    if !rest.is_empty() {
        state.next_id += 1;
        let cursor = format!("01gD0000002HU6KIAW-{}", state.next_id);
        answer["nextRecordsUrl"] = json!(format!("/services/data/v62.0/query/{cursor}"));
        state.cursors.insert(cursor, rest);
    }
    (200, answer)
}

fn create(state: &mut State, object: &str, body: &Value) -> ResponseTemplate {
    match create_row(state, object, body) {
        Ok(id) => ResponseTemplate::new(201).set_body_json(json!({"id": id, "errors": [], "success": true})),
        Err(refusal) => *refusal,
    }
}

fn create_row(state: &mut State, object: &str, body: &Value) -> Result<String, Box<ResponseTemplate>> {
    let required: &[&str] = match object {
        "Contact" => &["LastName"],
        "Lead" => &["LastName", "Company"],
        "Account" => &["Name"],
        "Case" => &[],
        _ => return Err(Box::new(error(404, "NOT_FOUND", "The requested resource does not exist", &[]))),
    };
    let missing: Vec<&str> = required.iter().copied().filter(|f| body.get(*f).is_none()).collect();
    if !missing.is_empty() {
        return Err(Box::new(error(
            400,
            "REQUIRED_FIELD_MISSING",
            &format!("Required fields are missing: [{}]", missing.join(", ")),
            &missing,
        )));
    }
    state.next_id += 1;
    let prefix = match object {
        "Contact" => "003",
        "Lead" => "00Q",
        "Account" => "001",
        _ => "500",
    };
    state.created_records += 1;
    Ok(format!("{prefix}D00000{:09}", state.next_id))
}

/// The upsert of a contact, lead or case on the `Crm_Key__c` external-id field: 201 with
/// `created: true`, or 200 with `created: false` for a key already used.
fn upsert_record(state: &mut State, object: &str, field: &str, key: &str, body: &Value) -> ResponseTemplate {
    if field != "Crm_Key__c" {
        return error(404, "NOT_FOUND", "The requested resource does not exist", &[]);
    }
    let slot = (object.to_owned(), key.to_owned());
    if let Some(id) = state.keyed.get(&slot) {
        return ResponseTemplate::new(200)
            .set_body_json(json!({"id": id, "errors": [], "success": true, "created": false}));
    }
    match create_row(state, object, body) {
        Ok(id) => {
            state.keyed.insert(slot, id.clone());
            ResponseTemplate::new(201).set_body_json(json!({"id": id, "errors": [], "success": true, "created": true}))
        }
        Err(refusal) => *refusal,
    }
}

fn upsert_task(state: &mut State, field: &str, key: &str, body: &Value) -> ResponseTemplate {
    if field != "Interaction_Id__c" {
        return error(404, "NOT_FOUND", "The requested resource does not exist", &[]);
    }
    if state.ambiguous_keys.contains(key) {
        return ResponseTemplate::new(300).set_body_json(json!([
            "/services/data/v62.0/sobjects/Task/00T1",
            "/services/data/v62.0/sobjects/Task/00T2"
        ]));
    }
    for link in ["WhoId", "WhatId"] {
        if let Some(id) = body.get(link).and_then(Value::as_str)
            && state.deleted.contains(id)
        {
            return error(404, "ENTITY_IS_DELETED", "entity is deleted", &[link]);
        }
    }
    if let Some((id, stored)) = state.tasks.get_mut(key) {
        if body.get("TaskSubtype").is_some() {
            return error(
                400,
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                "Unable to create/update fields: TaskSubtype. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
                &["TaskSubtype"],
            );
        }
        if let (Some(target), Some(update)) = (stored.as_object_mut(), body.as_object()) {
            target.extend(update.clone());
        }
        if state.legacy_upsert {
            return ResponseTemplate::new(204);
        }
        return ResponseTemplate::new(200)
            .set_body_json(json!({"id": id, "errors": [], "success": true, "created": false}));
    }
    state.next_id += 1;
    let id = format!("00TD00000{:09}", state.next_id);
    state.tasks.insert(key.to_owned(), (id.clone(), body.clone()));
    ResponseTemplate::new(201).set_body_json(json!({"id": id, "errors": [], "success": true, "created": true}))
}
