//! [`DynamicsConnector`]: the [`ExternalCrm`] port over the Dataverse Web API.
//!
//! Searches run one `$filter` query per table (contacts, leads, accounts) and follow
//! `@odata.nextLink` up to a bound. Creates POST and read the id from `OData-EntityId`
//! (204) or the body (201). The wrap-up is a `phonecall` whose id is a UUID v5 of the
//! activity key: `PATCH phonecalls(<id>)` with `If-None-Match: *` creates it (a 412 means
//! an earlier delivery did), then `PATCH` with `If-Match: *` completes it.

use async_trait::async_trait;
use crm_connector_http::{BearerAuth, ConfigError, HttpClient, Idempotency, RawResponse, decode_error};
use crm_core::ConnectorError;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ports::ExternalCrm;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::EntraTokenSource;
use crate::config::{DynamicsConfig, DynamicsMapping};
use crate::odata::{Missing, any_column_equals, entity_id, odata_headers, to_connector_error};
use crate::records::{
    ACCOUNTS, CONTACTS, LEADS, Table, completion_body, incident_body, person_body, phone_columns, phonecall_body,
    phonecall_id, select, table_of, to_external,
};
use crate::system::SYSTEM;

/// One Dataverse environment.
#[derive(Debug)]
pub struct DynamicsConnector {
    http: HttpClient,
    auth: BearerAuth<EntraTokenSource>,
    environment: String,
    api: String,
    mapping: DynamicsMapping,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Value>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

type Build<'a> = dyn Fn(&reqwest::Client) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync + 'a;

impl DynamicsConnector {
    /// A connector for `config`.
    ///
    /// # Errors
    /// When the environment URL or the API version is malformed.
    pub fn new(config: DynamicsConfig) -> Result<Self, ConfigError> {
        let environment = config.environment_url.trim_end_matches('/').to_owned();
        Url::parse(&environment).map_err(|e| ConfigError::new(SYSTEM, format!("environment_url: {e}")))?;
        if !config.api_version.starts_with('v') {
            return Err(ConfigError::new(SYSTEM, format!("api_version {:?} is not vN.N", config.api_version)));
        }
        let source = EntraTokenSource::new(&config);
        let http = HttpClient::new(SYSTEM, config.http.clone())?;
        let auth = BearerAuth::new(source, config.http.token_refresh_margin());
        let api = format!("{environment}/api/data/{}", config.api_version);
        Ok(Self { http, auth, environment, api, mapping: config.mapping })
    }

    /// How many access tokens this connector minted.
    pub fn tokens_minted(&self) -> u64 {
        self.auth.cache().minted()
    }

    async fn call(&self, idempotency: Idempotency, build: &Build<'_>) -> Result<RawResponse, ConnectorError> {
        self.http.send(&self.auth, idempotency, &|client: &reqwest::Client, _| build(client).map(odata_headers)).await
    }

    fn prefer(&self) -> String {
        format!(
            "odata.maxpagesize={},odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\"",
            self.mapping.page_size
        )
    }

    async fn search(&self, table: Table, filter: &str, out: &mut Vec<ExternalRecord>) -> Result<(), ConnectorError> {
        let select = select(table, &self.mapping);
        let prefer = self.prefer();
        let first = |client: &reqwest::Client| {
            Ok(client
                .get(format!("{}/{}", self.api, table.set))
                .query(&[("$select", select.as_str()), ("$filter", filter)])
                .header("Prefer", prefer.as_str())
                .header("If-None-Match", "null"))
        };
        let mut answer = self.call(Idempotency::Idempotent, &first).await?;
        for page in 1.. {
            if !answer.is_success() {
                return Err(to_connector_error(&answer, table.set, Missing::Rejected));
            }
            let rows: Page = answer.json(SYSTEM)?;
            out.extend(rows.value.iter().filter_map(|row| to_external(row, table, &self.mapping, &self.environment)));
            let next = match rows.next_link {
                Some(next) if page < self.mapping.max_pages => next,
                _ => break,
            };
            // The token only goes to this environment.
            if !next.starts_with(&format!("{}/", self.api)) {
                return Err(decode_error(SYSTEM, "@odata.nextLink points outside the environment"));
            }
            let follow = |client: &reqwest::Client| {
                Ok(client.get(next.as_str()).header("Prefer", prefer.as_str()).header("If-None-Match", "null"))
            };
            answer = self.call(Idempotency::Idempotent, &follow).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl ExternalCrm for DynamicsConnector {
    fn system(&self) -> ExternalSystem {
        ExternalSystem::Dynamics
    }

    /// Phone columns hold what users typed, so an exact `eq` on the E.164 form misses
    /// numbers stored in other formats [U: Dataverse has no phone normalisation in
    /// `$filter`]; the columns are configurable.
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        for table in [CONTACTS, LEADS, ACCOUNTS] {
            let columns = phone_columns(table, &self.mapping);
            if !columns.is_empty() {
                self.search(table, &any_column_equals(columns, phone.as_e164()), &mut out).await?;
            }
        }
        Ok(out)
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        if self.mapping.email_columns.is_empty() {
            return Ok(out);
        }
        let filter = any_column_equals(&self.mapping.email_columns, email.as_str());
        for table in [CONTACTS, LEADS, ACCOUNTS] {
            self.search(table, &filter, &mut out).await?;
        }
        Ok(out)
    }

    async fn create(&self, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError> {
        let object = request.object();
        let table = table_of(object);
        let body = match request {
            ExternalCreate::Case(case) => incident_body(case, &self.mapping)?,
            ExternalCreate::Contact(person) => person_body(person, false)?,
            ExternalCreate::Lead(person) => person_body(person, true)?,
        };
        let build = |client: &reqwest::Client| {
            Ok(client.post(format!("{}/{}", self.api, table.set)).header("If-None-Match", "null").json(&body))
        };
        let answer = self.call(Idempotency::NotIdempotent, &build).await?;
        if !answer.is_success() {
            return Err(to_connector_error(&answer, table.set, Missing::Rejected));
        }
        let id = match answer.header("odata-entityid").and_then(entity_id) {
            Some(id) => id,
            // With `Prefer: return=representation` the row comes back in a 201.
            None => answer
                .json::<Value>(SYSTEM)?
                .get(table.key)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| decode_error(SYSTEM, "the create answer named no id"))?,
        };
        Ok(ExternalRef { system: ExternalSystem::Dynamics, object, id })
    }

    /// Returns the phonecall id with the target's object kind: the core has no activity
    /// kind yet.
    async fn push_activity(&self, activity: &ActivityPush) -> Result<ExternalRef, ConnectorError> {
        let what = format!("{} {}", table_of(activity.target.object).logical, activity.target.id);
        let id = phonecall_id(activity, &self.mapping);
        let url = format!("{}/phonecalls({id})", self.api);
        let body = phonecall_body(activity)?;

        let create = |client: &reqwest::Client| {
            Ok(client.request(Method::PATCH, url.as_str()).header("If-None-Match", "*").json(&body))
        };
        let created = self.call(Idempotency::Idempotent, &create).await?;
        let existed = match created.status.as_u16() {
            200..=299 => false,
            // "A record with matching key values already exists": an earlier delivery.
            412 => true,
            _ => return Err(to_connector_error(&created, &what, Missing::NotFound)),
        };

        let completion = completion_body(activity);
        let complete = |client: &reqwest::Client| {
            Ok(client.request(Method::PATCH, url.as_str()).header("If-Match", "*").json(&completion))
        };
        let completed = self.call(Idempotency::Idempotent, &complete).await?;
        if !completed.is_success() {
            // Completing a call an earlier delivery already closed may be refused; the
            // exact answer is unverified [U], so a 400 is tolerated on redelivery.
            if existed && completed.status.as_u16() == 400 {
                tracing::debug!(system = SYSTEM, "phonecall already completed");
            } else {
                return Err(to_connector_error(&completed, &what, Missing::NotFound));
            }
        }
        Ok(ExternalRef { system: ExternalSystem::Dynamics, object: ExternalObject::Activity, id: id.to_string() })
    }
}
