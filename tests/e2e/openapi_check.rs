//! Checks real response bodies against the OpenAPI document the server serves: the
//! operation's documented response schema for the status it answered, resolved through
//! `$ref`s and validated here (a JSON Schema subset, exactly the keywords utoipa emits).
//!
//! Stricter than JSON Schema on purpose, so the document cannot drift from the wire
//! silently: an object with `properties` and no `additionalProperties` is closed (a field
//! the document does not list fails, as the old `deny_unknown_fields` mirrors did), and a
//! keyword this validator does not know fails instead of being ignored.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use regex::Regex;
use reqwest::Method;
use serde_json::Value;

/// The document, as `crm_server::openapi()` builds it (what `/api/v1/openapi.json` serves;
/// the schema test checks both are the same).
pub(crate) fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(crm_server::openapi()).expect("the document serialises"))
}

/// Panics unless `value` is what the document says `method path` answers with `status`
/// (`path` concrete, such as `/api/v1/cases/0190…`).
pub(crate) fn answers(what: &str, method: Method, path: &str, status: u16, value: &Value) {
    let doc = document();
    let template = template_of(doc, path).unwrap_or_else(|| panic!("{what}: {path} matches no documented path"));
    let op = &doc["paths"][&template][method.as_str().to_lowercase()];
    assert!(op.is_object(), "{what}: {method} {template} is not documented");
    let schema = &op["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{what}: {method} {template} documents no JSON body for {status}");
    if let Err(e) = validate(doc, schema, value, "$") {
        panic!("{what} ({method} {template} {status}) does not match its documented schema: {e}\n{value:#}");
    }
}

/// The documented path template a concrete path matches (`{id}` matches one segment).
fn template_of(doc: &Value, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let concrete: Vec<&str> = path.split('/').collect();
    // The most literal match wins (`/cases/by-number/{number}` over `/cases/{id}/…`).
    doc["paths"]
        .as_object()?
        .keys()
        .filter(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            parts.len() == concrete.len()
                && parts.iter().zip(&concrete).all(|(t, c)| (t.starts_with('{') && t.ends_with('}')) || t == c)
        })
        .min_by_key(|template| template.matches('{').count())
        .cloned()
}

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] =
    &["description", "title", "example", "examples", "default", "deprecated", "readOnly", "writeOnly"];

/// Validates `value` against `schema`; the error names the JSON path that failed.
pub(crate) fn validate(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return match schema {
            Value::Bool(true) => Ok(()),
            _ => Err(format!("{at}: the schema {schema} admits nothing")),
        };
    };
    for key in s.keys() {
        let known = ANNOTATIONS.contains(&key.as_str())
            || [
                "$ref",
                "type",
                "enum",
                "const",
                "properties",
                "required",
                "additionalProperties",
                "propertyNames",
                "items",
                "oneOf",
                "anyOf",
                "allOf",
                "format",
                "pattern",
                "minimum",
                "maximum",
                "minLength",
                "maxLength",
                "minItems",
                "maxItems",
                "uniqueItems",
            ]
            .contains(&key.as_str());
        if !known {
            return Err(format!("{at}: the validator does not know the keyword {key:?}; teach it"));
        }
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/components/schemas/").ok_or_else(|| format!("{at}: unsupported $ref {r}"))?;
        let target = &doc["components"]["schemas"][name];
        if !target.is_object() {
            return Err(format!("{at}: $ref {r} resolves to nothing"));
        }
        validate(doc, target, value, at)?;
    }
    if let Some(t) = s.get("type") {
        let types: Vec<&str> = match t {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("{at}: bad type {t}")),
        };
        if !types.iter().any(|ty| has_type(value, ty)) {
            return Err(format!("{at}: expected {types:?}, got {value}"));
        }
    }
    if let Some(options) = s.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(c) = s.get("const")
        && c != value
    {
        return Err(format!("{at}: {value} is not {c}"));
    }
    match value {
        Value::Object(map) => {
            if let Some(required) = s.get("required").and_then(Value::as_array) {
                for r in required.iter().filter_map(Value::as_str) {
                    if !map.contains_key(r) {
                        return Err(format!("{at}: the required field {r:?} is missing"));
                    }
                }
            }
            let properties = s.get("properties").and_then(Value::as_object);
            for (k, v) in map {
                let here = format!("{at}.{k}");
                if let Some(names) = s.get("propertyNames") {
                    validate(doc, names, &Value::String(k.clone()), &here)?;
                }
                match (properties.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                    (Some(p), _) => validate(doc, p, v, &here)?,
                    (None, Some(extra)) => validate(doc, extra, v, &here)?,
                    // Closed: the document lists the fields and this one is not among them.
                    (None, None) if properties.is_some() => {
                        return Err(format!("{here}: the field {k:?} is not documented"));
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(item) = s.get("items") {
                for (i, v) in items.iter().enumerate() {
                    validate(doc, item, v, &format!("{at}[{i}]"))?;
                }
            }
            let len = items.len() as u64;
            if s.get("minItems").and_then(Value::as_u64).is_some_and(|m| len < m)
                || s.get("maxItems").and_then(Value::as_u64).is_some_and(|m| len > m)
            {
                return Err(format!("{at}: {len} items is out of bounds"));
            }
            if s.get("uniqueItems") == Some(&Value::Bool(true)) {
                for (i, v) in items.iter().enumerate() {
                    if items[..i].contains(v) {
                        return Err(format!("{at}: {v} is repeated"));
                    }
                }
            }
        }
        Value::String(text) => {
            let len = text.chars().count() as u64;
            if s.get("minLength").and_then(Value::as_u64).is_some_and(|m| len < m)
                || s.get("maxLength").and_then(Value::as_u64).is_some_and(|m| len > m)
            {
                return Err(format!("{at}: {text:?} has a length out of bounds"));
            }
            if let Some(p) = s.get("pattern").and_then(Value::as_str)
                && !pattern(p).is_match(text)
            {
                return Err(format!("{at}: {text:?} does not match {p}"));
            }
            if let Some(f) = s.get("format").and_then(Value::as_str) {
                string_format(f, text).map_err(|e| format!("{at}: {text:?} is not {f}: {e}"))?;
            }
        }
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if s.get("minimum").and_then(Value::as_f64).is_some_and(|m| x < m)
                || s.get("maximum").and_then(Value::as_f64).is_some_and(|m| x > m)
            {
                return Err(format!("{at}: {n} is out of bounds"));
            }
            if let Some(f) = s.get("format").and_then(Value::as_str) {
                number_format(f, n).map_err(|e| format!("{at}: {n} is not {f}: {e}"))?;
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        for (i, sub) in all.iter().enumerate() {
            validate(doc, sub, value, &format!("{at}(allOf {i})"))?;
        }
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array)
        && !any.iter().any(|sub| validate(doc, sub, value, at).is_ok())
    {
        return Err(format!("{at}: {value} matches none of anyOf"));
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        let results: Vec<Result<(), String>> = one.iter().map(|sub| validate(doc, sub, value, at)).collect();
        let matching = results.iter().filter(|r| r.is_ok()).count();
        if matching != 1 {
            let why: Vec<String> = results.into_iter().filter_map(Result::err).collect();
            return Err(format!("{at}: matches {matching} of oneOf, not 1 ({})", why.join("; ")));
        }
    }
    Ok(())
}

fn has_type(value: &Value, ty: &str) -> bool {
    match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => false,
    }
}

fn pattern(p: &str) -> Regex {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    cache
        .entry(p.to_owned())
        .or_insert_with(|| Regex::new(p).unwrap_or_else(|e| panic!("bad pattern {p}: {e}")))
        .clone()
}

fn string_format(format: &str, text: &str) -> Result<(), String> {
    match format {
        "uuid" => uuid::Uuid::parse_str(text).map(drop).map_err(|e| e.to_string()),
        "date-time" => chrono::DateTime::parse_from_rfc3339(text).map(drop).map_err(|e| e.to_string()),
        "date" => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map(drop).map_err(|e| e.to_string()),
        "email" => match text.split_once('@') {
            Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !text.contains(char::is_whitespace) => {
                Ok(())
            }
            _ => Err("no local part, @ and domain".into()),
        },
        "uri" => reqwest::Url::parse(text).map(drop).map_err(|e| e.to_string()),
        other => Err(format!("the validator does not know the format {other:?}; teach it")),
    }
}

fn number_format(format: &str, n: &serde_json::Number) -> Result<(), String> {
    let fits = match format {
        "int32" => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        "uint32" => n.as_u64().is_some_and(|i| u32::try_from(i).is_ok()),
        "int64" => n.as_i64().is_some(),
        "uint64" => n.as_u64().is_some(),
        "double" | "float" => n.as_f64().is_some(),
        other => return Err(format!("the validator does not know the format {other:?}; teach it")),
    };
    if fits { Ok(()) } else { Err("out of range".into()) }
}

#[test]
fn the_validator_refuses_what_the_schema_refuses() {
    let doc = serde_json::json!({"components": {"schemas": {
        "Id": {"type": "string", "format": "uuid"},
        "Thing": {"type": "object", "required": ["id"], "properties": {
            "id": {"$ref": "#/components/schemas/Id"},
            "phone": {"type": ["string", "null"], "pattern": "^\\+[1-9][0-9]{1,19}$"},
            "kind": {"oneOf": [{"type": "string", "enum": ["a"]}, {"type": "null"}]}
        }}
    }}});
    let thing = &doc["components"]["schemas"]["Thing"];
    let ok = serde_json::json!({"id": "01a2081f-3935-76de-8ddf-2e370ae52ada", "phone": "+33612345678", "kind": "a"});
    assert_eq!(validate(&doc, thing, &ok, "$"), Ok(()));
    for bad in [
        serde_json::json!({"phone": null}),
        serde_json::json!({"id": "nope"}),
        serde_json::json!({"id": "01a2081f-3935-76de-8ddf-2e370ae52ada", "phone": "06 12 34 56 78"}),
        serde_json::json!({"id": "01a2081f-3935-76de-8ddf-2e370ae52ada", "kind": "b"}),
        serde_json::json!({"id": "01a2081f-3935-76de-8ddf-2e370ae52ada", "extra": 1}),
    ] {
        assert!(validate(&doc, thing, &bad, "$").is_err(), "{bad} passed");
    }
    let unknown = serde_json::json!({"type": "string", "contentEncoding": "base64"});
    assert!(validate(&doc, &unknown, &serde_json::json!("x"), "$").is_err(), "an unknown keyword is not ignored");
}

#[test]
fn the_served_document_refuses_a_body_that_drifted() {
    let doc = document();
    let agent = &serde_json::json!({"$ref": "#/components/schemas/Agent"});
    let ok = serde_json::json!({
        "id": "01a2081f-3935-76de-8ddf-2e370ae52ada", "tenant": "01a2081f-3935-76de-8ddf-2e370ae52adb",
        "name": "Ada", "email": "ada@demo.example", "role": "agent", "groups": [],
        "profile": {"default_from": null, "signature": null, "preferred_case_columns": []},
        "active": true, "version": 1
    });
    assert_eq!(validate(doc, agent, &ok, "$"), Ok(()));
    let drifted = |edit: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        edit(&mut v);
        v
    };
    for bad in [
        drifted(&|v| v["renamed"] = serde_json::json!(1)),
        drifted(&|v| drop(v.as_object_mut().map(|o| o.remove("version")))),
        drifted(&|v| v["email"] = serde_json::json!("not an address")),
        drifted(&|v| v["id"] = serde_json::json!(42)),
        drifted(&|v| v["role"] = serde_json::json!("root")),
    ] {
        assert!(validate(doc, agent, &bad, "$").is_err(), "{bad} passed");
    }
}
