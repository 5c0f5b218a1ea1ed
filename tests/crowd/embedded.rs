//! The crowd on the embedded backbone.

const BACKEND: crate::harness::Backend = crate::harness::Backend::Embedded;

#[path = "pages.rs"]
mod pages;
