//! The Dynamics connector's configuration, read by the server from TOML:
//!
//! ```toml
//! [connectors.dynamics]
//! environment_url = "https://contoso.crm.dynamics.com"
//! tenant_id = "00000000-0000-0000-0000-000000000000"
//! client_id = "11111111-1111-1111-1111-111111111111"
//! client_secret = "..."
//! # or, instead of a secret, the app registration's certificate (client assertion):
//! # [connectors.dynamics.client_certificate]
//! # certificate_pem = "-----BEGIN CERTIFICATE-----..."
//! # private_key_pem = "-----BEGIN PRIVATE KEY-----..."
//! ```

use std::collections::BTreeMap;

use crm_connector_http::HttpSettings;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

/// Everything the Dynamics connector needs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DynamicsConfig {
    /// The environment, `https://{org}.{region}.dynamics.com`; API calls go to
    /// `{environment_url}/api/data/{api_version}/`. Tests point it at a fake.
    pub environment_url: String,
    /// The Entra ID tenant (id or domain).
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The app registration's client secret; or give `client_certificate` instead.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// The app registration's certificate: the token request then carries a client
    /// assertion signed with its key instead of a secret.
    #[serde(default)]
    pub client_certificate: Option<ClientCertificate>,
    /// The Entra ID authority; tests point it at a fake.
    #[serde(default = "default_authority_url")]
    pub authority_url: String,
    /// The token scope; by default `{environment_url}/.default`.
    #[serde(default)]
    pub scope: Option<String>,
    /// The Web API version.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// Column and option-set mapping.
    #[serde(default)]
    pub mapping: DynamicsMapping,
    /// Timeouts, retries, concurrency.
    #[serde(default)]
    pub http: HttpSettings,
}

/// A certificate uploaded to the app registration, and its private key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientCertificate {
    /// The X.509 certificate, PEM (its SHA-256 and SHA-1 thumbprints name it to Entra ID).
    pub certificate_pem: String,
    /// Its RSA private key, PEM (PKCS#1 or PKCS#8).
    pub private_key_pem: SecretString,
}

fn default_authority_url() -> String {
    String::from("https://login.microsoftonline.com")
}

fn default_api_version() -> String {
    String::from("v9.2")
}

/// Which columns are searched and how engine values map to option sets.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DynamicsMapping {
    /// Phone columns searched on contacts.
    pub contact_phone_columns: Vec<String>,
    /// Phone columns searched on leads.
    pub lead_phone_columns: Vec<String>,
    /// Phone columns searched on accounts.
    pub account_phone_columns: Vec<String>,
    /// Email columns searched on contacts, leads and accounts.
    pub email_columns: Vec<String>,
    /// Rows per page (`Prefer: odata.maxpagesize`).
    pub page_size: u32,
    /// How many `@odata.nextLink` pages one table search follows at most.
    pub max_pages: u32,
    /// The UUID v5 namespace phonecall ids are derived in from the activity key.
    pub activity_namespace: Uuid,
    /// Engine priority to incident `prioritycode` (1 High, 2 Normal, 3 Low).
    pub case_priorities: BTreeMap<String, i32>,
    /// Engine channel to incident `caseorigincode` (1 Phone, 2 Email, 3 Web).
    pub case_origins: BTreeMap<String, i32>,
    /// `caseorigincode` for channels not in `case_origins`.
    pub default_case_origin: i32,
    /// An alternate key column defined on contacts, leads and incidents (e.g. `crm_key`,
    /// a customisation of the environment) that creates are upserted on:
    /// `PATCH /contacts(crm_key='<key>')`. Empty (the default): creates use a record id
    /// derived from the key instead, which needs no customisation.
    pub create_alternate_key: String,
}

/// The default namespace of phonecall ids (a fixed random UUID: changing it would make
/// redelivered pushes create second activities).
pub const DEFAULT_ACTIVITY_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a7e_93d4_4b0a_8c55_0e2f_7a91_d3b6);

impl Default for DynamicsMapping {
    fn default() -> Self {
        let columns = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let codes = |items: &[(&str, i32)]| items.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        Self {
            contact_phone_columns: columns(&["telephone1", "mobilephone"]),
            lead_phone_columns: columns(&["telephone1", "mobilephone"]),
            account_phone_columns: columns(&["telephone1"]),
            email_columns: columns(&["emailaddress1"]),
            page_size: 50,
            max_pages: 5,
            activity_namespace: DEFAULT_ACTIVITY_NAMESPACE,
            case_priorities: codes(&[("low", 3), ("normal", 2), ("high", 1), ("urgent", 1)]),
            case_origins: codes(&[("voice", 1), ("email", 2), ("chat", 3)]),
            default_case_origin: 3,
            create_alternate_key: String::new(),
        }
    }
}
