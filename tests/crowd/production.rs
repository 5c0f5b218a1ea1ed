//! The crowd on the production backbone.

const BACKEND: crate::harness::Backend = crate::harness::Backend::Production;

#[path = "pages.rs"]
mod pages;
