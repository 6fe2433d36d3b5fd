//! Live guidance: Server-Sent Events fed by `WatchGuidance`, so the page
//! sees a publication the moment the local copy applies it. Each event is
//! the whole list re-rendered (urgent first), so an item that arrives is
//! shown in its place and a retired one disappears.

use super::language::lang_of;
use super::panel::guidance_list;
use super::respond::agent_failure;
use super::Operator;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{FutureExt, StreamExt};
use proto::desk_server::Desk;
use serde::Deserialize;
use std::convert::Infallible;
use tonic::Request;

#[derive(Default, Deserialize)]
#[serde(default)]
pub(super) struct EventsQuery {
    procedure: String,
}

pub(super) async fn guidance_events(
    State(op): State<Operator>,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> Response {
    if q.procedure.chars().count() > 100 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            "procedura troppo lunga / procedure too long",
        )
            .into_response();
    }
    let lang = lang_of(&headers);
    let watch = op
        .desk
        .watch_guidance(Request::new(proto::ListGuidanceRequest {
            procedure: q.procedure.clone(),
        }))
        .await;
    let items = match watch {
        Ok(w) => w.into_inner(),
        Err(s) => return agent_failure(&s),
    };
    let stop = op.stop.clone();
    let back = if q.procedure.is_empty() {
        "/indicazioni".to_string()
    } else {
        super::panel::procedure_url("/", &q.procedure)
    };
    let events = futures::stream::unfold(
        (items, op, q.procedure, back, true),
        move |(mut items, op, procedure, back, first)| async move {
            if !first {
                match items.next().await {
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
            // Several items of one publication arrive together: one render.
            while let Some(Some(Ok(_))) = items.next().now_or_never() {}
            let event = match guidance_list(&op, &procedure, lang, &back).await {
                Ok(html) => Event::default().event("guidance").data(html),
                Err(s) => Event::default().event("error").data(s.message()),
            };
            Some((
                Ok::<Event, Infallible>(event),
                (items, op, procedure, back, false),
            ))
        },
    )
    .take_until(stop.waited());
    Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response()
}
