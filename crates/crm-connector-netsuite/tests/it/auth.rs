//! M2M (PS256 and ES256 assertions) and TBA (HMAC-SHA256 signatures).

use crm_connector_netsuite::NetSuiteConfig;
use crm_core::ConnectorError;
use crm_core::customer::EmailAddress;
use crm_core::ports::ExternalCrm;
use jsonwebtoken::Algorithm;

use crate::fake::{CONSUMER_SECRET, TOKEN_SECRET};
use crate::helpers::{account, connector, m2m, m2m_config, tba_config};

fn email() -> EmailAddress {
    EmailAddress::parse("jane@acme.example").expect("email")
}

#[tokio::test]
async fn a_ps256_assertion_with_kid_is_accepted_and_the_token_reused() {
    let (fake, crm) = m2m().await;
    assert_eq!(crm.find_by_email(&email()).await.unwrap().len(), 1);
    crm.find_by_email(&email()).await.unwrap();
    let state = fake.state();
    // expires_in came as the string "3600": the token was kept.
    assert_eq!(state.tokens.minted, 1);
    assert_eq!(state.assertion_algorithms, [Algorithm::PS256]);
    let form = &state.tokens.grants[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert!(state.seen.iter().all(|s| s.headers["authorization"].starts_with("Bearer ")));
}

#[tokio::test]
async fn an_es256_assertion_is_accepted() {
    let fake = account().await;
    let crm = connector(m2m_config(&fake.uri(), "es256"));
    crm.find_by_email(&email()).await.unwrap();
    assert_eq!(fake.state().assertion_algorithms, [Algorithm::ES256]);
}

#[tokio::test]
async fn a_wrong_certificate_id_is_an_auth_error() {
    let fake = account().await;
    let mut config = m2m_config(&fake.uri(), "ps256");
    config["auth"]["certificate_id"] = serde_json::json!("other-cert");
    let error = connector(config).find_by_email(&email()).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Auth { message, .. } if message == "invalid_client"), "{error:?}");
}

#[tokio::test]
async fn tba_requests_carry_a_verified_hmac_sha256_signature_and_fresh_nonces() {
    let fake = account().await;
    let crm = connector(tba_config(&fake.uri()));
    assert_eq!(crm.find_by_email(&email()).await.unwrap().len(), 1);
    let state = fake.state();
    assert_eq!(state.tokens.minted, 0);
    // Two SuiteQL calls (customer, contact), each verified with a distinct nonce.
    assert_eq!(state.tba_checked, 2);
    assert_eq!(state.nonces.len(), 2);
    assert!(state.seen[0].headers["authorization"].starts_with("OAuth realm=\"1234567_SB1\""));
}

#[tokio::test]
async fn a_refused_tba_signature_is_an_auth_error_without_retry() {
    let fake = account().await;
    let mut config = tba_config(&fake.uri());
    config["auth"]["token_secret"] = serde_json::json!("wrong");
    let error = connector(config).find_by_email(&email()).await.unwrap_err();
    let ConnectorError::Auth { message, .. } = error else { panic!("expected auth: {error:?}") };
    assert!(message.starts_with("INVALID_LOGIN"), "{message}");
    assert_eq!(fake.state().tba_checked, 1);
}

#[tokio::test]
async fn secrets_never_appear_in_debug_output() {
    let fake = account().await;
    let tba: NetSuiteConfig = serde_json::from_value(tba_config(&fake.uri())).unwrap();
    let m2m: NetSuiteConfig = serde_json::from_value(m2m_config(&fake.uri(), "ps256")).unwrap();
    let key_line = crate::fake::RSA_PRIVATE.lines().nth(1).unwrap();
    for text in [format!("{tba:?}"), format!("{m2m:?}")] {
        assert!(!text.contains(CONSUMER_SECRET) && !text.contains(TOKEN_SECRET) && !text.contains(key_line), "{text}");
    }
    let tba_crm = connector(tba_config(&fake.uri()));
    let m2m_crm = connector(m2m_config(&fake.uri(), "ps256"));
    m2m_crm.find_by_email(&email()).await.unwrap();
    for text in [format!("{tba_crm:?}"), format!("{m2m_crm:?}")] {
        assert!(!text.contains(CONSUMER_SECRET) && !text.contains(TOKEN_SECRET) && !text.contains(key_line), "{text}");
        assert!(!text.contains("eyJraWQiOiJ.ns"), "access token leaked: {text}");
    }
}
