//! The harness of the connector crates' protocol fakes (feature `fake-api`): a `wiremock`
//! server that hands every request to one [`FakeApi`] state, which the test reads and
//! changes through [`FakeServer::state`]. Each connector's fake implements its vendor's
//! protocol on its state; what they share lives here:
//! - fault injection, from the test or as JSON posted to [`FAULT_PATH`] by a process that
//!   only has the URL: the [`CommonFault`]s every fake answers in its vendor's spelling
//!   ([`VendorSpelling`]), queued with the vendor's own faults in [`Faults`];
//! - the bearer tokens a fake issued and the grants it received ([`Tokens`]);
//! - the record of the API requests seen ([`Seen`]), and request helpers.
//!
//! ```
//! use crm_testkit::fake_api::{FakeApi, FakeServer};
//! use wiremock::{Request, ResponseTemplate};
//!
//! #[derive(Default)]
//! struct Echo {
//!     faults: Vec<u16>,
//! }
//!
//! impl FakeApi for Echo {
//!     type Fault = u16;
//!     fn new(_uri: String) -> Self {
//!         Echo::default()
//!     }
//!     fn inject(&mut self, status: u16) {
//!         self.faults.push(status);
//!     }
//!     fn respond(&mut self, request: &Request) -> ResponseTemplate {
//!         ResponseTemplate::new(self.faults.pop().unwrap_or(200)).set_body_string(request.url.path())
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let fake = FakeServer::<Echo>::start().await;
//! fake.inject(503u16);
//! assert_eq!(fake.state().faults, [503]);
//! # });
//! ```

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Where a fault posted as JSON is injected.
pub const FAULT_PATH: &str = "/__fake__/fault";

/// A fake API's state and protocol.
pub trait FakeApi: Send + 'static {
    /// A failure that later requests meet, as the test describes it (and as the JSON
    /// posted to [`FAULT_PATH`]).
    type Fault: DeserializeOwned;

    /// The state of a fake that has just started at `uri`.
    fn new(uri: String) -> Self;

    /// Queues `fault`.
    fn inject(&mut self, fault: Self::Fault);

    /// The answer to `request` (any request but those to [`FAULT_PATH`]).
    fn respond(&mut self, request: &Request) -> ResponseTemplate;
}

/// A running fake: the `wiremock` server and the state behind it.
pub struct FakeServer<S> {
    /// The server (stops when the last clone is dropped).
    server: Arc<MockServer>,
    state: Arc<Mutex<S>>,
}

impl<S> std::fmt::Debug for FakeServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer").field("uri", &self.server.uri()).finish_non_exhaustive()
    }
}

impl<S> Clone for FakeServer<S> {
    fn clone(&self) -> Self {
        Self { server: Arc::clone(&self.server), state: Arc::clone(&self.state) }
    }
}

impl<S: FakeApi> FakeServer<S> {
    /// Starts a server on a free local port, with [`FakeApi::new`]'s state.
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(S::new(server.uri())));
        Mock::given(any()).respond_with(Responder(Arc::clone(&state))).mount(&server).await;
        Self { server: Arc::new(server), state }
    }

    /// The server's base URI (`http://127.0.0.1:PORT`).
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    /// The state, locked (a test that panicked while holding it does not poison it for
    /// the others).
    pub fn state(&self) -> MutexGuard<'_, S> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `fault` for the next requests.
    pub fn inject(&self, fault: impl Into<S::Fault>) {
        self.state().inject(fault.into());
    }
}

struct Responder<S>(Arc<Mutex<S>>);

impl<S: FakeApi> Respond for Responder<S> {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if request.url.path() == FAULT_PATH {
            return match serde_json::from_slice::<S::Fault>(&request.body) {
                Ok(fault) => {
                    state.inject(fault);
                    ResponseTemplate::new(204)
                }
                Err(_) => ResponseTemplate::new(400),
            };
        }
        state.respond(request)
    }
}

/// A failure every connector fake understands; each answers it in its vendor's spelling.
/// Posted to [`FAULT_PATH`] as JSON: `"unavailable"`, `{"slow_ms": 600}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommonFault {
    /// A rate limit that clears within seconds ([`VendorSpelling::throttled`]).
    Throttled,
    /// 503 with no body.
    Unavailable,
    /// Every token issued so far is revoked: this request meets the vendor's 401, and
    /// tokens minted afterwards are good.
    ExpireTokens,
    /// Every token, issued or to come, is refused from this request on.
    RefuseTokens,
    /// 200 with a JSON body that breaks off; the request is not carried out.
    Malformed,
    /// The request is carried out (a write commits), then answered like [`Self::Malformed`]:
    /// the remote acted but its answer is unreadable.
    CommittedMalformed,
    /// The answer comes after this many milliseconds.
    SlowMs(u64),
}

/// A fault queued in a vendor's fake: a common one, or one only that vendor has. Its JSON
/// form is the inner fault's (common faults are tried first).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Injected<V> {
    /// A fault every fake answers.
    Common(CommonFault),
    /// A fault of this vendor.
    Vendor(V),
}

/// A common fault goes into any fake's queue (a fake's own faults get their `From` in the
/// connector crate: `impl From<Fault> for Injected<Fault>`).
impl<V> From<CommonFault> for Injected<V> {
    fn from(fault: CommonFault) -> Self {
        Injected::Common(fault)
    }
}

/// The vendor faults of a fake that has none of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum NoVendorFault {}

/// How a vendor answers the common faults; each fake implements it on its state.
pub trait VendorSpelling {
    /// A refused token: the vendor's 401.
    fn unauthorized() -> ResponseTemplate;
    /// A rate limit that clears within seconds.
    fn throttled() -> ResponseTemplate;
    /// A 200 whose JSON body breaks off.
    fn malformed() -> ResponseTemplate;
}

/// What the next queued fault does to an API request.
#[derive(Debug)]
pub enum Meeting<V> {
    /// Answer this at once.
    Answer(ResponseTemplate),
    /// A vendor fault: the fake answers it.
    Vendor(V),
    /// Serve the request, after this delay when there is one.
    Proceed(Option<Duration>),
    /// Serve the request (a write commits), but answer with this instead of its answer.
    ProceedThenAnswer(ResponseTemplate),
}

/// The faults queued in a fake, met one per API request, in order.
#[derive(Debug)]
pub struct Faults<V> {
    queue: VecDeque<Injected<V>>,
}

impl<V> Default for Faults<V> {
    fn default() -> Self {
        Self { queue: VecDeque::new() }
    }
}

impl<V> Faults<V> {
    /// Queues `fault`.
    pub fn push(&mut self, fault: Injected<V>) {
        self.queue.push_back(fault);
    }

    /// How many faults wait.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Takes the next fault for an API request that passed authentication; a common fault
    /// is answered in `S`'s spelling (and revokes or refuses `tokens` when it says so).
    pub fn meet<S: VendorSpelling>(&mut self, tokens: &mut Tokens) -> Meeting<V> {
        let Some(fault) = self.queue.pop_front() else { return Meeting::Proceed(None) };
        let fault = match fault {
            Injected::Vendor(fault) => return Meeting::Vendor(fault),
            Injected::Common(fault) => fault,
        };
        Meeting::Answer(match fault {
            CommonFault::Throttled => S::throttled(),
            CommonFault::Unavailable => ResponseTemplate::new(503),
            CommonFault::ExpireTokens => {
                tokens.revoke_all();
                S::unauthorized()
            }
            CommonFault::RefuseTokens => {
                tokens.refuse_all();
                S::unauthorized()
            }
            CommonFault::Malformed => S::malformed(),
            CommonFault::CommittedMalformed => return Meeting::ProceedThenAnswer(S::malformed()),
            CommonFault::SlowMs(ms) => return Meeting::Proceed(Some(Duration::from_millis(ms))),
        })
    }
}

/// `answer`, sent after `delay` when there is one.
pub fn delayed(answer: ResponseTemplate, delay: Option<Duration>) -> ResponseTemplate {
    match delay {
        Some(delay) => answer.set_delay(delay),
        None => answer,
    }
}

/// The bearer tokens a fake's token endpoint issued, and the grants it received.
#[derive(Debug, Default)]
pub struct Tokens {
    live: HashSet<String>,
    refuse_all: bool,
    /// How many tokens were minted.
    pub minted: usize,
    /// The form of every grant request, in order.
    pub grants: Vec<HashMap<String, String>>,
}

impl Tokens {
    /// Records the form of a grant request and returns it.
    pub fn grant(&mut self, request: &Request) -> HashMap<String, String> {
        let fields = form(&request.body);
        self.grants.push(fields.clone());
        fields
    }

    /// A new live token: `prefix` and the count of tokens minted so far.
    pub fn mint(&mut self, prefix: &str) -> String {
        self.minted += 1;
        let token = format!("{prefix}{}", self.minted);
        self.live.insert(token.clone());
        token
    }

    /// Whether `token` is live and tokens are not all refused.
    pub fn accepts(&self, token: &str) -> bool {
        !self.refuse_all && self.live.contains(token)
    }

    /// Whether `request` carries an accepted `Authorization: Bearer` token.
    pub fn accepts_bearer(&self, request: &Request) -> bool {
        bearer(request).is_some_and(|token| self.accepts(&token))
    }

    /// Revokes every token issued so far.
    pub fn revoke_all(&mut self) {
        self.live.clear();
    }

    /// Refuses every token from now on, including those minted later.
    pub fn refuse_all(&mut self) {
        self.refuse_all = true;
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(request: &Request) -> Option<String> {
    header(request, "authorization").and_then(|value| value.strip_prefix("Bearer ").map(str::to_owned))
}

/// One API request as the fake received it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// `GET`, `POST`, …
    pub method: String,
    /// The URL's path.
    pub path: String,
    /// The query's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers, names in lower case (the last value of a repeated header).
    pub headers: HashMap<String, String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl Seen {
    /// The record of `request`.
    pub fn of(request: &Request) -> Self {
        Self {
            method: request.method.to_string(),
            path: request.url.path().to_owned(),
            query: request.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
            headers: request
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                .collect(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
        }
    }

    /// Records `request` in `log` and returns its JSON body.
    pub fn record(log: &mut Vec<Seen>, request: &Request) -> Value {
        let seen = Seen::of(request);
        let body = seen.body.clone();
        log.push(seen);
        body
    }

    /// The value of query parameter `name`, if sent.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The fields of an `application/x-www-form-urlencoded` body, decoded.
pub fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The value of header `name`, when it is text.
pub fn header(request: &Request, name: &str) -> Option<String> {
    request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Seconds since the Unix epoch, by the system clock (token expiries, signed timestamps).
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Counter {
        faults: Vec<String>,
        seen: Vec<Seen>,
    }

    impl FakeApi for Counter {
        type Fault = String;
        fn new(_: String) -> Self {
            Counter::default()
        }
        fn inject(&mut self, fault: String) {
            self.faults.push(fault);
        }
        fn respond(&mut self, request: &Request) -> ResponseTemplate {
            self.seen.push(Seen::of(request));
            ResponseTemplate::new(200)
        }
    }

    #[tokio::test]
    async fn faults_posted_over_http_reach_the_state_and_other_requests_are_recorded() {
        let fake = FakeServer::<Counter>::start().await;
        let post = |path: &str, body: &'static str| {
            reqwest::Client::new()
                .post(format!("{}{path}", fake.uri()))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        assert_eq!(post(FAULT_PATH, "\"slow\"").await.unwrap().status(), 204);
        assert_eq!(post(FAULT_PATH, "not json").await.unwrap().status(), 400);
        assert_eq!(post("/api/x?a=1&b=%C3%A9", "{\"k\":2}").await.unwrap().status(), 200);
        let state = fake.state();
        assert_eq!(state.faults, ["slow"]);
        assert_eq!(state.seen.len(), 1);
        let seen = &state.seen[0];
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/api/x"));
        assert_eq!(seen.query_param("b"), Some("é"));
        assert_eq!(seen.body["k"], 2);
        assert_eq!(seen.headers.get("content-type").map(String::as_str), Some("application/json"));
    }

    #[test]
    fn forms_are_decoded() {
        let f = form(b"grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&a+b=c+d");
        assert_eq!(f["grant_type"], "client_credentials");
        assert_eq!(f["scope"], "https://x/.default");
        assert_eq!(f["a b"], "c d");
    }
}
