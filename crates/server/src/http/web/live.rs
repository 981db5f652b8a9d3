//! `/incidents/{number}/live`: an open incident's new timeline events as server-sent
//! events, while its page is open.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use klaxon_domain::IncidentNumber;
use serde::Deserialize;

use crate::app::incidents;
use crate::app::sessions::WebSession;
use crate::http::web::incident::{number_of, EventFragment, EventRow};
use crate::http::web::page::error_page;
use crate::http::web::session::Web;
use crate::infra::state::AppState;

/// How often the live timeline looks for new events.
const LIVE_POLL: Duration = Duration::from_millis(400);

#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    #[serde(default)]
    after: i64,
}

/// `GET /incidents/{number}/live`: the timeline's new events as server-sent events
/// (`event`, each a rendered list item, its id the event's number), while the page is
/// open. It looks for new events a few times a second with one primary-key read (and,
/// when the incident moved, a read of the events after the last one sent), so an event
/// written on any replica shows within a second.
pub async fn live(
    State(state): State<AppState>,
    Web(session): Web,
    Path(number): Path<String>,
    Query(q): Query<LiveQuery>,
    headers: HeaderMap,
) -> Response {
    let n = match number_of(&number) {
        Ok(n) => n,
        Err(e) => return error_page(Some(&session), &e),
    };
    // A reconnecting browser says where it got to.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(q.after);
    if let Err(e) = incidents::events_after(&state, &session.caller, n, i64::MAX).await {
        return error_page(Some(&session), &e);
    }
    Sse::new(stream(state, session, n, after))
        .keep_alive(KeepAlive::default())
        .into_response()
}

fn stream(
    state: AppState,
    session: WebSession,
    n: IncidentNumber,
    after: i64,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let stopping = state.stopping();
    futures_util::stream::unfold(
        (after, Vec::<Event>::new()),
        move |(mut seen, mut queue)| {
            let (state, session) = (state.clone(), session.clone());
            let mut stopping = stopping.clone();
            async move {
                loop {
                    if let Some(event) = queue.pop() {
                        return Some((Ok(event), (seen, queue)));
                    }
                    // A stopping server ends the stream; the browser reconnects.
                    tokio::select! {
                        () = tokio::time::sleep(LIVE_POLL) => {}
                        _ = stopping.wait_for(|&s| s) => return None,
                    }
                    let Ok((incident, events)) =
                        incidents::events_after(&state, &session.caller, n, seen).await
                    else {
                        continue;
                    };
                    if events.is_empty() {
                        continue;
                    }
                    // The newest event sent, not the version read before the events:
                    // one written between the two reads is not sent twice.
                    seen = events.last().map_or(seen, |e| e.seq);
                    // Popped from the end: the oldest event first, the status change last.
                    queue.push(
                        Event::default()
                            .event("changed")
                            .data(incident.status.as_str()),
                    );
                    for e in events.iter().rev() {
                        let row = EventRow::new(e);
                        let html = EventFragment { e: &row }.render().unwrap_or_default();
                        queue.push(
                            Event::default()
                                .event("event")
                                .id(e.seq.to_string())
                                .data(html),
                        );
                    }
                }
            }
        },
    )
}
