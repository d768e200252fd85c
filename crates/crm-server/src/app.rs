//! The HTTP application: every `/api/v1` route (documented in the OpenAPI document built
//! from the same `routes!` calls), the agents' console at `/` ([`crate::console`]), the operations endpoints, and the middleware stack:
//! request ids, tracing, metrics, body size limit, timeouts, idempotency keys, problem+json
//! fallbacks.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::idempotency::idempotency;
use crate::metrics::track;
use crate::problem::{Problem, ProblemKind};
use crate::routes::{
    admin, attachments, audit, case_lists, cases, connectors, contacts, custom_fields, customers, events, external,
    groups, guidance, inbound_mail, interactions, knowledge, mail, messages, operator, outbound, outbox, passwords,
    public, responses, roles, sla, sla_report, tasks, webhooks,
};
use crate::state::AppState;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";
/// Where the Swagger UI is served.
pub const DOCS_PATH: &str = "/api/v1/docs";

/// The stack of the thread [`api`] builds on.
const API_BUILD_STACK: usize = 32 << 20;

/// The documented API routes (all but the event stream) and their raw OpenAPI paths.
///
/// Built on a thread of its own with a large stack: in a debug build the one function
/// chaining every route (about 1 MiB of frame) and the schemas it composes (the event
/// catalogue's among them) need more than the 2 MiB of a test's or a Tokio worker's thread.
///
/// # Panics
/// When the thread cannot start, or again with the panic of the build.
pub fn api() -> (Router<AppState>, OpenApi) {
    std::thread::scope(|s| {
        let built = std::thread::Builder::new()
            .name("api-build".into())
            .stack_size(API_BUILD_STACK)
            .spawn_scoped(s, build_api)
            .expect("a thread to build the API on");
        built.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What [`api`] builds.
fn build_api() -> (Router<AppState>, OpenApi) {
    let (router, doc) = OpenApiRouter::<AppState>::new()
        .routes(routes!(customers::create_customer, customers::search_customers))
        .routes(routes!(customers::get_customer, customers::update_customer, customers::delete_customer))
        .routes(routes!(customers::customer_card))
        .routes(routes!(customers::duplicates))
        .routes(routes!(customers::interaction_history))
        .routes(routes!(customers::relations, customers::add_relation))
        .routes(routes!(customers::remove_relation))
        .routes(routes!(customers::lookup))
        .routes(routes!(customers::merge))
        .routes(routes!(customers::get_merge))
        .routes(routes!(customers::undo_merge))
        .routes(routes!(cases::create_case, cases::list_cases))
        .routes(routes!(cases::get_case, cases::update_case, cases::delete_case))
        .routes(routes!(cases::get_case_by_number))
        .routes(routes!(cases::case_history))
        .routes(routes!(cases::restore_case))
        .routes(routes!(cases::follow_ups, cases::add_follow_up))
        .routes(routes!(case_lists::case_list_entries, case_lists::put_case_list_entry))
        .routes(routes!(case_lists::delete_case_list_entry))
        .routes(routes!(case_lists::case_children))
        .routes(routes!(tasks::create_task))
        .routes(routes!(tasks::get_task, tasks::update_task, tasks::delete_task))
        .routes(routes!(tasks::customer_tasks))
        .routes(routes!(tasks::case_tasks))
        .routes(routes!(tasks::agenda))
        .routes(routes!(interactions::create_interaction))
        .routes(routes!(interactions::get_interaction))
        .routes(routes!(interactions::act))
        .routes(routes!(interactions::add_note))
        .routes(routes!(interactions::copy_note))
        .routes(routes!(interactions::set_disposition))
        .routes(routes!(interactions::link))
        .routes(routes!(interactions::unlink))
        .routes(routes!(interactions::create_case))
        .routes(routes!(contacts::create_lead_from_interaction))
        .routes(routes!(contacts::create_customer_from_interaction))
        .routes(routes!(contacts::create_organisation, contacts::list_organisations))
        .routes(routes!(contacts::get_organisation, contacts::update_organisation, contacts::delete_organisation))
        .routes(routes!(contacts::organisation_card))
        .routes(routes!(contacts::organisation_members))
        .routes(routes!(contacts::customer_organisation, contacts::set_customer_organisation))
        .routes(routes!(contacts::lookup_organisations))
        .routes(routes!(contacts::create_lead, contacts::list_leads))
        .routes(routes!(contacts::get_lead, contacts::update_lead))
        .routes(routes!(contacts::convert_lead))
        .routes(routes!(custom_fields::custom_fields, custom_fields::define_custom_field))
        .routes(routes!(
            custom_fields::custom_field,
            custom_fields::change_custom_field,
            custom_fields::delete_custom_field
        ))
        .routes(routes!(messages::add_message, messages::messages))
        .routes(routes!(messages::read_messages))
        .routes(routes!(messages::case_interactions))
        .routes(routes!(admin::dispositions, admin::put_disposition))
        .routes(routes!(admin::put_queue))
        .routes(routes!(admin::list_agents, admin::create_agent))
        .routes(routes!(admin::get_agent, admin::update_agent))
        .routes(routes!(passwords::set_password))
        .routes(routes!(admin::list_groups, admin::create_group))
        .routes(routes!(groups::get_group, groups::update_group, groups::delete_group))
        .routes(routes!(groups::members))
        .routes(routes!(groups::add_member, groups::remove_member))
        .routes(routes!(groups::list_queues))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(roles::get_role, roles::update_role, roles::delete_role))
        .routes(routes!(operator::list_tenants, operator::create_tenant))
        .routes(routes!(operator::get_tenant, operator::update_tenant))
        .routes(routes!(admin::me, admin::update_me))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::tenant_settings, admin::update_tenant_settings))
        .routes(routes!(events::incoming_call))
        .routes(routes!(external::search))
        .routes(routes!(external::create))
        .routes(routes!(connectors::list))
        .routes(routes!(connectors::put, connectors::delete))
        .routes(routes!(connectors::test))
        .routes(routes!(outbox::list))
        .routes(routes!(outbox::requeue))
        .merge(attachment_routes())
        .routes(routes!(webhooks::event_types))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::send_test))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::attempts))
        .routes(routes!(webhooks::replay))
        .routes(routes!(sla::calendars, sla::create_calendar))
        .routes(routes!(sla::calendar, sla::replace_calendar, sla::delete_calendar))
        .routes(routes!(sla::policies, sla::create_policy))
        .routes(routes!(sla::policy, sla::replace_policy, sla::delete_policy))
        .routes(routes!(sla::case_sla))
        .routes(routes!(sla_report::sla_report))
        .routes(routes!(mail::notify))
        .routes(routes!(mail::case_mails))
        .routes(routes!(mail::outbound))
        .routes(routes!(mail::requeue))
        .merge(inbound_mail_routes())
        .routes(routes!(inbound_mail::case_inbound_mails))
        .routes(routes!(inbound_mail::raw))
        .routes(routes!(inbound_mail::rules, inbound_mail::put_rules))
        .routes(routes!(inbound_mail::simulate))
        .merge(script_routes())
        .routes(routes!(guidance::publish_script))
        .routes(routes!(guidance::script_versions))
        .routes(routes!(guidance::script_version))
        .routes(routes!(guidance::script_runs, guidance::start_script_run))
        .routes(routes!(guidance::script_run))
        .routes(routes!(guidance::entry_script_runs))
        .routes(routes!(guidance::answer_script_run))
        .routes(routes!(guidance::alert_rules, guidance::put_alert_rules))
        .routes(routes!(guidance::dry_run_alerts))
        .routes(routes!(guidance::interaction_alerts))
        .routes(routes!(outbound::create_campaign, outbound::campaigns))
        .routes(routes!(outbound::get_campaign, outbound::update_campaign))
        .routes(routes!(outbound::campaign_progress))
        .routes(routes!(outbound::create_call_list, outbound::call_lists))
        .routes(routes!(outbound::get_call_list, outbound::update_call_list))
        .routes(routes!(outbound::list_progress))
        .routes(routes!(outbound::add_entries, outbound::entries))
        .routes(routes!(outbound::import_entries))
        .routes(routes!(outbound::get_entry))
        .routes(routes!(outbound::next_contact))
        .routes(routes!(outbound::record_outcome))
        .routes(routes!(outbound::do_not_call, outbound::add_do_not_call))
        .routes(routes!(outbound::remove_do_not_call))
        .routes(routes!(audit::list))
        .routes(routes!(audit::export))
        .routes(routes!(knowledge::create_article, knowledge::list_articles))
        .routes(routes!(knowledge::get_article, knowledge::update_article))
        .routes(routes!(knowledge::article_versions))
        .routes(routes!(knowledge::search_articles))
        .routes(routes!(knowledge::article_version))
        .routes(routes!(knowledge::solutions))
        .routes(routes!(knowledge::compose))
        .routes(routes!(responses::create_response, responses::list_responses))
        .routes(routes!(responses::get_response, responses::update_response, responses::delete_response))
        .routes(routes!(responses::response_versions))
        .routes(routes!(responses::render_response))
        .routes(routes!(responses::add_favourite, responses::remove_favourite))
        .routes(routes!(responses::create_folder, responses::list_folders))
        .routes(routes!(responses::get_folder, responses::rename_folder, responses::delete_folder))
        .routes(routes!(responses::suggestions))
        .routes(routes!(public::search))
        .routes(routes!(public::article))
        .routes(routes!(public::search_by_host))
        .routes(routes!(public::article_by_host))
        .split_for_parts();
    (router, doc)
}

/// The attachments (CAS-6). Their uploads stream past the JSON body limit: the core
/// counts their bytes against the attachment limits instead.
fn attachment_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::<AppState>::new()
        .routes(routes!(attachments::upload_to_case, attachments::list_of_case))
        .routes(routes!(attachments::upload_to_follow_up, attachments::list_of_follow_up))
        .routes(routes!(attachments::download, attachments::delete))
        .routes(routes!(attachments::download_original))
        .layer(DefaultBodyLimit::disable())
}

/// The inbound mail hook (CAS-8): a raw message up to the inbound limit (30 MiB), past
/// the JSON body limit.
fn inbound_mail_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::<AppState>::new()
        .routes(routes!(inbound_mail::receive))
        .layer(DefaultBodyLimit::max(crm_core::mail::inbound::MAX_INBOUND_BYTES))
}

/// The script drafts (GUI-1): up to [`crm_core::script::MAX_SCRIPT_BYTES`], past the JSON
/// body limit, so that a script with too many steps is told so (422 naming `steps`).
fn script_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::<AppState>::new()
        .routes(routes!(guidance::scripts, guidance::create_script))
        .routes(routes!(guidance::script, guidance::update_script))
        .layer(DefaultBodyLimit::max(crm_core::script::MAX_SCRIPT_BYTES))
}

/// The event stream, documented but kept apart: it is exempt from the request timeout.
fn streaming() -> (Router<AppState>, OpenApi) {
    OpenApiRouter::<AppState>::new().routes(routes!(events::events)).split_for_parts()
}

/// The OpenAPI document (also what `/api/v1/openapi.json` serves).
pub fn openapi() -> OpenApi {
    let (_, mut doc) = api();
    doc.merge(streaming().1);
    crate::openapi::finish(doc)
}

/// The whole application for `state`.
pub fn app(state: AppState) -> Router {
    let (api, _) = api();
    let doc = openapi();
    let settings = state.settings.clone();
    let request_id = HeaderName::from_static("x-request-id");
    // Routes that may take long (the event stream) are outside the timeout.
    let timed = api
        .route(OPENAPI_PATH, get(openapi_json))
        .layer(middleware::from_fn_with_state(state.clone(), idempotency))
        .layer(middleware::from_fn_with_state(settings.request_timeout, timeout));
    let (streaming, _) = streaming();
    let ops = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics));
    let docs: Router<AppState> = SwaggerUi::new(DOCS_PATH).url("/api/v1/docs/openapi.json", doc.clone()).into();
    Router::new()
        .merge(timed)
        .merge(streaming)
        .merge(ops)
        .merge(docs)
        .merge(crate::console::router(state.clone()))
        .route_layer(middleware::from_fn_with_state(state.clone(), track))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(std::sync::Arc::new(doc)))
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

async fn openapi_json(axum::Extension(doc): axum::Extension<std::sync::Arc<OpenApi>>) -> Response {
    match doc.to_json() {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => Problem::new(ProblemKind::Internal, "").into_response(),
    }
}

async fn readyz(State(st): State<AppState>) -> Response {
    let ping = match &st.sql {
        Some(sql) => sql.ping().await,
        None => Ok(()),
    };
    match ping {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Problem::new(ProblemKind::Unavailable, "the database does not answer").into_response()
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let mut text = st.metrics.render();
    text.push_str(&crate::metrics::render_api_usage(&st.connectors.api_usage()));
    if let Some(sql) = &st.sql {
        if let Some(counts) = sql.inline_reads() {
            text.push_str(&crate::metrics::render_inline_reads(counts));
        }
        if let Some(counts) = sql.combined_reads() {
            text.push_str(&crate::metrics::render_combined_reads(counts));
        }
        text.push_str(&crate::metrics::render_pools(&sql.pool_gauges()));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn no_route() -> Problem {
    Problem::new(ProblemKind::NoRoute, "no route matches this path")
}

async fn method_not_allowed() -> Problem {
    Problem::new(ProblemKind::MethodNotAllowed, "this route does not take this method")
}

async fn timeout(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(r) => r,
        Err(_) => Problem::new(ProblemKind::Timeout, "the request took too long").into_response(),
    }
}
