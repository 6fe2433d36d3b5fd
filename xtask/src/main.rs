//! `cargo xtask test`: the README's test command. It is the one place that
//! knows what the tests need from outside Cargo (a browser, its WebDriver,
//! axe-core), installs what is missing, then runs every test, so that a
//! machine with only the Rust toolchain, a person and CI all run the same
//! thing.
//!
//! Only the standard library: this builds before anything else and must
//! stay quick to build.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str = "\
usage: cargo xtask test [--fast] [-- ARGS...]
       cargo xtask install [--fast]

  cargo xtask test           install what the tests need (Chromium, ChromeDriver,
                             axe-core), then run every test
  cargo xtask test --fast    the daily subset: unit tests of every crate and the
                             quick end-to-end tests; no browser tests, no crash test;
                             installs nothing the subset does not need
  cargo xtask test -- ARGS   pass ARGS to the test runner (cargo nextest run, or
                             cargo test when nextest is missing), e.g. a filter
  cargo xtask install        only install what the tests need, and stop (CI does
                             it while the lint gates compile)

environment:
  XTASK_NO_INSTALL=1         never install: name what is missing and stop (exit 2)
";

/// Exit code when a prerequisite is missing and cannot be installed here,
/// distinct from a failing test (1).
const MISSING: u8 = 2;
/// Exit code for arguments this task does not know.
const USAGE_ERROR: u8 = 2;

/// How to tell that a prerequisite is already there.
#[derive(Clone, Copy)]
enum Check {
    /// A file, absolute or relative to the workspace root.
    File(&'static str),
}

impl Check {
    /// What was not found, for the messages.
    fn describe(self) -> String {
        match self {
            Check::File(path) => format!("{path} is not there"),
        }
    }
}

/// How to install a missing prerequisite.
#[derive(Clone, Copy)]
enum Install {
    /// Debian packages: all the missing ones go into one `apt-get install`.
    Debian(&'static [&'static str]),
    /// A command run from the workspace root without privileges, after the
    /// Debian packages (it may need one of them).
    Command(&'static [&'static str]),
}

/// Something a test needs that Cargo does not provide.
struct Prerequisite {
    name: &'static str,
    /// Why the tests need it, printed before installing it.
    why: &'static str,
    present: Check,
    install: Install,
    /// Whether a test in `--fast` needs it.
    fast: bool,
}

/// Everything the tests need from outside Cargo. To add one, add a row: a
/// Debian package is `Install::Debian(&["package"])` with a file it installs
/// as the check.
const PREREQUISITES: &[Prerequisite] = &[
    Prerequisite {
        name: "Chromium",
        why: "the browser tests (tests/tests/*_browser.rs) drive a real headless Chromium",
        present: Check::File("/usr/bin/chromium"),
        install: Install::Debian(&["chromium"]),
        fast: false,
    },
    Prerequisite {
        name: "ChromeDriver",
        why: "the browser tests talk to Chromium over WebDriver",
        present: Check::File("/usr/bin/chromedriver"),
        install: Install::Debian(&["chromium-driver"]),
        fast: false,
    },
    Prerequisite {
        name: "Liberation Sans",
        // `--no-install-recommends` would drop them, and the pages ask for
        // Arial: without a metric-compatible font the screenshots change.
        why: "the browser tests' screenshots render the pages' Arial with them",
        present: Check::File("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        install: Install::Debian(&["fonts-liberation"]),
        fast: false,
    },
    Prerequisite {
        name: "axe-core",
        why: "the browser tests check every page for accessibility with axe-core \
              (the version pinned in tests/package-lock.json)",
        present: Check::File("tests/node_modules/axe-core/axe.min.js"),
        install: Install::Command(&["npm", "ci", "--prefix", "tests", "--no-audit", "--no-fund"]),
        fast: false,
    },
    Prerequisite {
        name: "promtool",
        why: "the metrics test checks both expositions and the alert rules in deploy/ \
              with Prometheus's own checker",
        present: Check::File("/usr/bin/promtool"),
        install: Install::Debian(&["prometheus"]),
        fast: true,
    },
    Prerequisite {
        name: "iproute2",
        why: "the partition test puts a desk behind a veth pair in a network namespace \
              (ip) and slows its link (tc)",
        present: Check::File("/usr/sbin/tc"),
        install: Install::Debian(&["iproute2"]),
        fast: true,
    },
    Prerequisite {
        name: "PostgreSQL",
        why: "the hub's PostgreSQL store is tested on a real server that the tests start \
              themselves (initdb and postgres on a temporary folder)",
        present: Check::File("/usr/lib/postgresql/15/bin/initdb"),
        install: Install::Debian(&["postgresql"]),
        fast: true,
    },
    Prerequisite {
        name: "Poppler's tools",
        why: "the handout tests read the PDFs back with pdffonts (fonts embedded) and \
              pdftotext (the card's words in every script), and pdftoppm draws the \
              screenshots",
        present: Check::File("/usr/bin/pdftotext"),
        install: Install::Debian(&["poppler-utils"]),
        fast: true,
    },
    Prerequisite {
        name: "Noto Sans CJK",
        // Too large to bundle like the other scripts' fonts: the handout
        // crate reads it from the system, and its Chinese test needs it.
        why: "the Chinese handout test sets the card in Noto Sans CJK",
        present: Check::File("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        install: Install::Debian(&["fonts-noto-cjk"]),
        fast: true,
    },
];

/// What `--fast` leaves out.
enum Skip {
    /// Integration test targets whose name ends so.
    TargetsEndingWith(&'static str),
    /// One integration test target.
    Target(&'static str),
    /// Tests of a package's library whose path starts so.
    LibTests {
        package: &'static str,
        prefix: &'static str,
    },
}

/// Left out of `--fast`: the browser tests need Chromium and take the
/// longest to start; the crash test pushes 30,000 visits through killed
/// processes, a minute and a half on two cores, and the soak kills a
/// hundred times. Everything else (every
/// crate's unit tests, the other end-to-end tests) takes seconds.
const NOT_FAST: &[Skip] = &[
    Skip::TargetsEndingWith("_browser"),
    Skip::LibTests {
        package: "e2e",
        prefix: "browser::",
    },
    Skip::Target("crash_exactly_once"),
    Skip::Target("soak_kills"),
];

struct Options {
    fast: bool,
    /// `install`: the prerequisites only, no tests.
    install_only: bool,
    extra: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("xtask: {message}\n\n{USAGE}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let root = workspace_root();
    if let Err(code) = install_prerequisites(&root, options.fast) {
        return code;
    }
    if options.install_only {
        return ExitCode::SUCCESS;
    }
    run_tests(&root, &options)
}

/// `Ok(None)` asks for the usage text.
fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let Some((task, rest)) = args.split_first() else {
        return Ok(None);
    };
    let install_only = match task.as_str() {
        "test" => false,
        "install" => true,
        "-h" | "--help" | "help" => return Ok(None),
        other => return Err(format!("unknown task `{other}`")),
    };
    let mut options = Options {
        fast: false,
        install_only,
        extra: Vec::new(),
    };
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--fast" => options.fast = true,
            "-h" | "--help" => return Ok(None),
            "--" if install_only => {
                return Err("`install` runs no tests, so it takes no arguments for them".into())
            }
            "--" => {
                options.extra = rest.cloned().collect();
                break;
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` (arguments for the test runner go after `--`)"
                ))
            }
        }
    }
    Ok(Some(options))
}

fn workspace_root() -> PathBuf {
    // xtask/ sits in the workspace root; the path is fixed at build time,
    // so the task works from any folder of the workspace.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn is_present(root: &Path, check: Check) -> bool {
    match check {
        Check::File(path) => root.join(path).is_file(),
    }
}

/// The prerequisites the selected tests need that are not there.
fn missing(root: &Path, fast: bool) -> Vec<&'static Prerequisite> {
    PREREQUISITES
        .iter()
        .filter(|p| (p.fast || !fast) && !is_present(root, p.present))
        .collect()
}

fn debian_packages(missing: &[&Prerequisite]) -> Vec<&'static str> {
    missing
        .iter()
        .filter_map(|p| match p.install {
            Install::Debian(packages) => Some(packages),
            Install::Command(_) => None,
        })
        .flatten()
        .copied()
        .collect()
}

fn install_commands(missing: &[&Prerequisite]) -> Vec<&'static [&'static str]> {
    missing
        .iter()
        .filter_map(|p| match p.install {
            Install::Command(command) => Some(command),
            Install::Debian(_) => None,
        })
        .collect()
}

/// Installs what the selected tests need and is missing; `Err` carries the
/// exit code, after a message saying what to install by hand.
fn install_prerequisites(root: &Path, fast: bool) -> Result<(), ExitCode> {
    let missing = missing(root, fast);
    if missing.is_empty() {
        return Ok(());
    }
    for p in &missing {
        println!("xtask: {} is missing: {}.", p.name, p.why);
    }
    if std::env::var_os("XTASK_NO_INSTALL").is_some_and(|v| !v.is_empty() && v != "0") {
        eprintln!("xtask: XTASK_NO_INSTALL is set, so nothing is installed.");
        return Err(missing_by_hand(root, fast));
    }
    let packages = debian_packages(&missing);
    if !packages.is_empty() {
        let Some(sudo) = privilege() else {
            eprintln!(
                "xtask: installing Debian packages needs root, and this user is not root \
                 and cannot use `sudo -n` (sudo without a password prompt)."
            );
            return Err(missing_by_hand(root, fast));
        };
        println!(
            "xtask: installing the Debian packages {}.",
            packages.join(", ")
        );
        let install: Vec<&str> = ["install", "-y", "--no-install-recommends"]
            .into_iter()
            .chain(packages.iter().copied())
            .collect();
        for args in [&["update"][..], &install[..]] {
            if !apt_get(sudo, args) {
                return Err(missing_by_hand(root, fast));
            }
        }
    }
    for command in install_commands(&missing) {
        if !run_install_command(root, command) {
            return Err(missing_by_hand(root, fast));
        }
    }
    let still = self::missing(root, fast);
    if still.is_empty() {
        return Ok(());
    }
    for p in &still {
        eprintln!(
            "xtask: the installation ended, but {} is still missing ({}).",
            p.name,
            p.present.describe()
        );
    }
    Err(missing_by_hand(root, fast))
}

/// `Some(true)`: run apt-get through `sudo -n`; `Some(false)`: directly, as
/// root; `None`: neither is possible.
fn privilege() -> Option<bool> {
    let uid = Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    if uid.as_deref() == Some("0") {
        return Some(false);
    }
    // `-n` never prompts: CI has no terminal, and a prompt would hang it.
    let sudo = Command::new("sudo")
        .args(["-n", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    sudo.then_some(true)
}

fn apt_get(sudo: bool, args: &[&str]) -> bool {
    let mut command = if sudo {
        // sudo resets the environment; `env` carries the frontend through.
        let mut c = Command::new("sudo");
        c.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        c
    } else {
        let mut c = Command::new("apt-get");
        c.env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    command.args(args).stdin(Stdio::null());
    let shown = format!(
        "{}DEBIAN_FRONTEND=noninteractive apt-get {}",
        if sudo { "sudo -n " } else { "" },
        args.join(" ")
    );
    println!("xtask: running `{shown}`");
    match command.status() {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("xtask: `{shown}` failed ({status}).");
            false
        }
        Err(err) => {
            eprintln!("xtask: cannot start apt-get ({err}): is this a Debian or Ubuntu machine?");
            false
        }
    }
}

fn run_install_command(root: &Path, command: &[&str]) -> bool {
    let Some((program, args)) = command.split_first() else {
        return true;
    };
    let shown = command.join(" ");
    println!("xtask: running `{shown}`");
    match Command::new(program)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
    {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("xtask: `{shown}` failed ({status}).");
            false
        }
        Err(err) => {
            eprintln!("xtask: cannot start {program} ({err}): is it installed and on PATH?");
            false
        }
    }
}

/// Says what to install by hand, and how; returns the exit code for it.
fn missing_by_hand(root: &Path, fast: bool) -> ExitCode {
    let missing = missing(root, fast);
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    let mut text = format!(
        "xtask: the tests need {}, which {} not installed. Install {} with:\n",
        names.join(", "),
        if missing.len() == 1 { "is" } else { "are" },
        if missing.len() == 1 { "it" } else { "them" },
    );
    let packages = debian_packages(&missing);
    if !packages.is_empty() {
        text.push_str(&format!(
            "  sudo apt-get update && sudo apt-get install -y --no-install-recommends {}\n",
            packages.join(" ")
        ));
    }
    for command in install_commands(&missing) {
        text.push_str(&format!(
            "  {}   # from the workspace root\n",
            command.join(" ")
        ));
    }
    text.push_str("then run `cargo xtask test` again.");
    eprintln!("{text}");
    ExitCode::from(MISSING)
}

fn run_tests(root: &Path, options: &Options) -> ExitCode {
    let nextest = cargo(root)
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    // One PostgreSQL server for the whole run: each test that needs one
    // makes a database of its own on it (`pgtest`), instead of starting a
    // server per test.
    let shared = match pgtest::start_shared() {
        Ok((server, env)) => Some((server, env)),
        Err(e) => {
            eprintln!("xtask: cannot start PostgreSQL for the tests: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let env: Vec<(String, String)> = shared.as_ref().map(|s| s.1.clone()).unwrap_or_default();
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut on_postgres: Option<Vec<String>> = None;
    if nextest {
        let mut args = strings(&["nextest", "run", "--workspace"]);
        if options.fast {
            args.extend(nextest_fast_args(&options.extra));
        } else {
            args.extend(options.extra.iter().cloned());
        }
        runs.push(args);
        if options.extra.is_empty() && !options.fast {
            // The same test bodies again with every hub on PostgreSQL: the
            // federation, the pushed logs, the dashboard and the crash
            // tests (the whole suite twice would not fit CI's budget).
            let mut args = strings(&["nextest", "run", "-p", "e2e", "-E"]);
            args.push(POSTGRES_SUBSET.to_string());
            on_postgres = Some(args);
        }
        // nextest does not run doctests; cargo test does.
        if has_doctests(root) {
            if options.extra.is_empty() {
                runs.push(strings(&["test", "--workspace", "--doc"]));
            } else {
                println!("xtask: the runner's arguments select tests, so the doctests do not run.");
            }
        }
    } else {
        println!("xtask: cargo-nextest is not installed, so the tests run with cargo test.");
        let mut args = strings(&["test", "--workspace"]);
        if options.fast {
            let (targets, skips) = cargo_test_fast_selection(root);
            args.extend(strings(&["--lib", "--bins"]));
            for target in targets {
                args.extend(["--test".to_string(), target]);
            }
            // The doctests would be left out by the target selection above.
            if has_doctests(root) {
                args.push("--doc".to_string());
            }
            // libtest's own arguments go after cargo's `--`: the caller's
            // split the same way, cargo's part first.
            let (for_cargo, for_libtest) = match options.extra.iter().position(|a| a == "--") {
                Some(at) => (&options.extra[..at], &options.extra[at + 1..]),
                None => (&options.extra[..], &[][..]),
            };
            args.extend(for_cargo.iter().cloned());
            args.push("--".to_string());
            for skip in skips {
                args.extend(["--skip".to_string(), skip]);
            }
            args.extend(for_libtest.iter().cloned());
        } else {
            args.extend(options.extra.iter().cloned());
        }
        runs.push(args);
    }
    let runs = runs
        .into_iter()
        .map(|args| (args, false))
        .chain(on_postgres.map(|args| (args, true)));
    for (args, postgres) in runs {
        let shown = shell_words(&args);
        let prefix = if postgres {
            "RETE_TEST_STORE=postgres "
        } else {
            ""
        };
        println!("xtask: running `{prefix}cargo {shown}`");
        let mut command = cargo(root);
        command.args(&args).envs(env.iter().cloned());
        if postgres {
            command.env("RETE_TEST_STORE", "postgres");
        }
        match command.stdin(Stdio::null()).status() {
            Ok(status) if status.success() => {}
            Ok(status) => {
                eprintln!("xtask: `cargo {shown}` failed ({status}).");
                return ExitCode::from(status.code().map_or(1, |c| c.clamp(1, 255) as u8));
            }
            Err(err) => {
                eprintln!("xtask: cannot start cargo ({err}).");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// The end-to-end tests that run a second time with every hub on
/// PostgreSQL (`RETE_TEST_STORE=postgres`); the restore of an older hub
/// copy is `hub restore`'s, which is sled's (PostgreSQL is restored with
/// its own tools).
const POSTGRES_SUBSET: &str = "binary(=backlog_and_push) | binary(=guidance_push) \
    | binary(=templates_push) | binary(=catalogue_push) | binary(=cards_push) \
    | binary(=dashboard) | binary(=crash_exactly_once) | binary(=federation_limits) \
    | binary(=reports) | binary(=template_proposals) | binary(=cards_dashboard) \
    | (binary(=incarnations) \
    & !test(=a_hub_restored_from_an_older_copy_gets_every_record_back))";

/// The arguments as a shell would need them, so that the printed command
/// can be pasted.
fn shell_words(args: &[String]) -> String {
    let words: Vec<String> = args
        .iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_=./:,+@".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect();
    words.join(" ")
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// The cargo that runs this task, with the environment a plain `cargo`
/// in a shell would have.
fn cargo(root: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(program);
    command.current_dir(root);
    // `cargo run` gave this process xtask's CARGO_PKG_*, CARGO_MANIFEST_DIR
    // and the like. ring's build script asks to rerun when some of them
    // change, so passing them on would rebuild ring and everything above it
    // here, and again at the next plain `cargo build`.
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if CARGO_RUN_VARS.iter().any(|prefix| key.starts_with(prefix)) {
            command.env_remove(key);
        }
    }
    command
}

/// What `cargo run` sets for the program it runs (beside `CARGO`, which is
/// kept so that the same cargo runs the tests).
const CARGO_RUN_VARS: &[&str] = &[
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
];

fn nextest_fast_filter() -> String {
    let parts: Vec<String> = NOT_FAST
        .iter()
        .map(|skip| match skip {
            Skip::TargetsEndingWith(suffix) => format!("binary(/{suffix}$/)"),
            Skip::Target(name) => format!("binary(={name})"),
            Skip::LibTests { package, prefix } => {
                format!("(package(={package}) & kind(lib) & test(/^{prefix}/))")
            }
        })
        .collect();
    format!("not ({})", parts.join(" | "))
}

/// `--fast` for nextest, with the caller's arguments. nextest runs the union
/// of several `-E` filtersets, so the caller's own are folded into the fast
/// one, to narrow it rather than add to it.
fn nextest_fast_args(extra: &[String]) -> Vec<String> {
    let mut theirs = Vec::new();
    let mut rest = Vec::new();
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            rest.push(arg.clone());
            rest.extend(args.by_ref().cloned());
            break;
        }
        if let Some(value) = ["--filterset=", "--filter-expr="]
            .iter()
            .find_map(|flag| arg.strip_prefix(flag))
        {
            theirs.push(value.to_string());
        } else if ["-E", "--filterset", "--filter-expr"].contains(&arg.as_str()) {
            match args.next() {
                Some(value) => theirs.push(value.clone()),
                // nextest itself says what is wrong with a flag and no value.
                None => rest.push(arg.clone()),
            }
        } else {
            rest.push(arg.clone());
        }
    }
    let fast = nextest_fast_filter();
    let filter = if theirs.is_empty() {
        fast
    } else {
        let theirs: Vec<String> = theirs.iter().map(|e| format!("({e})")).collect();
        format!("({}) & {fast}", theirs.join(" | "))
    };
    let mut out = vec!["-E".to_string(), filter];
    out.extend(rest);
    out
}

/// For `cargo test`, which cannot leave a target out: the integration test
/// targets to name, and the test paths to skip.
fn cargo_test_fast_selection(root: &Path) -> (Vec<String>, Vec<String>) {
    let targets = integration_tests(root)
        .into_iter()
        .filter(|name| {
            !NOT_FAST.iter().any(|skip| match skip {
                Skip::TargetsEndingWith(suffix) => name.ends_with(suffix),
                Skip::Target(target) => name == target,
                Skip::LibTests { .. } => false,
            })
        })
        .collect();
    let skips = NOT_FAST
        .iter()
        .filter_map(|skip| match skip {
            // libtest matches --skip anywhere in the path: close enough for
            // this fallback, as no other crate has such a module.
            Skip::LibTests { prefix, .. } => Some(prefix.to_string()),
            _ => None,
        })
        .collect();
    (targets, skips)
}

/// The test targets Cargo finds by itself: `<crate>/tests/*.rs`.
fn integration_tests(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for krate in read_dir(root) {
        if !krate.join("Cargo.toml").is_file() {
            continue;
        }
        for file in read_dir(&krate.join("tests")) {
            if file.extension().is_some_and(|e| e == "rs") {
                if let Some(stem) = file.file_stem().and_then(|s| s.to_str()) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Whether any crate's documentation holds a fenced code block, which
/// rustdoc runs as a doctest. Running `cargo test --doc` to find out costs
/// minutes on two cores; reading the sources costs milliseconds.
fn has_doctests(root: &Path) -> bool {
    read_dir(root)
        .into_iter()
        .filter(|krate| krate.join("Cargo.toml").is_file())
        .any(|krate| tree_has_doc_code(&krate.join("src")))
}

fn tree_has_doc_code(dir: &Path) -> bool {
    read_dir(dir).into_iter().any(|path| {
        if path.is_dir() {
            tree_has_doc_code(&path)
        } else if path.extension().is_some_and(|e| e == "rs") {
            std::fs::read_to_string(&path).is_ok_and(|text| {
                text.lines().any(|line| {
                    let line = line.trim_start();
                    (line.starts_with("///") || line.starts_with("//!")) && line.contains("```")
                })
            })
        } else {
            false
        }
    })
}

/// The entries of a folder; none when it is missing or unreadable, which
/// for the folders read here means there is nothing to find.
fn read_dir(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        strings(list)
    }

    #[test]
    fn options_and_runner_arguments_are_told_apart() {
        let parsed = parse(&args(&["test", "--fast", "--", "--fast", "x"]));
        let Ok(Some(options)) = parsed else {
            panic!("`test --fast -- --fast x` parses");
        };
        assert!(options.fast);
        assert_eq!(options.extra, args(&["--fast", "x"]));
        assert!(parse(&args(&["test", "filter"])).is_err());
        assert!(parse(&args(&["build"])).is_err());
        assert!(matches!(parse(&args(&[])), Ok(None)));
    }

    #[test]
    fn install_takes_the_fast_selection_and_nothing_for_the_runner() {
        let Ok(Some(options)) = parse(&args(&["install", "--fast"])) else {
            panic!("`install --fast` parses");
        };
        assert!(options.install_only && options.fast);
        let Ok(Some(options)) = parse(&args(&["test"])) else {
            panic!("`test` parses");
        };
        assert!(!options.install_only);
        assert!(parse(&args(&["install", "--", "x"])).is_err());
    }

    #[test]
    fn the_fast_filter_leaves_out_browser_and_crash_tests() {
        assert_eq!(
            nextest_fast_filter(),
            "not (binary(/_browser$/) | (package(=e2e) & kind(lib) & test(/^browser::/)) \
             | binary(=crash_exactly_once) | binary(=soak_kills))"
        );
        let (targets, skips) = cargo_test_fast_selection(&workspace_root());
        assert!(targets.contains(&"operator_page".to_string()));
        assert!(!targets.iter().any(|t| t.ends_with("_browser")));
        assert!(!targets.contains(&"crash_exactly_once".to_string()));
        assert!(!targets.contains(&"soak_kills".to_string()));
        assert_eq!(skips, args(&["browser::"]));
    }

    #[test]
    fn a_callers_filterset_narrows_the_fast_one() {
        let fast = nextest_fast_filter();
        assert_eq!(nextest_fast_args(&[]), args(&["-E", &fast]));
        assert_eq!(
            nextest_fast_args(&args(&[
                "-E",
                "binary(=a)",
                "--filterset=test(b)",
                "x",
                "--",
                "-E"
            ])),
            args(&[
                "-E",
                &format!("((binary(=a)) | (test(b))) & {fast}"),
                "x",
                "--",
                "-E"
            ])
        );
    }

    #[test]
    fn printed_commands_can_be_pasted() {
        assert_eq!(
            shell_words(&args(&["nextest", "-E", "not (x)", "it's"])),
            r"nextest -E 'not (x)' 'it'\''s'"
        );
    }

    #[test]
    fn every_prerequisite_has_a_way_to_check_and_install() {
        for p in PREREQUISITES {
            match p.install {
                Install::Debian(packages) => assert!(!packages.is_empty(), "{}", p.name),
                Install::Command(command) => assert!(!command.is_empty(), "{}", p.name),
            }
        }
    }
}
