//! The agent's live event stream (SSE) and the CTI incoming-call hook (EXT-2).

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use crm_core::live::{IncomingCall, ScreenPop};

use crate::auth::Auth;
use crate::extract::{ApiJson, Reply};
use crate::idempotency::UseCases;
use crate::problem::ApiResult;
use crate::state::AppState;

/// The caller's live events as Server-Sent Events (with an API token, or the agents'
/// console's session cookie): `ready` once connected, then
/// `screen_pop`, `task_reminder_due`, `task_created`, `case_assigned`, `case_updated`,
/// `interaction_created`, `alerts` (an open interaction's alerts again when a change moved
/// its customer's facts) … each with a JSON payload and the feed position as `id`. A client
/// that reconnects with `Last-Event-ID` first gets what it missed (kept 10 minutes).
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "resume after this event")),
    responses((status = 200, description = "text/event-stream of the caller's events", content_type = "text/event-stream", body = String)))]
pub async fn events(
    State(st): State<AppState>,
    StreamCaller(actor): StreamCaller,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    // Subscribe before reading the backlog, so nothing falls between the two.
    let rx = st.hub.subscribe();
    let (tenant, agent) = (actor.tenant, actor.agent);
    let last_seen =
        headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let backlog = match last_seen {
        Some(seq) => st.crm.my_live_events(&actor, seq, 1000).await?,
        None => Vec::new(),
    };
    let replayed: Arc<HashSet<u64>> = Arc::new(backlog.iter().map(|r| r.seq).collect());
    let ready = Event::default().event("ready").data(format!("{{\"agent\":\"{agent}\"}}"));
    let first = futures::stream::iter(
        std::iter::once(ready)
            .chain(backlog.into_iter().map(|r| Event::default().event(r.name).id(r.seq.to_string()).data(r.payload)))
            .map(Ok::<_, Infallible>)
            .collect::<Vec<_>>(),
    );
    let stop = st.hub.stopping();
    let rest = futures::stream::unfold((rx, stop), move |(mut rx, mut stop)| {
        let replayed = replayed.clone();
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

/// An incoming call (EXT-2): records an inbound voice interaction offered to the agent,
/// looks the caller up, and pushes the cards to the agent's event stream as `screen_pop`.
#[utoipa::path(post, path = "/api/v1/cti/calls", tag = "events", request_body = IncomingCall,
    responses((status = 201, body = ScreenPop)))]
pub async fn incoming_call(
    Auth(actor): Auth,
    UseCases(crm): UseCases,
    ApiJson(call): ApiJson<IncomingCall>,
) -> ApiResult<Reply<ScreenPop>> {
    let pop = crm.incoming_call(&actor, call).await?;
    let location = format!("/api/v1/interactions/{}", pop.interaction.id);
    Ok(Reply::created(pop, location))
}

/// Who reads the event stream: an API token's actor, or, without an `Authorization`
/// header, the agents' console's session (a browser's `EventSource` sends cookies, not
/// headers; reading one's own events changes nothing, so no anti-forgery token is asked).
#[derive(Debug)]
pub struct StreamCaller(pub crm_core::access::Actor);

impl axum::extract::FromRequestParts<AppState> for StreamCaller {
    type Rejection = crate::problem::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if crate::auth::bearer(parts).is_none()
            && let Some(actor) = crate::console::session::session_actor(st, parts).await
        {
            return Ok(Self(actor));
        }
        let Auth(actor) = <Auth as axum::extract::FromRequestParts<AppState>>::from_request_parts(parts, st).await?;
        Ok(Self(actor))
    }
}
