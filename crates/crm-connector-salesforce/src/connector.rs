//! [`SalesforceConnector`]: the [`ExternalCrm`] port over the Salesforce REST API.
//! Every call goes to `{instance_url}/services/data/{version}/…` with the bearer token of
//! the [`SalesforceTokenSource`]; reads and the ext-id upsert are idempotent, creates are not.
//! A wrap-up Task counts as written only when the upsert's answer names its id or the Task
//! is read back by its external id.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use crm_connector_http::{
    AuthContext, BearerAuth, ConfigError, HttpClient, Idempotency, RawResponse, decode_error, unconfirmed,
};
use crm_core::ConnectorError;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::{
    ActivityPush, ApiUsage, ExternalCreate, ExternalObject, ExternalRecord, ExternalRef, ExternalSystem,
};
use crm_core::ports::ExternalCrm;
use crm_core::time::Clock;
use reqwest::{Method, Url};
use serde::Deserialize;

use crate::auth::SalesforceTokenSource;
use crate::config::{DuplicateRules, SalesforceConfig, SalesforceMapping};
use crate::errors::{parse_errors, throttle_hook, to_connector_error};
use crate::query::{email_queries, phone_search};
use crate::records::{QueryPage, SearchAnswer, case_body, person_body, sobject_of, task_body, to_external};
use crate::system::SYSTEM;

/// One Salesforce org.
#[derive(Debug)]
pub struct SalesforceConnector {
    http: HttpClient,
    auth: BearerAuth<SalesforceTokenSource>,
    api_version: String,
    mapping: SalesforceMapping,
    duplicate_rules: Option<String>,
    /// The last `Sforce-Limit-Info: api-usage=USED/LIMIT`, packed as `USED << 32 | LIMIT`
    /// (0: none seen yet).
    api_usage: AtomicU64,
}

#[derive(Deserialize)]
struct Created {
    #[serde(alias = "Id")]
    id: String,
}

type Build<'a> = dyn Fn(&reqwest::Client, &str) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync + 'a;

impl SalesforceConnector {
    /// A connector for `config`; `clock` dates the JWT assertions.
    ///
    /// # Errors
    /// When the configuration cannot work (see [`SalesforceTokenSource::new`]).
    pub fn new(config: SalesforceConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        if !is_api_version(&config.api_version) {
            return Err(ConfigError::new(SYSTEM, format!("api_version {:?} is not vNN.N", config.api_version)));
        }
        let source = SalesforceTokenSource::new(&config, clock)?;
        let http = HttpClient::new(SYSTEM, config.http.clone())?.with_throttle_hook(throttle_hook());
        let auth = BearerAuth::new(source, config.http.token_refresh_margin());
        Ok(Self {
            http,
            auth,
            api_version: config.api_version,
            mapping: config.mapping,
            duplicate_rules: config.duplicate_rules.map(DuplicateRules::header_value),
            api_usage: AtomicU64::new(0),
        })
    }

    /// How many access tokens this connector minted.
    pub fn tokens_minted(&self) -> u64 {
        self.auth.cache().minted()
    }

    /// Sends one call; `build` gets the instance URL. Returns the answer and the instance
    /// URL it went to.
    async fn call(&self, idempotency: Idempotency, build: &Build<'_>) -> Result<(RawResponse, String), ConnectorError> {
        let used = Mutex::new(String::new());
        let answer = self
            .http
            .send(&self.auth, idempotency, &|client: &reqwest::Client, context: &AuthContext| {
                let instance = context
                    .instance_url()
                    .ok_or_else(|| decode_error(SYSTEM, "the token answer carried no instance_url"))?;
                if let Ok(mut slot) = used.lock() {
                    instance.clone_into(&mut slot);
                }
                build(client, instance)
            })
            .await?;
        if let Some(usage) = answer.header("sforce-limit-info") {
            tracing::debug!(system = SYSTEM, api_usage = usage, "salesforce limits");
            if let Some(usage) = ApiUsage::parse_salesforce(usage) {
                let clamp = |n: u64| n.min(u64::from(u32::MAX));
                self.api_usage.store(clamp(usage.used) << 32 | clamp(usage.limit), Ordering::Relaxed);
            }
        }
        let instance = used.into_inner().unwrap_or_default();
        Ok((answer, instance))
    }

    /// `request` with the configured `Sforce-Duplicate-Rule-Header`, if any.
    fn with_duplicate_rules(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.duplicate_rules {
            Some(value) => request.header("Sforce-Duplicate-Rule-Header", value),
            None => request,
        }
    }

    fn api(&self, instance: &str) -> String {
        format!("{instance}/services/data/{}", self.api_version)
    }

    /// Several SOQL queries in ONE request (the Composite API, `POST /composite` with a GET
    /// per query, `allOrNone: false`), so a screen pop's email search costs one call; a
    /// query whose rows do not fit its first batch follows `nextRecordsUrl` on its own.
    async fn soql_composite(&self, queries: &[String], out: &mut Vec<ExternalRecord>) -> Result<(), ConnectorError> {
        let build = |client: &reqwest::Client, instance: &str| {
            let mut subrequests = Vec::with_capacity(queries.len());
            for (i, soql) in queries.iter().enumerate() {
                let mut url = Url::parse(&format!("{}/query/", self.api(instance)))
                    .map_err(|e| decode_error(SYSTEM, format!("instance_url: {e}")))?;
                url.query_pairs_mut().append_pair("q", soql);
                let path = format!("{}?{}", url.path(), url.query().unwrap_or_default());
                subrequests.push(serde_json::json!({"method": "GET", "url": path, "referenceId": format!("q{i}")}));
            }
            let body = serde_json::json!({"allOrNone": false, "compositeRequest": subrequests});
            Ok(client.post(format!("{}/composite", self.api(instance))).json(&body))
        };
        let (answer, instance) = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() {
            return Err(to_connector_error(&answer, "query"));
        }
        let composite: CompositeAnswer = answer.json(SYSTEM)?;
        if composite.composite_response.len() != queries.len() {
            return Err(decode_error(SYSTEM, "the composite answer does not answer every query"));
        }
        for sub in composite.composite_response {
            let body = serde_json::to_vec(&sub.body).unwrap_or_default();
            let status = reqwest::StatusCode::from_u16(sub.http_status_code)
                .map_err(|_| decode_error(SYSTEM, "a composite answer with an invalid status"))?;
            let part = RawResponse { status, headers: reqwest::header::HeaderMap::new(), body };
            self.soql_pages(part, instance.clone(), out).await?;
        }
        Ok(())
    }

    /// The rows of a SOQL answer, following `nextRecordsUrl` up to the mapping's bound.
    async fn soql_pages(
        &self,
        mut answer: RawResponse,
        mut instance: String,
        out: &mut Vec<ExternalRecord>,
    ) -> Result<(), ConnectorError> {
        for page in 1.. {
            if !answer.is_success() {
                return Err(to_connector_error(&answer, "query"));
            }
            let batch: QueryPage = answer.json(SYSTEM)?;
            out.extend(batch.records.into_iter().filter_map(|r| to_external(r, &instance)));
            let next = match batch.next_records_url {
                Some(next) if !batch.done && page < self.mapping.max_query_pages => next,
                _ => break,
            };
            // The token only ever goes to the instance: a next page elsewhere is refused.
            if !next.starts_with("/services/data/") {
                return Err(decode_error(SYSTEM, "nextRecordsUrl is not an api path"));
            }
            let follow = move |client: &reqwest::Client, instance: &str| Ok(client.get(format!("{instance}{next}")));
            (answer, instance) = self.call(Idempotency::Idempotent, &follow).await?;
        }
        Ok(())
    }

    fn task_url(&self, instance: &str, key: &str) -> Result<Url, ConnectorError> {
        self.keyed_url(instance, "Task", &self.mapping.activity_external_id_field, key)
    }

    /// `…/sobjects/{sobject}/{field}/{key}`, each segment percent-encoded.
    fn keyed_url(&self, instance: &str, sobject: &str, field: &str, key: &str) -> Result<Url, ConnectorError> {
        let mut url = Url::parse(instance).map_err(|e| decode_error(SYSTEM, format!("instance_url: {e}")))?;
        url.path_segments_mut()
            .map_err(|()| decode_error(SYSTEM, "instance_url cannot hold a path"))?
            .pop_if_empty()
            .extend(["services", "data", &self.api_version, "sobjects", sobject])
            .push(field)
            .push(key);
        Ok(url)
    }

    /// The id of the `sobject` whose external-id `field` is `key`, read to confirm a write
    /// whose answer named none.
    ///
    /// # Errors
    /// A retryable `Transport` ([`crm_connector_http::Unconfirmed`]) when there is no such
    /// record; otherwise as any call.
    async fn read_back(&self, sobject: &str, field: &str, key: &str, what: &str) -> Result<String, ConnectorError> {
        let build = |client: &reqwest::Client, instance: &str| {
            Ok(client.get(self.keyed_url(instance, sobject, field, key)?).query(&[("fields", "Id")]))
        };
        let (read, _) = self.call(Idempotency::Idempotent, &build).await?;
        if read.status.as_u16() == 404 {
            return Err(unconfirmed(SYSTEM, what, "its write's answer named no id and it cannot be read back"));
        }
        if !read.is_success() {
            return Err(to_connector_error(&read, what));
        }
        Ok(read.json::<Created>(SYSTEM)?.id)
    }

    async fn upsert_task(&self, activity: &ActivityPush, with_subtype: bool) -> Result<RawResponse, ConnectorError> {
        let body = task_body(activity, &self.mapping, with_subtype);
        let build = |client: &reqwest::Client, instance: &str| {
            Ok(client.request(Method::PATCH, self.task_url(instance, &activity.external_key)?).json(&body))
        };
        Ok(self.call(Idempotency::Idempotent, &build).await?.0)
    }
}

fn is_api_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else { return false };
    let mut parts = rest.split('.');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
        if !a.is_empty() && !b.is_empty() && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit()))
}

/// The Composite API's answer: one sub-answer per subrequest, in order.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeAnswer {
    composite_response: Vec<CompositeSubAnswer>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompositeSubAnswer {
    #[serde(default)]
    body: serde_json::Value,
    http_status_code: u16,
}

/// Whether an upsert failed only because `TaskSubtype` cannot be updated on an existing
/// Task. The exact code is unverified \[U\]; we accept the codes Salesforce uses for
/// non-updateable fields when they name `TaskSubtype`.
fn subtype_refused(answer: &RawResponse) -> bool {
    answer.status.as_u16() == 400
        && parse_errors(&answer.body).iter().any(|e| {
            matches!(e.error_code.as_str(), "INVALID_FIELD_FOR_INSERT_UPDATE" | "INVALID_FIELD" | "FIELD_NOT_UPDATABLE")
                && (e.fields.iter().any(|f| f == "TaskSubtype") || e.message.contains("TaskSubtype"))
        })
}

#[async_trait]
impl ExternalCrm for SalesforceConnector {
    fn system(&self) -> ExternalSystem {
        ExternalSystem::Salesforce
    }

    fn api_usage(&self) -> Option<ApiUsage> {
        let packed = self.api_usage.load(Ordering::Relaxed);
        (packed != 0).then(|| ApiUsage { used: packed >> 32, limit: packed & u64::from(u32::MAX) })
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError> {
        // SOSL phone matching ignores punctuation on Salesforce's side; whether an E.164
        // term with `+` matches a nationally formatted stored number is unverified [U].
        let sosl = phone_search(phone.as_e164(), self.mapping.search_limit);
        let build = |client: &reqwest::Client, instance: &str| {
            Ok(client.get(format!("{}/search/", self.api(instance))).query(&[("q", sosl.as_str())]))
        };
        let (answer, instance) = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() {
            return Err(to_connector_error(&answer, "search"));
        }
        let records: SearchAnswer = answer.json(SYSTEM)?;
        Ok(records.into_records().into_iter().filter_map(|r| to_external(r, &instance)).collect())
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        self.soql_composite(&email_queries(email.as_str(), self.mapping.search_limit), &mut out).await?;
        Ok(out)
    }

    /// An upsert on the object's external-id field (`PATCH /sobjects/{Obj}/{field}/{key}`):
    /// 201 creates, 200 finds the record an earlier attempt created. An answer that names
    /// no id is followed by a read by the key. With `create_external_id_field` empty the
    /// create is a plain POST, not resent after it may have reached the remote.
    async fn create(&self, key: &str, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError> {
        let object = request.object();
        let sobject = sobject_of(object);
        let body = match request {
            ExternalCreate::Case(case) => case_body(case, &self.mapping),
            ExternalCreate::Contact(person) => person_body(person, false),
            ExternalCreate::Lead(person) => person_body(person, true),
        };
        let field = self.mapping.create_external_id_field.as_str();
        if field.is_empty() {
            let build = |client: &reqwest::Client, instance: &str| {
                Ok(self.with_duplicate_rules(
                    client.post(format!("{}/sobjects/{sobject}/", self.api(instance))).json(&body),
                ))
            };
            let (answer, _) = self.call(Idempotency::NotIdempotent, &build).await?;
            if !answer.is_success() {
                return Err(to_connector_error(&answer, sobject));
            }
            let created: Created = answer.json(SYSTEM)?;
            return Ok(ExternalRef { system: ExternalSystem::Salesforce, object, id: created.id });
        }
        let what = format!("{sobject} {field}/{key}");
        let build = |client: &reqwest::Client, instance: &str| {
            Ok(self.with_duplicate_rules(
                client.request(Method::PATCH, self.keyed_url(instance, sobject, field, key)?).json(&body),
            ))
        };
        let (answer, _) = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() || answer.status.as_u16() == 300 {
            return Err(to_connector_error(&answer, &what));
        }
        let id = match answer.json::<Created>(SYSTEM) {
            Ok(created) => created.id,
            Err(_) => self.read_back(sobject, field, key, &what).await?,
        };
        Ok(ExternalRef { system: ExternalSystem::Salesforce, object, id })
    }

    /// Upserts the Task keyed by the external-id field. The returned reference carries the
    /// Task id as an [`ExternalObject::Activity`].
    async fn push_activity(&self, activity: &ActivityPush) -> Result<ExternalRef, ConnectorError> {
        let what = format!("{} {}", sobject_of(activity.target.object), activity.target.id);
        let mut answer = self.upsert_task(activity, true).await?;
        if subtype_refused(&answer) {
            // The Task exists (a retried delivery): TaskSubtype was set on creation.
            tracing::debug!(system = SYSTEM, "task exists, upserting again without TaskSubtype");
            answer = self.upsert_task(activity, false).await?;
        }
        if !answer.is_success() && answer.status.as_u16() != 300 {
            return Err(to_connector_error(&answer, &what));
        }
        if answer.status.as_u16() == 300 {
            return Err(to_connector_error(&answer, &format!("Task {}", activity.external_key)));
        }
        let id = match answer.json::<Created>(SYSTEM) {
            Ok(created) if !answer.body.is_empty() => created.id,
            // Before v46 an update answers 204 with no body [U]; an answer that breaks off
            // says nothing either. Either way the Task is read back by its key, and a Task
            // that is not there is a retryable failure, never a delivery.
            _ => {
                let field = self.mapping.activity_external_id_field.as_str();
                let task = format!("Task {field}/{}", activity.external_key);
                if !answer.body.is_empty() {
                    tracing::warn!(
                        system = SYSTEM,
                        status = answer.status.as_u16(),
                        "unreadable upsert answer, reading the task back"
                    );
                }
                self.read_back("Task", field, &activity.external_key, &task).await?
            }
        };
        Ok(ExternalRef { system: ExternalSystem::Salesforce, object: ExternalObject::Activity, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_checked() {
        assert!(is_api_version("v62.0"));
        assert!(!is_api_version("62.0"));
        assert!(!is_api_version("v62"));
        assert!(!is_api_version("v6x.0"));
    }

    #[test]
    fn created_reads_both_id_spellings() {
        let a: Created = serde_json::from_value(serde_json::json!({"id": "001"})).unwrap();
        let b: Created = serde_json::from_value(serde_json::json!({"Id": "002"})).unwrap();
        assert_eq!((a.id.as_str(), b.id.as_str()), ("001", "002"));
    }
}
