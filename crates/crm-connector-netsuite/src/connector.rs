//! [`NetSuiteConnector`]: the [`ExternalCrm`] port over NetSuite REST web services.
//! Searches are SuiteQL (customers, then contacts) paged by `limit`/`offset` while
//! `hasMore`; creates are `PUT …/{type}/eid:<key>` upserts on the create's key, their
//! internal id read back by that external id;
//! the wrap-up is a `phoneCall` upserted with `PUT …/phoneCall/eid:<key>`, done only when
//! NetSuite answers the upsert's 204, or when any other success answer (a 200 with a body
//! that breaks off) is followed by a read of the phoneCall by its external id that finds it.

use std::sync::Arc;

use async_trait::async_trait;
use crm_connector_http::{
    Authenticator, BearerAuth, ConfigError, HttpClient, Idempotency, RawResponse, decode_error, unconfirmed,
};
use crm_core::ConnectorError;
use crm_core::customer::{EmailAddress, PhoneNumber};
use crm_core::external::{ActivityPush, ExternalCreate, ExternalObject, ExternalRecord, ExternalRef, ExternalSystem};
use crm_core::ports::ExternalCrm;
use crm_core::time::Clock;
use reqwest::Url;
use serde_json::json;

use crate::config::{NetSuiteAuth, NetSuiteConfig, NetSuiteMapping};
use crate::m2m::{M2mSettings, M2mTokenSource};
use crate::records::{
    case_body, contact_body, external_id, lead_body, link_field, phone_call_body, throttle_hook, to_connector_error,
    to_external,
};
use crate::suiteql::{Page, Table, email_conditions, phone_conditions, search_query};
use crate::system::SYSTEM;
use crate::tba::{TbaAuth, TbaCredentials};

#[derive(Debug)]
enum Auth {
    M2m(BearerAuth<M2mTokenSource>),
    Tba(TbaAuth),
}

impl Auth {
    fn authenticator(&self) -> &dyn Authenticator {
        match self {
            Auth::M2m(bearer) => bearer,
            Auth::Tba(tba) => tba,
        }
    }
}

/// How many trailing digits a phone search matches with `LIKE '%…'`: the last group of
/// most written forms (`555-0103`) has at least four.
const PHONE_SUFFIX_DIGITS: usize = 4;

/// One NetSuite account.
#[derive(Debug)]
pub struct NetSuiteConnector {
    http: HttpClient,
    auth: Auth,
    base: String,
    mapping: NetSuiteMapping,
}

type Build<'a> = dyn Fn(&reqwest::Client) -> Result<reqwest::RequestBuilder, ConnectorError> + Send + Sync + 'a;

impl NetSuiteConnector {
    /// A connector for `config`; `clock` dates assertions and TBA signatures.
    ///
    /// # Errors
    /// When the base URL is malformed, the key unreadable or the lifetime out of range.
    pub fn new(config: NetSuiteConfig, clock: Arc<dyn Clock>) -> Result<Self, ConfigError> {
        let base = config.base_url();
        Url::parse(&base).map_err(|e| ConfigError::new(SYSTEM, format!("base_url: {e}")))?;
        let settings = config.http.clone().with_max_concurrency(config.max_concurrency);
        let margin = settings.token_refresh_margin();
        let http = HttpClient::new(SYSTEM, settings)?.with_throttle_hook(throttle_hook());
        let realm = config.realm();
        let auth = match config.auth {
            NetSuiteAuth::ClientCredentials {
                client_id,
                certificate_id,
                private_key_pem,
                algorithm,
                scopes,
                assertion_lifetime_secs,
            } => {
                let source = M2mTokenSource::new(
                    M2mSettings {
                        base_url: &base,
                        client_id: &client_id,
                        certificate_id: &certificate_id,
                        private_key_pem: &private_key_pem,
                        algorithm,
                        scopes: &scopes,
                        lifetime_secs: assertion_lifetime_secs,
                    },
                    clock,
                )?;
                Auth::M2m(BearerAuth::new(source, margin))
            }
            NetSuiteAuth::TokenBased { consumer_key, consumer_secret, token_id, token_secret } => Auth::Tba(
                TbaAuth::new(TbaCredentials { consumer_key, consumer_secret, token_id, token_secret }, realm, clock),
            ),
        };
        Ok(Self { http, auth, base, mapping: config.mapping })
    }

    /// How many access tokens this connector minted (always 0 with TBA).
    pub fn tokens_minted(&self) -> u64 {
        match &self.auth {
            Auth::M2m(bearer) => bearer.cache().minted(),
            Auth::Tba(_) => 0,
        }
    }

    async fn call(&self, idempotency: Idempotency, build: &Build<'_>) -> Result<RawResponse, ConnectorError> {
        self.http
            .send(self.auth.authenticator(), idempotency, &|client: &reqwest::Client, _| {
                build(client).map(|r| r.header("Accept", "application/json"))
            })
            .await
    }

    /// Runs one search query ([`search_query`]) through its pages; each row is read as
    /// the table it names.
    async fn suiteql(&self, q: &str, out: &mut Vec<ExternalRecord>) -> Result<(), ConnectorError> {
        let limit = self.mapping.page_size.clamp(1, 1000);
        let body = json!({ "q": q });
        for page in 0..self.mapping.max_pages {
            let offset = page * limit;
            let build = |client: &reqwest::Client| {
                Ok(client
                    .post(format!("{}/services/rest/query/v1/suiteql", self.base))
                    .query(&[("limit", limit), ("offset", offset)])
                    .header("Prefer", "transient")
                    .json(&body))
            };
            let answer = self.call(Idempotency::Idempotent, &build).await?;
            if !answer.is_success() {
                return Err(to_connector_error(&answer, "suiteql", &[]));
            }
            let rows: Page = answer.json(SYSTEM)?;
            out.extend(rows.items.iter().filter_map(|row| to_external(row, Table::of_row(row)?, &self.mapping)));
            if !rows.has_more {
                break;
            }
        }
        Ok(())
    }

    fn record_url(&self, record_type: &str) -> String {
        format!("{}/services/rest/record/v1/{record_type}", self.base)
    }

    /// `…/record/v1/{record_type}/eid:<key>`, the key percent-encoded.
    fn eid_url(&self, record_type: &str, eid: &str) -> Result<Url, ConnectorError> {
        let mut url = Url::parse(&self.record_url(record_type)).map_err(|e| decode_error(SYSTEM, e))?;
        url.path_segments_mut().map_err(|()| decode_error(SYSTEM, "base_url cannot hold a path"))?.push(eid);
        Ok(url)
    }
}

/// The id at the end of a `Location` header.
fn location_id(location: &str) -> Option<String> {
    let id = location.trim_end_matches('/').rsplit('/').next()?;
    (!id.is_empty()).then(|| id.to_owned())
}

#[async_trait]
impl ExternalCrm for NetSuiteConnector {
    fn system(&self) -> ExternalSystem {
        ExternalSystem::NetSuite
    }

    async fn find_by_phone(&self, phone: &PhoneNumber) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        let conditions =
            phone_conditions(&phone.written_forms(), phone.last_digits(PHONE_SUFFIX_DIGITS), &self.mapping);
        if let Some(q) = search_query(&conditions, &self.mapping) {
            self.suiteql(&q, &mut out).await?;
        }
        // Keep the candidates whose stored numbers are this number by the core's rules.
        out.retain(|record| record.phones.iter().any(|written| phone.is_written_as(written)));
        Ok(out)
    }

    async fn find_by_email(&self, email: &EmailAddress) -> Result<Vec<ExternalRecord>, ConnectorError> {
        let mut out = Vec::new();
        if let Some(q) = search_query(&email_conditions(email.as_str()), &self.mapping) {
            self.suiteql(&q, &mut out).await?;
        }
        Ok(out)
    }

    /// An upsert on the external id (`PUT /record/v1/{type}/eid:<key>`), so a resent create
    /// updates the record the first one made instead of making another. The internal id
    /// comes from a `Location` header when NetSuite sends one, else from reading the record
    /// by its external id, which also confirms it exists.
    async fn create(&self, key: &str, request: &ExternalCreate) -> Result<ExternalRef, ConnectorError> {
        let (record_type, body) = match request {
            ExternalCreate::Case(case) => ("supportCase", case_body(case, &self.mapping)),
            ExternalCreate::Contact(person) => ("contact", contact_body(person, &self.mapping)),
            ExternalCreate::Lead(person) => ("customer", lead_body(person, &self.mapping)),
        };
        let eid = format!("eid:{}", external_id(key));
        let url = self.eid_url(record_type, &eid)?;
        let build = |client: &reqwest::Client| Ok(client.put(url.clone()).json(&body));
        let answer = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() {
            return Err(to_connector_error(&answer, record_type, &[]));
        }
        let located =
            (answer.status.as_u16() == 204).then(|| answer.header("location").and_then(location_id)).flatten();
        let id = match located {
            Some(id) => id,
            None => self.read_back(&url, &format!("{record_type} {eid}")).await?,
        };
        Ok(ExternalRef { system: ExternalSystem::NetSuite, object: request.object(), id })
    }

    /// Returns the phoneCall's internal id when NetSuite sends a `Location`, else its
    /// `eid:<key>` form (valid wherever an internal id is), as an [`ExternalObject::Activity`].
    /// An upsert's only success answer is 204: any other 2xx leaves the phoneCall unknown,
    /// so it is read back by its external id, and a phoneCall that is not there is a
    /// retryable failure, never a success.
    async fn push_activity(&self, activity: &ActivityPush) -> Result<ExternalRef, ConnectorError> {
        let eid = format!("eid:{}", external_id(&activity.external_key));
        let url = self.eid_url("phoneCall", &eid)?;
        let body = phone_call_body(activity, &self.mapping);
        let build = |client: &reqwest::Client| Ok(client.put(url.clone()).json(&body));
        let answer = self.call(Idempotency::Idempotent, &build).await?;
        if !answer.is_success() {
            let what = format!("{:?} {}", activity.target.object, activity.target.id).to_lowercase();
            return Err(to_connector_error(&answer, &what, &[link_field(activity.target.object)]));
        }
        let what = format!("phoneCall {eid}");
        let id = if answer.status.as_u16() == 204 {
            answer.header("location").and_then(location_id).unwrap_or(eid)
        } else {
            tracing::warn!(
                system = SYSTEM,
                status = answer.status.as_u16(),
                "unexpected upsert answer, reading the phoneCall back"
            );
            self.read_back(&url, &what).await?
        };
        Ok(ExternalRef { system: ExternalSystem::NetSuite, object: ExternalObject::Activity, id })
    }
}

impl NetSuiteConnector {
    /// The internal id of the record at `url` (an `eid:` URL), read back to confirm a write.
    ///
    /// # Errors
    /// A retryable `Transport` ([`crm_connector_http::Unconfirmed`]) when the record is not
    /// there; otherwise as any call.
    async fn read_back(&self, url: &Url, what: &str) -> Result<String, ConnectorError> {
        let build = |client: &reqwest::Client| Ok(client.get(url.clone()).query(&[("fields", "externalId")]));
        let read = self.call(Idempotency::Idempotent, &build).await?;
        if read.status.as_u16() == 404 {
            return Err(unconfirmed(SYSTEM, what, "its write was not answered with 204 and it cannot be read back"));
        }
        if !read.is_success() {
            return Err(to_connector_error(&read, what, &[]));
        }
        let record: serde_json::Value = read.json(SYSTEM)?;
        record
            .get("id")
            .and_then(|id| id.as_str().map(str::to_owned).or_else(|| id.as_u64().map(|n| n.to_string())))
            .ok_or_else(|| decode_error(SYSTEM, format!("the {what} read back has no id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_last_segment_of_the_location() {
        assert_eq!(
            location_id("https://demo123.suitetalk.api.netsuite.com/services/rest/record/v1/customer/647").as_deref(),
            Some("647")
        );
        assert_eq!(location_id(""), None);
    }
}
