//! The one error shape of validation: which field, and why; and how an error quotes what
//! a caller sent (briefly: an answer never echoes a long input back whole).

use serde::Serialize;

/// A caller's mistake in one field: `field` is the JSON path (`data.operational`,
/// `subject`, `time`), `reason` says what is wrong in words a reporter can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    /// Both parts may quote the caller's input (a key, a value): they are kept [`brief`].
    pub fn new(field: &str, reason: &str) -> Self {
        FieldError { field: brief(field, MAX_FIELD_CHARS), reason: brief(reason, MAX_REASON_CHARS) }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// How many characters of one quoted caller value an error repeats.
pub const QUOTE_CHARS: usize = 40;
/// The longest field path an error names; a longer one is a caller's key, cut short.
const MAX_FIELD_CHARS: usize = 80;
/// The longest reason; ours stay well below it (the longest lists a vocabulary), so only
/// a reason quoting some input unquoted reaches it.
pub const MAX_REASON_CHARS: usize = 600;
const ELLIPSIS: char = '…';

/// `message` with every quoted part (`"…"`, with its escapes, or `` `…` ``) longer than
/// [`QUOTE_CHARS`] cut to that many characters and `…`, and the whole cut to `max`
/// characters. Quoted parts are where our messages and serde's repeat a caller's value.
pub fn brief(message: &str, max: usize) -> String {
    let mut out = String::with_capacity(message.len().min(max + 8));
    let mut chars = message.chars();
    let mut written = 0;
    while let Some(c) = chars.next() {
        if written >= max {
            out.push(ELLIPSIS);
            return out;
        }
        out.push(c);
        written += 1;
        if c != '"' && c != '`' {
            continue;
        }
        // Inside a quote: keep its first QUOTE_CHARS characters, skip the rest to its end.
        let (mut kept, mut escaped) = (0, false);
        for q in chars.by_ref() {
            let closes = q == c && !escaped;
            escaped = c == '"' && q == '\\' && !escaped;
            if closes {
                if kept > QUOTE_CHARS {
                    out.push(ELLIPSIS);
                }
                out.push(q);
                written += 1;
                break;
            }
            kept += 1;
            if kept <= QUOTE_CHARS {
                out.push(q);
                written += 1;
            }
        }
    }
    out
}

/// A caller's value as an error names it: quoted, at most [`QUOTE_CHARS`] characters.
pub fn quote(value: &str) -> String {
    brief(&format!("{value:?}"), MAX_REASON_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_quoted_value_is_cut_and_the_words_around_it_kept() {
        let long = "x".repeat(10_000);
        let reason = brief(&format!("unknown variant `{long}`, expected `a` or `b`"), MAX_REASON_CHARS);
        assert_eq!(reason, format!("unknown variant `{}…`, expected `a` or `b`", "x".repeat(QUOTE_CHARS)));
        let quoted = quote(&format!("a\"b{long}"));
        assert_eq!(quoted, format!("\"a\\\"b{}…\"", "x".repeat(QUOTE_CHARS - 4)));
        assert_eq!(brief("short \"and\" `plain`", MAX_REASON_CHARS), "short \"and\" `plain`");
    }

    #[test]
    fn an_unquoted_long_input_is_cut_as_a_whole() {
        let error = FieldError::new(&format!("data.{}", "k".repeat(10_000)), &"9".repeat(10_000));
        assert_eq!(error.field.chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(error.reason.chars().count(), MAX_REASON_CHARS + 1);
        assert!(error.field.starts_with("data.kkk") && error.field.ends_with('…'));
    }
}
