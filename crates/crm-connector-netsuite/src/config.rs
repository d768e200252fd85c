//! The NetSuite connector's configuration, read by the server from TOML:
//!
//! ```toml
//! [connectors.netsuite]
//! account_id = "1234567_SB1"
//! [connectors.netsuite.auth]
//! flow = "client_credentials"   # or "token_based"
//! client_id = "..."
//! certificate_id = "..."
//! private_key_pem = "-----BEGIN PRIVATE KEY-----..."
//! algorithm = "ps256"          # ps256, ps384, ps512, es256, es384, es512 or rs256
//! ```

use std::collections::BTreeMap;

use crm_connector_http::HttpSettings;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the NetSuite connector needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteConfig {
    /// The account id as NetSuite shows it (`1234567_SB1`).
    pub account_id: String,
    /// The REST host; by default `https://<account>.suitetalk.api.netsuite.com` (account
    /// lower-cased, `_` → `-`). Tests point it at a fake.
    #[serde(default)]
    pub base_url: Option<String>,
    /// How the connector authenticates.
    #[serde(deserialize_with = "auth_with_either_key")]
    pub auth: NetSuiteAuth,
    /// Requests in flight at once. NetSuite's concurrency limit is per account and shared
    /// with every other integration, so the default is low (5); it overrides
    /// `http.max_concurrency`.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Field mapping.
    #[serde(default)]
    pub mapping: NetSuiteMapping,
    /// Timeouts and retries.
    #[serde(default)]
    pub http: HttpSettings,
}

fn default_max_concurrency() -> usize {
    5
}

impl NetSuiteConfig {
    /// The REST host.
    pub fn base_url(&self) -> String {
        match &self.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("https://{}.suitetalk.api.netsuite.com", self.host_account()),
        }
    }

    /// The account as hosts spell it: lower case, `-` for `_`.
    pub fn host_account(&self) -> String {
        self.account_id.to_lowercase().replace('_', "-")
    }

    /// The TBA realm: upper case with `_`, unlike the host.
    pub fn realm(&self) -> String {
        self.account_id.to_uppercase().replace('-', "_")
    }
}

/// The JWT algorithm of M2M assertions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningAlgorithm {
    /// RSASSA-PSS with SHA-256 (an RSA key).
    #[default]
    Ps256,
    /// RSASSA-PSS with SHA-384 (an RSA key).
    Ps384,
    /// RSASSA-PSS with SHA-512 (an RSA key).
    Ps512,
    /// ECDSA P-256 with SHA-256 (a PKCS#8 EC key).
    Es256,
    /// ECDSA P-384 with SHA-384 (a PKCS#8 EC key).
    Es384,
    /// ECDSA P-521 with SHA-512 (a PKCS#8 EC key).
    Es512,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (an RSA key): the algorithm of NetSuite's own
    /// example assertion.
    Rs256,
}

/// How the connector authenticates: the `flow` key names the variant, as in the other
/// connectors (`method`, this connector's earlier spelling, is still read).
#[derive(Debug, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetSuiteAuth {
    /// OAuth 2.0 client credentials (M2M): the recommended method for new integrations.
    ClientCredentials {
        /// The integration record's client id (`iss`).
        client_id: String,
        /// The certificate id of the M2M mapping (`kid`).
        certificate_id: String,
        /// The PEM private key of that certificate.
        private_key_pem: SecretString,
        /// The signing algorithm.
        #[serde(default)]
        algorithm: SigningAlgorithm,
        /// The `scope` claim.
        #[serde(default = "default_scopes")]
        scopes: Vec<String>,
        /// The assertion's lifetime in seconds (NetSuite wants under 60 minutes).
        #[serde(default = "default_assertion_lifetime_secs")]
        assertion_lifetime_secs: u64,
    },
    /// Token-Based Authentication (OAuth 1.0a, HMAC-SHA256). No new TBA integrations can
    /// be created from 2027.1.
    TokenBased {
        /// The integration's consumer key.
        consumer_key: String,
        /// The integration's consumer secret.
        consumer_secret: SecretString,
        /// The access token id.
        token_id: String,
        /// The access token secret.
        token_secret: SecretString,
    },
}

/// The `[auth]` table as written: its flow under `flow` or `method`, and the flow's keys.
#[derive(Deserialize)]
struct AuthTable {
    #[serde(alias = "method")]
    flow: String,
    #[serde(flatten)]
    keys: serde_json::Map<String, serde_json::Value>,
}

/// Reads [`NetSuiteAuth`] with its flow under `flow` or, as earlier versions wrote it,
/// `method`; serde's tagged-enum rules then read the rest (unknown keys refused).
fn auth_with_either_key<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<NetSuiteAuth, D::Error> {
    let AuthTable { flow, mut keys } = AuthTable::deserialize(deserializer)?;
    keys.insert(String::from("flow"), serde_json::Value::String(flow));
    serde_json::from_value(serde_json::Value::Object(keys)).map_err(serde::de::Error::custom)
}

fn default_scopes() -> Vec<String> {
    vec![String::from("rest_webservices")]
}

fn default_assertion_lifetime_secs() -> u64 {
    300
}

/// Field mapping. Reference ids (status, priority, origin, subsidiary, lead status) are
/// account-specific \[U\], so they are unset unless configured, and then sent as `{"id"}`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetSuiteMapping {
    /// Phone columns of `customer` searched.
    pub customer_phone_columns: Vec<String>,
    /// Phone columns of `contact` searched.
    pub contact_phone_columns: Vec<String>,
    /// Rows per SuiteQL page (`limit`, at most 1000).
    pub page_size: u32,
    /// How many pages one search follows at most.
    pub max_pages: u32,
    /// `entityStatus` id of a customer created as a lead (a LEAD-stage status).
    pub lead_entity_status: Option<String>,
    /// `subsidiary` id of created contacts and customers (required in OneWorld accounts).
    pub subsidiary: Option<String>,
    /// Engine priority to supportCase `priority` id.
    pub case_priorities: BTreeMap<String, String>,
    /// Engine channel to supportCase `origin` id.
    pub case_origins: BTreeMap<String, String>,
    /// phoneCall `status` id of a pushed activity.
    pub call_status: String,
    /// The NetSuite UI host for record links (`https://1234567.app.netsuite.com`); no link
    /// when unset.
    pub ui_url: Option<String>,
}

impl Default for NetSuiteMapping {
    fn default() -> Self {
        let columns = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        Self {
            customer_phone_columns: columns(&["phone", "altphone", "mobilephone"]),
            contact_phone_columns: columns(&["phone", "mobilephone", "officephone"]),
            page_size: 100,
            max_pages: 5,
            lead_entity_status: None,
            subsidiary: None,
            case_priorities: BTreeMap::new(),
            case_origins: BTreeMap::new(),
            call_status: String::from("COMPLETE"),
            ui_url: None,
        }
    }
}
