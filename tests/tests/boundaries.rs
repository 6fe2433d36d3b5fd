//! The workspace's architecture invariants, read from `cargo metadata`: the
//! hub and the desk agent share only `proto`, `domain` and `runtime`, never
//! each other; `domain` does no I/O and sees no wire, storage or web types;
//! `runtime` holds neither side's logic.

use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// Workspace crates, with the crates each one may depend on (any kind of
/// dependency: normal, dev or build).
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("proto", &["domain"]),
    ("runtime", &["proto"]),
    ("synthetic", &["proto"]),
    ("hub", &["proto", "domain", "runtime"]),
    (
        "desk-agent",
        &["proto", "domain", "runtime", "synthetic", "handout"],
    ),
    // The typesetter takes a neutral document: no crate of ours.
    ("handout", &[]),
];

/// Test fixtures any crate's tests may use (as a dev-dependency only): a
/// real PostgreSQL server for the store's tests.
const FIXTURES: &[&str] = &["pgtest"];

/// What `domain` must never see: it does no I/O.
const NOT_IN_DOMAIN: &[&str] = &[
    "prost", "tonic", "sled", "axum", "tokio", "hyper", "askama", "rustls",
];

fn metadata() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

fn dependencies(metadata: &Value, package: &str) -> BTreeSet<String> {
    let packages = metadata["packages"].as_array().expect("packages");
    let found = packages
        .iter()
        .find(|p| p["name"] == package)
        .unwrap_or_else(|| panic!("no package {package} in the workspace"));
    found["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .filter_map(|d| d["name"].as_str().map(str::to_owned))
        .collect()
}

/// The package's dev-dependencies that are nothing else.
fn dev_only(metadata: &Value, package: &str) -> BTreeSet<String> {
    let packages = metadata["packages"].as_array().expect("packages");
    let Some(found) = packages.iter().find(|p| p["name"] == package) else {
        return BTreeSet::new();
    };
    let deps = found["dependencies"].as_array().expect("dependencies");
    let kind_of = |name: &str| {
        deps.iter()
            .filter(|d| d["name"] == name)
            .map(|d| d["kind"].as_str().unwrap_or("normal").to_owned())
            .collect::<Vec<_>>()
    };
    deps.iter()
        .filter_map(|d| d["name"].as_str())
        .filter(|name| kind_of(name).iter().all(|k| k == "dev"))
        .map(str::to_owned)
        .collect()
}

fn workspace_crates(metadata: &Value) -> BTreeSet<String> {
    metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_workspace_crates_it_may() {
    let metadata = metadata();
    let ours = workspace_crates(&metadata);
    for (package, allowed) in ALLOWED {
        let fixtures = dev_only(&metadata, package);
        let inside: BTreeSet<String> = dependencies(&metadata, package)
            .into_iter()
            .filter(|d| ours.contains(d))
            .filter(|d| !(FIXTURES.contains(&d.as_str()) && fixtures.contains(d)))
            .collect();
        let extra: Vec<&String> = inside
            .iter()
            .filter(|d| !allowed.contains(&d.as_str()))
            .collect();
        assert!(
            extra.is_empty(),
            "`{package}` depends on {extra:?}; it may use only {allowed:?} of the workspace"
        );
    }
}

#[test]
fn the_hub_and_the_desk_agent_never_depend_on_each_other() {
    let metadata = metadata();
    assert!(!dependencies(&metadata, "hub").contains("desk-agent"));
    assert!(!dependencies(&metadata, "desk-agent").contains("hub"));
}

#[test]
fn domain_does_no_io() {
    let metadata = metadata();
    let deps = dependencies(&metadata, "domain");
    let seen: Vec<&&str> = NOT_IN_DOMAIN
        .iter()
        .filter(|d| deps.contains(**d))
        .collect();
    assert!(seen.is_empty(), "`domain` depends on {seen:?}");
}
