//! Retries, rate limits, timeouts and the concurrency cap.

use std::sync::Arc;
use std::time::Duration;

use crm_connector_http::{HttpSettings, Idempotency, NoAuth, StatusError, Throttle};
use crm_core::ConnectorError;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{client, fast_settings, get};

#[tokio::test]
async fn a_transient_503_is_retried_for_idempotent_calls() {
    let server = MockServer::start().await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(503)).up_to_n_times(1).mount(&server).await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(200).set_body_string("ok")).mount(&server).await;

    let answer =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text(), "ok");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_503_is_not_resent_for_a_create() {
    let server = MockServer::start().await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(503)).mount(&server).await;

    let error =
        client(fast_settings()).send(&NoAuth, Idempotency::NotIdempotent, &get(server.uri(), "/x")).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn persistent_5xx_ends_as_transport_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(502)).mount(&server).await;

    let error =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap_err();
    let ConnectorError::Transport { source, .. } = error else { panic!("expected transport") };
    let status = source.downcast_ref::<StatusError>().unwrap();
    assert_eq!((status.status, status.attempts), (502, 3));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_waited_out_even_for_creates() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(201)).mount(&server).await;

    let answer =
        client(fast_settings()).send(&NoAuth, Idempotency::NotIdempotent, &get(server.uri(), "/x")).await.unwrap();
    assert_eq!(answer.status, 201);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_ceiling_ends_the_call_at_once() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&server)
        .await;

    let error =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap_err();
    let ConnectorError::RateLimited { retry_after, .. } = error else { panic!("expected rate limited: {error:?}") };
    assert_eq!(retry_after, Some(Duration::from_secs(120)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_retry_after_http_date_is_honoured() {
    let server = MockServer::start().await;
    let past = httpdate_in_the_past();
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", past.as_str()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(200)).mount(&server).await;

    let answer =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap();
    assert_eq!(answer.status, 200);
}

fn httpdate_in_the_past() -> String {
    // A fixed date long past: "wait until then" means "retry now".
    String::from("Wed, 21 Oct 2015 07:28:00 GMT")
}

#[tokio::test]
async fn persistent_429_ends_as_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(429)).mount(&server).await;

    let error =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { retry_after: None, .. }), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn the_vendor_hook_turns_a_403_into_a_rate_limit_without_hot_retry() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(403).set_body_string("REQUEST_LIMIT_EXCEEDED"))
        .mount(&server)
        .await;
    let hook = Arc::new(|status: reqwest::StatusCode, _: &reqwest::header::HeaderMap, body: &[u8]| {
        (status == 403 && body.starts_with(b"REQUEST_LIMIT")).then_some(Throttle { retry_after: None, retry: false })
    });

    let http = client(fast_settings()).with_throttle_hook(hook);
    let error = http.send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap_err();
    assert!(matches!(error, ConnectorError::RateLimited { .. }), "{error:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn other_client_errors_are_handed_back_untouched() {
    let server = MockServer::start().await;
    Mock::given(path("/x")).respond_with(ResponseTemplate::new(400).set_body_string("bad")).mount(&server).await;

    let answer =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap();
    assert_eq!((answer.status.as_u16(), answer.text().as_str()), (400, "bad"));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_slow_answer_times_out_as_transport() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(400)))
        .mount(&server)
        .await;
    let settings = HttpSettings { timeout_ms: 50, max_retries: 1, ..fast_settings() };

    let error = client(settings).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap_err();
    let ConnectorError::Transport { source, .. } = error else { panic!("expected transport: {error:?}") };
    let reqwest_error = source.downcast_ref::<reqwest::Error>().unwrap();
    assert!(reqwest_error.is_timeout());
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_remote_is_transport() {
    let settings = HttpSettings { max_retries: 0, ..fast_settings() };
    // Port 9 on localhost (discard) is closed on test machines: connection refused.
    let error = client(settings)
        .send(&NoAuth, Idempotency::NotIdempotent, &get(String::from("http://127.0.0.1:9"), "/x"))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectorError::Transport { .. }), "{error:?}");
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{not json"))
        .mount(&server)
        .await;

    let answer =
        client(fast_settings()).send(&NoAuth, Idempotency::Idempotent, &get(server.uri(), "/x")).await.unwrap();
    let error = answer.json::<serde_json::Value>("test").unwrap_err();
    assert!(matches!(error, ConnectorError::Decode { .. }), "{error:?}");
}

#[tokio::test]
async fn the_concurrency_cap_queues_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    let http = client(HttpSettings { max_concurrency: 2, ..fast_settings() });
    let factory = get(server.uri(), "/x");

    let started = std::time::Instant::now();
    let calls = (0..6).map(|_| http.send(&NoAuth, Idempotency::Idempotent, &factory));
    for answer in futures::future::join_all(calls).await {
        assert_eq!(answer.unwrap().status, 200);
    }
    // Six calls of 100 ms, two at a time: at least three rounds.
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
}
