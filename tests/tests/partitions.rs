//! A desk behind a real network link (a network namespace and a veth pair;
//! the tests run as root): a 30-second partition mid-stream, which the
//! desk's keepalive notices, then a 64 kbit/s link. Nothing is lost, nothing
//! doubled. The kernel here has no netem, so a partition is the hub's end of
//! the link set down (the desk's packets vanish silently) and a slow link is
//! `tc tbf`.

use e2e::{bin, eventually, path, run_ok, Hub, Proc};
use std::process::Command;
use std::time::{Duration, Instant};

const DESK_API: &str = "http://127.0.0.1:7710";

fn sh(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} (this test needs root and iproute2): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The namespace and the veth pair, removed when dropped.
struct Link {
    ns: String,
    hub_end: String,
    desk_end: String,
}

impl Link {
    fn new() -> Self {
        let tag = std::process::id() % 100_000;
        let link = Self {
            ns: format!("rete-desk-{tag}"),
            hub_end: format!("rh{tag}"),
            desk_end: format!("rd{tag}"),
        };
        sh("ip", &["netns", "add", &link.ns]);
        sh(
            "ip",
            &[
                "link",
                "add",
                &link.hub_end,
                "type",
                "veth",
                "peer",
                "name",
                &link.desk_end,
            ],
        );
        sh("ip", &["link", "set", &link.desk_end, "netns", &link.ns]);
        sh("ip", &["addr", "add", "10.77.0.1/30", "dev", &link.hub_end]);
        sh("ip", &["link", "set", &link.hub_end, "up"]);
        link.in_ns(
            "ip",
            &["addr", "add", "10.77.0.2/30", "dev", &link.desk_end],
        );
        link.in_ns("ip", &["link", "set", &link.desk_end, "up"]);
        link.in_ns("ip", &["link", "set", "lo", "up"]);
        link
    }

    fn in_ns(&self, program: &str, args: &[&str]) {
        let mut full = vec!["netns", "exec", &self.ns, program];
        full.extend_from_slice(args);
        sh("ip", &full);
    }

    /// A CLI of ours run inside the namespace; its stdout.
    fn cli(&self, name: &str, args: &[&str]) -> Option<String> {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .arg(bin(name))
            .args(args)
            .env("RUST_LOG", "warn")
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn status(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.cli("desk-agent", &["status", "--agent", DESK_API, "--json"])?)
            .ok()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.hub_end])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn visits(root: &std::path::Path, name: &str, n: usize) -> String {
    let file = root.join(name);
    let line = r#"{"procedure":"permesso.rinnovo.lavoro","channel":"walk_in","language":"ur","outcome":"answered","minutes":20}"#;
    std::fs::write(&file, format!("{line}\n").repeat(n)).expect("write visits");
    path(&file).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_and_a_slow_link_lose_and_double_nothing() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let link = Link::new();
    let port = 20_000 + std::process::id() % 20_000;
    let mut hub = Hub::init_with(root.path(), format!("10.77.0.1:{port}"));
    hub.start().await?;
    let bundle = hub.add_desk("desk-net");
    let data = root.path().join("desk-net");
    run_ok(
        "desk-agent",
        &["enroll", path(&bundle), "--data", path(&data)],
    );
    let _agent = Proc::spawn_in_netns(
        &link.ns,
        "desk-agent",
        &[
            "serve",
            "--data",
            path(&data),
            "--listen",
            "127.0.0.1:7710",
            "--http-addr",
            "127.0.0.1:7711",
        ],
        root.path().join("desk-net.log"),
    )?;
    eventually(Duration::from_secs(20), async || {
        link.status().filter(|s| s["connected"] == true)
    })
    .await?;
    let file = visits(root.path(), "a.jsonl", 100);
    link.cli(
        "desk-agent",
        &["record", "--agent", DESK_API, "--file", &file],
    )
    .expect("record");
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-net") == Some(100)).then_some(())
    })
    .await?;

    // The hub's end of the link goes down: the desk's packets vanish. Its
    // keepalive (10 s, then 20 s for the answer) notices.
    sh("ip", &["link", "set", &link.hub_end, "down"]);
    let cut = Instant::now();
    let file = visits(root.path(), "b.jsonl", 50);
    link.cli(
        "desk-agent",
        &["record", "--agent", DESK_API, "--file", &file],
    )
    .expect("visits are recorded during the partition");
    eventually(Duration::from_secs(45), async || {
        link.status().filter(|s| s["connected"] == false)
    })
    .await?;
    let noticed = cut.elapsed();
    assert!(
        noticed < Duration::from_secs(40),
        "noticed after {noticed:?}"
    );
    assert_eq!(hub.records_of("desk-net"), Some(100));
    let rest = Duration::from_secs(30).saturating_sub(cut.elapsed());
    tokio::time::sleep(rest).await;
    sh("ip", &["link", "set", &link.hub_end, "up"]);
    eventually(Duration::from_secs(60), async || {
        (hub.records_of("desk-net") == Some(150)).then_some(())
    })
    .await?;

    // A 64 kbit/s link.
    link.in_ns(
        "tc",
        &[
            "qdisc",
            "add",
            "dev",
            &link.desk_end,
            "root",
            "tbf",
            "rate",
            "64kbit",
            "burst",
            "16kbit",
            "latency",
            "400ms",
        ],
    );
    let file = visits(root.path(), "c.jsonl", 200);
    link.cli(
        "desk-agent",
        &["record", "--agent", DESK_API, "--file", &file],
    )
    .expect("record");
    eventually(Duration::from_secs(90), async || {
        (hub.records_of("desk-net") == Some(350)).then_some(())
    })
    .await?;
    let status = eventually(Duration::from_secs(30), async || {
        link.status().filter(|s| s["pending"] == 0)
    })
    .await?;
    assert_eq!(status["sent"], 350, "{status}");
    assert_eq!(status["quarantined"], 0, "{status}");

    hub.terminate()?;
    let verify = hub.verify();
    assert_eq!(verify["records"], 350, "{verify}");
    assert_eq!(verify["problems"], serde_json::json!([]), "{verify}");
    eprintln!("keepalive noticed the partition after {noticed:?}");
    Ok(())
}
