//! Entra ID client credentials: form fields, scope, reuse, expiry, re-auth, secrecy.

use crm_connector_dynamics::DynamicsConfig;
use crm_core::ConnectorError;
use crm_core::customer::EmailAddress;
use crm_core::ports::ExternalCrm;

use crate::fake::{CERTIFICATE, CERTIFICATE_KEY, CLIENT_ID, CLIENT_SECRET};
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
    // One `$batch` request per call, each with its own token.
    let state = fake.state();
    assert_eq!(state.tokens.minted, state.seen.len());
    assert_eq!(state.tokens.minted, 2);
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

fn certificate_config(uri: &str) -> serde_json::Value {
    let mut config = config(uri);
    config.as_object_mut().expect("object").remove("client_secret");
    config["client_certificate"] =
        serde_json::json!({"certificate_pem": CERTIFICATE, "private_key_pem": CERTIFICATE_KEY});
    config
}

#[tokio::test]
async fn a_certificate_signs_a_client_assertion_instead_of_a_secret() {
    let (fake, _) = env().await;
    let crm = connector(certificate_config(&fake.uri()));
    // 30 s tokens, renewed 60 s ahead: every call mints a token with a new assertion.
    fake.state().token_lifetime = 30;
    assert_eq!(crm.find_by_email(&email()).await.unwrap().len(), 1);
    assert_eq!(crm.find_by_email(&email()).await.unwrap().len(), 1);
    let state = fake.state();
    assert_eq!(state.assertions, state.tokens.minted);
    let form = &state.tokens.grants[0];
    assert!(!form.contains_key("client_secret"), "{form:?}");
    assert_eq!(form["client_id"], CLIENT_ID);
    let assertion = &form["client_assertion"];
    let header = jsonwebtoken::decode_header(assertion).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::PS256);
    assert!(header.x5t.is_some() && header.x5t_s256.is_some());
    // Each assertion carries a fresh jti.
    let jti = |form: &std::collections::HashMap<String, String>| {
        let payload = form["client_assertion"].split('.').nth(1).unwrap().to_owned();
        use base64::Engine as _;
        let claims: serde_json::Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims["jti"].as_str().unwrap().to_owned()
    };
    assert!(state.tokens.grants.len() >= 2);
    assert_ne!(jti(&state.tokens.grants[0]), jti(&state.tokens.grants[1]));
}

#[tokio::test]
async fn a_certificate_entra_does_not_know_is_an_auth_error() {
    let (fake, _) = env().await;
    let mut config = certificate_config(&fake.uri());
    // Another certificate with the same key: the thumbprint names nothing registered.
    let other = include_str!("fixtures/other_cert.pem");
    config["client_certificate"]["certificate_pem"] = serde_json::json!(other);
    let error = connector(config).find_by_email(&email()).await.unwrap_err();
    let ConnectorError::Auth { message, .. } = error else { panic!("expected auth: {error:?}") };
    assert!(message.contains("AADSTS700027") && message.contains("thumbprint"), "{message}");
}

#[test]
fn a_secret_or_a_certificate_is_required_and_not_both() {
    let mut neither = config("http://127.0.0.1:9");
    neither.as_object_mut().expect("object").remove("client_secret");
    let mut both = certificate_config("http://127.0.0.1:9");
    both["client_secret"] = serde_json::json!(CLIENT_SECRET);
    let mut bad_key = certificate_config("http://127.0.0.1:9");
    bad_key["client_certificate"]["private_key_pem"] = serde_json::json!("not a key");
    let mut key_as_cert = certificate_config("http://127.0.0.1:9");
    key_as_cert["client_certificate"]["certificate_pem"] = serde_json::json!(CERTIFICATE_KEY);
    for (config, expected) in [
        (neither, "client_secret or client_certificate is required"),
        (both, "not both"),
        (bad_key, "unreadable RSA private key"),
        (key_as_cert, "not a CERTIFICATE"),
    ] {
        let config: DynamicsConfig = serde_json::from_value(config).unwrap();
        let error =
            crm_connector_dynamics::DynamicsConnector::new(config, std::sync::Arc::new(crm_core::time::SystemClock))
                .expect_err(expected);
        assert!(error.to_string().contains(expected), "{error}");
    }
}
