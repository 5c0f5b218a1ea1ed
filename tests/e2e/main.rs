//! End-to-end tests: the real `ghor` binary started on port 0, driven over HTTP and
//! websocket as institutions and dashboards would. The same suite runs on the embedded
//! default and on the production backbone (a real nats-server with JetStream and a fresh
//! PostgreSQL database per test).

// The suite is compiled once per backend, on purpose.
#![allow(clippy::duplicate_mod)]

mod audit;
mod cluster;
mod config;
mod demo;
mod deploy;
mod deployment;
mod direct;
mod embedded;
mod faults;
mod federation;
mod flood;
mod gateways;
mod harness;
mod history;
mod production;
mod security;
mod signin;
mod topology;
mod traces;
