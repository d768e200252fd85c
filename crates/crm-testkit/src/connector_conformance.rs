//! The connector conformance suite (feature `fake-api`): how every
//! [`ExternalCrm`] adapter behaves when its remote fails, as one definition that each
//! connector crate runs against its own protocol fake, the way every store runs the store
//! conformance suite.
//!
//! A connector crate implements [`ConnectorHarness`] (seed its fake, build the connector
//! pointed at it with the suite's HTTP settings, sample inputs) and [`Observe`] on its
//! fake's state (what the fake saw); its fake answers the [`CommonFault`]s the suite
//! injects. It gets one `#[test]` per behaviour with [`crate::connector_conformance_tests!`]:
//!
//! ```text
//! // crates/crm-connector-dynamics/tests/it/conformance.rs
//! crm_testkit::connector_conformance_tests!(crate::conformance::Dataverse);
//! ```
//!
//! How a vendor spells each fault (Salesforce's 403 `REQUEST_LIMIT_EXCEEDED`, Dataverse's
//! 429 with `Retry-After`, NetSuite's 429 `CONCURRENCY_LIMIT_EXCEEDED`) is the fake's
//! business ([`crate::fake_api::VendorSpelling`]); the suite only states the outcome the
//! core relies on: which failures are retried inside a call, which end it, and as which
//! [`ConnectorError`]. Faults only some vendors have (a daily quota, a long `Retry-After`,
//! duplicate rules) are tested in their crate.
//!
//! The functions here are test bodies: a failed `expect` is a failed test.
#![allow(clippy::unwrap_used)]

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use crm_core::ConnectorError;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject, ExternalPerson, ExternalRecord, ExternalRef};
use crm_core::interaction::{Channel, Direction};
use crm_core::ports::ExternalCrm;
use serde_json::{Value, json};

use crate::fake_api::{CommonFault, FAULT_PATH, FakeApi, FakeServer};

/// How many times the suite's connectors retry a failed attempt.
pub const MAX_RETRIES: u32 = 2;

/// The per-attempt timeout of the suite's connectors, in milliseconds.
pub const TIMEOUT_MS: u64 = 1_000;

/// The per-attempt timeout of the connector the slow-answer test builds, in milliseconds.
pub const SHORT_TIMEOUT_MS: u64 = 150;

/// How late a [`CommonFault::SlowMs`] answer comes in the slow-answer test.
pub const SLOW_ANSWER_MS: u64 = 600;

/// The `http` table of a connector configuration (crm-connector-http's `HttpSettings`)
/// with a per-attempt timeout of `timeout_ms`: [`MAX_RETRIES`] retries, millisecond
/// backoff, and a `Retry-After` ceiling of 200 ms.
pub fn http_settings(timeout_ms: u64) -> Value {
    json!({
        "timeout_ms": timeout_ms,
        "max_retries": MAX_RETRIES,
        "base_delay_ms": 5,
        "max_delay_ms": 20,
        "max_retry_after_ms": 200,
    })
}

/// What a fake saw, in the terms the suite checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// API requests that passed authentication (token requests and requests refused for
    /// their credentials are not counted).
    pub api_requests: usize,
    /// Tokens the fake's token endpoint issued.
    pub tokens_issued: usize,
    /// Activities the fake stores.
    pub activities: usize,
    /// Records (contacts, leads, cases) the fake's creates made.
    pub records_created: usize,
}

/// What a connector fake's state tells the suite.
pub trait Observe {
    /// What the fake saw so far.
    fn observed(&self) -> Observed;
}

/// A connector crate's side of the suite: its fake, how to point a connector at it, and
/// sample inputs the fake accepts.
#[async_trait]
pub trait ConnectorHarness: Send + Sync + Sized + 'static {
    /// The state of the vendor's protocol fake; common faults go into its queue.
    type Fake: FakeApi<Fault: From<CommonFault>> + Observe;

    /// The connector under test.
    type Connector: ExternalCrm;

    /// Seeds a freshly started `fake` so that [`Self::phone`] finds at least one record and
    /// [`Self::activity`] targets a record that exists, and builds a connector that
    /// authenticates with bearer tokens against it, with `http` as its `http`
    /// configuration (see [`http_settings`]).
    async fn connect(fake: &FakeServer<Self::Fake>, http: Value) -> Self::Connector;

    /// How many access tokens `connector` minted.
    fn tokens_minted(connector: &Self::Connector) -> u64;

    /// A phone number the seeded records answer to.
    fn phone() -> PhoneNumber;

    /// A creation the fake accepts.
    fn creation() -> ExternalCreate;

    /// Seeds a contact named `Form <n>` whose phone is stored as `written`, as a person
    /// typed it.
    fn seed_phone(fake: &mut Self::Fake, n: usize, written: &str);

    /// How many API requests a phone or email search makes when every table fits one
    /// page: what a screen pop with external search costs per system (docs/benchmarks.md;
    /// the target is one).
    fn search_requests() -> usize;

    /// An activity push the fake accepts, with `key` as its external key.
    fn activity(key: &str) -> ActivityPush;
}

/// A started fake and the connector pointed at it.
struct Running<H: ConnectorHarness> {
    fake: FakeServer<H::Fake>,
    crm: H::Connector,
}

impl<H: ConnectorHarness> Running<H> {
    async fn start(http: Value) -> Self {
        let fake = FakeServer::start().await;
        let crm = H::connect(&fake, http).await;
        Self { fake, crm }
    }

    fn inject(&self, fault: CommonFault) {
        self.fake.inject(fault);
    }

    fn observed(&self) -> Observed {
        self.fake.state().observed()
    }

    fn tokens_minted(&self) -> u64 {
        H::tokens_minted(&self.crm)
    }

    async fn search(&self) -> Result<Vec<ExternalRecord>, ConnectorError> {
        self.crm.find_by_phone(&H::phone()).await
    }
}

/// Expands to one `#[test]` per connector conformance test, each starting its own harness.
///
/// ```text
/// crm_testkit::connector_conformance_tests!(crate::conformance::SalesforceOrg);
/// ```
///
/// The argument is a type implementing [`ConnectorHarness`]. Each test starts its own fake
/// and connector on its own tokio runtime, so the calling crate needs no test macro of its own.
#[macro_export]
macro_rules! connector_conformance_tests {
    ($harness:ty) => {
        $crate::__connector_conformance_tests!(
            $harness;
            a_rate_limit_that_clears_is_waited_out,
            a_rate_limit_that_outlasts_the_retries_ends_rate_limited,
            a_transient_503_is_retried_for_a_search,
            a_phone_search_finds_five_written_forms_and_no_other_number,
            a_transient_503_is_retried_for_the_activity_upsert,
            a_persistent_503_ends_as_a_retryable_transport_error,
            a_create_is_resent_after_a_503_and_leaves_one_record,
            a_create_that_timed_out_after_the_remote_committed_leaves_one_record,
            a_create_answered_with_broken_json_is_confirmed_or_retried,
            creating_twice_with_one_key_leaves_one_record,
            a_slow_answer_times_out_as_transport,
            an_expired_token_is_renewed_once_and_the_call_retried,
            a_token_expiring_during_a_search_is_renewed_once,
            a_token_refused_after_renewal_is_an_auth_error,
            a_malformed_answer_is_a_decode_error,
            a_push_answered_with_broken_json_is_not_a_delivery,
            a_push_committed_but_answered_with_broken_json_is_confirmed,
            a_push_that_timed_out_after_the_remote_committed_leaves_one_activity,
            faults_posted_to_the_admin_route_are_met,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __connector_conformance_tests {
    ($harness:ty; $($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::block_on($crate::connector_conformance::$name::<$harness>());
            }
        )+
    };
}

/// The attempts one call makes at most.
fn attempts() -> usize {
    usize::try_from(MAX_RETRIES).unwrap() + 1
}

/// Runs a phone search with no fault queued: its records, and how many API requests it
/// took.
async fn unfaulted_search<H: ConnectorHarness>(harness: &Running<H>) -> (Vec<ExternalRecord>, usize) {
    let before = harness.observed().api_requests;
    let found = harness.search().await.expect("an unfaulted search succeeds");
    assert!(!found.is_empty(), "the harness seeds a record the phone search finds");
    (found, harness.observed().api_requests - before)
}

/// Searches again and checks the answer is the unfaulted one, reached with `extra` more
/// API requests than the unfaulted search took.
async fn search_again<H: ConnectorHarness>(
    harness: &Running<H>,
    expected: &(Vec<ExternalRecord>, usize),
    extra: usize,
) {
    let before = harness.observed().api_requests;
    let found = harness.search().await.expect("the search succeeds");
    assert_eq!(found, expected.0);
    assert_eq!(harness.observed().api_requests - before, expected.1 + extra, "API requests of the search");
}

async fn search_error<H: ConnectorHarness>(harness: &Running<H>) -> ConnectorError {
    harness.search().await.expect_err("the search fails")
}

/// A rate limit that clears within seconds is waited out inside the call, and the call
/// succeeds with one more request.
pub async fn a_rate_limit_that_clears_is_waited_out<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let unfaulted = unfaulted_search(&harness).await;
    harness.inject(CommonFault::Throttled);
    search_again(&harness, &unfaulted, 1).await;
}

/// A rate limit met by every attempt ends the call `RateLimited`, after exactly
/// `MAX_RETRIES + 1` attempts.
pub async fn a_rate_limit_that_outlasts_the_retries_ends_rate_limited<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    for _ in 0..attempts() {
        harness.inject(CommonFault::Throttled);
    }
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::RateLimited { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(harness.observed().api_requests, attempts());
}

/// A phone search finds contacts whose number is stored in five written forms, and not a
/// neighbouring number nor another country's number with the same last digits, in the
/// vendor's known number of requests.
pub async fn a_phone_search_finds_five_written_forms_and_no_other_number<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let forms = ["(415) 555-0103", "415-555-0103", "+1 415 555 0103", "415.555.0103", "4155550103"];
    {
        let mut fake = harness.fake.state();
        for (n, written) in forms.iter().enumerate() {
            H::seed_phone(&mut fake, n, written);
        }
        H::seed_phone(&mut fake, 8, "(415) 555-0104");
        H::seed_phone(&mut fake, 9, "+44 20 7946 0103");
    }
    let before = harness.observed().api_requests;
    let phone = PhoneNumber::from_e164("+14155550103").unwrap();
    let found = harness.crm.find_by_phone(&phone).await.expect("the search succeeds");
    let mut names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Form 0", "Form 1", "Form 2", "Form 3", "Form 4"], "{found:?}");
    assert_eq!(harness.observed().api_requests - before, H::search_requests(), "requests of one phone search");
}

/// A search (idempotent) is sent again after a 503.
pub async fn a_transient_503_is_retried_for_a_search<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let unfaulted = unfaulted_search(&harness).await;
    harness.inject(CommonFault::Unavailable);
    search_again(&harness, &unfaulted, 1).await;
}

/// The activity push is an upsert keyed by the activity, so it is sent again after a 503
/// and the remote holds one activity.
pub async fn a_transient_503_is_retried_for_the_activity_upsert<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::Unavailable);
    let pushed = harness.crm.push_activity(&H::activity("INT-9")).await.expect("the push succeeds");
    assert_eq!(pushed.object, ExternalObject::Activity);
    assert_eq!(harness.observed().activities, 1);
}

/// A 503 met by every attempt ends the call as a retryable `Transport` error, after
/// exactly `MAX_RETRIES + 1` attempts.
pub async fn a_persistent_503_ends_as_a_retryable_transport_error<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    for _ in 0..attempts() {
        harness.inject(CommonFault::Unavailable);
    }
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(harness.observed().api_requests, attempts());
}

/// The key of the suite's creates.
const CREATE_KEY: &str = "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f-contact-1";

/// A create is keyed (ext-id upsert, create-only write on a derived id, `eid:` upsert), so
/// it is sent again after a 503 and the remote holds one record.
pub async fn a_create_is_resent_after_a_503_and_leaves_one_record<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::Unavailable);
    let created = harness.crm.create(CREATE_KEY, &H::creation()).await.expect("the resent create succeeds");
    assert_eq!(created.object, H::creation().object());
    assert_eq!(harness.observed().records_created, 1);
}

/// A create whose answer comes after the timeout, though the remote carried it out, is
/// sent again and finds the record the first attempt made: still one record.
pub async fn a_create_that_timed_out_after_the_remote_committed_leaves_one_record<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(SHORT_TIMEOUT_MS)).await;
    harness.inject(CommonFault::SlowMs(SLOW_ANSWER_MS));
    harness.crm.create(CREATE_KEY, &H::creation()).await.expect("the resent create succeeds");
    assert_eq!(harness.observed().records_created, 1);
}

/// A create the remote carried out but answered with a body that breaks off is confirmed
/// by its key; one the remote did not carry out is a retryable failure, never a reference
/// to a record that does not exist.
pub async fn a_create_answered_with_broken_json_is_confirmed_or_retried<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::CommittedMalformed);
    let first = harness.crm.create(CREATE_KEY, &H::creation()).await.expect("the committed create is confirmed");
    assert_eq!(harness.observed().records_created, 1);
    assert_eq!(harness.crm.create(CREATE_KEY, &H::creation()).await.expect("sent again"), first);

    harness.inject(CommonFault::Malformed);
    let other = "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f-contact-2";
    let error = harness.crm.create(other, &H::creation()).await.expect_err("an unconfirmed create fails");
    assert!(error.is_retryable(), "{error:?}");
    assert_eq!(harness.observed().records_created, 1);
    harness.crm.create(other, &H::creation()).await.expect("the retried create succeeds");
    assert_eq!(harness.observed().records_created, 2);
}

/// Creating twice with one key returns the same record and leaves one.
pub async fn creating_twice_with_one_key_leaves_one_record<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let first = harness.crm.create(CREATE_KEY, &H::creation()).await.expect("created");
    let second = harness.crm.create(CREATE_KEY, &H::creation()).await.expect("found again");
    assert_eq!(first, second);
    assert_eq!(harness.observed().records_created, 1);
}

/// An answer slower than the per-attempt timeout is a `Transport` error once every
/// attempt has timed out.
pub async fn a_slow_answer_times_out_as_transport<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(SHORT_TIMEOUT_MS)).await;
    unfaulted_search(&harness).await;
    for _ in 0..attempts() {
        harness.inject(CommonFault::SlowMs(SLOW_ANSWER_MS));
    }
    let before = harness.observed().api_requests;
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
    assert_eq!(harness.observed().api_requests - before, attempts());
}

/// A token the remote stopped accepting is renewed once and the call retried with the
/// new one: the caller sees no failure.
pub async fn an_expired_token_is_renewed_once_and_the_call_retried<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let unfaulted = unfaulted_search(&harness).await;
    harness.inject(CommonFault::ExpireTokens);
    search_again(&harness, &unfaulted, 1).await;
    assert_eq!(harness.tokens_minted(), 2);
    assert_eq!(harness.observed().tokens_issued, 2);
}

/// A token that expires during an email search is renewed once and the search completes,
/// in the vendor's known number of requests plus the one sent again. Where a search takes
/// several requests the token expires between them (the second meets the 401).
pub async fn a_token_expiring_during_a_search_is_renewed_once<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let email = EmailAddress::parse("nobody@example.com").unwrap();
    let before = harness.observed().api_requests;
    harness.crm.find_by_email(&email).await.expect("an unfaulted email search");
    let requests = harness.observed().api_requests - before;
    assert_eq!(requests, H::search_requests(), "requests of one email search");
    if requests >= 2 {
        harness.inject(CommonFault::SlowMs(0));
    }
    harness.inject(CommonFault::ExpireTokens);
    let before = harness.observed().api_requests;
    harness.crm.find_by_email(&email).await.expect("the search survives the expiry");
    assert_eq!(harness.observed().api_requests - before, requests + 1, "one request is sent again");
    assert_eq!(harness.tokens_minted(), 2);
}

/// When the renewed token is refused too, the call ends `Auth` after exactly one renewal.
pub async fn a_token_refused_after_renewal_is_an_auth_error<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    unfaulted_search(&harness).await;
    harness.inject(CommonFault::RefuseTokens);
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::Auth { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(harness.tokens_minted(), 2, "exactly one forced renewal");
    assert_eq!(harness.observed().tokens_issued, 2);
}

/// A success whose body is not the expected JSON is a `Decode` error, not an empty answer.
pub async fn a_malformed_answer_is_a_decode_error<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::Malformed);
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::Decode { .. }), "{error:?}");
}

/// A push whose write is answered 200 with a body that breaks off, and that the remote did
/// not carry out, is a retryable failure (the outbox tries it again), never a success; the
/// next delivery writes the one activity.
pub async fn a_push_answered_with_broken_json_is_not_a_delivery<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::Malformed);
    let error = harness.crm.push_activity(&H::activity("INT-31")).await.expect_err("an unconfirmed push fails");
    assert!(error.is_retryable(), "{error:?}");
    assert!(error.explain().contains("not confirmed"), "{}", error.explain());
    assert_eq!(harness.observed().activities, 0);
    harness.crm.push_activity(&H::activity("INT-31")).await.expect("the retried push succeeds");
    assert_eq!(harness.observed().activities, 1);
}

/// A push the remote carried out but answered with a body that breaks off is confirmed by
/// reading the activity back by its key: a success, one activity.
pub async fn a_push_committed_but_answered_with_broken_json_is_confirmed<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    harness.inject(CommonFault::CommittedMalformed);
    let pushed = harness.crm.push_activity(&H::activity("INT-32")).await.expect("the push is confirmed");
    assert_eq!(pushed.object, ExternalObject::Activity);
    assert_eq!(harness.observed().activities, 1);
    let again = harness.crm.push_activity(&H::activity("INT-32")).await.expect("a redelivery succeeds");
    assert_eq!(again.object, ExternalObject::Activity);
    assert_eq!(harness.observed().activities, 1, "a redelivery leaves one activity");
}

/// A push whose answer comes after the timeout, though the remote carried it out, is sent
/// again (it is an upsert) and the remote holds one activity.
pub async fn a_push_that_timed_out_after_the_remote_committed_leaves_one_activity<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(SHORT_TIMEOUT_MS)).await;
    harness.inject(CommonFault::SlowMs(SLOW_ANSWER_MS));
    harness.crm.push_activity(&H::activity("INT-33")).await.expect("the resent push succeeds");
    assert_eq!(harness.observed().activities, 1);
}

/// A process that only has the fake's URL (the server under an end-to-end test) injects
/// faults by posting them as JSON to [`FAULT_PATH`].
pub async fn faults_posted_to_the_admin_route_are_met<H: ConnectorHarness>() {
    let harness = Running::<H>::start(http_settings(TIMEOUT_MS)).await;
    let client = reqwest::Client::new();
    let fault = serde_json::to_string(&CommonFault::Unavailable).unwrap();
    for _ in 0..attempts() {
        let answer =
            client.post(format!("{}{FAULT_PATH}", harness.fake.uri())).body(fault.clone()).send().await.unwrap();
        assert_eq!(answer.status(), 204);
    }
    let error = search_error(&harness).await;
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
    assert_eq!(harness.observed().api_requests, attempts());
}

/// A sample inbound call wrap-up of 245 s, resolved, on 2026-11-23 09:30 UTC, pushed as
/// `key` onto `target`; vendor tests change the fields their snapshots name.
pub fn sample_call(key: &str, target: ExternalRef) -> ActivityPush {
    ActivityPush {
        external_key: key.to_owned(),
        interaction: "01935f6e-7b4c-7d2a-9c1e-4a5b6c7d8e9f".parse().expect("id"),
        target,
        subject: String::from("Inbound call – Resolved"),
        channel: Channel::Voice,
        direction: Direction::Inbound,
        contact_name: Some(String::from("Jane Doe")),
        started_at: Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0).single().expect("date"),
        duration_seconds: Some(245),
        disposition: Some(String::from("Resolved")),
        notes: String::from("notes..."),
    }
}

/// A sample person with only the names a contact needs (Jane Doe), pointing at `account`.
pub fn sample_person(account: Option<ExternalRef>) -> ExternalPerson {
    ExternalPerson {
        first_name: Some(String::from("Jane")),
        last_name: String::from("Doe"),
        phone: None,
        email: None,
        company: None,
        account,
    }
}
