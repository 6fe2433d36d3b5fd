//! Who may talk to the hub and how much: foreign certificates, identity
//! claims, revocation (open streams included), oversized input; and the
//! health and reflection services every gRPC port offers to integrators.

use e2e::{eventually, run, Agent, Hub};
use proto::federation_client::FederationClient;
use proto::{desk_message, hub_message, DeskMessage, Hello, HubMessage, RecordBatch};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Streaming};

async fn channel(hub: &Hub, bundle: &Path) -> Result<Channel, tonic::transport::Error> {
    e2e::desk_channel(hub, bundle).await
}

/// Opens `Sync` with a Hello naming `claimed`; returns the sender and the
/// hub's stream, or the status the hub refused with.
async fn open(
    hub: &Hub,
    bundle: &Path,
    claimed: &str,
) -> Result<(mpsc::Sender<DeskMessage>, Streaming<HubMessage>), tonic::Status> {
    let ch = channel(hub, bundle)
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let mut client = FederationClient::new(ch).max_encoding_message_size(64 << 20);
    let (tx, rx) = mpsc::channel(4);
    let hello = Hello {
        desk_id: claimed.into(),
        ..Default::default()
    };
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(hello)),
    })
    .await
    .expect("send hello");
    let mut inbound = client.sync(ReceiverStream::new(rx)).await?.into_inner();
    match inbound.message().await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Welcome(_)),
        }) => Ok((tx, inbound)),
        other => panic!("expected Welcome, got {other:?}"),
    }
}

/// The next message that is not a pushed update (the hub sends the
/// catalogue, cards, guidance and templates a desk lacks as soon as it connects).
async fn next_not_pushed(
    inbound: &mut Streaming<HubMessage>,
) -> anyhow::Result<Option<HubMessage>> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), inbound.message()).await??;
        match &msg {
            Some(HubMessage {
                body:
                    Some(
                        hub_message::Body::Catalogue(_)
                        | hub_message::Body::Cards(_)
                        | hub_message::Body::Guidance(_)
                        | hub_message::Body::Templates(_),
                    ),
            }) => continue,
            _ => return Ok(msg),
        }
    }
}

/// The status that ends a stream, waiting at most a few seconds for it.
async fn end_status(inbound: &mut Streaming<HubMessage>) -> tonic::Status {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), inbound.message()).await {
            Ok(Err(s)) => return s,
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => panic!("stream ended without a status"),
            Err(_) => panic!("stream was not ended by the hub"),
        }
    }
}

const LEAKED_PHONE: &str = "+39 333 987 6543";
const LEAKED_EMAIL: &str = "mario.verdi@example.it";

fn record(desk: &str, n: usize) -> proto::AnonymisedRecord {
    proto::AnonymisedRecord {
        notes: "x".repeat(n),
        ..e2e::wire_record(desk)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_hub_refuses_foreign_certificates_false_identities_and_revoked_desks(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let a = hub.add_desk("desk-a");
    let b = hub.add_desk("desk-b");

    // A certificate from another hub's CA never gets past TLS.
    let other_root = tempfile::tempdir()?;
    let other = Hub::init(other_root.path());
    let foreign = other.add_desk("desk-a");
    let refused = open(&hub, &foreign, "desk-a")
        .await
        .expect_err("foreign CA must be refused");
    assert!(
        matches!(
            refused.code(),
            Code::Unavailable | Code::Unknown | Code::Cancelled
        ),
        "{refused:?}"
    );

    // Desk A's certificate claiming to be desk B.
    let refused = open(&hub, &a, "desk-b")
        .await
        .expect_err("identity claim must be refused");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(
        refused.message().contains("desk-a"),
        "{}",
        refused.message()
    );

    // Revocation ends desk B's open stream and refuses it from then on.
    let (_tx, mut inbound) = open(&hub, &b, "desk-b").await?;
    let out = run(
        "hub",
        &["desk", "revoke", "desk-b", "--data", e2e::path(&hub.data)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ended = end_status(&mut inbound).await;
    assert_eq!(ended.code(), Code::PermissionDenied, "{ended:?}");
    assert!(ended.message().contains("revoked"), "{}", ended.message());
    let again = open(&hub, &b, "desk-b")
        .await
        .expect_err("revoked desk must be refused");
    assert_eq!(again.code(), Code::PermissionDenied);

    hub.terminate()?;
    // While the hub is stopped the CLI works on the store directly.
    let desks: serde_json::Value = serde_json::from_str(&e2e::run_ok(
        "hub",
        &["desks", "--data", e2e::path(&hub.data), "--json"],
    ))?;
    let b_row = desks
        .as_array()
        .expect("array")
        .iter()
        .find(|d| d["desk_id"] == "desk-b")
        .cloned()
        .expect("desk-b");
    assert_eq!(b_row["revoked"], true);
    assert_eq!(b_row["connected"], false);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oversized_input_is_refused_and_a_well_behaved_desk_carries_on() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let rogue = hub.add_desk("rogue");
    let good_bundle = hub.add_desk("good");
    let mut good = Agent::enroll(root.path(), "good", &good_bundle);
    good.start().await?;
    let mut client = good.client().await?;
    let visit = || proto::Visit {
        procedure: "cittadinanza.residenza".into(),
        channel: "walk_in".into(),
        language: "it".into(),
        outcome: "answered".into(),
        ..Default::default()
    };
    for _ in 0..100 {
        client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit()),
                ..Default::default()
            })
            .await?;
    }

    // A unary call over the desk API's limit: the status travels in the
    // headers rather than the trailers, and must say the same.
    let refused = client
        .record_visit(proto::RecordVisitRequest {
            visit: Some(proto::Visit {
                notes: "x".repeat(100 << 10),
                ..visit()
            }),
            ..Default::default()
        })
        .await
        .expect_err("a visit over the desk API's size limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");

    // A message over the hub's 4 MiB limit.
    let (tx, mut inbound) = open(&hub, &rogue, "rogue").await?;
    let huge = RecordBatch {
        first_seq: 1,
        records: vec![record("rogue", 5 << 20)],
        ..Default::default()
    };
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(huge)),
    })
    .await?;
    let ended = end_status(&mut inbound).await;
    assert!(
        ended.code() == Code::ResourceExhausted,
        "the gRPC status guide's code for an oversized message: {ended:?}"
    );

    // A batch over the record limit.
    let (tx, mut inbound) = open(&hub, &rogue, "rogue").await?;
    let many = RecordBatch {
        first_seq: 1,
        records: (0..1001).map(|_| record("rogue", 0)).collect(),
        ..Default::default()
    };
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(many)),
    })
    .await?;
    let ended = end_status(&mut inbound).await;
    assert_eq!(ended.code(), Code::InvalidArgument, "{ended:?}");
    assert!(
        ended.message().contains("1001") && ended.message().contains("1000"),
        "{}",
        ended.message()
    );

    // A record that fails the hub's re-check is refused alone, with a reason.
    let (tx, mut inbound) = open(&hub, &rogue, "rogue").await?;
    let mut bad = record("rogue", 0);
    bad.nationality = "ZZ".into();
    // A desk with an old or broken scrubber: personal data left in the notes.
    let mut leaky = record("rogue", 0);
    leaky.notes = format!("richiamare al {LEAKED_PHONE} o scrivere a {LEAKED_EMAIL}");
    let batch = RecordBatch {
        first_seq: 1,
        records: vec![record("rogue", 0), bad, leaky],
        ..Default::default()
    };
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(batch)),
    })
    .await?;
    match next_not_pushed(&mut inbound).await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Ack(ack)),
        }) => {
            assert_eq!(ack.up_to_seq, 3);
            assert_eq!(ack.rejected.len(), 2, "{ack:?}");
            assert_eq!(ack.rejected[0].seq, 2);
            assert!(
                ack.rejected[0].reason.contains("nationality"),
                "{}",
                ack.rejected[0].reason
            );
            assert_eq!(ack.rejected[1].seq, 3);
            let reason = &ack.rejected[1].reason;
            assert!(reason.contains("notes"), "{reason}");
            assert!(
                !reason.contains(LEAKED_PHONE) && !reason.contains(LEAKED_EMAIL),
                "{reason}"
            );
        }
        other => panic!("expected an ack, got {other:?}"),
    }

    // The good desk was never disturbed.
    for _ in 0..100 {
        client
            .record_visit(proto::RecordVisitRequest {
                visit: Some(visit()),
                ..Default::default()
            })
            .await?;
    }
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("good") == Some(200)).then_some(())
    })
    .await?;
    assert_eq!(hub.records_of("rogue"), Some(1));
    // The refused record never reached the hub's disk or its log.
    for leaked in [LEAKED_PHONE, LEAKED_EMAIL] {
        let hits = e2e::files_containing(root.path(), leaked.as_bytes());
        assert!(hits.is_empty(), "{leaked} found in {hits:?}");
    }
    good.terminate()?;
    hub.terminate()?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grpc_port_answers_health_and_reflection() -> anyhow::Result<()> {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;

    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-h");
    let mut agent = Agent::enroll(root.path(), "desk-h", &bundle);
    agent.start().await?;

    let ca = std::fs::read_to_string(hub.data.join("ca.crt"))?;
    let coordinator = Endpoint::from_shared(format!("https://{}", hub.coordinator))?
        .tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&ca))
                .domain_name("rete-sportelli-hub"),
        )?
        .connect()
        .await?;
    let federation = channel(&hub, &bundle).await?;
    let local = Endpoint::from_shared(agent.url.clone())?.connect().await?;

    for (port, ch, service) in [
        ("federation", federation, "rete.v1.Federation"),
        ("coordinator", coordinator, "rete.v1.Coordinator"),
        ("desk", local, "rete.v1.Desk"),
    ] {
        let health = HealthClient::new(ch.clone())
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .map_err(|s| anyhow::anyhow!("{port}: health: {s:?}"))?;
        assert_eq!(health.into_inner().status, 1, "{port}: SERVING");
        let req = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut resp = ServerReflectionClient::new(ch.clone())
            .server_reflection_info(tokio_stream::iter([req]))
            .await
            .map_err(|s| anyhow::anyhow!("{port}: reflection: {s:?}"))?
            .into_inner();
        let Some(msg) = resp.message().await? else {
            panic!("{port}: no reflection answer")
        };
        let Some(MessageResponse::ListServicesResponse(list)) = msg.message_response else {
            panic!("{port}: bad answer")
        };
        let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
        for expected in [service, "grpc.health.v1.Health"] {
            assert!(names.contains(&expected), "{port}: {names:?}");
        }
        // Python's grpcio-reflection, older grpcurl, Evans and Postman speak
        // only the alpha version.
        let names = reflection_v1alpha_services(ch)
            .await
            .map_err(|e| anyhow::anyhow!("{port}: v1alpha reflection: {e}"))?;
        for expected in [service, "grpc.health.v1.Health"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{port} (v1alpha): {names:?}"
            );
        }
    }
    agent.terminate()?;
    hub.terminate()?;
    Ok(())
}

/// The services a port lists through `grpc.reflection.v1alpha`.
async fn reflection_v1alpha_services(ch: Channel) -> anyhow::Result<Vec<String>> {
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut resp = ServerReflectionClient::new(ch)
        .server_reflection_info(tokio_stream::iter([req]))
        .await?
        .into_inner();
    let Some(msg) = resp.message().await? else {
        anyhow::bail!("no answer")
    };
    let Some(MessageResponse::ListServicesResponse(list)) = msg.message_response else {
        anyhow::bail!("not a list of services")
    };
    Ok(list.service.into_iter().map(|s| s.name).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_skips_sequences_is_refused_and_nothing_of_it_stored() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("skipper");
    let batch = |first_seq| RecordBatch {
        first_seq,
        records: vec![record("skipper", 10), record("skipper", 10)],
        ..Default::default()
    };

    let (tx, mut inbound) = open(&hub, &bundle, "skipper").await?;
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(batch(1))),
    })
    .await?;
    match next_not_pushed(&mut inbound).await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Ack(ack)),
        }) => assert_eq!(ack.up_to_seq, 2),
        other => panic!("expected an ack, got {other:?}"),
    }
    // Sequences 3 and 4 never sent: a desk bug that must not hide.
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(batch(5))),
    })
    .await?;
    let ended = end_status(&mut inbound).await;
    assert_eq!(ended.code(), Code::FailedPrecondition, "{ended:?}");
    assert!(ended.message().contains("skip"), "{ended:?}");
    assert_eq!(hub.records_of("skipper"), Some(2));

    // On a new stream the desk is told what the hub holds, and may go on.
    let (tx, mut inbound) = open(&hub, &bundle, "skipper").await?;
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(batch(3))),
    })
    .await?;
    match next_not_pushed(&mut inbound).await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Ack(ack)),
        }) => assert_eq!(ack.up_to_seq, 4),
        other => panic!("expected an ack, got {other:?}"),
    }
    assert_eq!(hub.records_of("skipper"), Some(4));
    Ok(())
}

/// A desk that missed its acks (last_acked_seq 0) while the hub refused
/// 1,500 of its records is told about the first 1,000 and a watermark that
/// ends with them, so that the Welcome fits in a message whatever the
/// history; it sends the rest again and their acks name their refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_welcome_stays_bounded_however_many_refusals_a_desk_missed() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("refused");
    let bad = |n: usize| -> Vec<proto::AnonymisedRecord> {
        (0..n)
            .map(|_| proto::AnonymisedRecord {
                procedure: "non.esiste".into(),
                ..record("refused", 1)
            })
            .collect()
    };
    let (tx, mut inbound) = open(&hub, &bundle, "refused").await?;
    for (first_seq, n) in [(1, 1000), (1001, 500)] {
        tx.send(DeskMessage {
            body: Some(desk_message::Body::Batch(RecordBatch {
                first_seq,
                records: bad(n),
                ..Default::default()
            })),
        })
        .await?;
        match next_not_pushed(&mut inbound).await? {
            Some(HubMessage {
                body: Some(hub_message::Body::Ack(ack)),
            }) => assert_eq!(ack.rejected.len(), n),
            other => panic!("expected an ack, got {other:?}"),
        }
    }
    drop((tx, inbound));

    let ch = channel(&hub, &bundle).await?;
    let mut client = FederationClient::new(ch);
    let (tx, rx) = mpsc::channel(4);
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Hello(Hello {
            desk_id: "refused".into(),
            ..Default::default()
        })),
    })
    .await?;
    let mut inbound = client.sync(ReceiverStream::new(rx)).await?.into_inner();
    let welcome = match inbound.message().await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Welcome(w)),
        }) => w,
        other => panic!("expected Welcome, got {other:?}"),
    };
    assert_eq!(welcome.rejected.len(), 1000);
    assert_eq!(
        welcome.last_seq, 1000,
        "the watermark ends with the listed refusals"
    );
    tx.send(DeskMessage {
        body: Some(desk_message::Body::Batch(RecordBatch {
            first_seq: 1001,
            records: bad(500),
            ..Default::default()
        })),
    })
    .await?;
    match next_not_pushed(&mut inbound).await? {
        Some(HubMessage {
            body: Some(hub_message::Body::Ack(ack)),
        }) => {
            assert_eq!(ack.up_to_seq, 1500);
            assert_eq!(
                ack.rejected.len(),
                500,
                "the resend's refusals, stored once"
            );
        }
        other => panic!("expected an ack, got {other:?}"),
    }
    let d = hub.desks();
    let row = d
        .as_array()
        .and_then(|a| a.iter().find(|r| r["desk_id"] == "refused").cloned())
        .unwrap_or_default();
    assert_eq!(row["rejected"], 1500, "{row}");
    assert_eq!(row["records"], 0, "{row}");
    Ok(())
}
