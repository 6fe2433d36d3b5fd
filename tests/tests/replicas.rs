//! Two hub replicas on one PostgreSQL database (issue 19): desks that list
//! both move to the other when one is killed mid-stream, the database
//! itself restarts mid-stream, and at the end every acknowledged visit is
//! held once and the counts equal a recount; a change published through
//! one replica reaches a desk connected to the other; a browser signed in
//! on one replica is signed in on the other, and signed out on both.

use e2e::web::{add_user, enable_dashboard, Web};
use e2e::{eventually, free_addr, path, run_ok, Agent, Hub};
use std::path::Path;
use std::time::{Duration, Instant};

/// A hub on `database` and a replica of it made by `hub replica add`.
fn replicas(root: &Path, database: pgtest::Database) -> (Hub, Hub) {
    replicas_with(root, database, &[])
}

/// The same, with `extra` arguments to `hub replica add`.
fn replicas_with(root: &Path, database: pgtest::Database, extra: &[&str]) -> (Hub, Hub) {
    let a = Hub::init_on(&root.join("a"), free_addr(), Some(database));
    let b_dir = root.join("b");
    let (fed, coord) = (free_addr(), free_addr());
    let mut args = vec![
        "replica",
        "add",
        "--data",
        path(&a.data),
        "--out",
        path(&b_dir),
        "--federation-addr",
        &fed,
        "--coordinator-addr",
        &coord,
    ];
    args.extend(extra);
    run_ok("hub", &args);
    let b = Hub::at(b_dir, fed, coord);
    (a, b)
}

/// Enrols a desk on `hub` (the one with the CA key) whose bundle lists
/// `addresses`, in that order.
fn enrol(hub: &Hub, root: &Path, desk_id: &str, addresses: &[&str]) -> Agent {
    let bundle = root.join(format!("{desk_id}.bundle"));
    let mut args = vec!["desk", "add", desk_id, "--data", path(&hub.data)];
    for a in addresses {
        args.extend(["--hub-address", a]);
    }
    args.extend(["--out", path(&bundle)]);
    run_ok("hub", &args);
    Agent::enroll(root, desk_id, &bundle)
}

async fn status(agent: &Agent) -> anyhow::Result<proto::DeskStatus> {
    Ok(agent
        .client()
        .await?
        .get_status(proto::GetStatusRequest::default())
        .await?
        .into_inner())
}

#[tokio::test(flavor = "multi_thread")]
async fn desks_move_between_replicas_and_survive_a_database_restart() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    // A server of this test's own: it is killed and started again below.
    let mut server = pgtest::Server::start()?;
    let database = pgtest::Database::on(&server)?;
    let (mut a, mut b) = replicas(root.path(), database);
    a.start().await?;
    b.start().await?;
    let desks = ["desk-1", "desk-2", "desk-3"];
    let mut agents = Vec::new();
    for (i, d) in desks.iter().enumerate() {
        // Two desks reach A first, one B first: both replicas take streams.
        let order: [&str; 2] = if i < 2 {
            [&a.federation, &b.federation]
        } else {
            [&b.federation, &a.federation]
        };
        let mut agent = enrol(&a, root.path(), d, &order);
        agent.start().await?;
        agents.push(agent);
    }

    // Each desk records in rounds; between rounds, replica A is killed
    // and then PostgreSQL is killed and started again, while the desks
    // keep recording (their outbox holds what the hub cannot take).
    const PER_ROUND: usize = 150;
    let round = async |agents: &[Agent], seed: u64| -> anyhow::Result<()> {
        let mut work = Vec::new();
        for (i, agent) in agents.iter().enumerate() {
            work.push(agent.record_visits(PER_ROUND, seed + i as u64));
        }
        for w in futures::future::join_all(work).await {
            w?;
        }
        Ok(())
    };
    round(&agents, 100).await?;
    let recording = round(&agents, 200);
    let kill_a = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        a.kill();
    };
    let (recorded, ()) = tokio::join!(recording, kill_a);
    recorded?;
    for agent in &agents {
        eventually(Duration::from_secs(30), async || {
            let s = status(agent).await.ok()?;
            (s.connected && s.hub_address == b.federation).then_some(())
        })
        .await?;
    }

    let recording = round(&agents, 300);
    let first = server.postmaster_pid();
    let restart_database = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.kill();
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.run()
    };
    let (recorded, restarted) = tokio::join!(recording, restart_database);
    recorded?;
    restarted?;
    assert!(first.is_some(), "the first server's postmaster");
    assert_ne!(
        server.postmaster_pid(),
        first,
        "a new server, not the old one left running"
    );
    round(&agents, 400).await?;

    let each = 4 * PER_ROUND as u64;
    for agent in &agents {
        b.settle(agent, each).await?;
    }
    let v = b.verify();
    assert_eq!(v["problems"], serde_json::json!([]), "{v}");
    assert_eq!(v["records"], 3 * each, "{v}");
    assert_eq!(v["counted"], 3 * each, "{v}");
    assert_eq!(v["ids"], 3 * each, "{v}");

    // A comes back; both replicas read the same state.
    a.start().await?;
    for d in desks {
        assert_eq!(a.records_of(d), Some(each), "{}", a.desk(d));
    }
    for agent in &mut agents {
        agent.terminate()?;
    }
    a.terminate()?;
    b.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_published_on_one_replica_reaches_a_desk_on_the_other() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (mut a, mut b) = replicas(root.path(), pgtest::Database::new()?);
    a.start().await?;
    b.start().await?;
    // This desk knows replica B only.
    let mut agent = enrol(&a, root.path(), "desk-b", &[&b.federation]);
    agent.start().await?;
    eventually(Duration::from_secs(30), async || {
        status(&agent).await.ok()?.connected.then_some(())
    })
    .await?;

    let mut took = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        // Through replica A's coordinator port (the CLI finds it running).
        let v = a.publish_guidance(root.path(), &format!("avviso-{i}"));
        eventually(Duration::from_secs(20), async || {
            let s = status(&agent).await.ok()?;
            (s.versions.as_ref()?.guidance >= v).then_some(())
        })
        .await?;
        took.push(started.elapsed());
    }
    took.sort();
    let p99 = took[took.len() * 99 / 100 - usize::from(took.len() * 99 % 100 == 0)];
    println!(
        "publish on A → applied at a desk on B, {} publishes: p50 {:?}, p99 {:?} (includes the CLI's start)",
        took.len(),
        took[took.len() / 2],
        p99
    );
    assert!(p99 < Duration::from_secs(5), "p99 {p99:?}");

    // A revocation through A cuts the desk's stream on B within a second.
    let revoked = Instant::now();
    run_ok(
        "hub",
        &["desk", "revoke", "desk-b", "--data", path(&a.data)],
    );
    eventually(Duration::from_secs(10), async || {
        (!status(&agent).await.ok()?.connected).then_some(())
    })
    .await?;
    let cut = revoked.elapsed();
    println!("revocation on A → stream cut on B: {cut:?} (includes the CLI's start)");
    assert!(cut < Duration::from_secs(2), "{cut:?}");

    agent.terminate()?;
    a.terminate()?;
    b.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_signed_in_on_one_replica_is_signed_in_on_the_other() -> anyhow::Result<()> {
    const USER: &str = "coordinatrice";
    const PASSWORD: &str = "una password lunga e sicura";
    let root = tempfile::tempdir()?;
    let b_dashboard = free_addr();
    let (mut a, mut b) = replicas_with(
        root.path(),
        pgtest::Database::new()?,
        &["--dashboard-addr", &b_dashboard],
    );
    let a_dashboard = enable_dashboard(&a.data)?;
    a.start().await?;
    b.start().await?;
    // Added once, through replica A's coordinator API: the account is in
    // the database, not in either data folder.
    let out = add_user(&a.data, USER, PASSWORD);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for addr in [&a_dashboard, &b_dashboard] {
        eventually(Duration::from_secs(20), async || {
            tokio::net::TcpStream::connect(addr.as_str()).await.ok()
        })
        .await?;
    }

    // Signed in on A; the balancer sends the next request to B.
    let mut on_a = Web::new(&a.data, &a_dashboard)?;
    assert_eq!(on_a.login(USER, PASSWORD).await?.status, 303);
    let session = on_a.jar.get("rete_session").cloned();
    assert!(session.is_some(), "a session cookie: {:?}", on_a.jar);
    let mut on_b = Web::new(&b.data, &b_dashboard)?;
    assert_eq!(
        on_b.get("/desks").await?.status,
        303,
        "B sends a browser without a session to sign in"
    );
    on_b.jar = on_a.jar.clone();
    let desks = on_b.get("/desks").await?;
    assert_eq!(desks.status, 200, "the session from A is valid on B");
    // A form B serves carries the session's token, and B accepts it: the
    // sign-out ends the session in the database, so A refuses it too.
    let token = desks.csrf().expect("a form with the session's token");
    assert_eq!(
        on_b.post_form("/logout", &[("csrf_token", &token)])
            .await?
            .status,
        303
    );
    let signed_out = on_a.get("/desks").await?;
    assert_eq!(signed_out.status, 303, "A no longer knows the session");
    assert_eq!(signed_out.header("location"), Some("/login"));

    a.terminate()?;
    b.terminate()?;
    Ok(())
}
