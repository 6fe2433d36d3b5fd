//! Sign-in, sign-out, the signed-in extractor and the CSRF guard that every
//! POST passes through: the sign-in form against its signed cookie
//! (`login_token.rs`), every other form against its session's token.

use super::i18n::Lang;
use super::login_token::{self, Refusal};
use super::session::{self, same_secret, unix_now, COOKIE};
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
        let session = match session::read_cookie(&parts.headers, COOKIE) {
            Some(id) => app
                .sessions
                .get(&id)
                .await
                .map_err(|e| WebError::from(e).into_response())?,
            None => None,
        };
        match session {
            Some(s) => Ok(Signed {
                user: s.user,
                csrf: s.csrf,
                lang,
            }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// Why a POST was refused before its handler ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    NoSession,
    NoToken,
    BadToken,
    SignIn(Refusal),
}

impl Why {
    /// The reason in Italian, then in English.
    fn says(self) -> (&'static str, &'static str) {
        match self {
            Why::NoSession => (
                "nessuna sessione (i cookie devono essere abilitati)",
                "no session (cookies must be enabled)",
            ),
            Why::NoToken | Why::SignIn(Refusal::NoToken) => (
                "il modulo non contiene il csrf_token",
                "the form carries no csrf_token",
            ),
            Why::BadToken => (
                "il csrf_token non appartiene a questa sessione",
                "the csrf_token does not belong to this session",
            ),
            Why::SignIn(Refusal::NoCookie) => (
                "manca il cookie del modulo di accesso (i cookie devono essere abilitati)",
                "the sign-in form's cookie is missing (cookies must be enabled)",
            ),
            Why::SignIn(Refusal::BadCookie) => (
                "il cookie del modulo di accesso non è firmato da questo hub o è scaduto",
                "the sign-in form's cookie is not signed by this hub or has expired",
            ),
            Why::SignIn(Refusal::Mismatch) => (
                "il csrf_token non corrisponde al cookie del modulo di accesso",
                "the csrf_token does not match the sign-in form's cookie",
            ),
        }
    }
}

fn forbidden(why: Why) -> Response {
    let (it, en) = why.says();
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!(
            "Richiesta rifiutata: {it}. Ricarica la pagina e riprova.\n\
             Request refused: {en}. Reload the page and try again.\n"
        ),
    )
        .into_response()
}

/// Every POST must carry a CSRF token, in the `csrf_token` form field or
/// (htmx) the `X-CSRF-Token` header; anything else gets 403. The sign-in
/// form's is checked against its signed cookie here, before the sign-in
/// handler counts an attempt or hashes a password.
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
    let refused = if parts.uri.path() == "/login" {
        let cookie = session::read_cookie(&parts.headers, login_token::COOKIE);
        app.login_key
            .check(cookie.as_deref(), presented.as_deref(), unix_now())
            .err()
            .map(Why::SignIn)
    } else {
        let session = match session::read_cookie(&parts.headers, COOKIE) {
            Some(id) => match app.sessions.get(&id).await {
                Ok(s) => s,
                Err(e) => return WebError::from(e).into_response(),
            },
            None => None,
        };
        match (session, presented) {
            (None, _) => Some(Why::NoSession),
            (Some(_), None) => Some(Why::NoToken),
            (Some(s), Some(p)) if same_secret(&s.csrf, &p) => None,
            (Some(_), Some(_)) => Some(Why::BadToken),
        }
    };
    match refused {
        None => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Some(why) => {
            tracing::info!(path = %parts.uri.path(), reason = ?why, "form refused by the CSRF check");
            forbidden(why)
        }
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

/// The sign-in form, with the token of its signed cookie. No session and
/// nothing else is stored for a visitor who has not signed in.
pub(crate) async fn login_page(
    State(app): State<Shared>,
    parts: Parts,
) -> Result<Response, WebError> {
    let lang = lang_of(&parts);
    let held = session::read_cookie(&parts.headers, COOKIE);
    if let Some(id) = &held {
        if app.sessions.get(id).await?.is_some() {
            return Ok(Redirect::to("/").into_response());
        }
    }
    let mut resp = login_form(&app, &parts, lang, String::new(), None)?;
    if held.is_some() {
        // A session that ended: the browser may forget it.
        resp = with_cookie(resp, &session::expired_cookie());
    }
    Ok(resp)
}

/// The sign-in page with the token of the request's sign-in cookie, or a
/// new one with its cookie.
fn login_form(
    app: &Shared,
    parts: &Parts,
    lang: Lang,
    username: String,
    error: Option<&'static str>,
) -> Result<Response, WebError> {
    let cookie = session::read_cookie(&parts.headers, login_token::COOKIE);
    let (token, set) = app.login_key.for_page(cookie.as_deref(), unix_now());
    let page = LoginPage {
        c: Chrome::new(lang, String::new(), token, None),
        username,
        error,
    };
    let resp = render(&page)?;
    Ok(match set {
        Some(value) => with_cookie(resp, &login_token::cookie(&value)),
        None => resp,
    })
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
    let (name, password) = (username.clone(), form.password);
    let verified = crate::storage::blocking(&app.deps.store, move |store| {
        crate::users::verify(store, &name, &password)
    })
    .await
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
    {
        let shown = shown.clone();
        crate::storage::blocking(&app.deps.store, move |store| {
            crate::audit::record(store, &shown, action, &shown, &from)
        })
        .await?;
    }
    if ok {
        app.limiter.succeeded(&[&source, &account]);
        // A new id at every sign-in, and the one the browser held ended.
        if let Some(old) = old {
            app.sessions.remove(&old).await?;
        }
        let (id, _) = app.sessions.create(&username).await?;
        tracing::info!(user = %username, "coordinator signed in");
        let resp = with_cookie(Redirect::to("/").into_response(), &session::cookie(&id));
        return Ok(with_cookie(resp, &login_token::expired_cookie()));
    }
    app.limiter.account_failed(&account);
    tracing::info!(user = %shown, "sign-in failed");
    let mut resp = login_form(
        &app,
        &parts,
        lang,
        username,
        Some(lang.texts().login_failed),
    )?;
    *resp.status_mut() = StatusCode::UNAUTHORIZED;
    Ok(resp)
}

/// Ends the session in the store, not only in the browser.
pub(crate) async fn logout(State(app): State<Shared>, parts: Parts) -> Result<Response, WebError> {
    if let Some(id) = session::read_cookie(&parts.headers, COOKIE) {
        app.sessions.remove(&id).await?;
    }
    Ok(with_cookie(
        Redirect::to("/login").into_response(),
        &session::expired_cookie(),
    ))
}
