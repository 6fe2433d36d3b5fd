//! A real headless Chromium driven over WebDriver (fantoccini), for the
//! tests of the operator page and the coordinator dashboard: what a person
//! meets, checked where a person meets it.
//!
//! `Browser::start` spawns Debian's `chromedriver` on a free loopback port
//! with a fresh profile; dropping the `Browser` ends the session and every
//! process it started, even when the test failed half-way.

use crate::{eventually, free_addr};
use anyhow::{bail, Context};
use fantoccini::{elements::Element, key::Key, Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The two sizes every screenshot is taken at: a common office laptop and a
/// common phone.
pub const SIZES: [(u32, u32); 2] = [(1366, 768), (390, 844)];
const DEFAULT_SIZE: (u32, u32) = SIZES[0];

/// How long a wait for text or a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct Browser {
    client: Client,
    driver: Child,
    driver_addr: String,
    session: Option<String>,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session. Fails (never
    /// skips) when either program is missing, so a machine without them
    /// cannot pass the browser tests by accident.
    pub async fn start() -> anyhow::Result<Self> {
        for program in [CHROMIUM, CHROMEDRIVER] {
            if !Path::new(program).exists() {
                bail!(
                    "{program} is missing: run `cargo xtask test`, which installs it \
                     (apt-get install -y chromium chromium-driver; npm ci --prefix tests)"
                );
            }
        }
        let profile = tempfile::Builder::new()
            .prefix("rete-browser-")
            .tempdir()
            .context("temporary browser profile")?;
        let driver_addr = free_addr();
        let port = driver_addr
            .rsplit(':')
            .next()
            .context("port of the free address")?
            .to_string();
        let log = std::fs::File::create(profile.path().join("chromedriver.log"))?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawn {CHROMEDRIVER}"))?;
        let ready = driver_addr.clone();
        eventually(Duration::from_secs(30), async || {
            tokio::net::TcpStream::connect(&ready).await.ok()
        })
        .await
        .context("chromedriver did not listen")?;

        let user_data = profile.path().join("profile");
        let args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--lang=it-IT",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            format!("--user-data-dir={}", user_data.display()),
            format!("--window-size={},{}", DEFAULT_SIZE.0, DEFAULT_SIZE.1),
        ])
        .collect();
        let caps = json!({
            "browserName": "chrome",
            // The hub's dashboard is served with the hub's own CA.
            "acceptInsecureCerts": true,
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let Value::Object(caps) = caps else {
            bail!("capabilities are an object");
        };
        let mut driver = DriverGuard(Some(driver));
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://{driver_addr}"))
            .await
            .with_context(|| {
                format!(
                    "open a Chromium session (chromedriver log: {})",
                    std::fs::read_to_string(profile.path().join("chromedriver.log"))
                        .unwrap_or_default()
                )
            })?;
        let session = client.session_id().await.ok().flatten();
        let driver = driver.0.take().context("chromedriver process")?;
        Ok(Self {
            client,
            driver,
            driver_addr,
            session,
            profile,
        })
    }

    /// The fantoccini client, for what the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("open {url}"))
    }

    pub async fn find(&self, css: &str) -> anyhow::Result<Element> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("no element matches `{css}`"))
    }

    /// The element matching `css` once the page shows it, within `limit`:
    /// after a click that submits a form, the next page may not be loaded
    /// yet when `find` would look.
    pub async fn wait_for(&self, css: &str, limit: Duration) -> anyhow::Result<Element> {
        self.client
            .wait()
            .at_most(limit)
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("no element matches `{css}` within {limit:?}"))
    }

    /// The form control a person would call `field`: the one whose `name`
    /// or `id` is `field`, or the one whose `<label>` reads `field`.
    pub async fn field(&self, field: &str) -> anyhow::Result<Element> {
        let script = r#"
            const f = arguments[0];
            const byName = document.querySelector(
                `[name="${CSS.escape(f)}"], #${CSS.escape(f)}`);
            if (byName) return byName;
            for (const l of document.querySelectorAll('label')) {
                if (l.textContent.trim().replace(/\s+/g, ' ') === f
                    || l.textContent.trim().startsWith(f)) {
                    if (l.control) return l.control;
                }
            }
            return null;"#;
        let found = self.client.execute(script, vec![json!(field)]).await?;
        // A W3C element reference is `{"element-6066-…": "<id>"}`.
        let Some(id) = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
        else {
            bail!("no form field named or labelled `{field}`");
        };
        Ok(Element::from_element_id(
            self.client.clone(),
            id.to_string().into(),
        ))
    }

    /// Replaces the value of a text field (found as `field` finds it).
    pub async fn fill(&self, field: &str, value: &str) -> anyhow::Result<()> {
        let el = self.field(field).await?;
        el.clear().await?;
        el.send_keys(value).await?;
        Ok(())
    }

    /// Chooses the option whose value is `value` in a `<select>`.
    pub async fn choose(&self, field: &str, value: &str) -> anyhow::Result<()> {
        self.field(field)
            .await?
            .select_by_value(value)
            .await
            .with_context(|| format!("field `{field}` has no option `{value}`"))
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.find(css).await?.click().await?;
        Ok(())
    }

    /// Clicks the button or link whose visible text is `text`.
    pub async fn click_text(&self, text: &str) -> anyhow::Result<()> {
        let xpath = format!(
            "//*[self::button or self::a or self::summary][normalize-space()={}]",
            xpath_literal(text)
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .with_context(|| format!("no button or link reads `{text}`"))?
            .click()
            .await?;
        Ok(())
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.find(css).await?.text().await?)
    }

    /// The page's visible text.
    pub async fn page_text(&self) -> anyhow::Result<String> {
        self.text("body").await
    }

    /// Waits (at most `limit`) until `text` is visible in the page, with no
    /// reload: what a person sees appear.
    pub async fn wait_for_text(&self, text: &str, limit: Duration) -> anyhow::Result<()> {
        let found = eventually(limit, async || {
            self.page_text()
                .await
                .ok()
                .filter(|t| t.contains(text))
                .map(|_| ())
        })
        .await;
        match found {
            Ok(()) => Ok(()),
            Err(e) => bail!(
                "`{text}` did not appear within {limit:?} ({e}); the page reads:\n{}",
                self.page_text().await.unwrap_or_default()
            ),
        }
    }

    /// Presses a key on the focused element, as a keyboard user does.
    pub async fn press(&self, key: Key) -> anyhow::Result<()> {
        let c: char = key.into();
        self.client
            .active_element()
            .await?
            .send_keys(&c.to_string())
            .await?;
        Ok(())
    }

    /// Types `text` into whatever has focus, as a keyboard user does.
    pub async fn press_text(&self, text: &str) -> anyhow::Result<()> {
        self.client.active_element().await?.send_keys(text).await?;
        Ok(())
    }

    /// Presses Tab and returns a description of the element that has focus.
    pub async fn tab(&self) -> anyhow::Result<Focused> {
        self.press(Key::Tab).await?;
        self.focused().await
    }

    /// Presses Tab until the focused element matches `field` (its name, id or
    /// label, as `field` finds), at most `max` times; fails naming what had
    /// focus along the way, so a broken tab order is visible.
    pub async fn tab_to(&self, field: &str, max: usize) -> anyhow::Result<Focused> {
        let mut seen = Vec::new();
        for _ in 0..max {
            let f = self.tab().await?;
            if f.matches(field) {
                return Ok(f);
            }
            seen.push(f.to_string());
        }
        bail!(
            "`{field}` not reached with {max} Tab presses; focus went: {}",
            seen.join(" → ")
        )
    }

    /// What has focus now.
    pub async fn focused(&self) -> anyhow::Result<Focused> {
        let script = r#"
            const e = document.activeElement;
            if (!e) return null;
            const label = (e.labels && e.labels[0]) ? e.labels[0].textContent.trim() : '';
            return { tag: e.tagName.toLowerCase(), id: e.id || '', name: e.getAttribute('name') || '',
                     label, text: (e.innerText || e.value || '').trim().slice(0, 80) };"#;
        let v = self.client.execute(script, vec![]).await?;
        serde_json::from_value(v).context("description of the focused element")
    }

    /// Runs axe-core in the page and fails listing every serious or critical
    /// violation, each with the elements it was found on.
    pub async fn axe(&self, page_label: &str) -> anyhow::Result<()> {
        let source = axe_source()?;
        self.client
            .execute(&source, vec![])
            .await
            .context("inject axe-core")?;
        let run = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({
                   id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.map(n => n.target.join(' ') + ': ' + (n.failureSummary || ''))
               }))))
               .catch(e => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));"#;
        let found = self
            .client
            .execute_async(run, vec![])
            .await
            .context("run axe-core")?;
        let violations: Vec<Violation> =
            serde_json::from_value(found).context("axe-core results")?;
        let bad: Vec<String> = violations
            .iter()
            .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
            .map(|v| {
                format!(
                    "- {} ({}): {}\n    {}",
                    v.id,
                    v.impact.as_deref().unwrap_or("?"),
                    v.help,
                    v.nodes.join("\n    ")
                )
            })
            .collect();
        if !bad.is_empty() {
            bail!(
                "axe-core on {page_label}: {} serious or critical violation(s)\n{}",
                bad.len(),
                bad.join("\n")
            );
        }
        Ok(())
    }

    /// Saves `docs/screenshots/{name}-{w}x{h}.png` at both `SIZES`, then
    /// restores the default size.
    pub async fn screenshots(&self, name: &str) -> anyhow::Result<Vec<PathBuf>> {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let mut saved = Vec::new();
        for (w, h) in SIZES {
            self.set_viewport(w, h).await?;
            let png = self.client.screenshot().await?;
            let file = dir.join(format!("{name}-{w}x{h}.png"));
            std::fs::write(&file, png).with_context(|| format!("write {}", file.display()))?;
            saved.push(file);
        }
        self.set_viewport(DEFAULT_SIZE.0, DEFAULT_SIZE.1).await?;
        Ok(saved)
    }

    /// Sizes the window so that the page's viewport is `w` × `h` (a headless
    /// window has no frame, but measure instead of assuming it).
    async fn set_viewport(&self, w: u32, h: u32) -> anyhow::Result<()> {
        self.client.set_window_size(w, h).await?;
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(w.into()),
            inner[1].as_u64().unwrap_or(h.into()),
        );
        if (iw, ih) != (w.into(), h.into()) {
            let dw = u32::try_from(iw).unwrap_or(w).abs_diff(w);
            let dh = u32::try_from(ih).unwrap_or(h).abs_diff(h);
            self.client.set_window_size(w + dw, h + dh).await?;
        }
        // Let layout settle after the resize before the picture is taken.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ending the session makes chromedriver quit Chromium. Drop cannot
        // await, and the client's task may live on a runtime that is
        // shutting down, so speak plain HTTP to chromedriver directly.
        if let Some(id) = &self.session {
            let _ = delete_session(&self.driver_addr, id);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // A Chromium left behind (the session never closed) is found by its
        // unique profile folder and ended by pid.
        kill_by_profile(self.profile.path());
    }
}

/// Kills chromedriver if `start` fails before the `Browser` exists.
struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct Focused {
    pub tag: String,
    pub id: String,
    pub name: String,
    pub label: String,
    pub text: String,
}

impl Focused {
    pub fn matches(&self, field: &str) -> bool {
        !field.is_empty()
            && (self.name == field
                || self.id == field
                || self.label.starts_with(field)
                || (matches!(self.tag.as_str(), "button" | "a" | "summary") && self.text == field))
    }
}

impl std::fmt::Display for Focused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = [&self.name, &self.id, &self.label, &self.text]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(String::as_str)
            .unwrap_or("");
        write!(f, "<{}> {what}", self.tag)
    }
}

#[derive(serde::Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<String>,
}

fn axe_source() -> anyhow::Result<String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&file).with_context(|| {
        format!(
            "{} is missing: run `cargo xtask test`, which installs it (npm ci --prefix tests)",
            file.display()
        )
    })
}

/// `docs/screenshots/` of the workspace, where the README links them from.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")
}

fn delete_session(addr: &str, id: &str) -> std::io::Result<()> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "DELETE /session/{id} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    Ok(())
}

fn kill_by_profile(profile: &Path) {
    let needle = profile.to_string_lossy().into_owned();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let name = p.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(p.path().join("cmdline")) else {
            continue;
        };
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
}

/// An XPath string literal for any text (XPath 1.0 has no escapes).
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_url(html: &str) -> String {
        // A data URL is percent-decoded, not form-decoded: a `+` would stay
        // a `+`, so spaces go as `%20` (a literal `+` is already `%2B`).
        let body: String = form_urlencoded::byte_serialize(html.as_bytes()).collect();
        format!("data:text/html;charset=utf-8,{}", body.replace('+', "%20"))
    }

    /// The harness itself: axe passes a clean page and names the rule a
    /// broken page breaks; fields are found by label; Tab moves focus.
    #[tokio::test]
    async fn harness_finds_fields_tabs_and_reports_axe_violations() -> anyhow::Result<()> {
        let b = Browser::start().await?;
        let clean = r#"<!doctype html><html lang="it"><head><title>Prova</title></head>
            <body><main><h1>Prova</h1><form>
            <label for="a">Nome della procedura</label><input id="a" name="proc">
            <label for="b">Minuti</label><input id="b" name="minutes" type="number">
            <button type="button" onclick="document.getElementById('out').textContent='fatto'">Salva</button>
            <p id="out"></p></form></main></body></html>"#;
        b.goto(&data_url(clean)).await?;
        b.axe("a clean page").await?;
        b.fill("Nome della procedura", "permesso").await?;
        let f = b.tab().await?;
        assert_eq!(f.name, "minutes", "Tab after the first field: {f}");
        b.tab_to("Salva", 3).await?;
        b.press(Key::Enter).await?;
        b.wait_for_text("fatto", WAIT).await?;
        assert_eq!(b.text("#out").await?, "fatto");

        let broken = r#"<!doctype html><html><body><img src="x.png"><input></body></html>"#;
        b.goto(&data_url(broken)).await?;
        let err = b.axe("a broken page").await.err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.contains("image-alt"),
            "axe should name image-alt: {err}"
        );
        assert!(
            err.contains("html-has-lang"),
            "axe should name html-has-lang: {err}"
        );
        Ok(())
    }
}
