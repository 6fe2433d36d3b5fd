//! A desk whose disk fills up (a small tmpfs, mounted here; the tests run as
//! root): intake is refused with a plain message before the disk is truly
//! full, everything recorded before still reaches the hub while the disk is
//! full, and once the disk grows the desk records again without a restart.

use e2e::{eventually, Agent, Hub};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).expect("mount point");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self(at.to_path_buf())
    }

    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn free(&self) -> u64 {
        fs2::available_space(&self.0).expect("free space")
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn visit(minutes: u32) -> proto::RecordVisitRequest {
    proto::RecordVisitRequest {
        visit: Some(proto::Visit {
            procedure: "cittadinanza.residenza".into(),
            channel: "walk_in".into(),
            language: "it".into(),
            outcome: "answered".into(),
            minutes,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_desk_disk_refuses_visits_keeps_shipping_and_recovers_alone() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-f");
    let disk = Tmpfs::mount(&root.path().join("desk-disk"), "48m");
    let mut agent = Agent::enroll(&disk.0, "desk-f", &bundle);
    let config = agent.data.join("agent.toml");
    let text = std::fs::read_to_string(&config)?;
    assert!(text.contains("disk_reserve_mib = 64"), "{text}");
    std::fs::write(
        &config,
        text.replace("disk_reserve_mib = 64", "disk_reserve_mib = 8"),
    )?;
    agent.start().await?;
    let mut client = agent.client().await?;
    for i in 0..50 {
        client.record_visit(visit(i)).await?;
    }
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-f") == Some(50)).then_some(())
    })
    .await?;

    // The hub goes away; 30 visits wait in the outbox. Then the disk fills.
    hub.terminate()?;
    for i in 0..30 {
        client.record_visit(visit(i)).await?;
    }
    let filler = disk.0.join("filler");
    let leave = 4u64 << 20;
    let size = disk.free().saturating_sub(leave);
    std::fs::File::create(&filler)?.set_len(0)?;
    // tmpfs allocates on write, so the filler is written, not just sized.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&filler)?;
        let chunk = vec![0u8; 1 << 20];
        let mut written = 0u64;
        while written + (1 << 20) <= size {
            f.write_all(&chunk)?;
            written += 1 << 20;
        }
    }
    assert!(disk.free() < 8 << 20, "free {}", disk.free());
    let refused = client
        .record_visit(visit(9))
        .await
        .expect_err("a visit on a full disk");
    assert_eq!(
        refused.code(),
        tonic::Code::ResourceExhausted,
        "{refused:?}"
    );
    assert!(
        refused.message().contains("quasi pieno") && refused.message().contains("almost full"),
        "{refused:?}"
    );
    assert!(
        !refused.message().contains("Os {"),
        "no raw error: {refused:?}"
    );

    // Shipping goes on while the disk is full: the hub gets all 80.
    hub.start().await?;
    eventually(Duration::from_secs(60), async || {
        (hub.records_of("desk-f") == Some(80)).then_some(())
    })
    .await?;
    let status = eventually(Duration::from_secs(30), async || {
        let s = agent.status();
        (s["pending"] == 0).then_some(s)
    })
    .await?;
    assert_eq!(status["sent"], 80, "{status}");

    // The disk grows: visits are recorded again, with no restart.
    disk.resize("128m");
    let again = client.record_visit(visit(11)).await?.into_inner();
    assert_eq!(again.seq, 81);
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-f") == Some(81)).then_some(())
    })
    .await?;
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}
