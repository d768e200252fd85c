//! [`DynamicsConnector`]: the [`ExternalCrm`] port over the Dataverse Web API.
//!
//! Searches read contacts, leads and accounts in ONE `$batch` request (a `$filter` GET per
//! table) and follow each table's `@odata.nextLink` up to a bound. Creates are create-only PATCHes (`If-None-Match: *`) on
//! a primary key derived from the create's key, so a resent create meets 412 ("already
//! exists") and finds the row the first one made. The wrap-up is a `phonecall` whose id is a UUID v5 of the
//! activity key: `PATCH phonecalls(<id>)` with `If-None-Match: *` creates it (a 412 means
//! an earlier delivery did), then `PATCH` with `If-Match: *` completes it. That update-only
//! PATCH is the confirmation: it answers 204 only when the phonecall exists, so a create
//! answered with a body that breaks off is delivered only once the completion finds the
//! row (a 404 there is a retryable "not confirmed", never the target's absence); any other
//! success answer of the completion is followed by a read of the phonecall.

use std::sync::Arc;

use async_trait::async_trait;
use crm_connector_http::{BearerAuth, ConfigError, HttpClient, Idempotency, RawResponse, decode_error, unconfirmed};
use crm_core::ConnectorError;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ports::ExternalCrm;
use crm_core::time::Clock;
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::EntraTokenSource;
use crate::config::{DynamicsConfig, DynamicsMapping};
use crate::odata::{Missing, any_column_equals, odata_headers, phone_filter, to_connector_error};
use crate::records::{
    ACCOUNTS, CONTACTS, LEADS, Table, completion_body, incident_body, person_body, phone_columns, phonecall_body,
    phonecall_id, record_id, select, table_of, to_external,
};
use crate::system::SYSTEM;

/// How many trailing digits a phone search matches with `endswith`: the last group of
/// most written forms (`555-0103`) has at least four.
const PHONE_SUFFIX_DIGITS: usize = 4;

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
    /// A connector for `config`; `clock` dates the client assertions of a certificate.
    ///
    /// # Errors
    /// When the environment URL or the API version is malformed, or the credential is
    /// missing or unreadable.
    pub fn new(config: DynamicsConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let environment = config.environment_url.trim_end_matches('/').to_owned();
        Url::parse(&environment).map_err(|e| ConfigError::new(SYSTEM, format!("environment_url: {e}")))?;
        if !config.api_version.starts_with('v') {
            return Err(ConfigError::new(SYSTEM, format!("api_version {:?} is not vN.N", config.api_version)));
        }
        let source = EntraTokenSource::new(&config, clock)?;
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

    /// Searches several tables in ONE request (`$batch`, [`crate::batch`]): a GET with
    /// `$select` and `$filter` per table; a table whose rows do not fit the first page
    /// follows its `@odata.nextLink` on its own.
    async fn search(&self, searches: &[(Table, String)], out: &mut Vec<ExternalRecord>) -> Result<(), ConnectorError> {
        if searches.is_empty() {
            return Ok(());
        }
        let prefer = self.prefer();
        let mut urls = Vec::with_capacity(searches.len());
        for (table, filter) in searches {
            let mut url = Url::parse(&format!("{}/{}", self.api, table.set))
                .map_err(|e| decode_error(SYSTEM, format!("environment_url: {e}")))?;
            url.query_pairs_mut().append_pair("$select", &select(*table, &self.mapping)).append_pair("$filter", filter);
            urls.push(url.to_string());
        }
        let boundary = format!("batch_{}", uuid::Uuid::now_v7().simple());
        let headers = [("Accept", "application/json"), ("Prefer", prefer.as_str()), ("If-None-Match", "null")];
        let body = crate::batch::batch_body(&boundary, &urls, &headers);
        let content_type = format!("multipart/mixed; boundary={boundary}");
        let build = |client: &reqwest::Client| {
            Ok(client
                .post(format!("{}/$batch", self.api))
                .header("Content-Type", content_type.as_str())
                .body(body.clone()))
        };
        let answer = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() {
            return Err(to_connector_error(&answer, "$batch", Missing::Rejected));
        }
        let answered = answer.header("content-type").unwrap_or_default().to_owned();
        let parts = crate::batch::parse_batch(&answered, &answer.body)?;
        if parts.len() != searches.len() {
            return Err(decode_error(SYSTEM, "the $batch answer does not answer every search"));
        }
        for ((table, _), part) in searches.iter().zip(parts) {
            self.pages(*table, part, out).await?;
        }
        Ok(())
    }

    /// The rows of a table's answer, following `@odata.nextLink` up to the mapping's bound.
    async fn pages(
        &self,
        table: Table,
        mut answer: RawResponse,
        out: &mut Vec<ExternalRecord>,
    ) -> Result<(), ConnectorError> {
        let prefer = self.prefer();
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

impl DynamicsConnector {
    /// A create-only upsert on the mapping's alternate key (`PATCH
    /// /{set}({column}='<key>')` with `If-None-Match: *`): 204 names the new row in
    /// `OData-EntityId`; 412 (an earlier attempt made it) and any answer that names no row
    /// are followed by a read by the key.
    async fn create_on_alternate_key(
        &self,
        table: Table,
        key: &str,
        body: &Value,
    ) -> Result<ExternalRef, ConnectorError> {
        let column = &self.mapping.create_alternate_key;
        let url = format!("{}/{}({column}={})", self.api, table.set, crate::odata::literal(key));
        let build = |client: &reqwest::Client| {
            Ok(client.request(Method::PATCH, url.as_str()).header("If-None-Match", "*").json(body))
        };
        let answer = self.call(Idempotency::Idempotent, &build).await?;
        let what = format!("{} {column}={key}", table.logical);
        let named = (answer.status.as_u16() == 204)
            .then(|| answer.header("odata-entityid").and_then(crate::odata::entity_id))
            .flatten();
        let id = match (answer.status.as_u16(), named) {
            (204, Some(id)) => id,
            (200..=299 | 412, _) => self.read_id(table, &url, &what).await?,
            _ => return Err(to_connector_error(&answer, table.set, Missing::Rejected)),
        };
        Ok(ExternalRef { system: ExternalSystem::Dynamics, object: table.object, id })
    }

    /// The primary key of the row at `url` (a key or alternate-key address), read to
    /// confirm a create; a row that cannot be found is a retryable "not confirmed".
    async fn read_id(&self, table: Table, url: &str, what: &str) -> Result<String, ConnectorError> {
        let read = |client: &reqwest::Client| Ok(client.get(url).query(&[("$select", table.key)]));
        let row = self.call(Idempotency::Idempotent, &read).await?;
        if row.status.as_u16() == 404 {
            return Err(unconfirmed(SYSTEM, what, "its create was not answered with 204 and it cannot be read back"));
        }
        if !row.is_success() {
            return Err(to_connector_error(&row, what, Missing::Rejected));
        }
        let value = row.json::<Value>(SYSTEM)?;
        value
            .get(table.key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| decode_error(SYSTEM, format!("the row of {what} has no {}", table.key)))
    }
}

#[async_trait]
impl ExternalCrm for DynamicsConnector {
    fn system(&self) -> ExternalSystem {
        ExternalSystem::Dynamics
    }

    /// Phone columns hold what users typed and Dataverse has no phone normalisation in
    /// `$filter` \[U\], so each table is asked for the rows whose phone columns equal one
    /// of the number's written forms or end with its last digits, and only the rows whose
    /// numbers read back (by the core's phone rules) as the searched number are kept. One
    /// request for the three tables (contacts, leads, accounts: `$batch`), more only when a
    /// page overflows.
    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        let forms = phone.written_forms();
        let suffix = phone.last_digits(PHONE_SUFFIX_DIGITS);
        let searches: Vec<(Table, String)> = [CONTACTS, LEADS, ACCOUNTS]
            .into_iter()
            .filter(|table| !phone_columns(*table, &self.mapping).is_empty())
            .map(|table| (table, phone_filter(phone_columns(table, &self.mapping), &forms, suffix)))
            .collect();
        self.search(&searches, &mut out).await?;
        out.retain(|record| record.phones.iter().any(|written| phone.is_written_as(written)));
        Ok(out)
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        if self.mapping.email_columns.is_empty() {
            return Ok(out);
        }
        let filter = any_column_equals(&self.mapping.email_columns, email.as_str());
        let searches: Vec<(Table, String)> = [CONTACTS, LEADS, ACCOUNTS].map(|t| (t, filter.clone())).into();
        self.search(&searches, &mut out).await?;
        Ok(out)
    }

    /// A create-only write on a primary key derived from `key` (UUID v5 in the mapping's
    /// namespace): `PATCH /{set}({id})` with `If-None-Match: *` answers 204 when it creates
    /// the row and 412 when an earlier attempt did, which is the same success. Any other
    /// success answer is followed by a read of the row.
    async fn create(&self, key: &str, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError> {
        let object = request.object();
        let table = table_of(object);
        let body = match request {
            ExternalCreate::Case(case) => incident_body(case, &self.mapping)?,
            ExternalCreate::Contact(person) => person_body(person, false)?,
            ExternalCreate::Lead(person) => person_body(person, true)?,
        };
        if !self.mapping.create_alternate_key.is_empty() {
            return self.create_on_alternate_key(table, key, &body).await;
        }
        let id = record_id(key, &self.mapping);
        let url = format!("{}/{}({id})", self.api, table.set);
        let build = |client: &reqwest::Client| {
            Ok(client.request(Method::PATCH, url.as_str()).header("If-None-Match", "*").json(&body))
        };
        let answer = self.call(Idempotency::Idempotent, &build).await?;
        let what = format!("{} {id}", table.logical);
        match answer.status.as_u16() {
            // Created now, or by an earlier attempt with this key.
            204 | 412 => {}
            200..=299 => {
                tracing::warn!(
                    system = SYSTEM,
                    status = answer.status.as_u16(),
                    "unexpected create answer, reading the row back"
                );
                self.read_id(table, &url, &what).await?;
            }
            _ => return Err(to_connector_error(&answer, table.set, Missing::Rejected)),
        }
        Ok(ExternalRef { system: ExternalSystem::Dynamics, object, id: id.to_string() })
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
        let phonecall = format!("phonecall {id}");
        match completed.status.as_u16() {
            204 => {}
            // The update-only PATCH found no row: the create did not take effect.
            404 => {
                return Err(unconfirmed(SYSTEM, phonecall, "it cannot be completed: it does not exist"));
            }
            // Completing a call an earlier delivery already closed may be refused; the
            // exact answer is unverified [U], so a 400 is tolerated on redelivery.
            400 if existed => tracing::debug!(system = SYSTEM, "phonecall already completed"),
            200..=299 => {
                tracing::warn!(
                    system = SYSTEM,
                    status = completed.status.as_u16(),
                    "unexpected completion answer, reading the phonecall back"
                );
                let read = |client: &reqwest::Client| Ok(client.get(url.as_str()).query(&[("$select", "activityid")]));
                let answer = self.call(Idempotency::Idempotent, &read).await?;
                if answer.status.as_u16() == 404 {
                    return Err(unconfirmed(SYSTEM, phonecall, "it cannot be read back"));
                }
                if !answer.is_success() {
                    return Err(to_connector_error(&answer, &phonecall, Missing::Rejected));
                }
                answer.json::<Value>(SYSTEM)?;
            }
            _ => return Err(to_connector_error(&completed, &phonecall, Missing::Rejected)),
        }
        Ok(ExternalRef { system: ExternalSystem::Dynamics, object: ExternalObject::Activity, id: id.to_string() })
    }
}
