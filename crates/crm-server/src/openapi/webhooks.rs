//! The document's `webhooks` section (OpenAPI 3.1, EXT-3): one operation per event type of
//! the catalogue, each with its own envelope schema (`type` fixed, `data` the schema of the
//! event's [`EventKind`] variant) and the Standard Webhooks headers.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use crm_core::event::EventKind;
use crm_core::webhook::{EVENT_TYPES, EventType};

/// `case.created` → `CaseCreatedWebhook`.
fn schema_name(t: &EventType) -> String {
    let mut name = String::new();
    for part in t.name.split(['.', '_']) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.push_str(chars.as_str());
        }
    }
    name.push_str("Webhook");
    name
}

/// The `data` schema of `kind`: its variant of [`EventKind`]'s schema without `type`.
fn data_schema(kinds: &Value, kind: &str) -> Value {
    let variant = kinds["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["properties"]["type"]["enum"].as_array().is_some_and(|e| e.iter().any(|n| n == kind)));
    let Some(mut variant) = variant.cloned() else { return json!({"type": "object"}) };
    if let Some(props) = variant["properties"].as_object_mut() {
        props.remove("type");
    }
    if let Some(required) = variant["required"].as_array_mut() {
        required.retain(|r| r != "type");
    }
    variant
}

/// Adds the `webhooks` section and one component schema per event type.
pub(crate) fn add(doc: &mut OpenApi) {
    let kinds = serde_json::to_value(<EventKind as utoipa::PartialSchema>::schema()).unwrap_or_default();
    let header = |name: &str, description: &str| json!({"name": name, "in": "header", "required": true, "description": description, "schema": {"type": "string"}});
    let mut hooks = serde_json::Map::new();
    let components = doc.components.get_or_insert_with(Default::default);
    for t in EVENT_TYPES {
        let name = schema_name(t);
        let schema = json!({
            "type": "object",
            "description": t.description,
            "required": ["type", "version", "id", "timestamp", "tenant", "data"],
            "properties": {
                "type": {"type": "string", "enum": [t.name]},
                "version": {"type": "integer", "enum": [t.version]},
                "id": {"type": "string", "format": "uuid", "description": "the event id: the idempotency key, also the `webhook-id` header"},
                "timestamp": {"type": "string", "format": "date-time"},
                "tenant": {"type": "string", "format": "uuid"},
                "actor": {"type": "string", "format": "uuid", "description": "absent for system work"},
                "data": data_schema(&kinds, t.kind),
            },
        });
        if let Ok(schema) = serde_json::from_value(schema) {
            components.schemas.insert(name.clone(), schema);
        }
        hooks.insert(
            t.name.to_owned(),
            json!({"post": {
                "operationId": format!("webhook.{}", t.name),
                "tags": ["webhooks"],
                "summary": t.description,
                "description": "Posted to each subscription whose `event_types` cover this type (and whose filter \
                    matches), at least once, in event order per aggregate; a redelivery carries the same `webhook-id`. \
                    Answer 2xx within the timeout; anything else is retried with backoff for about a day.",
                "parameters": [
                    header("webhook-id", "the event id (idempotency key)"),
                    header("webhook-timestamp", "seconds since the epoch, when this attempt was signed"),
                    header("webhook-signature", "`v1,<base64 HMAC-SHA256 of \"{id}.{timestamp}.{body}\">`, space-separated \
                        when several secrets sign (during a rotation); the key is the base64 after `whsec_`"),
                ],
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": format!("#/components/schemas/{name}")}
                }}},
                "responses": {"2XX": {"description": "received"}},
            }}),
        );
    }
    if let Ok(paths) = serde_json::from_value(Value::Object(hooks)) {
        doc.webhooks = Some(paths);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_event_type_has_a_webhook_with_its_own_schema() {
        let doc = serde_json::to_value(crate::app::openapi()).expect("json");
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        for t in crm_core::webhook::EVENT_TYPES {
            let op = &doc["webhooks"][t.name]["post"];
            let r = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().expect(t.name);
            let name = r.strip_prefix("#/components/schemas/").expect("component");
            let schema = &doc["components"]["schemas"][name];
            assert_eq!(schema["properties"]["type"]["enum"][0], t.name);
            assert!(schema["properties"]["data"]["properties"].is_object(), "{}: {schema}", t.name);
            assert!(schema["properties"]["data"]["properties"].get("type").is_none());
        }
        let created = &doc["components"]["schemas"]["CaseCreatedWebhook"]["properties"]["data"]["properties"];
        assert!(created.get("case").is_some() && created.get("number").is_some(), "{created}");
    }
}
