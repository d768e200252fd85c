//! The OpenAPI 3.1 document, generated with utoipa from the handlers' `#[utoipa::path]`
//! annotations (the router and the document are built from the same `routes!` calls, see
//! [`mod@crate::app`]), served at `/api/v1/openapi.json` with a Swagger UI at `/api/v1/docs`.
//!
//! Every body is described by the type the handler really reads or writes: the wire types
//! of `crm-core` derive `utoipa::ToSchema` behind its `openapi` feature (one definition per
//! shape, so the document follows the serde attributes it describes), and the server's own
//! DTOs (pages, problem details, views) derive theirs here in the server.

mod webhooks;

use utoipa::openapi::path::Parameter;
use utoipa::openapi::schema::{AdditionalProperties, ArrayItems, ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, RefOr, Required, Response, ResponseBuilder};

use crate::problem::{PROBLEM_JSON, Problem};

/// Adds what every operation shares: the bearer security scheme and requirement, and the
/// problem+json error responses.
pub fn finish(mut doc: OpenApi) -> OpenApi {
    webhooks::add(&mut doc);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("crm api token").build()),
    );
    let problem = |desc: &str| -> RefOr<Response> {
        ResponseBuilder::new()
            .description(desc)
            .content(PROBLEM_JSON, Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem")))))
            .build()
            .into()
    };
    components.schemas.insert("Problem".into(), <Problem as utoipa::PartialSchema>::schema());
    components.schemas.insert("ProblemField".into(), <crate::problem::ProblemField as utoipa::PartialSchema>::schema());
    let requirement = utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new());
    for (path, item) in &mut doc.paths.paths {
        // The public self-service search takes no token, and answers 429 past its limit.
        let public = path.starts_with("/public/");
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            op.security = Some(if public { Vec::new() } else { vec![requirement.clone()] });
            if public {
                op.responses.responses.entry("429".into()).or_insert_with(|| {
                    let mut r = ResponseBuilder::new()
                        .description("too many requests from this client; `Retry-After` says when to retry")
                        .content(
                            PROBLEM_JSON,
                            Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("Problem")))),
                        )
                        .build();
                    r.headers.insert(
                        "Retry-After".into(),
                        utoipa::openapi::header::HeaderBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                            .description(Some("seconds"))
                            .build()
                            .into(),
                    );
                    r.into()
                });
            }
            let mut if_match = false;
            for p in op.parameters.iter_mut().flatten() {
                if let RefOr::T(p) = p
                    && p.name.eq_ignore_ascii_case("if-match")
                {
                    if_match = true;
                    describe_if_match(p);
                }
            }
            let r = &mut op.responses.responses;
            r.entry("400".into()).or_insert_with(|| problem("malformed request"));
            r.entry("401".into()).or_insert_with(|| problem("missing or invalid api token"));
            r.entry("403".into()).or_insert_with(|| problem("the token's role lacks a permission"));
            r.entry("404".into()).or_insert_with(|| problem("not found (or not visible to the caller)"));
            r.entry("409".into()).or_insert_with(|| problem("conflict with the stored state"));
            r.entry("413".into()).or_insert_with(|| problem("request body too large"));
            r.entry("415".into()).or_insert_with(|| problem("the body is not application/json"));
            r.entry("422".into()).or_insert_with(|| problem("invalid input; `errors` names each field"));
            if if_match {
                r.entry("412".into()).or_insert_with(|| problem("stale version: the record changed since it was read"));
                r.entry("428".into()).or_insert_with(|| problem("If-Match missing"));
            }
            r.entry("5XX".into()).or_insert_with(|| problem("server or database failure (no detail)"));
        }
    }
    let mut doc = rename_schema(doc, "BTreeMap", "CustomValues");
    doc.info.title = "crm-server".into();
    doc.info.description = Some("The contact-center CRM engine's HTTP API. Errors are RFC 9457 problem+json. Reads return ETag; updates require If-Match; creates accept Idempotency-Key.".into());
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.contact = None;
    doc.info.license = Some(utoipa::openapi::License::new("Apache-2.0"));
    doc
}

/// What [`crate::extract::IfMatch`] reads: `"3"`, `W/"3"` or `3`.
pub const ETAG_PATTERN: &str = r#"^(W/)?("[0-9]+"|[0-9]+)$"#;

/// An `If-Match` header is required and holds an ETag this API returned (a version), so
/// clients and fuzzers send one the handler can read instead of any string.
fn describe_if_match(p: &mut Parameter) {
    p.required = Required::True;
    if p.description.is_none() {
        p.description = Some("the ETag read (the record's version)".into());
    }
    p.schema = Some(
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(ETAG_PATTERN))
            .examples([serde_json::json!("\"1\"")])
            .into(),
    );
}

/// Renames a component schema and every reference to it from the other components (the
/// operations refer to their bodies' own types, never to this one; a unit test checks that
/// every reference resolves). utoipa names a schema reached through a type alias after the
/// aliased type: the core's `CustomValues` (custom values by field key, a `BTreeMap`) would
/// otherwise be called `BTreeMap`.
fn rename_schema(mut doc: OpenApi, from: &str, to: &str) -> OpenApi {
    fn walk(s: &mut RefOr<Schema>, from: &str, to: &str) {
        match s {
            RefOr::Ref(r) => {
                if r.ref_location.strip_prefix("#/components/schemas/") == Some(from) {
                    r.ref_location = format!("#/components/schemas/{to}");
                }
            }
            RefOr::T(Schema::Object(o)) => {
                o.properties.values_mut().for_each(|p| walk(p, from, to));
                if let Some(extra) = o.additional_properties.as_deref_mut()
                    && let AdditionalProperties::RefOr(extra) = extra
                {
                    walk(extra, from, to);
                }
            }
            RefOr::T(Schema::Array(a)) => {
                if let ArrayItems::RefOrSchema(items) = &mut a.items {
                    walk(items, from, to);
                }
            }
            RefOr::T(Schema::OneOf(o)) => o.items.iter_mut().for_each(|i| walk(i, from, to)),
            RefOr::T(Schema::AllOf(o)) => o.items.iter_mut().for_each(|i| walk(i, from, to)),
            RefOr::T(Schema::AnyOf(o)) => o.items.iter_mut().for_each(|i| walk(i, from, to)),
            RefOr::T(_) => {}
        }
    }
    if let Some(components) = doc.components.as_mut() {
        if let Some(schema) = components.schemas.remove(from) {
            components.schemas.insert(to.to_owned(), schema);
        }
        components.schemas.values_mut().for_each(|s| walk(s, from, to));
    }
    doc
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::ETAG_PATTERN;
    use crate::extract::parse_etag;

    fn document() -> Value {
        serde_json::to_value(crate::openapi()).expect("the document serialises")
    }

    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_and_every_schema_is_named_for_its_type() {
        let doc = document();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(all.len() > 100, "only {} references", all.len());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} is not a component"));
            assert!(schemas.contains_key(name), "{r} resolves to nothing");
        }
        assert!(!schemas.contains_key("BTreeMap"), "the custom values are named CustomValues");
        assert!(schemas.contains_key("CustomValues"));
    }

    #[test]
    fn newtypes_say_what_they_are() {
        let doc = document();
        let s = &doc["components"]["schemas"];
        for id in ["CaseId", "CustomerId", "AgentId", "TenantId", "InteractionId", "EventId"] {
            assert_eq!(s[id]["format"], "uuid", "{id}");
        }
        assert_eq!(s["EmailAddress"]["format"], "email");
        let e164 = regex::Regex::new(s["PhoneNumber"]["pattern"].as_str().expect("a pattern")).expect("valid");
        let longest = format!("+1{}", "2".repeat(crm_core::customer::MAX_PHONE_DIGITS - 1));
        for sample in
            ["+33612345678", "+4990600000000000", &longest, &format!("{longest}3"), "+0612", "+1", "0612", "+33 6"]
        {
            let shaped = crm_core::customer::PhoneNumber::is_e164_shaped(sample);
            assert_eq!(e164.is_match(sample), shaped, "{sample}");
        }
        assert_eq!(s["NewAgent"]["properties"]["email"]["format"], "email");
        // Required text says what `required_text` accepts (it also trims away white-space
        // controls such as U+0085 at the ends; the pattern asks for text without them).
        let text = regex::Regex::new(crm_core::openapi::REQUIRED_TEXT_PATTERN).expect("valid");
        for sample in
            ["a", " a ", "Jane Roe", "line\nbreak", "\ttab", "", " ", "\n\t", "a\u{0}b", "\u{7f}", "é\u{85}é", "李"]
        {
            let accepted = crm_core::text::required_text("f", sample, 1_000).is_ok();
            assert_eq!(text.is_match(sample), accepted, "{sample:?}");
        }
        assert_eq!(s["NewCustomer"]["properties"]["name"]["pattern"], crm_core::openapi::REQUIRED_TEXT_PATTERN);
        assert_eq!(s["FieldDefinitionInput"]["properties"]["key"]["$ref"], "#/components/schemas/FieldKey");
        // A case number in a path is any form `CaseNumber` reads.
        let param = &doc["paths"]["/api/v1/cases/by-number/{number}"]["get"]["parameters"][0];
        let number = regex::Regex::new(param["schema"]["pattern"].as_str().expect("a pattern")).expect("valid");
        for sample in ["CS-000123", "cs-123", "Cs7", "CS000123", "123", "0042", "CS-", "cS-1", "-5", "0", "+5", "x1"] {
            let read = sample.parse::<crm_core::case::CaseNumber>().is_ok();
            assert_eq!(number.is_match(sample), read, "{sample:?}");
        }
        assert_eq!(s["CaseNumber"]["pattern"], crm_core::openapi::CASE_NUMBER_PATTERN);
        // What the API returns refers to them …
        assert_eq!(s["Case"]["properties"]["number"]["$ref"], "#/components/schemas/CaseNumber");
        assert_eq!(s["Case"]["properties"]["id"]["$ref"], "#/components/schemas/CaseId");
        let phone = s["Identity"]["oneOf"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["properties"]["type"]["enum"] == json!(["phone"])))
            .expect("the phone identity");
        assert_eq!(phone["properties"]["number"]["$ref"], "#/components/schemas/PhoneNumber");
        // … while a number as written in a request is any text: it is parsed, not matched.
        let written = s["IdentityInput"]["oneOf"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["properties"]["type"]["enum"] == json!(["phone"])))
            .expect("the phone identity input");
        assert_eq!(written["properties"]["number"]["type"], "string");
        assert!(written["properties"]["number"].get("pattern").is_none());
    }

    #[test]
    fn every_operation_has_its_own_operation_id() {
        // Clients generated from the document and schemathesis' links name operations by
        // their id: two handlers named alike in two modules must not share one.
        let doc = document();
        let mut seen = std::collections::BTreeMap::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let Some(id) = op["operationId"].as_str() else { continue };
                if let Some(first) = seen.insert(id.to_owned(), format!("{method} {path}")) {
                    panic!("operationId {id} is used by {first} and {method} {path}");
                }
            }
        }
        assert!(seen.len() > 100, "{} operations", seen.len());
    }

    #[test]
    fn if_match_is_documented_as_the_etag_the_handlers_read() {
        let doc = document();
        let pattern = regex::Regex::new(ETAG_PATTERN).expect("a valid pattern");
        for sample in ["\"3\"", "W/\"3\"", "3", "\"12345\"", "", "\"3", "W/3x", "abc", "\"-1\"", "W/"] {
            assert_eq!(pattern.is_match(sample), parse_etag(sample).is_some(), "{sample:?}");
        }
        let mut operations = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let Some(p) = op["parameters"].as_array().and_then(|ps| {
                    ps.iter().find(|p| p["name"].as_str().is_some_and(|n| n.eq_ignore_ascii_case("if-match")))
                }) else {
                    continue;
                };
                operations += 1;
                assert_eq!(p["in"], "header");
                assert_eq!(p["required"], true, "{method} {path}");
                assert_eq!(p["schema"]["pattern"], ETAG_PATTERN, "{method} {path}");
                for status in ["412", "428"] {
                    assert!(op["responses"][status].is_object(), "{method} {path} documents no {status}");
                }
            }
        }
        // Every handler that takes `IfMatch` (the e2e api_surface test checks the 428s).
        assert_eq!(operations, 44);
    }
}
