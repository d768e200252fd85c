//! M2M (PS256 and ES256 assertions) and TBA (HMAC-SHA256 signatures).

use crm_connector_netsuite::NetSuiteConfig;
use crm_core::ConnectorError;
use crm_core::customer::EmailAddress;
use crm_core::ports::ExternalCrm;

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
    assert_eq!(state.assertion_algorithms, ["PS256"]);
    let form = &state.tokens.grants[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_assertion_type"], "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    assert!(state.seen.iter().all(|s| s.headers["authorization"].starts_with("Bearer ")));
}

#[tokio::test]
async fn every_algorithm_the_spec_allows_signs_an_accepted_assertion() {
    for alg in ["ps256", "ps384", "ps512", "es256", "es384", "es512", "rs256"] {
        let fake = account().await;
        let crm = connector(m2m_config(&fake.uri(), alg));
        crm.find_by_email(&email()).await.unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        assert_eq!(fake.state().assertion_algorithms, [alg.to_uppercase()], "{alg}");
    }
}

#[test]
fn a_key_that_does_not_fit_the_algorithm_is_refused_at_start() {
    use crate::fake::{EC_PRIVATE, RSA_PRIVATE};
    for (alg, key) in [("es512", RSA_PRIVATE), ("es512", EC_PRIVATE), ("ps384", EC_PRIVATE)] {
        let mut config = m2m_config("http://127.0.0.1:9", alg);
        config["auth"]["private_key_pem"] = serde_json::json!(key);
        let config: NetSuiteConfig = serde_json::from_value(config).unwrap();
        let error =
            crm_connector_netsuite::NetSuiteConnector::new(config, std::sync::Arc::new(crm_core::time::SystemClock))
                .err()
                .unwrap_or_else(|| panic!("{alg} took a key of another kind"));
        assert!(error.to_string().contains("unreadable private key"), "{alg}: {error}");
    }
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
    {
        let state = fake.state();
        assert_eq!(state.tokens.minted, 0);
        // One SuiteQL call (customers and contacts together), verified.
        assert_eq!(state.tba_checked, 1);
        assert_eq!(state.nonces.len(), 1);
    }
    // A second search signs with a fresh nonce.
    assert_eq!(crm.find_by_email(&email()).await.unwrap().len(), 1);
    let state = fake.state();
    assert_eq!(state.tba_checked, 2);
    assert_eq!(state.nonces.len(), 2, "a distinct nonce per request");
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

#[test]
fn the_flow_is_read_under_flow_or_its_older_key_method_but_not_both() {
    let uri = "http://127.0.0.1:9";
    let mut older = tba_config(uri);
    let flow = older["auth"].as_object_mut().expect("object").remove("flow").expect("flow");
    older["auth"]["method"] = flow.clone();
    assert!(matches!(
        serde_json::from_value::<NetSuiteConfig>(older.clone()).unwrap().auth,
        crm_connector_netsuite::NetSuiteAuth::TokenBased { .. }
    ));
    older["auth"]["flow"] = flow;
    let error = serde_json::from_value::<NetSuiteConfig>(older).unwrap_err().to_string();
    assert!(error.contains("duplicate field `flow`"), "{error}");
    let mut unknown = tba_config(uri);
    unknown["auth"]["colour"] = serde_json::json!("blue");
    let error = serde_json::from_value::<NetSuiteConfig>(unknown).unwrap_err().to_string();
    assert!(error.contains("colour"), "{error}");
}
