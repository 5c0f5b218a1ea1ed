//! The one error shape of validation: which field, and why.

use serde::Serialize;

/// A caller's mistake in one field: `field` is the JSON path (`data.operational`,
/// `subject`, `time`), `reason` says what is wrong in words a reporter can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: &str, reason: &str) -> Self {
        FieldError { field: field.to_owned(), reason: reason.to_owned() }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}
