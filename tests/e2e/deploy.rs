//! `deploy/` as a region's ICT takes it (issue 14), checked with the tools they would use:
//! the alert rules with `promtool check rules` and their unit tests with `promtool test
//! rules`, the Prometheus configuration with `promtool check config` (Debian's prometheus
//! package), the compose file with `docker-compose config` (Debian's docker-compose), every
//! Kubernetes manifest the kustomization lists with `kubernetes-validate --strict` (PyPI;
//! offline, with the Kubernetes schemas it carries), and the configuration file with
//! `ghor config check`. The alerts and the dashboard query only metrics ghor exports
//! (`docs/metrics.md`, which `metrics.rs` holds to the binary), every documented metric is
//! on the dashboard, and every alert has its section in the runbook. `tests/run` installs
//! the tools.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::harness::BIN;

fn deploy(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(deploy(path)).unwrap_or_else(|e| panic!("deploy/{path}: {e}"))
}

/// Runs a tool; panics, saying how to get it, when it is not there; its status and output.
async fn run(tool: &str, args: &[&str], dir: &Path, how_to_get: &str) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{tool}: {e}; {how_to_get} (tests/run installs it)"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), said)
}

/// The metric names ghor documents (and, by `metrics.rs`, exports).
fn exported() -> BTreeSet<String> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md")).expect("docs/metrics.md");
    doc.lines()
        .filter_map(|l| l.strip_prefix("| `ghor_").and_then(|rest| rest.split('`').next()))
        .map(|name| format!("ghor_{name}"))
        .collect()
}

/// The ghor metrics a text queries, histogram series taken back to their metric.
fn queried(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (start, _) in text.match_indices("ghor_") {
        // Not a label value (`job="ghor_…"`) or a word that merely contains it.
        let before = &text[..start];
        if before.ends_with("=\"") || before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            continue;
        }
        let name: String = text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let metric = ["_bucket", "_count", "_sum"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        names.insert(metric.to_owned());
    }
    names
}

#[test]
fn the_alerts_and_the_dashboard_query_only_what_ghor_exports_and_the_dashboard_shows_all_of_it() {
    let exported = exported();
    assert!(exported.len() > 15, "docs/metrics.md lists the metrics: {exported:?}");
    let alerts = queried(&read("prometheus/alerts.yml"));
    let dashboard = queried(&read("grafana/ghor.json"));
    assert!(alerts.len() > 8 && dashboard.len() > 15, "{alerts:?} {dashboard:?}");
    for (what, names) in [("alerts.yml", &alerts), ("ghor.json", &dashboard)] {
        let unknown: Vec<_> = names.difference(&exported).collect();
        assert!(unknown.is_empty(), "{what} queries metrics ghor does not export: {unknown:?}");
    }
    let not_shown: Vec<_> = exported.difference(&dashboard).collect();
    assert!(not_shown.is_empty(), "the dashboard shows the whole pipeline; missing: {not_shown:?}");
    // Besides ghor's own, the rules read only what Prometheus and the blackbox exporter
    // (the certificate) give.
    let rules = read("prometheus/alerts.yml");
    let exprs: Vec<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("expr: ")).collect();
    for expr in exprs {
        // Label values (quoted) are not metrics.
        let unquoted: String = expr.split('"').step_by(2).collect::<Vec<_>>().join(" ");
        let others: Vec<&str> = unquoted
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.contains('_') && !w.starts_with("ghor_") && !w.chars().all(|c| c.is_ascii_digit()))
            .filter(|w| *w != "histogram_quantile")
            .collect();
        for other in others {
            assert_eq!(other, "probe_ssl_earliest_cert_expiry", "{expr}: {other} is not a metric deploy/ provides");
        }
    }
}

#[test]
fn every_alert_has_its_runbook_section() {
    let rules = read("prometheus/alerts.yml");
    let runbook = read("RUNBOOK.md");
    let sections: BTreeSet<String> =
        runbook.lines().filter_map(|l| l.strip_prefix("### ")).map(|h| h.trim().to_lowercase()).collect();
    let anchors: Vec<&str> = rules.lines().filter_map(|l| l.trim().strip_prefix("runbook_url: RUNBOOK.md#")).collect();
    let alerts = rules.lines().filter(|l| l.trim().starts_with("- alert: ")).count();
    assert_eq!(anchors.len(), alerts, "every alert links the runbook");
    for anchor in anchors {
        assert!(sections.contains(anchor), "RUNBOOK.md has a section for #{anchor}");
    }
}

#[tokio::test]
async fn promtool_passes_the_rules_their_unit_tests_and_the_scrape_configuration() {
    let dir = deploy("prometheus");
    let get = "install Debian's prometheus package";
    for args in [
        &["check", "rules", "alerts.yml"][..],
        &["test", "rules", "alerts.test.yml"],
        &["check", "config", "prometheus.yml"],
    ] {
        let (ok, said) = run("promtool", args, &dir, get).await;
        assert!(ok, "promtool {args:?}: {said}");
    }
}

#[tokio::test]
async fn the_compose_files_are_valid_with_the_example_environment_and_refused_without_their_secrets() {
    let region = [
        "nats-1",
        "nats-2",
        "nats-3",
        "postgres",
        "ingest-1",
        "ingest-2",
        "projector",
        "gateway-1",
        "gateway-2",
        "notifier",
        "proxy",
    ];
    compose_file_checks("compose.yaml", "env.example", "in deploy/.env", &region).await;
    let national = ["nats", "postgres", "national", "proxy"];
    compose_file_checks("compose.national.yaml", "env.national.example", "in deploy/.env.national", &national).await;
}

/// `docker-compose config` passes `file` with `example` and names a missing secret (as
/// `says`) without it; the file runs every one of `needed`.
async fn compose_file_checks(file: &str, example: &str, says: &str, needed: &[&str]) {
    let dir = deploy("");
    let get = "install Debian's docker-compose package";
    let (ok, said) = run("docker-compose", &["--env-file", example, "-f", file, "config", "-q"], &dir, get).await;
    assert!(ok, "docker-compose config {file}: {said}");
    let empty = tempfile::NamedTempFile::new().expect("an empty environment file");
    let empty = empty.path().display().to_string();
    let (ok, said) = run("docker-compose", &["--env-file", &empty, "-f", file, "config", "-q"], &dir, get).await;
    assert!(
        !ok && said.contains("Missing mandatory value") && said.contains(says),
        "a missing secret is named: {said}"
    );
    let (_, services) =
        run("docker-compose", &["--env-file", example, "-f", file, "config", "--services"], &dir, get).await;
    let services: BTreeSet<&str> = services.lines().collect();
    for service in needed {
        assert!(services.contains(service), "{file} runs {service}: {services:?}");
    }
}

#[tokio::test]
async fn every_kubernetes_manifest_validates_against_the_kubernetes_schemas() {
    let region =
        ["deployment/ingest", "deployment/gateway", "deployment/projector", "deployment/notifier", "statefulset/nats"];
    let budgets = ["ingest", "gateway", "projector", "nats"].map(|b| format!("poddisruptionbudget/{b}"));
    let region: Vec<String> = region.iter().map(|k| (*k).to_owned()).chain(budgets).collect();
    kustomization_validates("kubernetes", &region).await;
    let national = ["deployment/national", "statefulset/nats", "service/nats-leaf"].map(str::to_owned);
    kustomization_validates("kubernetes/national", &national).await;
}

/// Every manifest `folder`'s kustomization lists passes kubernetes-validate, `kinds` among
/// them, and every file its generators take is there.
async fn kustomization_validates(folder: &str, kinds: &[String]) {
    let dir = deploy(folder);
    let kustomization = read(&format!("{folder}/kustomization.yaml"));
    let resources: Vec<&str> = kustomization
        .lines()
        .skip_while(|l| !l.starts_with("resources:"))
        .skip(1)
        .map_while(|l| l.trim().strip_prefix("- "))
        .collect();
    assert!(resources.len() >= 5, "the kustomization lists its manifests: {resources:?}");
    let mut args = vec!["--strict"];
    args.extend(&resources);
    let (ok, said) = run("kubernetes-validate", &args, &dir, "pip install kubernetes-validate").await;
    assert!(ok && !said.contains("ERROR"), "kubernetes-validate: {said}");
    for kind in kinds {
        assert!(said.contains(&format!("passed for resource {kind}")), "{folder}: {kind} validated: {said}");
    }
    let generated: Vec<&str> =
        kustomization.lines().filter_map(|l| l.trim().strip_prefix("- ")?.split_once('=')).map(|(_, f)| f).collect();
    assert!(generated.iter().any(|f| f.ends_with("ghor.toml")), "{folder} takes ghor.toml: {generated:?}");
    for file in generated {
        assert!(dir.join(file).exists(), "{folder}: {file} is there");
    }
}

#[tokio::test]
async fn the_regions_configuration_file_checks_clean() {
    let file = deploy("ghor.toml").display().to_string();
    let out = Command::new(BIN).args(["config", "check", &file]).output().await.expect("ghor config check");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
