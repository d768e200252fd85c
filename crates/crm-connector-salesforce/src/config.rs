//! The Salesforce connector's configuration, read by the server from TOML:
//!
//! ```toml
//! [connectors.salesforce]
//! login_url = "https://acme.my.salesforce.com"
//! api_version = "v62.0"
//! [connectors.salesforce.auth]
//! flow = "jwt_bearer"
//! consumer_key = "3MVG9..."
//! username = "integration@acme.com"
//! private_key_pem = "-----BEGIN PRIVATE KEY-----..."
//! [connectors.salesforce.mapping]
//! activity_external_id_field = "Interaction_Id__c"
//! [connectors.salesforce.duplicate_rules]   # optional
//! allow_save = true
//! ```

use std::collections::BTreeMap;

use crm_connector_http::HttpSettings;
use secrecy::SecretString;
use serde::Deserialize;

/// Everything the Salesforce connector needs. No value is secret except where typed
/// [`SecretString`]; `Debug` never shows those.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceConfig {
    /// The token host: `https://login.salesforce.com`, `https://test.salesforce.com`, or the
    /// org's My Domain URL (required for client credentials). Tests point it at a fake.
    pub login_url: String,
    /// The OAuth flow and its credentials.
    pub auth: SalesforceAuth,
    /// The REST API version, `vNN.N`.
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// How long an access token is assumed to live. Salesforce does not say (the session
    /// timeout is an org setting); a 401 renews it earlier anyway.
    #[serde(default = "default_token_lifetime_secs")]
    pub token_lifetime_secs: u64,
    /// How engine values map to this org's fields and picklists.
    #[serde(default)]
    pub mapping: SalesforceMapping,
    /// Timeouts, retries, concurrency.
    #[serde(default)]
    pub http: HttpSettings,
    /// The org's duplicate rules on creates (`Sforce-Duplicate-Rule-Header`); absent: the
    /// org's own rule settings apply (a blocking rule refuses the create with
    /// `DUPLICATES_DETECTED`, which the connector reports with the matches).
    #[serde(default)]
    pub duplicate_rules: Option<DuplicateRules>,
}

/// What the `Sforce-Duplicate-Rule-Header` of contact, lead and case creates says.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRules {
    /// Save a record a duplicate rule flags instead of refusing it (`allowSave`).
    pub allow_save: bool,
    /// Return the matching records' fields in a refusal (`includeRecordDetails`).
    #[serde(default)]
    pub include_record_details: bool,
    /// Run the rules with the integration user's sharing (`runAsCurrentUser`).
    #[serde(default)]
    pub run_as_current_user: bool,
}

impl DuplicateRules {
    /// The header's value.
    pub fn header_value(self) -> String {
        format!(
            "allowSave={}, includeRecordDetails={}, runAsCurrentUser={}",
            self.allow_save, self.include_record_details, self.run_as_current_user
        )
    }
}

fn default_api_version() -> String {
    String::from("v62.0")
}

fn default_token_lifetime_secs() -> u64 {
    3_600
}

/// How the connector authenticates.
#[derive(Debug, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case", deny_unknown_fields)]
pub enum SalesforceAuth {
    /// OAuth 2.0 JWT bearer: an RS256 assertion signed with the connected app's key; no
    /// client secret is sent.
    JwtBearer {
        /// The connected app's consumer key (`iss`).
        consumer_key: String,
        /// The integration user (`sub`).
        username: String,
        /// The PEM private key (PKCS#1 or PKCS#8) matching the app's certificate.
        private_key_pem: SecretString,
        /// The `aud` claim; by default `https://test.salesforce.com` when the login URL is
        /// the sandbox host, else `https://login.salesforce.com`.
        #[serde(default)]
        audience: Option<String>,
        /// How long the assertion is valid, in seconds (simple-salesforce uses 180; the
        /// exact limit Salesforce accepts is unverified).
        #[serde(default = "default_assertion_lifetime_secs")]
        assertion_lifetime_secs: u64,
    },
    /// OAuth 2.0 client credentials, only on the My Domain token URL.
    ClientCredentials {
        /// The consumer key.
        client_id: String,
        /// The consumer secret.
        client_secret: SecretString,
    },
}

fn default_assertion_lifetime_secs() -> u64 {
    180
}

/// Field and picklist mapping. Every field has a default matching a standard org.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SalesforceMapping {
    /// The Task external-id field the activity upsert is keyed on (a custom field the org
    /// must define, marked External ID and Unique).
    pub activity_external_id_field: String,
    /// The external-id field (External ID, Unique) that creates of contacts, leads and
    /// cases upsert on, so a create sent again finds its record instead of making a second
    /// one; the org must define it on Contact, Lead and Case. Empty: plain, non-idempotent
    /// POST creates.
    pub create_external_id_field: String,
    /// Rows per object a screen-pop search returns.
    pub search_limit: u32,
    /// How many `nextRecordsUrl` pages a SOQL search follows at most.
    pub max_query_pages: u32,
    /// Case `Status` on creation.
    pub case_status: String,
    /// Engine priority (`low`, `normal`, `high`, `urgent`) to Case `Priority`; an unmapped
    /// value is sent verbatim.
    pub case_priorities: BTreeMap<String, String>,
    /// Engine channel (`voice`, `email`, `chat` …) to Case `Origin`; unmapped channels use
    /// `default_case_origin`.
    pub case_origins: BTreeMap<String, String>,
    /// Case `Origin` for channels not in `case_origins`.
    pub default_case_origin: String,
    /// Task `Status` of a pushed activity.
    pub task_status: String,
    /// Task `Priority` of a pushed activity.
    pub task_priority: String,
}

impl Default for SalesforceMapping {
    fn default() -> Self {
        let pairs = |items: &[(&str, &str)]| -> BTreeMap<String, String> {
            items.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
        };
        Self {
            activity_external_id_field: String::from("Interaction_Id__c"),
            create_external_id_field: String::from("Crm_Key__c"),
            search_limit: 20,
            max_query_pages: 5,
            case_status: String::from("New"),
            case_priorities: pairs(&[("low", "Low"), ("normal", "Medium"), ("high", "High"), ("urgent", "High")]),
            case_origins: pairs(&[("voice", "Phone"), ("email", "Email")]),
            default_case_origin: String::from("Web"),
            task_status: String::from("Completed"),
            task_priority: String::from("Normal"),
        }
    }
}
