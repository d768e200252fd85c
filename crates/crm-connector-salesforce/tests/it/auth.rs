//! OAuth flows: JWT bearer (verified assertion), client credentials, refused grants,
//! secrets kept out of `Debug`.

use std::sync::Arc;

use crm_connector_salesforce::{SalesforceConfig, SalesforceConnector};
use crm_core::ConnectorError;
use crm_core::customer::EmailAddress;
use crm_core::ports::ExternalCrm;
use crm_core::time::SystemClock;
use crm_testkit::fake_api::CommonFault;
use serde_json::json;

use crate::fake::{CLIENT_ID, CLIENT_SECRET, Fake, PRIVATE_KEY};
use crate::helpers::{connector, fast_http, jwt_config, org};

fn email() -> EmailAddress {
    EmailAddress::parse("jane@example.com").expect("email")
}

#[tokio::test]
async fn the_jwt_bearer_assertion_is_accepted_and_the_token_reused() {
    let (fake, crm) = org().await;
    crm.find_by_email(&email()).await.unwrap();
    crm.find_by_email(&email()).await.unwrap();

    let state = fake.state();
    assert_eq!(state.tokens.minted, 1, "one token for both searches");
    let form = &state.tokens.grants[0];
    assert_eq!(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
    assert!(!form.contains_key("client_secret"));
    // The fake decoded and verified iss/sub/aud/exp with the public key before issuing.
    let header = jsonwebtoken::decode_header(&form["assertion"]).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    // Calls went to the instance_url the token answer named, with the bearer token.
    assert!(state.seen.iter().all(|s| s.path.starts_with("/services/data/v62.0/")));
}

#[tokio::test]
async fn client_credentials_send_id_and_secret_to_my_domain() {
    let fake = Fake::start().await;
    let crm = connector(json!({
        "login_url": fake.uri(),
        "auth": {"flow": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        "http": fast_http(),
    }));
    crm.find_by_email(&email()).await.unwrap();
    let state = fake.state();
    assert_eq!(state.tokens.grants[0]["grant_type"], "client_credentials");
    assert_eq!(state.tokens.minted, 1);
}

#[tokio::test]
async fn client_credentials_against_the_shared_login_host_is_a_config_error() {
    let config: SalesforceConfig = serde_json::from_value(json!({
        "login_url": "https://login.salesforce.com",
        "auth": {"flow": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    }))
    .unwrap();
    let error = SalesforceConnector::new(config, Arc::new(SystemClock)).unwrap_err();
    assert!(error.to_string().contains("My Domain"), "{error}");
}

#[tokio::test]
async fn a_refused_grant_is_an_auth_error_with_the_remote_code() {
    let (fake, crm) = org().await;
    fake.state().refuse_grant = true;
    let error = crm.find_by_email(&email()).await.unwrap_err();
    let ConnectorError::Auth { message, .. } = error else { panic!("expected auth: {error:?}") };
    assert_eq!(message, "invalid_grant: user hasn't approved this consumer");
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_auth_error() {
    let fake = Fake::start().await;
    let crm = connector(json!({
        "login_url": fake.uri(),
        "auth": {"flow": "client_credentials", "client_id": CLIENT_ID, "client_secret": "wrong"},
        "http": fast_http(),
    }));
    let error = crm.find_by_email(&email()).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Auth { message, .. } if message.starts_with("invalid_client")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_refused_session_is_an_auth_error_with_the_remote_code() {
    let (fake, crm) = org().await;
    fake.inject(CommonFault::RefuseTokens);
    let error = crm.find_by_email(&email()).await.unwrap_err();
    let ConnectorError::Auth { message, .. } = error else { panic!("expected auth: {error:?}") };
    assert!(message.starts_with("INVALID_SESSION_ID"), "{message}");
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let fake = Fake::start().await;
    let jwt: SalesforceConfig = serde_json::from_value(jwt_config(&fake.uri())).unwrap();
    let cc: SalesforceConfig = serde_json::from_value(json!({
        "login_url": fake.uri(),
        "auth": {"flow": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
    }))
    .unwrap();
    let key_body = PRIVATE_KEY.lines().nth(1).unwrap();
    for text in [format!("{jwt:?}"), format!("{cc:?}")] {
        assert!(!text.contains(key_body) && !text.contains(CLIENT_SECRET), "{text}");
    }
    let jwt_crm = SalesforceConnector::new(jwt, Arc::new(SystemClock)).unwrap();
    let cc_crm = SalesforceConnector::new(cc, Arc::new(SystemClock)).unwrap();
    jwt_crm.find_by_email(&email()).await.unwrap();
    cc_crm.find_by_email(&email()).await.unwrap();
    for text in [format!("{jwt_crm:?}"), format!("{cc_crm:?}")] {
        assert!(!text.contains(key_body) && !text.contains(CLIENT_SECRET), "{text}");
        assert!(!text.contains("00Dfake!AR.token"), "access token leaked: {text}");
    }
}
