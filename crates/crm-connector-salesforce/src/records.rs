//! Translation between Salesforce records and the core's shapes: search answers to
//! [`ExternalRecord`]s, creation requests to sObject bodies, and an [`ActivityPush`] to the
//! Task body of the wrap-up upsert (spec §1.3).

use crm_connector_http::truncate_chars;
use crm_core::external::{
    ActivityPush, ExternalCase, ExternalObject, ExternalPerson, ExternalRecord, ExternalRef, ExternalSystem,
};
use crm_core::interaction::{Channel, Direction};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::config::SalesforceMapping;

/// `attributes` of a record.
#[derive(Clone, Debug, Deserialize)]
pub struct Attributes {
    /// The sObject type.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A Contact, Lead or Account row from SOSL or SOQL.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SearchRecord {
    /// Type information.
    #[serde(rename = "attributes")]
    pub attributes: Attributes,
    /// Record id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Main phone.
    #[serde(default)]
    pub phone: Option<String>,
    /// Mobile phone.
    #[serde(default)]
    pub mobile_phone: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// A contact's account.
    #[serde(default)]
    pub account_id: Option<String>,
}

/// A SOSL answer: `{"searchRecords":[…]}`, or a bare array in old API versions.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SearchAnswer {
    /// Current shape.
    Wrapped {
        /// The records.
        #[serde(rename = "searchRecords")]
        search_records: Vec<SearchRecord>,
    },
    /// Before v36.
    Bare(Vec<SearchRecord>),
}

impl SearchAnswer {
    /// The records.
    pub fn into_records(self) -> Vec<SearchRecord> {
        match self {
            SearchAnswer::Wrapped { search_records } => search_records,
            SearchAnswer::Bare(records) => records,
        }
    }
}

/// One SOQL batch.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    /// The rows.
    pub records: Vec<SearchRecord>,
    /// Whether this is the last batch.
    #[serde(default = "yes")]
    pub done: bool,
    /// The path of the next batch.
    #[serde(default)]
    pub next_records_url: Option<String>,
}

fn yes() -> bool {
    true
}

/// The core's kind of an sObject type.
pub fn object_of(kind: &str) -> Option<ExternalObject> {
    match kind {
        "Contact" => Some(ExternalObject::Contact),
        "Lead" => Some(ExternalObject::Lead),
        "Account" => Some(ExternalObject::Account),
        "Case" => Some(ExternalObject::Case),
        _ => None,
    }
}

/// The sObject type of a core kind.
pub fn sobject_of(object: ExternalObject) -> &'static str {
    match object {
        ExternalObject::Contact => "Contact",
        ExternalObject::Lead => "Lead",
        ExternalObject::Account => "Account",
        ExternalObject::Case => "Case",
        ExternalObject::Activity => "Task",
    }
}

fn reference(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::Salesforce, object, id: id.to_owned() }
}

/// A search row as an [`ExternalRecord`]; `None` for types we do not surface.
pub fn to_external(record: SearchRecord, instance_url: &str) -> Option<ExternalRecord> {
    let object = object_of(&record.attributes.kind)?;
    let phones = [record.phone, record.mobile_phone].into_iter().flatten().filter(|p| !p.is_empty()).collect();
    Some(ExternalRecord {
        url: Some(format!("{instance_url}/{}", record.id)),
        account: record.account_id.as_deref().map(|id| reference(ExternalObject::Account, id)),
        reference: reference(object, &record.id),
        name: record.name.unwrap_or_default(),
        phones,
        emails: record.email.into_iter().filter(|e| !e.is_empty()).collect(),
    })
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// The Case body of a creation.
pub fn case_body(case: &ExternalCase, mapping: &SalesforceMapping) -> Value {
    let priority = mapping.case_priorities.get(&case.priority).cloned().unwrap_or_else(|| case.priority.clone());
    let origin =
        mapping.case_origins.get(case.origin.as_str()).cloned().unwrap_or_else(|| mapping.default_case_origin.clone());
    let mut body = Map::new();
    body.insert("Subject".into(), Value::String(truncate_chars(&case.subject, 255)));
    body.insert("Status".into(), Value::String(mapping.case_status.clone()));
    body.insert("Priority".into(), Value::String(priority));
    body.insert("Origin".into(), Value::String(origin));
    put(&mut body, "Description", case.description.as_deref());
    put(&mut body, "ContactId", case.contact.as_ref().map(|r| r.id.as_str()));
    put(&mut body, "AccountId", case.account.as_ref().map(|r| r.id.as_str()));
    Value::Object(body)
}

/// The Contact or Lead body of a creation. A lead without a company is sent without
/// `Company`: Salesforce answers `REQUIRED_FIELD_MISSING`, which the caller surfaces.
pub fn person_body(person: &ExternalPerson, lead: bool) -> Value {
    let mut body = Map::new();
    put(&mut body, "FirstName", person.first_name.as_deref());
    body.insert("LastName".into(), Value::String(person.last_name.clone()));
    put(&mut body, "Phone", person.phone.as_deref());
    put(&mut body, "Email", person.email.as_deref());
    if lead {
        put(&mut body, "Company", person.company.as_deref());
    } else {
        put(&mut body, "AccountId", person.account.as_ref().map(|r| r.id.as_str()));
    }
    Value::Object(body)
}

/// The Task body of an activity push.
///
/// - `WhoId` for a contact or lead target, `WhatId` for an account or case (Salesforce
///   wants `WhatId` empty when `WhoId` is a lead, which holds since there is one target).
/// - Calls get `TaskSubtype: Call`, `CallType`, `CallDurationInSeconds` and
///   `CallDisposition`; other channels a plain `Task` with the disposition in the text.
/// - `TaskSubtype` is not updateable, so it is sent only when `with_subtype` (the first
///   attempt); see the connector for the retry without it.
/// - `ActivityDate` is the UTC date the interaction started [D: the org's time zone is
///   not known to the connector].
pub fn task_body(activity: &ActivityPush, mapping: &SalesforceMapping, with_subtype: bool) -> Value {
    let is_call = activity.channel == Channel::Voice;
    let mut body = Map::new();
    body.insert("Subject".into(), Value::String(truncate_chars(&activity.subject, 255)));
    let link = match activity.target.object {
        ExternalObject::Contact | ExternalObject::Lead => "WhoId",
        ExternalObject::Account | ExternalObject::Case | ExternalObject::Activity => "WhatId",
    };
    body.insert(link.into(), Value::String(activity.target.id.clone()));
    body.insert("Status".into(), Value::String(mapping.task_status.clone()));
    body.insert("Priority".into(), Value::String(mapping.task_priority.clone()));
    if with_subtype {
        body.insert("TaskSubtype".into(), json!(if is_call { "Call" } else { "Task" }));
    }
    let mut description = String::new();
    if is_call {
        let call_type = match activity.direction {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        };
        body.insert("CallType".into(), json!(call_type));
        if let Some(seconds) = activity.duration_seconds {
            body.insert("CallDurationInSeconds".into(), json!(seconds));
        }
        if let Some(disposition) = &activity.disposition {
            body.insert("CallDisposition".into(), Value::String(truncate_chars(disposition, 255)));
        }
    } else {
        description.push_str(&format!("Channel: {}\n", activity.channel));
        if let Some(disposition) = &activity.disposition {
            description.push_str(&format!("Disposition: {disposition}\n"));
        }
        if let Some(seconds) = activity.duration_seconds {
            description.push_str(&format!("Duration: {seconds}s\n"));
        }
        if !description.is_empty() {
            description.push('\n');
        }
    }
    description.push_str(&activity.notes);
    // Description holds 32 KB.
    body.insert("Description".into(), Value::String(truncate_chars(&description, 32_000)));
    body.insert("ActivityDate".into(), Value::String(activity.started_at.date_naive().format("%Y-%m-%d").to_string()));
    Value::Object(body)
}
