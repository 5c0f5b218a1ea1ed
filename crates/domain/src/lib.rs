//! ghor's domain: the event contract, validation into types that can only hold valid
//! values, and the one pure fold into the common operational picture. No async, no I/O,
//! no clock: the projector, the gateway, replay and the tests all use this fold.
//!
//! # Layout
//! - [`vocab`]: the closed vocabularies of §3 with Dutch and English labels.
//! - [`values`]: bounded counts and texts, identifiers, region codes.
//! - [`payload`]: the typed `data` of every event type and its wire mapping.
//! - [`area`]: an area (regions, municipalities, a circle or polygon, categories and
//!   types) and which locations it holds.
//! - [`event_type`]: `event_types!`, one declaration per event type, and what a key or
//!   a data type brings to it; the table itself is in [`payload`].
//! - [`event`]: the CloudEvents envelope: strict parse, server stamp, stored form.
//! - [`fuzzing`]: the properties the fuzz targets in `fuzz/` check.
//! - [`json`]: reading a caller's JSON, refusing a key repeated in one object.
//! - [`merkle`]: RFC 9162 Merkle trees over the log: roots, inclusion and consistency
//!   proofs (tamper evidence).
//! - [`patch`]: JSON Merge Patch (RFC 7396): the diff between two views, applying and
//!   composing patches.
//! - [`picture`]: [`Picture::apply`], the fold.
//! - [`registry`]: the registry of locations as CSV, and the events that register it.
//! - [`warm`]: the warm phase in the fold: uitvragen and handelingsperspectieven, whom
//!   they address, who answered, was called, read.
//! - [`condition`]: the alert conditions one may subscribe to, and which of them an
//!   event starts in a region.
//! - [`rules`]: what a value means (state as label and colour), from thresholds.
//! - [`view`]: a region's view, totals and alerts, and staleness at a given `now`.
//! - [`schema`]: JSON Schemas generated into `proto/`.
//! - [`describe`]: the domain as data for the page: dimensions, their event types and
//!   fields, the error catalogue, the states.

pub mod area;
pub mod condition;
pub mod describe;
pub mod error;
pub mod event;
pub mod event_type;
pub mod fuzzing;
pub mod json;
pub mod merkle;
pub mod patch;
pub mod payload;
pub mod picture;
pub mod registry;
pub mod rules;
pub mod schema;
pub mod values;
pub mod view;
pub mod vocab;
pub mod warm;

pub use error::FieldError;
pub use event::{EncodeError, Event, Source, Stamp, Submission};
pub use payload::{DecodeError, EventType, Payload, Status};
pub use picture::Picture;
pub use values::{RegionCode, Slug};
pub use view::{RegionView, Views};
pub use vocab::{Dimension, Role, Scope, State};
