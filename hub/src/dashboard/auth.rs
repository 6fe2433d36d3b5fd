//! Sign-in, sign-out, the signed-in extractor and the CSRF guard that every
//! POST passes through (the sign-in form included).

use super::i18n::Lang;
use super::session::{self, same_secret, COOKIE};
use super::{lang_of, render, Chrome, Page, Peer, Shared, WebError, MAX_BODY};
use askama::Template;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use std::sync::Arc;

/// A signed-in coordinator, taken from the session cookie; anyone else is
/// sent to the sign-in page.
pub(crate) struct Signed {
    pub(crate) user: String,
    pub(crate) csrf: String,
    pub(crate) lang: Lang,
}

impl Signed {
    pub(crate) fn chrome(&self, page: Page) -> Chrome {
        Chrome::new(self.lang, self.user.clone(), self.csrf.clone(), Some(page))
    }
}

impl FromRequestParts<Shared> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Shared) -> Result<Self, Response> {
        let lang = lang_of(parts);
        let session =
            session::read_cookie(&parts.headers, COOKIE).and_then(|id| app.sessions.get(&id));
        match session {
            Some(s) => match s.user {
                Some(user) => Ok(Signed {
                    user,
                    csrf: s.csrf,
                    lang,
                }),
                None => Err(Redirect::to("/login").into_response()),
            },
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Richiesta rifiutata: {why}. Ricarica la pagina e riprova.\n\
             Request refused: {}. Reload the page and try again.\n",
            english_reason(why)
        ),
    )
        .into_response()
}

fn english_reason(why: &str) -> &'static str {
    match why {
        NO_SESSION => "no session (cookies must be enabled)",
        NO_TOKEN => "the form carries no csrf_token",
        _ => "the csrf_token does not belong to this session",
    }
}

const NO_SESSION: &str = "nessuna sessione (i cookie devono essere abilitati)";
const NO_TOKEN: &str = "il modulo non contiene il csrf_token";
const BAD_TOKEN: &str = "il csrf_token non appartiene a questa sessione";

/// Every POST must carry the session's CSRF token, in the `csrf_token` form
/// field or (htmx) the `X-CSRF-Token` header; anything else gets 403.
pub(crate) async fn csrf_guard(State(app): State<Shared>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Richiesta troppo grande (massimo {MAX_BODY} byte). / Request too large (at most {MAX_BODY} bytes)."
            ),
        )
            .into_response();
    };
    let session = session::read_cookie(&parts.headers, COOKIE).and_then(|id| app.sessions.get(&id));
    let presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .or_else(|| {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "csrf_token")
                .map(|(_, v)| v)
        });
    match (session, presented) {
        (None, _) => forbidden(NO_SESSION),
        (Some(_), None) => forbidden(NO_TOKEN),
        (Some(s), Some(p)) if same_secret(&s.csrf, &p) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        (Some(_), Some(_)) => forbidden(BAD_TOKEN),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    username: String,
    error: Option<&'static str>,
}

fn with_cookie(mut resp: Response, cookie: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// The sign-in form, under a fresh not-yet-signed-in session whose token it
/// carries.
pub(crate) async fn login_page(
    State(app): State<Shared>,
    parts: Parts,
) -> Result<Response, WebError> {
    let lang = lang_of(&parts);
    let current = session::read_cookie(&parts.headers, COOKIE).and_then(|id| {
        let s = app.sessions.get(&id)?;
        Some((id, s))
    });
    if let Some((_, s)) = &current {
        if s.user.is_some() {
            return Ok(Redirect::to("/").into_response());
        }
    }
    let (id, s) = match current {
        Some(found) => found,
        None => app.sessions.create(None),
    };
    let page = LoginPage {
        c: Chrome::new(lang, String::new(), s.csrf, None),
        username: String::new(),
        error: None,
    };
    Ok(with_cookie(render(&page)?, &session::cookie(&id)))
}

#[derive(serde::Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn login(
    State(app): State<Shared>,
    peer: Option<Extension<Peer>>,
    parts: Parts,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let lang = lang_of(&parts);
    let username: String = form.username.trim().chars().take(64).collect();
    let account = format!("user:{username}");
    let source = match &peer {
        Some(Extension(Peer(addr))) => format!("ip:{}", addr.ip()),
        None => "ip:unknown".to_string(),
    };
    if let Err(wait) = app.limiter.attempt(&source) {
        let secs = wait.as_secs().max(1);
        tracing::warn!(%source, "sign-in refused: too many failed attempts from this address");
        return Ok((
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::RETRY_AFTER, secs.to_string()),
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
            ],
            format!(
                "Troppi tentativi di accesso falliti: riprova tra {secs} secondi.\n\
                 Too many failed sign-in attempts: try again in {secs} seconds.\n"
            ),
        )
            .into_response());
    }
    // An account with recent failures is slowed down, never locked.
    let delay = app.limiter.account_delay(&account);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    // Argon2 takes tens of milliseconds of CPU and memory: a bounded number
    // at a time, and the rest refused before any hashing.
    let Ok(_verifying) = Arc::clone(&app.verifying).try_acquire_owned() else {
        // Not this address's failure: it did not get a check.
        app.limiter.forget_attempt(&source);
        tracing::warn!("sign-in refused: every password check is busy");
        return Ok((
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, "1".to_string()),
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
            ],
            "Troppi accessi in corso: riprova tra un momento.\n\
             Too many sign-ins at once: try again in a moment.\n"
                .to_string(),
        )
            .into_response());
    };
    let dir = crate::config::DataDir(app.deps.data.clone());
    let (name, password) = (username.clone(), form.password);
    let verified =
        tokio::task::spawn_blocking(move || crate::users::verify(&dir, &name, &password))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?
            .map_err(|e| WebError::Internal(e.to_string()))?;
    let ok = verified.ok;
    let shown = crate::users::shown_name(&username, verified.known);
    let old = session::read_cookie(&parts.headers, COOKIE);
    // Failures are bounded by the limiter above, so they can be kept too.
    let from = peer
        .map(|Extension(Peer(a))| a.ip().to_string())
        .unwrap_or_default();
    let action = if ok {
        "user.sign_in"
    } else {
        "user.sign_in_failed"
    };
    crate::audit::record(app.deps.store.as_ref(), &shown, action, &shown, &from)?;
    if ok {
        app.limiter.succeeded(&[&source, &account]);
        // A new id at sign-in, so that a session id planted before it is worthless.
        if let Some(old) = old {
            app.sessions.remove(&old);
        }
        let (id, _) = app.sessions.create(Some(username.clone()));
        tracing::info!(user = %username, "coordinator signed in");
        return Ok(with_cookie(
            Redirect::to("/").into_response(),
            &session::cookie(&id),
        ));
    }
    app.limiter.account_failed(&account);
    tracing::info!(user = %shown, "sign-in failed");
    let csrf = old
        .and_then(|id| app.sessions.get(&id))
        .map(|s| s.csrf)
        .unwrap_or_default();
    let page = LoginPage {
        c: Chrome::new(lang, String::new(), csrf, None),
        username,
        error: Some(lang.texts().login_failed),
    };
    let mut resp = render(&page)?;
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(resp)
}

pub(crate) async fn logout(State(app): State<Shared>, parts: Parts) -> Response {
    if let Some(id) = session::read_cookie(&parts.headers, COOKIE) {
        app.sessions.remove(&id);
    }
    with_cookie(
        Redirect::to("/login").into_response(),
        &session::expired_cookie(),
    )
}
