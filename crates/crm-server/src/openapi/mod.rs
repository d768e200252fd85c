//! The OpenAPI 3.1 document, generated with utoipa from the handlers' `#[utoipa::path]`
//! annotations (the router and the document are built from the same `routes!` calls, see
//! [`mod@crate::app`]), served at `/api/v1/openapi.json` with a Swagger UI at `/api/v1/docs`.
//!
//! The domain types of `crm-core` do not derive `ToSchema` (the core knows nothing of
//! HTTP); the document describes them as named JSON objects (`opaque_schemas!`) whose
//! descriptions point at the core type. Server-side DTOs derive their schemas.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, RefOr, Response, ResponseBuilder};

use crate::problem::{PROBLEM_JSON, Problem};

pub mod requests;
pub mod responses;

/// Adds what every operation shares: the bearer security scheme and requirement, and the
/// problem+json error responses.
pub fn finish(mut doc: OpenApi) -> OpenApi {
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
    for item in doc.paths.paths.values_mut() {
        for op in
            [&mut item.get, &mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten()
        {
            op.security = Some(vec![requirement.clone()]);
            let if_match = op.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => p.name.eq_ignore_ascii_case("if-match"),
                RefOr::Ref(_) => false,
            });
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
    doc.info.title = "crm-server".into();
    doc.info.description = Some("The contact-center CRM engine's HTTP API. Errors are RFC 9457 problem+json. Reads return ETag; updates require If-Match; creates accept Idempotency-Key.".into());
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc.info.contact = None;
    doc.info.license = Some(utoipa::openapi::License::new("Apache-2.0"));
    doc
}
