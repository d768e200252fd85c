//! External CRM connectors (EXT-1, INT-6, INT-7): which connector serves which tenant. The
//! pushes the outbox holds for them are delivered by the core's `external-pushes` worker
//! (`crm_core::service::Crm::deliver_external_pushes`), which this directory feeds.
//!
//! Each `[[connectors]]` entry of the configuration file names a tenant, a product and that
//! connector crate's own configuration table:
//!
//! ```toml
//! [[connectors]]
//! tenant = "0192f0c4-…"
//! system = "salesforce"            # salesforce | dynamics | netsuite
//! [connectors.salesforce]
//! login_url = "https://acme.my.salesforce.com"
//! [connectors.salesforce.auth]
//! flow = "client_credentials"
//! client_id = "3MVG9…"
//! client_secret = { env = "CRM_ACME_SF_SECRET" }   # or { file = "/run/secrets/sf" }
//! ```
//!
//! Any value may be given as `{ env = "NAME" }` (read from the environment at start) or
//! `{ file = "PATH" }` (the file's content, a trailing newline dropped), so secrets need not
//! sit in the file. Secrets are `secrecy::SecretString` in the connector configurations and
//! never printed; the administration view ([`ConnectorView`]) shows every setting but them.
//!
//! Without any entry, [`Connectors::none`] answers "no connector is configured" and the
//! push worker does not run, so pushes wait in the outbox, pending, until one is.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crm_connector_dynamics::{DynamicsConfig, DynamicsConnector};
use crm_connector_netsuite::{NetSuiteConfig, NetSuiteConnector};
use crm_connector_salesforce::{SalesforceConfig, SalesforceConnector};
use crm_core::external::{ApiUsage, ExternalSystem};
use crm_core::ids::TenantId;
use crm_core::ports::ExternalCrm;
use crm_core::service::ConnectorDirectory;
use crm_core::time::Clock;

/// The text shown instead of a secret.
pub const REDACTED: &str = "[redacted]";

/// One `[[connectors]]` table as read from the file, before its references are resolved.
/// `Debug` never shows its values (they may hold secrets).
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct RawConnector(pub toml::Table);

impl std::fmt::Debug for RawConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawConnector(..)")
    }
}

/// A product's connector configuration.
#[derive(Debug)]
pub enum SystemConfig {
    /// Salesforce.
    Salesforce(SalesforceConfig),
    /// Dynamics 365 / Dataverse.
    Dynamics(DynamicsConfig),
    /// NetSuite.
    NetSuite(NetSuiteConfig),
}

/// One configured connector: a tenant, a product, its configuration and its redacted view.
#[derive(Debug)]
pub struct ConnectorSpec {
    /// The tenant it serves.
    pub tenant: TenantId,
    /// The product.
    pub system: ExternalSystem,
    /// The connector crate's configuration.
    pub config: SystemConfig,
    /// The settings as shown to administrators (secrets redacted).
    pub view: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    tenant: uuid::Uuid,
    system: String,
    #[serde(default)]
    salesforce: Option<SalesforceConfig>,
    #[serde(default)]
    dynamics: Option<DynamicsConfig>,
    #[serde(default)]
    netsuite: Option<NetSuiteConfig>,
}

/// Why the connector configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("connectors[{index}]: {reason}")]
pub struct ConnectorConfigError {
    /// The entry's position in the `[[connectors]]` list (from 0).
    pub index: usize,
    /// What is wrong.
    pub reason: String,
}

/// Whether a setting's name says it holds a secret.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("secret") || k.contains("password") || k.contains("private_key") || k.ends_with("_pem")
}

/// Redacts the values of secret settings (and every reference under them).
fn redact(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| {
                    let shown = if is_secret_key(k) { serde_json::Value::from(REDACTED) } else { redact(v) };
                    (k.clone(), shown)
                })
                .collect(),
        ),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(redact).collect()),
        toml::Value::String(s) => serde_json::Value::from(s.as_str()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::from(*b),
        toml::Value::Datetime(d) => serde_json::Value::from(d.to_string()),
    }
}

/// Replaces `{ env = "NAME" }` and `{ file = "PATH" }` tables by the value they point at.
fn resolve(value: toml::Value, env: &dyn Fn(&str) -> Option<String>, at: &str) -> Result<toml::Value, String> {
    match value {
        toml::Value::Table(t) if t.len() == 1 && t.get("env").is_some_and(toml::Value::is_str) => {
            let name = t.get("env").and_then(toml::Value::as_str).unwrap_or_default();
            env(name).map(toml::Value::String).ok_or_else(|| format!("{at}: environment variable {name} is not set"))
        }
        toml::Value::Table(t) if t.len() == 1 && t.get("file").is_some_and(toml::Value::is_str) => {
            let path = t.get("file").and_then(toml::Value::as_str).unwrap_or_default();
            let text = std::fs::read_to_string(path).map_err(|e| format!("{at}: cannot read {path}: {e}"))?;
            Ok(toml::Value::String(text.strip_suffix('\n').unwrap_or(&text).to_owned()))
        }
        toml::Value::Table(t) => Ok(toml::Value::Table(
            t.into_iter()
                .map(|(k, v)| {
                    let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                    resolve(v, env, &path).map(|v| (k, v))
                })
                .collect::<Result<_, _>>()?,
        )),
        toml::Value::Array(a) => Ok(toml::Value::Array(
            a.into_iter().enumerate().map(|(i, v)| resolve(v, env, &format!("{at}[{i}]"))).collect::<Result<_, _>>()?,
        )),
        other => Ok(other),
    }
}

/// Parses the `[[connectors]]` entries; `env` reads `{ env = "NAME" }` references.
///
/// # Errors
/// An entry that does not parse, names an unknown product, lacks its product's table or
/// has another's, points at a missing variable or file, or repeats a tenant and product.
pub fn parse(
    raw: &[RawConnector],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<ConnectorSpec>, ConnectorConfigError> {
    let mut specs: Vec<ConnectorSpec> = Vec::with_capacity(raw.len());
    for (index, RawConnector(table)) in raw.iter().enumerate() {
        let fail = |reason: String| ConnectorConfigError { index, reason };
        let table = resolve(toml::Value::Table(table.clone()), env, "").map_err(fail)?;
        let spec = parse_entry(table).map_err(fail)?;
        if specs.iter().any(|s| s.tenant == spec.tenant && s.system == spec.system) {
            return Err(fail(format!("tenant {} already has a {} connector", spec.tenant, spec.system)));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// Parses a connector configured through the API: `settings` is the product's table (the
/// keys of `[connectors.<system>]`) as JSON. References to the server's environment or
/// files (`{ env = … }`, `{ file = … }`) are refused: an administrator of a tenant must not
/// read the server's secrets.
///
/// # Errors
/// The reason, naming the setting where it can.
pub fn parse_api(
    tenant: TenantId,
    system: ExternalSystem,
    settings: &serde_json::Value,
) -> Result<ConnectorSpec, String> {
    let value = toml::Value::try_from(settings).map_err(|e| format!("settings: {e}"))?;
    if let Some(at) = first_reference(&value, "") {
        return Err(format!(
            "settings.{at}: references to the server's environment or files are only read from its configuration file"
        ));
    }
    let mut table = toml::Table::new();
    table.insert("tenant".into(), toml::Value::String(tenant.to_string()));
    table.insert("system".into(), toml::Value::String(system.as_str().into()));
    table.insert(system.as_str().into(), value);
    parse_entry(toml::Value::Table(table))
}

/// Where the first `{ env = … }` or `{ file = … }` table of `value` is.
fn first_reference(value: &toml::Value, at: &str) -> Option<String> {
    match value {
        toml::Value::Table(t) if t.len() == 1 && (t.contains_key("env") || t.contains_key("file")) => {
            Some(at.to_owned())
        }
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
            let path = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            first_reference(v, &path)
        }),
        toml::Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| first_reference(v, &format!("{at}[{i}]"))),
        _ => None,
    }
}

/// One entry (references already resolved): its tenant, product and configuration, and
/// the product's settings redacted.
fn parse_entry(table: toml::Value) -> Result<ConnectorSpec, String> {
    let mut view = redact(&table);
    let entry: Entry = table.try_into().map_err(|e: toml::de::Error| e.message().to_owned())?;
    let system: ExternalSystem = entry.system.parse().map_err(|e: crm_core::FieldError| e.reason)?;
    let present = [
        ("salesforce", entry.salesforce.is_some()),
        ("dynamics", entry.dynamics.is_some()),
        ("netsuite", entry.netsuite.is_some()),
    ];
    let own = system.as_str();
    if let Some((other, _)) = present.iter().find(|(name, set)| *set && *name != own) {
        return Err(format!("system is {own} but a [connectors.{other}] table is given"));
    }
    let config = match (system, entry.salesforce, entry.dynamics, entry.netsuite) {
        (ExternalSystem::Salesforce, Some(c), _, _) => SystemConfig::Salesforce(c),
        (ExternalSystem::Dynamics, _, Some(c), _) => SystemConfig::Dynamics(c),
        (ExternalSystem::NetSuite, _, _, Some(c)) => SystemConfig::NetSuite(c),
        _ => return Err(format!("a [connectors.{own}] table is required")),
    };
    // The view shows the product's settings only, under stable keys.
    let settings = view.get_mut(own).map(serde_json::Value::take).unwrap_or_default();
    view = settings;
    Ok(ConnectorSpec { tenant: TenantId::from(entry.tenant), system, config, view })
}

/// Builds the connector of `spec`; `clock` dates its signed assertions.
///
/// # Errors
/// A configuration the connector refuses (a bad URL, an unreadable key …).
pub fn build_one(
    spec: SystemConfig,
    clock: &Arc<dyn Clock>,
) -> Result<Arc<dyn ExternalCrm>, crm_connector_http::ConfigError> {
    Ok(match spec {
        SystemConfig::Salesforce(c) => Arc::new(SalesforceConnector::new(c, clock.clone())?),
        SystemConfig::Dynamics(c) => Arc::new(DynamicsConnector::new(c, clock.clone())?),
        SystemConfig::NetSuite(c) => Arc::new(NetSuiteConnector::new(c, clock.clone())?),
    })
}

/// A configured connector as administrators see it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConnectorView {
    /// The product: `salesforce`, `dynamics` or `netsuite`.
    #[schema(value_type = String)]
    pub system: ExternalSystem,
    /// The connector's settings, every secret shown as `[redacted]`.
    #[schema(value_type = Object)]
    pub settings: serde_json::Value,
    /// Where it is configured: `file` (the server's configuration file, changed there) or
    /// `api` (`PUT /api/v1/admin/connectors/{system}`).
    pub source: String,
    /// Its version (`api` only): the `If-Match` of a change or a delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
}

/// The connectors of a server: a directory by tenant and product, and their redacted views.
#[derive(Clone, Default)]
pub struct Connectors {
    directory: Option<Arc<dyn ConnectorDirectory>>,
    views: Arc<Vec<(TenantId, ConnectorView)>>,
    /// The configured connectors, for their metrics.
    built: Arc<Vec<(TenantId, Arc<dyn ExternalCrm>)>>,
    /// The connectors configured through the API, when the server has a secrets key.
    api: Option<Arc<crate::api_connectors::ApiConnectors>>,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.directory.is_some() { "Connectors(configured)" } else { "Connectors(none)" })
    }
}

/// The connectors built from the configuration.
struct StaticDirectory(HashMap<(TenantId, ExternalSystem), Arc<dyn ExternalCrm>>);

impl ConnectorDirectory for StaticDirectory {
    fn connector(&self, tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        self.0.get(&(tenant, system)).cloned()
    }
}

impl Connectors {
    /// No connector for anyone.
    pub fn none() -> Self {
        Self::default()
    }

    /// Connectors from a directory (embedders and tests); no administration view.
    pub fn from_directory(directory: Arc<dyn ConnectorDirectory>) -> Self {
        Self { directory: Some(directory), views: Arc::default(), built: Arc::default(), api: None }
    }

    /// Builds the connectors of the configuration; `clock` dates their signed assertions.
    ///
    /// # Errors
    /// A configuration the connector refuses (a bad URL, an unreadable key …).
    pub fn build(specs: Vec<ConnectorSpec>, clock: &Arc<dyn Clock>) -> Result<Self, ConnectorConfigError> {
        if specs.is_empty() {
            return Ok(Self::none());
        }
        let mut map: HashMap<(TenantId, ExternalSystem), Arc<dyn ExternalCrm>> = HashMap::new();
        let mut views = Vec::with_capacity(specs.len());
        let mut built = Vec::with_capacity(specs.len());
        for (index, spec) in specs.into_iter().enumerate() {
            let fail = |e: crm_connector_http::ConfigError| ConnectorConfigError { index, reason: e.to_string() };
            let connector = build_one(spec.config, clock).map_err(fail)?;
            tracing::info!(tenant = %spec.tenant, system = %spec.system, "external crm connector configured");
            built.push((spec.tenant, connector.clone()));
            map.insert((spec.tenant, spec.system), connector);
            views.push((
                spec.tenant,
                ConnectorView { system: spec.system, settings: spec.view, source: "file".into(), version: None },
            ));
        }
        Ok(Self {
            directory: Some(Arc::new(StaticDirectory(map))),
            views: Arc::new(views),
            built: Arc::new(built),
            api: None,
        })
    }

    /// The same connectors, and those configured through the API (sealed with `key`).
    #[must_use]
    pub fn with_api(mut self, api: Arc<crate::api_connectors::ApiConnectors>) -> Self {
        self.api = Some(api);
        self
    }

    /// The connectors configured through the API, when the server can hold them.
    pub fn api(&self) -> Option<&Arc<crate::api_connectors::ApiConnectors>> {
        self.api.as_ref()
    }

    /// Whether `tenant`'s connector to `system` comes from the configuration file.
    pub fn in_file(&self, tenant: TenantId, system: ExternalSystem) -> bool {
        self.views.iter().any(|(t, v)| *t == tenant && v.system == system)
    }

    /// Whether any directory is wired (the push worker runs only then).
    pub fn is_configured(&self) -> bool {
        self.directory.is_some() || self.api.is_some()
    }

    /// Every built connector: the file's, then the API's.
    fn every(&self) -> Vec<(TenantId, Arc<dyn ExternalCrm>)> {
        let mut all: Vec<(TenantId, Arc<dyn ExternalCrm>)> = self.built.iter().cloned().collect();
        if let Some(api) = &self.api {
            all.extend(api.built());
        }
        all
    }

    /// The API allowance each configured connector's remote last reported as used.
    pub fn api_usage(&self) -> Vec<(TenantId, ExternalSystem, ApiUsage)> {
        self.every().iter().filter_map(|(tenant, c)| c.api_usage().map(|u| (*tenant, c.system(), u))).collect()
    }

    /// Tests every configured connector once (their credentials and screen-pop reads) and
    /// logs each outcome, so a bad secret shows at start-up; a failure does not stop the
    /// server (the remote may only be down for now).
    pub async fn check_all(&self) {
        for (tenant, connector) in &self.every() {
            let system = connector.system();
            match connector.check_connection().await {
                Ok(()) => tracing::info!(%tenant, %system, "external crm connection checked"),
                Err(e) => {
                    tracing::warn!(%tenant, %system, error = %e.explain(), "external crm connection check failed")
                }
            }
        }
    }

    /// The connectors configured for `tenant`, secrets redacted: the file's, then the
    /// API's, each by product.
    pub fn views(&self, tenant: TenantId) -> Vec<ConnectorView> {
        let mut views: Vec<ConnectorView> =
            self.views.iter().filter(|(t, _)| *t == tenant).map(|(_, v)| v.clone()).collect();
        if let Some(api) = &self.api {
            views.extend(api.views(tenant).into_iter().filter(|v| !self.in_file(tenant, v.system)));
        }
        views
    }
}

impl ConnectorDirectory for Connectors {
    /// The file's connector first (the file wins), then the API's.
    fn connector(&self, tenant: TenantId, system: ExternalSystem) -> Option<Arc<dyn ExternalCrm>> {
        self.directory
            .as_ref()
            .and_then(|d| d.connector(tenant, system))
            .or_else(|| self.api.as_ref().and_then(|a| a.connector(tenant, system)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Vec<RawConnector> {
        #[derive(Deserialize)]
        struct F {
            connectors: Vec<RawConnector>,
        }
        toml::from_str::<F>(text).unwrap().connectors
    }

    const SF: &str = r#"
[[connectors]]
tenant = "0192f0c4-0000-7000-8000-000000000001"
system = "salesforce"
[connectors.salesforce]
login_url = "http://127.0.0.1:9"
[connectors.salesforce.auth]
flow = "client_credentials"
client_id = "abc"
client_secret = { env = "SF_SECRET" }
"#;

    #[test]
    fn every_example_configuration_of_the_readme_is_read() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\n# Salesforce, OAuth 2.0 client credentials").expect("the connectors example");
        let block = &readme[start + "```toml\n".len()..];
        let block = &block[..block.find("```").expect("end of block")];
        // One tenant per entry (a tenant has one connector per product); references to
        // files read like variables here.
        let mut text = String::new();
        let mut entry = 0;
        for line in block.lines() {
            if line.starts_with("tenant = ") {
                entry += 1;
                text.push_str(&format!("tenant = \"0192f0c4-0000-7000-8000-{entry:012}\"\n"));
            } else {
                text.push_str(&line.replace("{ file = ", "{ env = "));
                text.push('\n');
            }
        }
        let specs = parse(&raw(&text), &|_| Some(String::from("value"))).unwrap();
        let systems: Vec<&str> = specs.iter().map(|s| s.system.as_str()).collect();
        assert_eq!(systems, ["salesforce", "salesforce", "dynamics", "netsuite", "netsuite"]);
    }

    #[test]
    fn secrets_come_from_the_environment_and_are_redacted_in_the_view() {
        let env = |name: &str| (name == "SF_SECRET").then(|| "s3cr3t".to_owned());
        let specs = parse(&raw(SF), &env).unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].system, ExternalSystem::Salesforce);
        assert_eq!(specs[0].view["auth"]["client_secret"], REDACTED);
        assert_eq!(specs[0].view["auth"]["client_id"], "abc");
        assert_eq!(specs[0].view["login_url"], "http://127.0.0.1:9");
        assert!(!format!("{specs:?}").contains("s3cr3t"), "Debug hides secrets");
        assert!(!specs[0].view.to_string().contains("s3cr3t"));
        let clock: Arc<dyn Clock> = Arc::new(crm_core::time::SystemClock);
        let built = Connectors::build(specs, &clock).unwrap();
        let tenant = TenantId::from(uuid::Uuid::parse_str("0192f0c4-0000-7000-8000-000000000001").unwrap());
        assert!(built.connector(tenant, ExternalSystem::Salesforce).is_some());
        assert!(built.connector(tenant, ExternalSystem::Dynamics).is_none());
        assert_eq!(built.views(tenant).len(), 1);
    }

    #[test]
    fn bad_entries_are_refused_with_their_position() {
        let none = |_: &str| None;
        let e = parse(&raw(SF), &none).unwrap_err();
        assert!(e.to_string().contains("SF_SECRET"), "{e}");
        let env = |_: &str| Some("x".to_owned());
        let twice = format!("{SF}{SF}");
        let e = parse(&raw(&twice), &env).unwrap_err();
        assert_eq!(e.index, 1);
        let wrong = SF.replace("system = \"salesforce\"", "system = \"dynamics\"");
        assert!(parse(&raw(&wrong), &env).is_err());
        let unknown = SF.replace("system = \"salesforce\"", "system = \"sugar\"");
        assert!(parse(&raw(&unknown), &env).is_err());
    }
}
