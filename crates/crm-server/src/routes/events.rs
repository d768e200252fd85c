//! The agent's live event stream (SSE) and the CTI incoming-call hook (EXT-2).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::{Deserialize, Serialize};

use crm_core::access::Permission;
use crm_core::customer::{CustomerCard, LookupKey};
use crm_core::ids::AgentId;
use crm_core::interaction::{Channel, Direction, Interaction, NewInteraction};

use crate::auth::Auth;
use crate::events::push;
use crate::extract::{ApiJson, Reply};
use crate::idempotency::UseCases;
use crate::openapi::responses as s;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;

/// The caller's live events as Server-Sent Events: `ready` once connected, then
/// `screen_pop`, `task_reminder_due`, `task_created`, `case_assigned`, `case_updated`,
/// `interaction_created` … each with a JSON payload and the feed position as `id`. A client
/// that reconnects with `Last-Event-ID` first gets what it missed (kept 10 minutes).
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "resume after this event")),
    responses((status = 200, description = "text/event-stream of the caller's events", content_type = "text/event-stream", body = String)))]
pub async fn events(
    State(st): State<AppState>,
    Auth(actor): Auth,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = st.hub.subscribe();
    let tenant = actor.tenant.to_string();
    let agent = actor.agent.to_string();
    let last_seen =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
    let backlog = match last_seen {
        Some(seq) => st.db.live_for_agent_after(actor.tenant, actor.agent, seq, 1000).await?,
        None => Vec::new(),
    };
    let replayed: Arc<HashSet<i64>> = Arc::new(backlog.iter().map(|r| r.seq).collect());
    let ready = Event::default().event("ready").data(format!("{{\"agent\":\"{agent}\"}}"));
    let first = futures::stream::iter(
        std::iter::once(ready)
            .chain(backlog.into_iter().map(|r| Event::default().event(r.name).id(r.seq.to_string()).data(r.payload)))
            .map(Ok::<_, Infallible>)
            .collect::<Vec<_>>(),
    );
    let stop = st.hub.stopping();
    let rest = futures::stream::unfold((rx, stop), move |(mut rx, mut stop)| {
        let (tenant, agent, replayed) = (tenant.clone(), agent.clone(), replayed.clone());
        async move {
            loop {
                if *stop.borrow() {
                    return None;
                }
                let received = tokio::select! {
                    r = rx.recv() => r,
                    _ = stop.changed() => return None,
                };
                match received {
                    Ok(e) if e.tenant == tenant && e.agent == agent && !replayed.contains(&e.seq) => {
                        let event =
                            Event::default().event(e.name.clone()).id(e.seq.to_string()).data(e.payload.clone());
                        return Some((Ok(event), (rx, stop)));
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(skipped = n, "slow event stream skipped events");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Ok(Sse::new(futures::StreamExt::chain(first, rest)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// An incoming call from the telephony system.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncomingCall {
    /// The caller's number, in any written form.
    pub phone: String,
    /// The agent the call is offered to (default: the caller of this API).
    #[serde(default)]
    #[schema(value_type = Option<uuid::Uuid>)]
    pub agent: Option<AgentId>,
    /// The queue it came through.
    #[serde(default)]
    pub queue: Option<String>,
    /// IVR key/values.
    #[serde(default)]
    pub context: std::collections::BTreeMap<String, String>,
}

/// What the screen pop pushed.
#[derive(Debug, Clone, Serialize)]
pub struct ScreenPop {
    /// The interaction recorded for the call (offered to the agent).
    pub interaction: Interaction,
    /// The customer cards the number matches, most recently contacted first.
    pub cards: Vec<CustomerCard>,
}

/// An incoming call (EXT-2): records an inbound voice interaction offered to the agent,
/// looks the caller up, and pushes the cards to the agent's event stream as `screen_pop`.
#[utoipa::path(post, path = "/api/v1/cti/calls", tag = "events", request_body = IncomingCall,
    responses((status = 201, body = s::ScreenPop)))]
pub async fn incoming_call(
    State(st): State<AppState>,
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(call): ApiJson<IncomingCall>,
) -> ApiResult<Reply<ScreenPop>> {
    let agent = call.agent.unwrap_or(actor.agent);
    if agent != actor.agent {
        actor.require(Permission::CaseAssign)?;
        st.crm
            .get_agent(&actor, agent)
            .await
            .map_err(|_| ApiError::invalid("agent", "is not an agent of this tenant"))?;
    }
    let cards = st.crm.lookup(&actor, &LookupKey::Phone(call.phone.clone())).await?;
    let input = NewInteraction {
        channel: Channel::Voice,
        direction: Direction::Inbound,
        customer: cards.first().map(|c| c.customer.id),
        address: Some(call.phone),
        contact_name: cards.first().map(|c| c.customer.name().to_owned()),
        internal_agent: None,
        agent: Some(agent),
        queue: call.queue,
        context: call.context,
        transcript: Vec::new(),
    };
    let interaction = crm.create_interaction(&actor, input).await?;
    let pop = ScreenPop { interaction, cards };
    let payload = serde_json::to_value(&pop).unwrap_or_default();
    push(&st, actor.tenant, agent, "screen_pop", &payload).await?;
    let location = format!("/api/v1/interactions/{}", pop.interaction.id);
    Ok(Reply::created(pop, location))
}
