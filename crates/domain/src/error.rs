//! The one error shape of validation: which field, a stable code saying what is wrong (with
//! the few values its message needs), and the reason in English words a reporter can act
//! on; the catalogue of every code's message in Dutch and English, declared once; and how
//! an error quotes what a caller sent (briefly: an answer never echoes a long input back
//! whole).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::vocab::Lang;

/// Declares the error codes: `Variant = "wire" (param, ...), nl: "…", en: "…";`. The
/// messages may name the params as `{param}`; a test holds every message to exactly the
/// params its code carries, and [`FieldError::with`] refuses (in tests) a param the code
/// does not document.
macro_rules! error_codes {
    ($(#[$meta:meta])* $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $wire:literal ($($param:ident),*), nl: $nl:literal, en: $en:literal;)+
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant,)+
        }
        impl $name {
            /// Every code, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The stable wire name.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }
            pub fn parse(wire: &str) -> Option<Self> {
                match wire { $($wire => Some(Self::$variant),)+ _ => None }
            }
            /// The names of the params an error of this code carries.
            pub const fn params(self) -> &'static [&'static str] {
                match self { $(Self::$variant => &[$(stringify!($param)),*]),+ }
            }
            /// The message shown to a reporter, with `{param}` placeholders.
            pub const fn message(self, lang: Lang) -> &'static str {
                match (self, lang) { $((Self::$variant, Lang::Nl) => $nl, (Self::$variant, Lang::En) => $en),+ }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

error_codes! {
    /// What is wrong with a field, as a stable snake_case code: the page shows its message
    /// from the catalogue, in the reader's language, with the error's params filled in.
    ErrorCode {
        Required = "required" (), nl: "Vul dit veld in.", en: "Fill in this field.";
        Negative = "negative" (), nl: "Mag niet negatief zijn: vul 0 of meer in.", en: "Cannot be negative: enter 0 or more.";
        NotWhole = "not_whole" (), nl: "Vul een heel getal in.", en: "Enter a whole number.";
        TooLarge = "too_large" (max), nl: "Is groter dan het maximum van {max}.", en: "Is more than the maximum of {max}.";
        NotAPercent = "not_a_percent" (), nl: "Vul een heel percentage van 0 tot 100 in.", en: "Enter a whole percentage from 0 to 100.";
        NotANumber = "not_a_number" (), nl: "Vul een getal in.", en: "Enter a number.";
        NotAString = "not_a_string" (), nl: "Moet tekst zijn.", en: "Must be text.";
        NotABoolean = "not_a_boolean" (), nl: "Moet ja of nee (true of false) zijn.", en: "Must be yes or no (true or false).";
        NotAList = "not_a_list" (), nl: "Moet een lijst zijn.", en: "Must be a list.";
        NotAnObject = "not_an_object" (), nl: "Moet een JSON-object zijn.", en: "Must be a JSON object.";
        MoreThanPhysical = "more_than_physical" (), nl: "Is meer dan het aantal fysieke bedden.", en: "Is more than the physical beds.";
        MoreThanOccupied = "more_than_occupied" (), nl: "Is meer dan het aantal bezette bedden.", en: "Is more than the occupied beds.";
        MoreThanClients = "more_than_clients" (), nl: "Is meer dan het aantal cliënten.", en: "Is more than the number of clients.";
        CauseOnlyForIct = "cause_only_for_ict" (), nl: "Een oorzaak hoort alleen bij ICT-voorzieningen.", en: "A cause is given for ICT utilities only.";
        NotInVocabulary = "not_in_vocabulary" (allowed), nl: "Is geen toegestane keuze; kies uit: {allowed}.", en: "Is not an allowed choice; choose from: {allowed}.";
        TooLong = "too_long" (max), nl: "Is te lang: hoogstens {max} tekens.", en: "Is too long: at most {max} characters.";
        TextLength = "text_length" (min, max), nl: "Vul {min} tot {max} tekens in.", en: "Enter {min} to {max} characters.";
        ControlCharacters = "control_characters" (), nl: "Bevat stuurtekens; haal ze weg.", en: "Contains control characters; remove them.";
        LooksLikeBsn = "looks_like_bsn" (), nl: "Lijkt een burgerservicenummer (BSN) te bevatten. Meld alleen aantallen, nooit patiëntgegevens.", en: "Looks like it contains a citizen service number (BSN). Report counts only, never patient data.";
        NotAnIdentifier = "not_an_identifier" (), nl: "Gebruik 1 tot 64 kleine letters, cijfers en streepjes.", en: "Use 1 to 64 lowercase letters, digits and hyphens.";
        NotARegion = "not_a_region" (), nl: "Is geen veiligheidsregio (VR01 tot en met VR25).", en: "Is not a safety region (VR01 to VR25).";
        NotASource = "not_a_source" (), nl: "Moet een locatie (/locations/…) of een regio (/regions/VRxx) noemen.", en: "Must name a location (/locations/…) or a region (/regions/VRxx).";
        SourceMustBeLocation = "source_must_be_location" (), nl: "Dit soort melding gaat over een locatie: /locations/….", en: "This event type is about a location: /locations/….";
        SourceMustBeRegion = "source_must_be_region" (), nl: "Dit soort melding geldt voor een hele regio: /regions/VRxx.", en: "This event type is region-wide: /regions/VRxx.";
        SourceMismatch = "source_mismatch" (expected), nl: "Moet {expected} zijn, de locatie van het onderwerp.", en: "Must be {expected}, the location of the subject.";
        NotRegistered = "not_registered" (), nl: "Deze locatie is (nog) niet geregistreerd; de GHOR registreert locaties eerst.", en: "This location is not registered (yet); the GHOR registers locations first.";
        OutsideNetherlands = "outside_netherlands" (), nl: "Ligt buiten Nederland.", en: "Lies outside the Netherlands.";
        OutOfRange = "out_of_range" (min, max), nl: "Moet tussen {min} en {max} liggen.", en: "Must lie between {min} and {max}.";
        TooMany = "too_many" (max), nl: "Te veel: hoogstens {max}.", en: "Too many: at most {max}.";
        InTheFuture = "in_the_future" (minutes), nl: "Ligt {minutes} minuten na de klok van de server. Controleer de klok van uw computer; vaak is lokale tijd als UTC verstuurd.", en: "Lies {minutes} minutes after the server's clock. Check your computer's clock; often local time was sent as UTC.";
        NotATimestamp = "not_a_timestamp" (), nl: "Is geen tijdstip met tijdzone, zoals 2026-11-22T14:05:00Z.", en: "Is not a timestamp with offset, such as 2026-11-22T14:05:00Z.";
        NotAUuid = "not_a_uuid" (), nl: "Moet een UUID zijn (bij voorkeur UUIDv7).", en: "Must be a UUID (UUIDv7 preferred).";
        WrongSpecversion = "wrong_specversion" (), nl: "Moet \"1.0\" zijn (CloudEvents 1.0).", en: "Must be \"1.0\" (CloudEvents 1.0).";
        WrongContentType = "wrong_content_type" (), nl: "Moet \"application/json\" zijn.", en: "Must be \"application/json\".";
        UnsupportedMediaType = "unsupported_media_type" (), nl: "Stuur de gegevens als application/json.", en: "Send the body as application/json.";
        UnknownField = "unknown_field" (), nl: "Is geen veld van deze melding (patiëntgegevens worden nooit aangenomen).", en: "Is not a field of this event type (no patient-level data is accepted).";
        UnknownAttribute = "unknown_attribute" (allowed), nl: "Is geen attribuut dat ghor aanneemt; gebruik: {allowed}.", en: "Is not an attribute ghor accepts; use: {allowed}.";
        SetByServer = "set_by_server" (), nl: "Wordt door de server ingevuld; laat dit weg.", en: "Is set by the server; leave it out.";
        DuplicateKey = "duplicate_key" (), nl: "Staat meer dan eens in hetzelfde object; noem elk veld één keer.", en: "Appears more than once in the same object; send each key once.";
        NotJson = "not_json" (), nl: "Is geen geldige JSON.", en: "Is not valid JSON.";
        NotXml = "not_xml" (), nl: "Is geen geldig XML-document (een DOCTYPE wordt niet aangenomen).", en: "Is not a well-formed XML document (no DOCTYPE is accepted).";
        UnknownEventType = "unknown_event_type" (), nl: "Is geen soort melding die ghor kent.", en: "Is not an event type ghor knows.";
        NewerVersion = "newer_version" (), nl: "Is een nieuwere versie dan deze server kent; stuur versie 1.", en: "Is a newer version than this server knows; send version 1.";
        NoKey = "no_key" (), nl: "Dit soort melding heeft geen keuze; laat subject weg.", en: "This event type has no key; leave subject out.";
        AskedTwice = "asked_twice" (), nl: "Deze dimensie wordt al gevraagd; noem elke dimensie één keer.", en: "This dimension is asked for already; name each dimension once.";
        Conflict = "conflict" (), nl: "Dit id is al opgeslagen met andere inhoud; een correctie krijgt een nieuw id.", en: "This id is already stored with other content; a correction gets a new id.";
        Forbidden = "forbidden" (), nl: "Niet toegestaan voor uw rol.", en: "Not allowed for your role.";
        RegionsRequired = "regions_required" (), nl: "Noem de regio's (VR01 tot en met VR25), of vraag uitdrukkelijk om een landelijk token.", en: "Name the regions (VR01 to VR25), or ask for a national token explicitly.";
        NationalWithRegions = "national_with_regions" (), nl: "Een landelijk token geldt voor alle regio's; noem er geen.", en: "A national token covers every region; name none.";
        OrganisationRequired = "organisation_required" (), nl: "Dit soort token meldt voor één organisatie; noem die.", en: "This kind of token reports for one organisation; name it.";
        OrganisationNotAllowed = "organisation_not_allowed" (), nl: "Dit soort token hoort niet bij een organisatie.", en: "This kind of token belongs to no organisation.";
        ScopeBound = "scope_bound" (scope), nl: "Dit soort token werkt alleen in de omgeving {scope}.", en: "This kind of token works in the {scope} scope only.";
        InvalidStamp = "invalid_stamp" (), nl: "Een opgeslagen melding heeft een geldig serverstempel.", en: "A stored event carries a valid server stamp.";
        Malformed = "malformed" (), nl: "Wordt niet geaccepteerd.", en: "Is not accepted.";
        NotAnEmail = "not_an_email" (max), nl: "Is geen e-mailadres zoals naam@instelling.nl (hoogstens {max} tekens, zonder spaties).", en: "Is not an email address such as name@institution.nl (at most {max} characters, no spaces).";
        NotAWebhookUrl = "not_a_webhook_url" (max), nl: "Is geen http(s)-adres van hoogstens {max} tekens.", en: "Is not an http(s) URL of at most {max} characters.";
        NotASecret = "not_a_secret" (min, max), nl: "Is geen geheim in de vorm whsec_ en base64 van {min} tot {max} bytes.", en: "Is not a secret of the form whsec_ and the base64 of {min} to {max} bytes.";
    }
}

/// The values an error's message names, by param name.
pub type Params = Map<String, Value>;

/// A caller's mistake in one field: `field` is the JSON path (`data.operational`,
/// `subject`, `time`), `code` what is wrong (the page words it from the catalogue with
/// `params`), `reason` the same in English words a reporter can act on (for API callers and
/// logs; it may quote what was sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
    pub params: Params,
    pub reason: String,
}

impl FieldError {
    /// Both the field and the reason may quote the caller's input (a key, a value): they
    /// are kept [`brief`].
    pub fn new(field: &str, code: ErrorCode, reason: &str) -> Self {
        FieldError {
            field: brief(field, MAX_FIELD_CHARS),
            code,
            params: Params::new(),
            reason: brief(reason, MAX_REASON_CHARS),
        }
    }

    /// Adds a param its code's message names; only params the code documents (checked in
    /// debug builds, so every test that makes such an error checks it).
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        debug_assert!(self.code.params().contains(&name), "{} documents no param {name}", self.code);
        self.params.insert(name.to_owned(), value.into());
        self
    }

    /// What serde said about `field`: its message (without the position serde_json adds)
    /// mapped to a code. A value type's own refusal arrives as written by
    /// [`Refusal::to_serde`] and keeps its code; serde's own messages are recognised by
    /// their fixed openings (serde words them in English and offers no kind to match on).
    pub fn from_serde(field: &str, message: &str) -> Self {
        let message = message.split(" at line ").next().unwrap_or(message);
        if let Some(refusal) = Refusal::from_serde(message) {
            return refusal.at(field);
        }
        let expected = message.rsplit_once(", expected ").map_or("", |(_, e)| e);
        let (code, reason) = if message.starts_with("missing field") {
            (ErrorCode::Required, "is required")
        } else if message.starts_with("unknown field") {
            (ErrorCode::UnknownField, "is not a field of this event type (no patient-level data is accepted)")
        } else if message.starts_with("duplicate field") {
            (ErrorCode::DuplicateKey, "appears more than once in the same object; send each key once")
        } else if message.starts_with("unknown variant") {
            let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
            let e = FieldError::new(field, ErrorCode::NotInVocabulary, message);
            return e.with("allowed", allowed);
        } else if message.starts_with("invalid type") {
            let code = if ["u8", "u16", "u32", "u64", "usize", "i64", "f64", "number", "integer"]
                .iter()
                .any(|t| expected.contains(t))
            {
                ErrorCode::NotANumber
            } else if expected.contains("bool") {
                ErrorCode::NotABoolean
            } else if expected.contains("string") {
                ErrorCode::NotAString
            } else if expected.contains("sequence") {
                ErrorCode::NotAList
            } else if expected.contains("struct") || expected.contains("map") {
                ErrorCode::NotAnObject
            } else {
                ErrorCode::Malformed
            };
            (code, message)
        } else {
            (ErrorCode::Malformed, message)
        };
        FieldError::new(field, code, reason)
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

/// Why a value was refused, before it is known which field it was given for: what a
/// value type's parse answers. [`Refusal::at`] names the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub params: Params,
    pub reason: String,
}

/// Opens and closes the code of a refusal inside a serde message (an ASCII record
/// separator, which no message of serde's or ours contains).
const MARK: char = '\u{1e}';

impl Refusal {
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        Refusal { code, params: Params::new(), reason: reason.into() }
    }

    /// As [`FieldError::with`].
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        debug_assert!(self.code.params().contains(&name), "{} documents no param {name}", self.code);
        self.params.insert(name.to_owned(), value.into());
        self
    }

    /// The refusal of the value given for `field`.
    pub fn at(self, field: &str) -> FieldError {
        let mut e = FieldError::new(field, self.code, &self.reason);
        e.params = self.params;
        e
    }

    /// The refusal as a serde error: serde carries only a message, so the code and params
    /// travel inside it, marked, for [`FieldError::from_serde`] to read back.
    pub fn to_serde<E: serde::de::Error>(&self) -> E {
        let code = serde_json::json!({ "code": self.code, "params": self.params });
        E::custom(format_args!("{MARK}{code}{MARK}{}", self.reason))
    }

    fn from_serde(message: &str) -> Option<Refusal> {
        let (code, reason) = message.strip_prefix(MARK)?.split_once(MARK)?;
        #[derive(Deserialize)]
        struct Marked {
            code: ErrorCode,
            params: Params,
        }
        let marked: Marked = serde_json::from_str(code).ok()?;
        Some(Refusal { code: marked.code, params: marked.params, reason: reason.to_owned() })
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Refusal {}

impl From<Refusal> for String {
    fn from(r: Refusal) -> String {
        r.reason
    }
}

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

    /// The `{name}` placeholders of a message.
    fn placeholders(message: &str) -> std::collections::BTreeSet<&str> {
        message.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect()
    }

    #[test]
    fn every_code_has_both_messages_naming_exactly_its_params() {
        let mut wires = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(wires.insert(code.as_str()), "{code} declared twice");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{code} is not snake_case");
            let params: std::collections::BTreeSet<&str> = code.params().iter().copied().collect();
            for lang in [Lang::Nl, Lang::En] {
                let message = code.message(lang);
                assert!(message.ends_with('.') && message.len() > 5, "{code} {lang:?}: {message:?}");
                assert_eq!(placeholders(message), params, "{code} {lang:?}: the placeholders are its params");
            }
            assert_ne!(code.message(Lang::Nl), code.message(Lang::En), "{code}: the Dutch text is English");
        }
    }

    /// Every error a caller can cause with one event, and the code it carries.
    #[test]
    fn refusals_carry_their_code_and_exactly_the_params_it_documents() {
        use serde_json::json;
        let beds = |data: Value| {
            json!({ "specversion": "1.0", "source": "/locations/umcg", "type": "nl.ghor.beds.reported.v1",
                    "subject": "ic", "data": data })
        };
        let event = |ty: &str, subject: Option<&str>, data: Value| {
            let mut e = json!({ "specversion": "1.0", "source": "/locations/umcg", "type": ty, "data": data });
            if let Some(s) = subject {
                e["subject"] = json!(s);
            }
            e
        };
        let cases = [
            (beds(json!({ "operational": 5, "occupied": -1 })), "data.occupied", ErrorCode::Negative),
            (beds(json!({ "operational": 5.5, "occupied": 1 })), "data.operational", ErrorCode::NotWhole),
            (beds(json!({ "operational": 100_001, "occupied": 1 })), "data.operational", ErrorCode::TooLarge),
            (beds(json!({ "operational": "5", "occupied": 1 })), "data.operational", ErrorCode::NotANumber),
            (beds(json!({ "operational": 5 })), "data.occupied", ErrorCode::Required),
            (beds(json!({ "operational": 5, "occupied": 1, "bsn": 1 })), "data.bsn", ErrorCode::UnknownField),
            (
                beds(json!({ "operational": 5, "occupied": 1, "physical": 4 })),
                "data.operational",
                ErrorCode::MoreThanPhysical,
            ),
            (
                beds(json!({ "operational": 5, "occupied": 1, "occupied_infectious": 2 })),
                "data.occupied_infectious",
                ErrorCode::MoreThanOccupied,
            ),
            (beds(json!([])), "data", ErrorCode::NotAnObject),
            (
                event(
                    "nl.ghor.staffing.reported.v1",
                    Some("arts"),
                    json!({ "unfilled_shifts_24h": 1, "absence_percent": 101 }),
                ),
                "data.absence_percent",
                ErrorCode::NotAPercent,
            ),
            (
                event(
                    "nl.ghor.staffing.reported.v1",
                    Some("arts"),
                    json!({ "unfilled_shifts_24h": 1, "critical": "ja" }),
                ),
                "data.critical",
                ErrorCode::NotABoolean,
            ),
            (
                event(
                    "nl.ghor.home_care.reported.v1",
                    None,
                    json!({ "clients": 1, "electricity_dependent": 2, "visits_at_risk": 0 }),
                ),
                "data.electricity_dependent",
                ErrorCode::MoreThanClients,
            ),
            (
                event(
                    "nl.ghor.utility.reported.v1",
                    Some("stroom"),
                    json!({ "status": "normaal", "cause": "storing" }),
                ),
                "data.cause",
                ErrorCode::CauseOnlyForIct,
            ),
            (
                event("nl.ghor.facility.reported.v1", None, json!({ "status": "verdwenen" })),
                "data.status",
                ErrorCode::NotInVocabulary,
            ),
            (event("nl.ghor.beds.reported.v1", Some("zolder"), json!({})), "subject", ErrorCode::NotInVocabulary),
            (event("nl.ghor.beds.reported.v1", None, json!({})), "subject", ErrorCode::Required),
            (event("nl.ghor.note.reported.v1", Some("x"), json!({ "text": "a" })), "subject", ErrorCode::NoKey),
            (
                event("nl.ghor.note.reported.v1", None, json!({ "text": "x".repeat(1001) })),
                "data.text",
                ErrorCode::TooLong,
            ),
            (
                event("nl.ghor.note.reported.v1", None, json!({ "text": "patiënt 111222333" })),
                "data.text",
                ErrorCode::LooksLikeBsn,
            ),
            (
                event("nl.ghor.note.reported.v1", None, json!({ "text": "a\u{7}" })),
                "data.text",
                ErrorCode::ControlCharacters,
            ),
            (event("nl.ghor.beds.reported.v9", Some("ic"), json!({})), "type", ErrorCode::NewerVersion),
            (event("nl.ghor.bedden.v1", Some("ic"), json!({})), "type", ErrorCode::UnknownEventType),
            (event("nl.ghor.help_request.opened.v1", Some("Hv 1"), json!({})), "subject", ErrorCode::NotAnIdentifier),
            (
                event("nl.ghor.threshold.set.v1", Some("beds_free_critical"), json!({ "value": 1 })),
                "source",
                ErrorCode::SourceMustBeRegion,
            ),
            (json!({ "specversion": "1.0", "source": "/x", "type": "t", "data": {} }), "source", ErrorCode::NotASource),
            (
                json!({ "specversion": "1.0", "source": "/regions/VR26", "type": "t", "data": {} }),
                "source",
                ErrorCode::NotARegion,
            ),
            (json!({ "specversion": "2.0" }), "specversion", ErrorCode::WrongSpecversion),
            (json!({ "specversion": "1.0", "region": "VR01" }), "region", ErrorCode::SetByServer),
            (json!({ "specversion": "1.0", "priority": 1 }), "priority", ErrorCode::UnknownAttribute),
            (json!({ "specversion": "1.0", "source": "/locations/umcg", "type": "t" }), "data", ErrorCode::Required),
            (
                json!({ "specversion": "1.0", "source": "/locations/umcg", "type": "t", "data": {}, "bron": "fax" }),
                "bron",
                ErrorCode::NotInVocabulary,
            ),
            (
                json!({ "specversion": "1.0", "source": "/locations/umcg", "type": "t", "data": {}, "time": "gisteren" }),
                "time",
                ErrorCode::NotATimestamp,
            ),
            (json!({ "specversion": "1.0", "id": "één" }), "id", ErrorCode::NotAUuid),
        ];
        for (body, field, code) in cases {
            let error = crate::Submission::parse(body.clone()).err().unwrap_or_else(|| panic!("accepted: {body}"));
            assert_eq!((error.field.as_str(), error.code), (field, code), "{body}: {error:?}");
            let params: Vec<&str> = error.params.keys().map(String::as_str).collect();
            let mut documented = code.params().to_vec();
            documented.sort_unstable();
            assert_eq!(params, documented, "{body}: the params of {code}");
            assert!(!error.reason.contains(MARK), "{body}: the mark leaked into the reason: {error:?}");
        }
    }

    #[test]
    fn an_unquoted_long_input_is_cut_as_a_whole() {
        let error = FieldError::new(&format!("data.{}", "k".repeat(10_000)), ErrorCode::Malformed, &"9".repeat(10_000));
        assert_eq!(error.field.chars().count(), MAX_FIELD_CHARS + 1);
        assert_eq!(error.reason.chars().count(), MAX_REASON_CHARS + 1);
        assert!(error.field.starts_with("data.kkk") && error.field.ends_with('…'));
    }
}
