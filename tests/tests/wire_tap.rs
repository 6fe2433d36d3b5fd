//! The federation secret and personal data never on the wire: a tapping
//! proxy (`e2e::tap`) sits between a real desk-agent and the real hub,
//! terminates the desk's mutual TLS with a certificate from the hub's own
//! CA, and records every plaintext byte it forwards. The desk runs with
//! pseudonyms on and notes scrubbed; the recording holds its records and
//! none of the secret (raw, hex, base64) nor any personal datum fed in.

use e2e::tap::{http2_data, Tap};
use e2e::{eventually, path, run_ok, Agent, Hub};
use std::time::Duration;

const VISITORS: [(&str, &str, &str, &str, &str, &str, &str); 3] = [
    (
        "Fatima",
        "Benali",
        "1985-12-10",
        "BNLFTM85T50Z330Y",
        "+39 333 765 4321",
        "fatima.benali@posta.it",
        "via Milano 12",
    ),
    (
        "Oleksandr",
        "Kovalenko",
        "1990-04-03",
        "KVLLSN90D03Z138P",
        "0039 347 112 2334",
        "o.kovalenko@example.org",
        "corso Garibaldi 41",
    ),
    (
        "Mariam",
        "Diallo",
        "2001-07-22",
        "DLLMRM01L62Z343K",
        "030 221 9087",
        "mariam.diallo@mail.it",
        "piazza Loggia 3",
    ),
];

fn visit_line(i: usize) -> String {
    let (name, surname, birth, cf, phone, email, address) = VISITORS[i % VISITORS.len()];
    serde_json::json!({
        "name": name, "surname": surname, "birth_date": birth, "sex": "F",
        "nationality": "MA", "codice_fiscale": cf, "phone": phone, "email": email,
        "address": address,
        "procedure": "permesso.rinnovo.lavoro", "channel": "walk_in", "language": "it",
        "outcome": "answered", "minutes": 20,
        "notes": format!(
            "{name} {surname}, nata il {birth}, CF {cf}, tel. {phone}, mail {email}, \
             abita in {address}, 25126 Brescia. Rinnovo per art. 5 D.Lgs. 286/1998."
        ),
    })
    .to_string()
}

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if pad {
            out.extend(std::iter::repeat_n('=', 3 - chunk.len()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tap_on_the_federation_link_sees_records_but_never_the_secret_nor_personal_data(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut hub = Hub::init(root.path());
    hub.start().await?;
    let bundle = hub.add_desk("desk-a");
    let tap = Tap::start(&hub.data, &hub.federation, &bundle).await?;
    let mut agent = Agent::enroll(root.path(), "desk-a", &bundle);

    let secret_file = root.path().join("federation.secret");
    run_ok("desk-agent", &["secret", "generate", path(&secret_file)]);
    let hex = std::fs::read_to_string(&secret_file)?.trim().to_string();
    run_ok(
        "desk-agent",
        &[
            "secret",
            "import",
            path(&secret_file),
            "--data",
            path(&agent.data),
        ],
    );
    std::fs::remove_file(&secret_file)?;
    let config = agent.data.join("agent.toml");
    let text = std::fs::read_to_string(&config)?;
    assert!(text.contains(&hub.federation), "{text}");
    // The desk talks to the tap, which talks to the hub.
    std::fs::write(
        &config,
        text.replace("scrub_notes = false", "scrub_notes = true")
            .replace(&hub.federation, &tap.addr),
    )?;
    agent.start().await?;

    let input: String = (0..9).map(|i| visit_line(i) + "\n").collect();
    let file = root.path().join("visits.jsonl");
    std::fs::write(&file, &input)?;
    let out = run_ok(
        "desk-agent",
        &["record", "--agent", &agent.url, "--file", path(&file)],
    );
    std::fs::remove_file(&file)?;
    let records: Vec<serde_json::Value> = out
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert_eq!(records.len(), 9);
    eventually(Duration::from_secs(30), async || {
        (hub.records_of("desk-a") == Some(9)).then_some(())
    })
    .await?;
    agent.terminate()?;
    hub.terminate()?;

    let recording = tap.recording();
    assert!(
        !recording.connections.is_empty(),
        "the desk never went through the tap"
    );
    // Each direction both as the raw plaintext and as the gRPC messages
    // joined across HTTP/2 frames, so a datum cut by a frame header is
    // still found.
    let mut up = Vec::new();
    let mut up_messages = Vec::new();
    let mut down = Vec::new();
    for c in &recording.connections {
        up.extend_from_slice(&c.desk_to_hub);
        up_messages.extend(http2_data(&c.desk_to_hub));
        down.extend_from_slice(&c.hub_to_desk);
        down.extend(http2_data(&c.hub_to_desk));
    }
    let first = records[0]["pseudonym"].as_str().unwrap_or_default();
    assert!(
        contains(&up_messages, first.as_bytes()),
        "the HTTP/2 frames are read"
    );
    up.extend(up_messages);
    // The tap works: the records, their pseudonyms and scrubbed notes passed.
    for record in &records {
        let id = record["id"].as_str().unwrap_or_default();
        let pseudonym = record["pseudonym"].as_str().unwrap_or_default();
        assert_eq!(pseudonym.len(), 64, "{record}");
        assert!(
            contains(&up, pseudonym.as_bytes()),
            "pseudonym of {id} not seen"
        );
    }
    assert!(contains(&up, b"[CODICE_FISCALE]") && contains(&up, b"[TELEFONO]"));
    assert!(contains(&up, b"art. 5 D.Lgs. 286/1998"));

    let raw: Vec<u8> = (0..hex.len() / 2)
        .filter_map(|i| hex.get(2 * i..2 * i + 2))
        .filter_map(|h| u8::from_str_radix(h, 16).ok())
        .collect();
    assert_eq!(raw.len(), 32, "a federation secret is 32 bytes");
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let forms: Vec<(&str, Vec<u8>)> = vec![
        ("raw", raw.clone()),
        ("hex", hex.to_ascii_lowercase().into_bytes()),
        ("HEX", hex.to_ascii_uppercase().into_bytes()),
        ("base64", base64(&raw, STANDARD, true).into_bytes()),
        ("base64url", base64(&raw, URL_SAFE, false).into_bytes()),
    ];
    let mut personal: Vec<String> = Vec::new();
    for (name, surname, birth, cf, phone, email, address) in VISITORS {
        personal.extend([name, surname, birth, cf, phone, email, address].map(String::from));
        // The phone without its prefix and spaces, the birth date as written in Italy.
        personal.push(
            phone
                .trim_start_matches("+39 ")
                .trim_start_matches("0039 ")
                .replace(' ', ""),
        );
        let parts: Vec<&str> = birth.split('-').collect();
        if let [y, m, d] = parts[..] {
            personal.push(format!("{d}/{m}/{y}"));
        }
    }
    for (direction, bytes) in [("desk to hub", &up), ("hub to desk", &down)] {
        for (form, secret) in &forms {
            assert!(
                !contains(bytes, secret),
                "the secret ({form}) went {direction}"
            );
        }
        for datum in &personal {
            assert!(
                !contains(bytes, datum.as_bytes()),
                "{datum:?} went {direction}"
            );
        }
    }
    Ok(())
}
