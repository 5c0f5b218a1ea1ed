//! The configuration file as a region's ICT uses it (issue 14): `ghor config example`
//! writes every setting, and with its defaults uncommented the file checks clean;
//! `ghor config check` names each mistake by its line and never prints a secret; a server
//! started with `--config` (or `GHOR_CONFIG`) takes the file's settings, under the
//! environment and the flags; a server given a bad file does not start and says why.

use std::path::Path;
use std::process::Output;

use tokio::process::Command;

use crate::harness::{Backend, Ghor, BIN};

async fn ghor(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(BIN).args(args).envs(env.iter().copied()).output().await.expect("run ghor")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, contents: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write the file");
    path.display().to_string()
}

#[tokio::test]
async fn the_example_names_every_setting_and_its_defaults_check_clean() {
    let example = ghor(&["config", "example"], &[]).await;
    assert!(example.status.success());
    let example = text(&example.stdout);
    // Every GHOR_* variable of the server is a setting in it.
    let help = text(&ghor(&["serve", "--help"], &[]).await.stdout);
    let variables: Vec<&str> = help.split("[env: ").skip(1).filter_map(|rest| rest.split(['=', ']']).next()).collect();
    assert!(variables.len() > 20, "serve has its settings as variables: {variables:?}");
    for variable in variables.iter().filter(|v| **v != "GHOR_CONFIG") {
        assert!(example.contains(variable), "the example names {variable}");
    }
    // Uncommented, every setting with a default is a valid file.
    let defaults: String = example
        .lines()
        .filter_map(|line| line.strip_prefix('#').filter(|l| l.contains(" = ") && !l.contains("\"<")))
        .map(|line| format!("{line}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "defaults.toml", &defaults);
    let checked = ghor(&["config", "check", &file], &[]).await;
    assert!(checked.status.success(), "{}{}", text(&checked.stdout), text(&checked.stderr));
    let settings = defaults.lines().count();
    assert!(settings > 20, "the defaults are many: {defaults}");
    assert!(text(&checked.stdout).contains(&format!("{settings} settings, no mistakes")), "{}", text(&checked.stdout));
}

#[tokio::test]
async fn check_names_each_mistake_by_its_line_and_never_prints_a_secret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(
        dir.path(),
        "good.toml",
        "database = \"postgres://ghor:hunter2@db/ghor\"\nnats = \"nats://ghor:s3cret@n1:4222\"\nrate_burst = 10\n",
    );
    let checked = ghor(&["config", "check", &good], &[]).await;
    let said = format!("{}{}", text(&checked.stdout), text(&checked.stderr));
    assert!(checked.status.success(), "{said}");
    assert!(!said.contains("hunter2") && !said.contains("s3cret"), "no secret is printed: {said}");
    assert!(said.contains("rate_burst = 10"), "what it sets is listed: {said}");

    let bad = write(
        dir.path(),
        "bad.toml",
        "listen = \"127.0.0.1:8080\"\nrate_brust = 10\nreplicas = \"three\"\nmetrics_listen = 9090\nheader_read_seconds = 0\n\n[notify]\nsmtp_url = \"smtp://relay\"\n",
    );
    let checked = ghor(&["config", "check", &bad], &[]).await;
    assert!(!checked.status.success(), "a file with mistakes is refused");
    let said = text(&checked.stderr);
    for expected in [
        format!("{bad}:2: rate_brust: no such setting; did you mean rate_burst?"),
        format!("{bad}:3: replicas: invalid value 'three'"),
        format!("{bad}:4: metrics_listen: invalid value '9090'"),
        format!("{bad}:5: header_read_seconds: invalid value '0'"),
        format!("{bad}:7: [notify]: the file has no sections"),
    ] {
        assert!(said.contains(&expected), "says {expected:?}: {said}");
    }
    assert!(said.contains("5 mistakes"), "{said}");

    let not_toml = write(dir.path(), "broken.toml", "rate_burst = 10\nlisten = \n");
    let checked = ghor(&["config", "check", &not_toml], &[]).await;
    assert!(text(&checked.stderr).contains(&format!("{not_toml}:2: not TOML")), "{}", text(&checked.stderr));
}

#[tokio::test]
async fn a_server_takes_the_file_under_the_environment_and_the_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = || {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("its address").to_string()
    };
    let (from_file, from_env) = (port(), port());
    let file = write(dir.path(), "ghor.toml", &format!("metrics_listen = \"{from_file}\"\nrate_burst = 10\n"));

    // The file's setting where nothing else says otherwise.
    let ghor_with_file = Ghor::start_with_env(Backend::Embedded, &[("GHOR_CONFIG", file.clone())]).await;
    let scraped = ghor_with_file.http.get(format!("http://{from_file}/metrics")).send().await.expect("scrape");
    assert_eq!(scraped.status(), 200, "/metrics on the file's address");
    drop(ghor_with_file);

    // The environment wins over the file.
    let env = [("GHOR_CONFIG", file.clone()), ("GHOR_METRICS_LISTEN", from_env.clone())];
    let ghor_with_env = Ghor::start_with_env(Backend::Embedded, &env).await;
    let scraped = ghor_with_env.http.get(format!("http://{from_env}/metrics")).send().await.expect("scrape");
    assert_eq!(scraped.status(), 200, "/metrics on the environment's address");
    assert!(ghor_with_env.http.get(format!("http://{from_file}/metrics")).send().await.is_err(), "not the file's");
    drop(ghor_with_env);

    // A flag wins over the environment and the file: the harness passes --listen 127.0.0.1:0.
    let (in_file, in_env) = (port(), port());
    let listen_file = write(dir.path(), "listen.toml", &format!("listen = \"{in_file}\"\n"));
    let env = [("GHOR_CONFIG", listen_file), ("GHOR_LISTEN", in_env.clone())];
    let ghor_flag = Ghor::start_with_env(Backend::Embedded, &env).await;
    let at = ghor_flag.url.trim_start_matches("http://");
    assert!(at != in_file && at != in_env, "it listens where the flag says ({at}), not the file or the environment");
}

#[tokio::test]
async fn a_server_given_a_bad_file_does_not_start_and_says_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "ghor.toml", "rate_per_second = \"fast\"\n");
    let data = dir.path().join("data").display().to_string();
    let started = tokio::time::timeout(
        crate::harness::DEADLINE,
        ghor(&["serve", "--listen", "127.0.0.1:0", "--data-dir", &data], &[("GHOR_CONFIG", &file)]),
    )
    .await
    .expect("it stops at once");
    assert!(!started.status.success());
    let said = text(&started.stderr);
    assert!(said.contains(&format!("{file}:1: rate_per_second: invalid value 'fast'")), "{said}");
    assert!(!Path::new(&data).exists(), "nothing was started");
}
