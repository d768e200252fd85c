//! Translation between Dataverse rows and the core's shapes (spec §2.3, §2.4): the tables
//! searched, rows to [`ExternalRecord`]s, create bodies with `@odata.bind` lookups, and
//! the `phonecall` activity of a wrap-up.

use chrono::SecondsFormat;
use crm_connector_http::truncate_chars;
use crm_core::ConnectorError;
use crm_core::external::{
    ActivityPush, ExternalCase, ExternalObject, ExternalPerson, ExternalRecord, ExternalRef, ExternalSystem,
};
use crm_core::interaction::Direction;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::config::DynamicsMapping;
use crate::system::SYSTEM;

/// One Dataverse table the connector touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// Entity set name (`contacts`).
    pub set: &'static str,
    /// Logical name (`contact`).
    pub logical: &'static str,
    /// Primary key column.
    pub key: &'static str,
    /// Display-name column.
    pub name: &'static str,
    /// The core's kind.
    pub object: ExternalObject,
}

/// contacts.
pub const CONTACTS: Table =
    Table { set: "contacts", logical: "contact", key: "contactid", name: "fullname", object: ExternalObject::Contact };
/// leads.
pub const LEADS: Table =
    Table { set: "leads", logical: "lead", key: "leadid", name: "fullname", object: ExternalObject::Lead };
/// accounts.
pub const ACCOUNTS: Table =
    Table { set: "accounts", logical: "account", key: "accountid", name: "name", object: ExternalObject::Account };
/// incidents (cases).
pub const INCIDENTS: Table =
    Table { set: "incidents", logical: "incident", key: "incidentid", name: "title", object: ExternalObject::Case };
/// phonecalls (logged activities).
pub const PHONECALLS: Table = Table {
    set: "phonecalls",
    logical: "phonecall",
    key: "activityid",
    name: "subject",
    object: ExternalObject::Activity,
};

/// The table of a core kind.
pub fn table_of(object: ExternalObject) -> Table {
    match object {
        ExternalObject::Contact => CONTACTS,
        ExternalObject::Lead => LEADS,
        ExternalObject::Account => ACCOUNTS,
        ExternalObject::Case => INCIDENTS,
        ExternalObject::Activity => PHONECALLS,
    }
}

/// The phone columns searched on `table`.
pub fn phone_columns(table: Table, mapping: &DynamicsMapping) -> &[String] {
    match table.object {
        ExternalObject::Contact => &mapping.contact_phone_columns,
        ExternalObject::Lead => &mapping.lead_phone_columns,
        _ => &mapping.account_phone_columns,
    }
}

const PARENT: &str = "_parentcustomerid_value";
const PARENT_KIND: &str = "_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname";

/// The `$select` of a search on `table`.
pub fn select(table: Table, mapping: &DynamicsMapping) -> String {
    let mut columns: Vec<&str> = vec![table.key, table.name];
    columns.extend(phone_columns(table, mapping).iter().map(String::as_str));
    columns.extend(mapping.email_columns.iter().map(String::as_str));
    if table.object == ExternalObject::Contact {
        columns.push(PARENT);
    }
    columns.dedup();
    columns.join(",")
}

fn reference(object: ExternalObject, id: &str) -> ExternalRef {
    ExternalRef { system: ExternalSystem::Dynamics, object, id: id.to_owned() }
}

fn texts(row: &Value, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .filter_map(|c| row.get(c).and_then(Value::as_str))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A row as an [`ExternalRecord`]; `None` without a primary key.
pub fn to_external(row: &Value, table: Table, mapping: &DynamicsMapping, environment: &str) -> Option<ExternalRecord> {
    let id = row.get(table.key)?.as_str()?;
    // A contact's parent customer is an account or a contact; without the lookup
    // annotation we assume an account, the common case [U].
    let account = match (row.get(PARENT).and_then(Value::as_str), row.get(PARENT_KIND).and_then(Value::as_str)) {
        (Some(parent), None | Some("account")) => Some(reference(ExternalObject::Account, parent)),
        _ => None,
    };
    Some(ExternalRecord {
        reference: reference(table.object, id),
        name: row.get(table.name).and_then(Value::as_str).unwrap_or_default().to_owned(),
        phones: texts(row, phone_columns(table, mapping)),
        emails: texts(row, &mapping.email_columns),
        account,
        url: Some(format!("{environment}/main.aspx?pagetype=entityrecord&etn={}&id={id}", table.logical)),
    })
}

/// `/{set}({guid})` for an `@odata.bind`; ids that are not GUIDs are refused before
/// anything is sent, so a caller's value never alters the path.
pub fn bind(reference: &ExternalRef) -> Result<String, ConnectorError> {
    let id = Uuid::parse_str(&reference.id).map_err(|_| ConnectorError::Rejected {
        system: SYSTEM.to_owned(),
        code: String::from("INVALID_REFERENCE"),
        message: format!("{:?} is not a dataverse id", reference.id),
        field: None,
    })?;
    Ok(format!("/{}({id})", table_of(reference.object).set))
}

fn put(body: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        body.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

/// The incident body: the customer is the account when given, else the contact; with
/// both, the contact is the primary contact.
///
/// # Errors
/// `Rejected` when a lookup id is not a GUID.
pub fn incident_body(case: &ExternalCase, mapping: &DynamicsMapping) -> Result<Value, ConnectorError> {
    let mut body = Map::new();
    body.insert("title".into(), Value::String(truncate_chars(&case.subject, 200)));
    put(&mut body, "description", case.description.as_deref());
    if let Some(code) = mapping.case_priorities.get(&case.priority) {
        body.insert("prioritycode".into(), json!(code));
    }
    let origin = mapping.case_origins.get(case.origin.as_str()).copied().unwrap_or(mapping.default_case_origin);
    body.insert("caseorigincode".into(), json!(origin));
    match (&case.account, &case.contact) {
        (Some(account), contact) => {
            body.insert("customerid_account@odata.bind".into(), Value::String(bind(account)?));
            if let Some(contact) = contact {
                body.insert("primarycontactid@odata.bind".into(), Value::String(bind(contact)?));
            }
        }
        (None, Some(contact)) => {
            body.insert("customerid_contact@odata.bind".into(), Value::String(bind(contact)?));
        }
        // customerid is required: Dataverse refuses, and the caller hears its code.
        (None, None) => {}
    }
    Ok(Value::Object(body))
}

/// The contact or lead body.
///
/// # Errors
/// `Rejected` when the account id is not a GUID.
pub fn person_body(person: &ExternalPerson, lead: bool) -> Result<Value, ConnectorError> {
    let mut body = Map::new();
    put(&mut body, "firstname", person.first_name.as_deref());
    body.insert("lastname".into(), Value::String(person.last_name.clone()));
    put(&mut body, "telephone1", person.phone.as_deref());
    put(&mut body, "emailaddress1", person.email.as_deref());
    if lead {
        put(&mut body, "companyname", person.company.as_deref());
        // The lead's topic is required by the Sales app; the name is the best we have [D].
        let topic = match &person.first_name {
            Some(first) => format!("{first} {}", person.last_name),
            None => person.last_name.clone(),
        };
        body.insert("subject".into(), Value::String(truncate_chars(&topic, 300)));
    } else if let Some(account) = &person.account {
        body.insert("parentcustomerid_account@odata.bind".into(), Value::String(bind(account)?));
    }
    Ok(Value::Object(body))
}

/// The primary key of a record created with `key` ([`crm_core::external::ExternalCreate::key`]):
/// UUID v5 of the key in the mapping's namespace, so a resent create targets the same row.
pub fn record_id(key: &str, mapping: &DynamicsMapping) -> Uuid {
    Uuid::new_v5(&mapping.activity_namespace, key.as_bytes())
}

/// The phonecall id of an activity: UUID v5 of the external key, so a redelivery targets
/// the same row.
pub fn phonecall_id(activity: &ActivityPush, mapping: &DynamicsMapping) -> Uuid {
    Uuid::new_v5(&mapping.activity_namespace, activity.external_key.as_bytes())
}

/// The phonecall body of an activity push (created open; completion is a second PATCH).
/// Every channel becomes a phonecall \[D\]: Dataverse has no generic "interaction" activity
/// and the engine's pushes are dominated by calls; the subject names the channel.
///
/// - `regardingobjectid_<table>_phonecall@odata.bind` links the target.
/// - A contact, lead or account target is also the call's party: *from* on an inbound
///   call (mask 1), *to* on an outbound one (mask 2).
/// - There is no disposition column \[D\]: it goes first in `description`; durations are
///   in minutes, rounded up \[D\].
///
/// # Errors
/// `Rejected` when the target id is not a GUID.
pub fn phonecall_body(activity: &ActivityPush) -> Result<Value, ConnectorError> {
    let target = bind(&activity.target)?;
    let table = table_of(activity.target.object);
    let mut body = Map::new();
    body.insert("subject".into(), Value::String(truncate_chars(&activity.subject, 200)));
    let mut description = String::new();
    if let Some(disposition) = &activity.disposition {
        description.push_str(&format!("Disposition: {disposition}\n\n"));
    }
    description.push_str(&activity.notes);
    body.insert("description".into(), Value::String(truncate_chars(&description, 2000)));
    body.insert("directioncode".into(), json!(activity.direction == Direction::Outbound));
    body.insert("actualstart".into(), Value::String(activity.started_at.to_rfc3339_opts(SecondsFormat::Secs, true)));
    if let Some(seconds) = activity.duration_seconds {
        body.insert("actualdurationminutes".into(), json!(seconds.div_ceil(60)));
        let end = activity.started_at + chrono::Duration::seconds(i64::from(seconds));
        body.insert("actualend".into(), Value::String(end.to_rfc3339_opts(SecondsFormat::Secs, true)));
    }
    body.insert(format!("regardingobjectid_{}_phonecall@odata.bind", table.logical), Value::String(target.clone()));
    if table.object != ExternalObject::Case {
        let mask = if activity.direction == Direction::Inbound { 1 } else { 2 };
        body.insert(
            "phonecall_activity_parties".into(),
            json!([{ format!("partyid_{}@odata.bind", table.logical): target, "participationtypemask": mask }]),
        );
    }
    Ok(Value::Object(body))
}

/// The completion PATCH: `statecode` 1 (Completed) with `statuscode` 4 (Received) for an
/// inbound call or 2 (Made) for an outbound one.
pub fn completion_body(activity: &ActivityPush) -> Value {
    let status = if activity.direction == Direction::Inbound { 4 } else { 2 };
    json!({"statecode": 1, "statuscode": status})
}
