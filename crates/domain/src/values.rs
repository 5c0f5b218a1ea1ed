//! Value types that can only hold valid values: bounded counts and texts, slugs, region
//! codes. Each parses from its wire form with a message that says what was wrong.

use std::borrow::Cow;
use std::sync::OnceLock;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{ErrorCode, Refusal};

/// Deserialises a value type from its wire form through its `TryFrom`, keeping the code
/// of a refusal (serde's own `try_from` attribute would keep only its words).
macro_rules! deserialize_via {
    ($t:ty, $wire:ty $(, const $c:ident)?) => {
        impl<'de $(, const $c: usize)?> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let wire = <$wire>::deserialize(d)?;
                <$t>::try_from(wire).map_err(|r: Refusal| r.to_serde())
            }
        }
    };
}

/// Largest count ghor accepts for any counted thing: beyond it a value is a typo, not a crisis.
pub const MAX_COUNT: u32 = 100_000;

/// A non-negative, bounded count (beds, shifts, clients, units of stock).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
#[serde(into = "u32")]
pub struct Count(u32);

deserialize_via!(Count, serde_json::Number);

impl Count {
    pub const ZERO: Count = Count(0);
    pub fn new(value: u32) -> Result<Self, Refusal> {
        if value > MAX_COUNT {
            return Err(too_large(value));
        }
        Ok(Count(value))
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

fn too_large(value: impl std::fmt::Display) -> Refusal {
    Refusal::new(ErrorCode::TooLarge, format!("{value} is more than the largest accepted count ({MAX_COUNT})"))
        .with("max", MAX_COUNT)
}

impl TryFrom<serde_json::Number> for Count {
    type Error = Refusal;
    fn try_from(n: serde_json::Number) -> Result<Self, Refusal> {
        match whole(&n) {
            Some(v) if v < 0 => {
                Err(Refusal::new(ErrorCode::Negative, format!("{n} is negative; counts are 0 or more")))
            }
            Some(v) => u32::try_from(v).map_err(|_| too_large(&n)).and_then(Count::new),
            None => Err(not_whole(&n)),
        }
    }
}

/// A JSON number's value when it is whole, in any spelling JSON Schema's `integer` allows:
/// `42`, `42.0`, `1e2` and `-0` all are. Beyond `i128` it saturates, which every bound refuses.
pub fn whole(n: &serde_json::Number) -> Option<i128> {
    if let Some(v) = n.as_i64() {
        return Some(v.into());
    }
    if let Some(v) = n.as_u64() {
        return Some(v.into());
    }
    n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i128)
}

fn not_whole(n: &serde_json::Number) -> Refusal {
    Refusal::new(ErrorCode::NotWhole, format!("{n} is not a whole number"))
}

/// Deserialises a plain integer field (`#[serde(deserialize_with = ...)]`) the way its
/// schema's `integer` reads: any whole number, in any spelling, that fits the field.
pub fn whole_number<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    let v = whole(&n).ok_or_else(|| not_whole(&n).to_serde())?;
    T::try_from(v)
        .map_err(|_| Refusal::new(ErrorCode::Malformed, format!("{n} is outside what this field holds")).to_serde())
}

impl From<Count> for u32 {
    fn from(c: Count) -> u32 {
        c.0
    }
}

impl JsonSchema for Count {
    fn schema_name() -> Cow<'static, str> {
        "Count".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": MAX_COUNT })
    }
}

/// A percentage, 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "u32")]
pub struct Percent(u32);

deserialize_via!(Percent, serde_json::Number);

impl Percent {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<serde_json::Number> for Percent {
    type Error = Refusal;
    fn try_from(n: serde_json::Number) -> Result<Self, Refusal> {
        match whole(&n) {
            Some(v @ 0..=100) => Ok(Percent(v as u32)),
            _ => Err(Refusal::new(ErrorCode::NotAPercent, format!("{n} is not a whole percentage from 0 to 100"))),
        }
    }
}

impl From<Percent> for u32 {
    fn from(p: Percent) -> u32 {
        p.0
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "maximum": 100 })
    }
}

/// A bounded, single-purpose text. `MAX` is in characters. Refuses control characters and
/// anything that looks like a citizen service number: ghor never holds patient data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Text<const MAX: usize>(String);

deserialize_via!(Text<MAX>, String, const MAX);

/// A short reason or label.
pub type ShortText = Text<200>;
/// A situational note or help request text.
pub type LongText = Text<1000>;

impl<const MAX: usize> Text<MAX> {
    /// The most characters this text holds.
    pub const MAX: usize = MAX;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = Refusal;
    fn try_from(s: String) -> Result<Self, Refusal> {
        let len = s.chars().count();
        if len > MAX {
            let reason = format!("is {len} characters long; at most {MAX} are accepted");
            return Err(Refusal::new(ErrorCode::TooLong, reason).with("max", MAX));
        }
        if s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
            return Err(Refusal::new(ErrorCode::ControlCharacters, "contains control characters"));
        }
        if contains_bsn(&s) {
            return Err(Refusal::new(
                ErrorCode::LooksLikeBsn,
                "looks like it contains a citizen service number (BSN); ghor takes counts only, never patient data",
            ));
        }
        Ok(Text(s))
    }
}

impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}

impl<const MAX: usize> JsonSchema for Text<MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Text{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "maxLength": MAX })
    }
}

/// True when `s` holds a run of exactly nine digits that passes the BSN eleven-test.
fn contains_bsn(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_digit()).any(|run| {
        run.len() == 9 && {
            let d: Vec<i64> = run.bytes().map(|b| i64::from(b - b'0')).collect();
            let sum: i64 = (0..8).map(|i| d[i] * (9 - i as i64)).sum::<i64>() - d[8];
            sum != 0 && sum % 11 == 0
        }
    })
}

/// A stable identifier: lowercase letters, digits and hyphens, 1 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct Slug(String);

deserialize_via!(Slug, String);

impl Slug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = Refusal;
    fn try_from(s: String) -> Result<Self, Refusal> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-');
        if ok {
            Ok(Slug(s))
        } else {
            let reason = format!("{s:?} is not an identifier: use 1 to 64 lowercase letters, digits and hyphens");
            Err(Refusal::new(ErrorCode::NotAnIdentifier, reason))
        }
    }
}

impl TryFrom<&str> for Slug {
    type Error = Refusal;
    fn try_from(s: &str) -> Result<Self, Refusal> {
        Slug::try_from(s.to_owned())
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl JsonSchema for Slug {
    fn schema_name() -> Cow<'static, str> {
        "Slug".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": SLUG_PATTERN })
    }
}

/// What a slug may look like, as a JSON Schema pattern (the parse above says the same).
pub const SLUG_PATTERN: &str = "^[a-z0-9][a-z0-9-]{0,63}$";
/// What a region code may look like, as a JSON Schema pattern.
pub const REGION_PATTERN: &str = "^VR(0[1-9]|1[0-9]|2[0-5])$";

/// A safety region (veiligheidsregio), VR01 to VR25.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct RegionCode(u8);

deserialize_via!(RegionCode, String);

/// One safety region from the reference list.
#[derive(Debug, Clone, Serialize)]
pub struct RegionInfo {
    pub code: RegionCode,
    pub name: String,
    pub lat: f64,
    pub lon: f64,
}

/// The 25 safety regions, read once from the list the project ships.
pub fn regions() -> &'static [RegionInfo] {
    static REGIONS: OnceLock<Vec<RegionInfo>> = OnceLock::new();
    REGIONS.get_or_init(|| {
        include_str!("../data/regions.csv")
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| {
                let f: Vec<&str> = line.split(',').collect();
                RegionInfo {
                    code: RegionCode(i as u8 + 1),
                    name: f[1].to_owned(),
                    lat: f[2].parse().unwrap_or_default(),
                    lon: f[3].parse().unwrap_or_default(),
                }
            })
            .collect()
    })
}

impl RegionCode {
    pub fn info(self) -> &'static RegionInfo {
        &regions()[usize::from(self.0) - 1]
    }
}

impl TryFrom<&str> for RegionCode {
    type Error = Refusal;
    fn try_from(s: &str) -> Result<Self, Refusal> {
        s.strip_prefix("VR")
            .filter(|n| n.len() == 2)
            .and_then(|n| n.parse::<u8>().ok())
            .filter(|n| (1..=regions().len() as u8).contains(n))
            .map(RegionCode)
            .ok_or_else(|| {
                Refusal::new(ErrorCode::NotARegion, format!("{s:?} is not a safety region code (VR01 to VR25)"))
            })
    }
}

impl TryFrom<String> for RegionCode {
    type Error = Refusal;
    fn try_from(s: String) -> Result<Self, Refusal> {
        RegionCode::try_from(s.as_str())
    }
}

impl From<RegionCode> for String {
    fn from(r: RegionCode) -> String {
        r.to_string()
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VR{:02}", self.0)
    }
}

impl JsonSchema for RegionCode {
    fn schema_name() -> Cow<'static, str> {
        "RegionCode".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": REGION_PATTERN })
    }
}

/// Writes a number JSON can hold; NaN and the infinities are an error (serde_json would
/// write them as `null`, which reads back as no number at all).
pub fn finite<S: serde::Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    if !value.is_finite() {
        return Err(serde::ser::Error::custom(format!("{value} is not a number JSON can hold")));
    }
    s.serialize_f64(*value)
}

/// A latitude/longitude inside or near the Netherlands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    #[schemars(range(min = 50.0, max = 54.0))]
    #[serde(serialize_with = "finite")]
    pub lat: f64,
    #[schemars(range(min = 3.0, max = 7.5))]
    #[serde(serialize_with = "finite")]
    pub lon: f64,
}

impl Point {
    pub fn check(&self) -> Result<(), Refusal> {
        if !(50.0..=54.0).contains(&self.lat) || !(3.0..=7.5).contains(&self.lon) {
            let reason = format!("({}, {}) lies outside the Netherlands", self.lat, self.lon);
            return Err(Refusal::new(ErrorCode::OutsideNetherlands, reason));
        }
        Ok(())
    }
    /// Great-circle distance in kilometres.
    pub fn distance_km(&self, other: &Point) -> f64 {
        let (la1, la2) = (self.lat.to_radians(), other.lat.to_radians());
        let dla = la2 - la1;
        let dlo = (other.lon - self.lon).to_radians();
        let a = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        6371.0 * 2.0 * a.sqrt().asin()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_refuse_negative_absurd_and_fractional() {
        let n = |s: &str| serde_json::from_str::<Count>(s);
        assert_eq!(n("42").expect("accepted").get(), 42);
        assert!(n("-1").expect_err("refused").to_string().contains("negative"));
        assert!(n("100001").expect_err("refused").to_string().contains("largest"));
        assert!(n("1.5").expect_err("refused").to_string().contains("whole"));
        assert!(n("1e300").expect_err("refused").to_string().contains("largest"));
        assert!(n("-1e2").expect_err("refused").to_string().contains("negative"));
    }

    /// JSON Schema's `integer` is any number with no fraction, however it is written; the
    /// schemas say `integer`, so the API takes exactly those.
    #[test]
    fn whole_numbers_in_every_spelling_are_accepted() {
        for (text, value) in [("42", 42), ("42.0", 42), ("1e2", 100), ("1E+2", 100), ("-0", 0), ("-0.0", 0), ("0.0", 0)]
        {
            assert_eq!(serde_json::from_str::<Count>(text).expect(text).get(), value, "{text}");
        }
        assert_eq!(serde_json::from_str::<Percent>("1e2").expect("1e2").get(), 100);
        assert_eq!(serde_json::from_str::<Percent>("-0").expect("-0").get(), 0);
        assert!(serde_json::from_str::<Percent>("100.5").is_err());

        #[derive(Deserialize)]
        struct Small {
            #[serde(deserialize_with = "whole_number")]
            n: u8,
        }
        let small = |text: &str| serde_json::from_str::<Small>(&format!("{{\"n\": {text}}}")).map(|s| s.n);
        assert_eq!(small("3.0").expect("3.0"), 3);
        assert_eq!(small("-0").expect("-0"), 0);
        assert!(small("2.5").expect_err("refused").to_string().contains("not a whole number"));
        assert!(small("256").expect_err("refused").to_string().contains("outside"));
        assert!(small("-1").expect_err("refused").to_string().contains("outside"));
    }

    #[test]
    fn texts_refuse_bsn_and_overlong() {
        let bsn = ShortText::try_from("patiënt 111222333 ligt op IC".to_owned()).expect_err("refused");
        assert!(bsn.reason.contains("BSN") && bsn.code == ErrorCode::LooksLikeBsn);
        assert!(ShortText::try_from("x".repeat(201)).is_err());
        assert!(ShortText::try_from("stroom uit sinds 14:00, bel 0501234567".to_owned()).is_ok());
    }

    #[test]
    fn regions_are_the_twenty_five() {
        assert_eq!(regions().len(), 25);
        assert_eq!(RegionCode::try_from("VR02").expect("accepted").info().name, "Fryslân");
        assert!(RegionCode::try_from("VR26").is_err());
    }
}
