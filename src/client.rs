//! A small client of ghor's own HTTP API, for the CLI commands that talk to a server.

use anyhow::{bail, Context};
use serde_json::Value;

/// Where a command reaches a running ghor, and as whom.
#[derive(clap::Args)]
#[command(next_help_heading = "Client")]
pub struct Remote {
    /// The running ghor's address.
    #[arg(long, env = "GHOR_URL", default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The token to act with; each command says which role it needs.
    #[arg(long, env = "GHOR_TOKEN", hide_env_values = true)]
    token: String,
}

impl Remote {
    pub fn client(&self) -> Client {
        Client::new(&self.url, &self.token)
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client { http: reqwest::Client::new(), base: base.trim_end_matches('/').to_owned(), token: token.to_owned() }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { token: token.to_owned(), ..self.clone() }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await;
        answer(response, path).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self.http.put(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().await;
        answer(response, path).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().await;
        answer(response, path).await
    }
}

async fn answer(response: reqwest::Result<reqwest::Response>, path: &str) -> anyhow::Result<Value> {
    let response = response.with_context(|| format!("cannot reach ghor for {path}; is the server running?"))?;
    let status = response.status();
    let text = response.text().await.with_context(|| format!("{path}: {status}: the answer could not be read"))?;
    let body: Value = serde_json::from_str(&text).with_context(|| {
        format!("{path}: {status}: the answer is not JSON: {}", text.chars().take(200).collect::<String>())
    })?;
    if !status.is_success() {
        // The fields a refusal names, each with what to do about it.
        let fields: Vec<String> = body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| format!("\n  {}: {}", e["field"].as_str().unwrap_or("?"), e["reason"].as_str().unwrap_or("?")))
            .collect();
        let detail = body["detail"].as_str().unwrap_or("no detail");
        if fields.is_empty() {
            bail!("{path}: {status}: {detail}");
        }
        bail!("{path}: {status}:{}", fields.concat());
    }
    Ok(body)
}
