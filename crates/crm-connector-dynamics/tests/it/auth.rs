//! Entra ID client credentials: form fields, scope, reuse, expiry, re-auth, secrecy.

use crm_connector_dynamics::DynamicsConfig;
use crm_core::ConnectorError;
use crm_core::customer::EmailAddress;
use crm_core::ports::ExternalCrm;

use crate::fake::{CLIENT_ID, CLIENT_SECRET};
use crate::helpers::{config, connector, env};

fn email() -> EmailAddress {
    EmailAddress::parse("yvonne@acme.example").expect("email")
}

#[tokio::test]
async fn the_token_request_carries_the_environment_default_scope() {
    let (fake, crm) = env().await;
    crm.find_by_email(&email()).await.unwrap();
    crm.find_by_email(&email()).await.unwrap();
    let state = fake.state();
    assert_eq!(state.tokens.minted, 1);
    let form = &state.tokens.grants[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_id"], CLIENT_ID);
    assert_eq!(form["scope"], format!("{}/.default", fake.uri()));
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_use() {
    let (fake, crm) = env().await;
    // 30 s lifetime, renewed 60 s ahead: every call needs a fresh token.
    fake.state().token_lifetime = 30;
    crm.find_by_email(&email()).await.unwrap();
    crm.find_by_email(&email()).await.unwrap();
    // One table query per table and call, each with its own token.
    let state = fake.state();
    assert_eq!(state.tokens.minted, state.seen.len());
    assert_eq!(state.tokens.minted, 6);
}

#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_with_the_entra_code() {
    let (fake, _) = env().await;
    let mut bad = config(&fake.uri());
    bad["client_secret"] = serde_json::json!("wrong");
    let error = connector(bad).find_by_email(&email()).await.unwrap_err();
    let ConnectorError::Auth { message, .. } = error else { panic!("expected auth: {error:?}") };
    assert!(message.starts_with("invalid_client: AADSTS7000215"), "{message}");
}

#[tokio::test]
async fn a_wrong_scope_is_an_auth_error() {
    let (fake, _) = env().await;
    let mut bad = config(&fake.uri());
    bad["scope"] = serde_json::json!("https://other.crm.dynamics.com/.default");
    let error = connector(bad).find_by_email(&email()).await.unwrap_err();
    assert!(
        matches!(&error, ConnectorError::Auth { message, .. } if message.starts_with("invalid_scope")),
        "{error:?}"
    );
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let (fake, crm) = env().await;
    crm.find_by_email(&email()).await.unwrap();
    let config: DynamicsConfig = serde_json::from_value(config(&fake.uri())).unwrap();
    for text in [format!("{config:?}"), format!("{crm:?}")] {
        assert!(!text.contains(CLIENT_SECRET), "{text}");
        assert!(!text.contains("eyJ0eXAiOiJKV1QifQ.fake"), "access token leaked: {text}");
    }
}
