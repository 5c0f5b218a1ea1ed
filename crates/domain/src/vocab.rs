//! The domain's vocabulary: every wire value of §3 as a closed enum with its stable
//! snake_case wire name and its Dutch and English display labels.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Display language of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

/// Defines a closed vocabulary: `Name { Variant = "wire", "nl label", "en label"; ... }`.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal, $nl:literal, $en:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
        }
        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];
            /// The stable wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire),+ }
            }
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) { $((Self::$variant, Lang::Nl) => $nl, (Self::$variant, Lang::En) => $en),+ }
            }
            pub fn parse(wire: &str) -> Option<Self> {
                match wire { $($wire => Some(Self::$variant),)+ _ => None }
            }
            /// Wire names, for error messages.
            pub fn expected() -> String {
                [$($wire),+].join(", ")
            }
        }
        impl crate::event_type::Key for $name {
            fn from_subject(subject: Option<&str>) -> Result<Self, crate::payload::DecodeError> {
                crate::event_type::vocabulary_key(subject)
            }
            fn subject(&self) -> String {
                self.as_str().to_owned()
            }
            fn subject_schema(defs: &mut serde_json::Map<String, serde_json::Value>) -> serde_json::Value {
                crate::schema::part::<Self>(defs)
            }
            fn vocabulary() -> Option<(&'static str, Vec<Self>)> {
                Some((stringify!($name), Self::ALL.to_vec()))
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// Location categories (§3.1).
    Category {
        Acuut = "acuut", "Acute zorg", "Acute care";
        Care = "care", "Langdurige zorg", "Long-term care";
        Overig = "overig", "Overig", "Other";
    }
}

vocabulary! {
    /// Location types (§3.1); each belongs to one category.
    LocationType {
        Ziekenhuis = "ziekenhuis", "Ziekenhuis", "Hospital";
        Huisartsenpost = "huisartsenpost", "Huisartsenpost", "GP out-of-hours post";
        Ambulancedienst = "ambulancedienst", "Ambulancedienst", "Ambulance service";
        MeldkamerAmbulancezorg = "meldkamer_ambulancezorg", "Meldkamer ambulancezorg", "Ambulance dispatch";
        Ggd = "ggd", "GGD", "Public health service";
        Verloskundigen = "verloskundigen", "Verloskundigen", "Midwives";
        Slachtofferhulp = "slachtofferhulp", "Slachtofferhulp", "Victim support";
        RodeKruis = "rode_kruis", "Rode Kruis", "Red Cross";
        VerpleegVerzorgingshuis = "verpleeg_verzorgingshuis", "Verpleeg- en verzorgingshuis", "Nursing home";
        Gehandicaptenzorg = "gehandicaptenzorg", "Gehandicaptenzorg", "Disability care";
        Ggz = "ggz", "GGZ", "Mental health care";
        Thuiszorg = "thuiszorg", "Thuiszorg", "Home care";
        Gemeente = "gemeente", "Gemeente", "Municipality";
        Brandweer = "brandweer", "Brandweer", "Fire service";
        Politie = "politie", "Politie", "Police";
        Crisisbeheersing = "crisisbeheersing", "Crisisbeheersing", "Crisis management";
        Defensie = "defensie", "Defensie", "Defence";
        NetwerkAcuteZorg = "netwerk_acute_zorg", "Netwerk acute zorg", "Acute care network";
        ZorgVeiligheidshuis = "zorg_veiligheidshuis", "Zorg- en veiligheidshuis", "Care and safety house";
    }
}

impl LocationType {
    pub fn category(self) -> Category {
        use LocationType::*;
        match self {
            Ziekenhuis
            | Huisartsenpost
            | Ambulancedienst
            | MeldkamerAmbulancezorg
            | Ggd
            | Verloskundigen
            | Slachtofferhulp
            | RodeKruis => Category::Acuut,
            VerpleegVerzorgingshuis | Gehandicaptenzorg | Ggz | Thuiszorg => Category::Care,
            _ => Category::Overig,
        }
    }
}

vocabulary! {
    /// The status dimensions of §3.3: one cell per dimension on the dashboard.
    Dimension {
        Judgement = "judgement", "Eigen oordeel", "Own judgement";
        Beds = "beds", "Bedden", "Beds";
        TreatmentPlaces = "treatment_places", "Behandelplekken", "Treatment places";
        CasualtyReception = "casualty_reception", "Gewondenspreiding", "Casualty reception";
        AcuteFunction = "acute_function", "Acute functies", "Acute functions";
        Facility = "facility", "Gebouw", "Facility";
        Supplies = "supplies", "Voorraden", "Supplies";
        Utility = "utility", "Nuts en ICT", "Utilities and ICT";
        Staffing = "staffing", "Personeel", "Staffing";
        Disbalance = "disbalance", "Disbalansen", "Disbalances";
        SelfSufficiency = "self_sufficiency", "Zelfredzaamheid", "Self-sufficiency";
        HomeCare = "home_care", "Thuiszorg", "Home care";
        ReceivingCapacity = "receiving_capacity", "Opvangcapaciteit", "Receiving capacity";
        RelocationNeed = "relocation_need", "Verplaatsingsbehoefte", "Relocation need";
        HelpRequest = "help_request", "Hulpvragen", "Help requests";
        Note = "note", "Notitie", "Note";
        NotAffected = "not_affected", "Niet getroffen", "Not affected";
        Preparedness = "preparedness", "Voorbereiding", "Preparedness";
    }
}

vocabulary! {
    /// The state a value resolves to (§3.4): always shown as label and colour.
    State {
        Goed = "goed", "Goed", "Good";
        Aandacht = "aandacht", "Aandacht", "Attention";
        Kritiek = "kritiek", "Kritiek", "Critical";
        Onbekend = "onbekend", "Onbekend", "Unknown";
        Verouderd = "verouderd", "Verouderd", "Stale";
    }
}

impl Dimension {
    /// The label of one of this dimension's keys (`ic` of beds: "IC"), for those keyed by a
    /// vocabulary; `None` for the others (a help request's own id) and unknown keys.
    pub fn key_label(self, key: &str, lang: Lang) -> Option<&'static str> {
        match self {
            Dimension::Beds => BedType::parse(key).map(|k| k.label(lang)),
            Dimension::TreatmentPlaces => TreatmentPlace::parse(key).map(|k| k.label(lang)),
            Dimension::CasualtyReception => Triage::parse(key).map(|k| k.label(lang)),
            Dimension::AcuteFunction => AcuteFunction::parse(key).map(|k| k.label(lang)),
            Dimension::Supplies => Supply::parse(key).map(|k| k.label(lang)),
            Dimension::Utility => Utility::parse(key).map(|k| k.label(lang)),
            Dimension::Staffing => StaffRole::parse(key).map(|k| k.label(lang)),
            Dimension::Disbalance => Disbalance::parse(key).map(|k| k.label(lang)),
            Dimension::ReceivingCapacity | Dimension::RelocationNeed => CareType::parse(key).map(|k| k.label(lang)),
            _ => None,
        }
    }
}

impl State {
    /// Display colour; never shown without the label.
    pub fn colour(self) -> &'static str {
        match self {
            State::Goed => "#1b7f3b",
            State::Aandacht => "#b36b00",
            State::Kritiek => "#c62828",
            State::Onbekend => "#6b6b6b",
            State::Verouderd => "#5c4b8a",
        }
    }
    /// Severity order for "worst of": critical above attention above good.
    pub fn severity(self) -> u8 {
        match self {
            State::Goed => 0,
            State::Onbekend | State::Verouderd => 1,
            State::Aandacht => 2,
            State::Kritiek => 3,
        }
    }
}

vocabulary! {
    /// How an observation reached ghor (§3.3 provenance).
    Bron {
        Api = "api", "API", "API";
        Formulier = "formulier", "Formulier", "Form";
        Telefoon = "telefoon", "Telefoon", "Phone";
        Ovdg = "ovdg", "OvDG", "OvDG";
        Lcms = "lcms", "LCMS", "LCMS";
        Overig = "overig", "Overig", "Other";
    }
}

vocabulary! {
    /// The stream an event belongs to: the real picture or an exercise.
    Scope {
        Live = "live", "Live", "Live";
        Oefening = "oefening", "OEFENING", "EXERCISE";
    }
}

vocabulary! {
    /// Can the location deliver the care of the next 24 hours.
    Judgement {
        Ja = "ja", "Ja", "Yes";
        MetMoeite = "met_moeite", "Met moeite", "With difficulty";
        Nee = "nee", "Nee", "No";
    }
}

vocabulary! {
    BedType {
        Ic = "ic", "IC", "ICU";
        KinderIc = "kinder_ic", "Kinder-IC", "Paediatric ICU";
        Nicu = "nicu", "NICU", "NICU";
        Mc = "mc", "MC", "Medium care";
        Ccu = "ccu", "CCU", "CCU";
        Klinisch = "klinisch", "Klinisch", "Ward";
        Kinderafdeling = "kinderafdeling", "Kinderafdeling", "Paediatric ward";
        Isolatie = "isolatie", "Isolatie", "Isolation";
        Cohort = "cohort", "Cohort", "Cohort";
        Brandwonden = "brandwonden", "Brandwonden", "Burns";
        GgzCrisis = "ggz_crisis", "GGZ-crisis", "Mental health crisis";
        VvtSomatisch = "vvt_somatisch", "VVT somatisch", "Nursing somatic";
        VvtPg = "vvt_pg", "VVT PG", "Nursing psychogeriatric";
        Grz = "grz", "GRZ", "Geriatric rehabilitation";
        Hospice = "hospice", "Hospice", "Hospice";
        ElvHoog = "elv_hoog", "ELV hoog", "Short-stay high";
        ElvLaag = "elv_laag", "ELV laag", "Short-stay low";
        Kraam = "kraam", "Kraam", "Maternity";
    }
}

vocabulary! {
    TreatmentPlace {
        SehBehandelplek = "seh_behandelplek", "SEH-behandelplek", "ED treatment bay";
        Ok = "ok", "OK", "Operating room";
        Dialyse = "dialyse", "Dialyse", "Dialysis";
    }
}

vocabulary! {
    Triage {
        T1 = "t1", "T1", "T1";
        T2 = "t2", "T2", "T2";
        T3 = "t3", "T3", "T3";
    }
}

vocabulary! {
    AcuteFunction {
        Seh = "seh", "SEH", "Emergency department";
        KinderSeh = "kinder_seh", "Kinder-SEH", "Paediatric ED";
        Ic = "ic", "IC", "ICU";
        CcuPci = "ccu_pci", "CCU/PCI", "CCU/PCI";
        Cva = "cva", "CVA", "Stroke";
        AcuteVerloskunde = "acute_verloskunde", "Acute verloskunde", "Acute obstetrics";
    }
}

vocabulary! {
    FunctionStatus {
        Open = "open", "Open", "Open";
        Stop = "stop", "Stop", "Stopped";
        Gepland = "gepland", "Geplande stop", "Scheduled stop";
    }
}

vocabulary! {
    FacilityStatus {
        Normaal = "normaal", "Normaal", "Normal";
        DeelsGesloten = "deels_gesloten", "Deels gesloten", "Partly closed";
        EvacuatieVoorbereid = "evacuatie_voorbereid", "Evacuatie voorbereid", "Evacuation prepared";
        Ontruimd = "ontruimd", "Ontruimd", "Cleared";
        Evacuerend = "evacuerend", "Evacuerend", "Evacuating";
        Geevacueerd = "geevacueerd", "Geëvacueerd", "Evacuated";
        Terugkeer = "terugkeer", "Terugkeer", "Returning";
        BinnenBlijven = "binnen_blijven", "Binnen blijven", "Sheltering in place";
        Gesloten = "gesloten", "Gesloten", "Closed";
    }
}

vocabulary! {
    Supply {
        Ffp2 = "ffp2", "FFP2-maskers", "FFP2 masks";
        ChirurgischMondmasker = "chirurgisch_mondmasker", "Chirurgische mondmaskers", "Surgical masks";
        Handschoenen = "handschoenen", "Handschoenen", "Gloves";
        Schorten = "schorten", "Schorten", "Gowns";
        Oogbescherming = "oogbescherming", "Oogbescherming", "Eye protection";
        Desinfectiemiddel = "desinfectiemiddel", "Desinfectiemiddel", "Disinfectant";
        Zuurstof = "zuurstof", "Zuurstof", "Oxygen";
        KritiekeMedicatie = "kritieke_medicatie", "Kritieke medicatie", "Critical medication";
        Medicatierollen = "medicatierollen", "Medicatierollen", "Medication rolls";
        Incontinentiemateriaal = "incontinentiemateriaal", "Incontinentiemateriaal", "Incontinence material";
        Voeding = "voeding", "Voeding", "Food";
        Drinkwater = "drinkwater", "Drinkwater", "Drinking water";
        BrandstofNoodaggregaat = "brandstof_noodaggregaat", "Brandstof noodaggregaat", "Generator fuel";
    }
}

vocabulary! {
    Utility {
        Stroom = "stroom", "Stroom", "Power";
        Water = "water", "Water", "Water";
        Gas = "gas", "Gas", "Gas";
        Verwarming = "verwarming", "Verwarming", "Heating";
        Koeling = "koeling", "Koeling", "Cooling";
        MedischeGassen = "medische_gassen", "Medische gassen", "Medical gases";
        IctZorgsystemen = "ict_zorgsystemen", "ICT-zorgsystemen", "Clinical ICT";
        Telefonie = "telefonie", "Telefonie", "Telephony";
        Internet = "internet", "Internet", "Internet";
        Zorgoproep = "zorgoproep", "Zorgoproep", "Nurse call";
        Personenalarmering = "personenalarmering", "Personenalarmering", "Personal alarms";
        Brandmeldinstallatie = "brandmeldinstallatie", "Brandmeldinstallatie", "Fire alarm";
        WifiDomotica = "wifi_domotica", "Wifi/domotica", "Wi-Fi/home automation";
        Noodcommunicatie = "noodcommunicatie", "Noodcommunicatie", "Emergency comms";
    }
}

impl Utility {
    /// ICT utilities carry a cause when disrupted.
    pub fn is_ict(self) -> bool {
        use Utility::*;
        matches!(
            self,
            IctZorgsystemen | Telefonie | Internet | Zorgoproep | Personenalarmering | WifiDomotica | Noodcommunicatie
        )
    }
}

vocabulary! {
    UtilityStatus {
        Normaal = "normaal", "Normaal", "Normal";
        Verstoord = "verstoord", "Verstoord", "Disrupted";
        Uitgevallen = "uitgevallen", "Uitgevallen", "Down";
    }
}

vocabulary! {
    IctCause {
        Storing = "storing", "Storing", "Fault";
        Cyberincident = "cyberincident", "Cyberincident", "Cyber incident";
        Onbekend = "onbekend", "Onbekend", "Unknown";
    }
}

vocabulary! {
    StaffRole {
        Verpleegkundige = "verpleegkundige", "Verpleegkundigen", "Nurses";
        IcVerpleegkundige = "ic_verpleegkundige", "IC-verpleegkundigen", "ICU nurses";
        Arts = "arts", "Artsen", "Doctors";
        Verzorgende = "verzorgende", "Verzorgenden", "Carers";
        Begeleider = "begeleider", "Begeleiders", "Support workers";
        Ondersteunend = "ondersteunend", "Ondersteunend", "Support staff";
    }
}

vocabulary! {
    /// The eight disbalances of zorgcontinuïteit (§3.5).
    Disbalance {
        UitvalNutsvoorzieningen = "uitval_nutsvoorzieningen", "Uitval nutsvoorzieningen", "Utility failure";
        LogistiekeStagnatie = "logistieke_stagnatie", "Logistieke stagnatie", "Logistics stagnation";
        UitbraakInfectieziekten = "uitbraak_infectieziekten", "Uitbraak infectieziekten", "Infectious disease outbreak";
        DigitaleVerstoring = "digitale_verstoring", "Digitale verstoring", "Digital disruption";
        SluitingLocatie = "sluiting_locatie", "Sluiting locatie", "Location closure";
        GrootAanbodClienten = "groot_aanbod_clienten", "Groot aanbod cliënten", "Surge of clients";
        VerplaatsenClienten = "verplaatsen_clienten", "Verplaatsen cliënten", "Relocating clients";
        TekortPersoneel = "tekort_personeel", "Tekort personeel", "Staff shortage";
    }
}

vocabulary! {
    /// The disbalance ladder, from untouched to the tipping point.
    DisbalanceLevel {
        NietGetroffen = "niet_getroffen", "Niet getroffen", "Not affected";
        Zelfredzaam = "zelfredzaam", "Zelfredzaam", "Self-reliant";
        KetenhulpNodig = "ketenhulp_nodig", "Ketenhulp nodig", "Needs chain support";
        Kantelpunt = "kantelpunt", "Kantelpunt", "Tipping point";
    }
}

vocabulary! {
    CareType {
        Somatisch = "somatisch", "Somatisch", "Somatic";
        Psychogeriatrisch = "psychogeriatrisch", "Psychogeriatrisch", "Psychogeriatric";
        Ggz = "ggz", "GGZ", "Mental health";
        Gehandicaptenzorg = "gehandicaptenzorg", "Gehandicaptenzorg", "Disability care";
        Emb = "emb", "EMB", "Severe multiple disabilities";
        WzdWvggzGesloten = "wzd_wvggz_gesloten", "Wzd/Wvggz gesloten", "Secure (Wzd/Wvggz)";
        Kinderen = "kinderen", "Kinderen", "Children";
        Ziekenhuis = "ziekenhuis", "Ziekenhuis", "Hospital";
        Cohort = "cohort", "Cohort", "Cohort";
    }
}

vocabulary! {
    HelpStatus {
        Open = "open", "Open", "Open";
        InBehandeling = "in_behandeling", "In behandeling", "In progress";
        Gesloten = "gesloten", "Gesloten", "Closed";
    }
}

vocabulary! {
    HelpCategory {
        Personeel = "personeel", "Personeel", "Staff";
        Middelen = "middelen", "Middelen", "Supplies";
        Verplaatsing = "verplaatsing", "Verplaatsing", "Relocation";
        Nutsvoorziening = "nutsvoorziening", "Nutsvoorziening", "Utilities";
        Ict = "ict", "ICT", "ICT";
        Informatie = "informatie", "Informatie", "Information";
        Overig = "overig", "Overig", "Other";
    }
}

vocabulary! {
    /// What came of the informatiemanager's call to a location that had not answered.
    CallOutcome {
        GeenGehoor = "geen_gehoor", "Gebeld, geen gehoor", "Called, no answer";
        Ingesproken = "ingesproken", "Gebeld, voicemail ingesproken", "Called, left a voicemail";
        MeldtZelf = "meldt_zelf", "Gebeld, meldt zelf", "Called, will report themselves";
        Doorgegeven = "doorgegeven", "Gebeld, doorgegeven", "Called, answer taken by phone";
    }
}

vocabulary! {
    /// Where a location stands with an uitvraag that addresses it.
    AnswerState {
        Open = "open", "Open", "Open";
        Deels = "deels", "Deels beantwoord", "Partly answered";
        Beantwoord = "beantwoord", "Beantwoord", "Answered";
        NietGetroffen = "niet_getroffen", "Niet getroffen", "Not affected";
    }
}

vocabulary! {
    Urgency {
        Laag = "laag", "Laag", "Low";
        Normaal = "normaal", "Normaal", "Normal";
        Hoog = "hoog", "Hoog", "High";
        ZeerHoog = "zeer_hoog", "Zeer hoog", "Very high";
    }
}

vocabulary! {
    IncidentState {
        Dreiging = "dreiging", "Dreiging", "Threat";
        Actief = "actief", "Actief", "Active";
        Afgeschaald = "afgeschaald", "Afgeschaald", "Scaled down";
        Gesloten = "gesloten", "Gesloten", "Closed";
    }
}

vocabulary! {
    /// Themes of the zorgrisicoprofiel (§3.6); what scenarios can play.
    Theme {
        Ziektegolf = "ziektegolf", "Ziektegolf", "Epidemic wave";
        IctTelecom = "ict_telecom", "ICT en telecom", "ICT and telecom";
        Energie = "energie", "Energie", "Energy";
        ExtreemWeer = "extreem_weer", "Extreem weer", "Extreme weather";
        BrandKwetsbaarGebouw = "brand_kwetsbaar_gebouw", "Brand in kwetsbaar gebouw", "Fire in vulnerable building";
        WeerbareZorg = "weerbare_zorg", "Weerbare zorg", "Resilient care";
    }
}

vocabulary! {
    /// Thresholds of the state rules (§3.4); set per region by events.
    ThresholdKey {
        BedsFreeAttention = "beds_free_attention", "Bedden vrij: aandacht bij ten hoogste", "Free beds: attention at or below";
        BedsFreeCritical = "beds_free_critical", "Bedden vrij: kritiek bij ten hoogste", "Free beds: critical at or below";
        RegionIcFreeCritical = "region_ic_free_critical", "IC-bedden vrij in regio: kritiek bij ten hoogste", "Region ICU beds free: critical at or below";
        SupplyDaysAttention = "supply_days_attention", "Voorraad: aandacht onder dagen", "Supplies: attention below days";
        SupplyDaysCritical = "supply_days_critical", "Voorraad: kritiek onder dagen", "Supplies: critical below days";
        BackupHoursCritical = "backup_hours_critical", "Noodvoorziening: kritiek onder uren", "Backup: critical below hours";
        UnfilledShiftsAttention = "unfilled_shifts_attention", "Open diensten 24 uur: aandacht vanaf", "Unfilled shifts 24 h: attention from";
        UnfilledShiftsCritical = "unfilled_shifts_critical", "Open diensten 24 uur: kritiek vanaf", "Unfilled shifts 24 h: critical from";
        AbsencePercentAttention = "absence_percent_attention", "Verzuim: aandacht vanaf procent", "Absence: attention from percent";
        AbsencePercentCritical = "absence_percent_critical", "Verzuim: kritiek vanaf procent", "Absence: critical from percent";
        SelfSufficiencyHoursAttention = "self_sufficiency_hours_attention", "Zelfredzaam: aandacht onder uren", "Self-sufficient: attention below hours";
        SelfSufficiencyHoursCritical = "self_sufficiency_hours_critical", "Zelfredzaam: kritiek onder uren", "Self-sufficient: critical below hours";
        VisitsAtRiskCritical = "visits_at_risk_critical", "Bezoeken in gevaar: kritiek vanaf", "Visits at risk: critical from";
        ContactVerifiedDays = "contact_verified_days", "Contactgegevens: controleren na dagen", "Contacts: check after days";
        AggregateMinLocations = "aggregate_min_locations", "Totalen zonder locaties: afgeschermd onder locaties", "Totals without locations: withheld below locations";
    }
}

impl ThresholdKey {
    /// The value in force until a threshold event says otherwise; seeded at start.
    pub fn default_value(self) -> u32 {
        use ThresholdKey::*;
        match self {
            BedsFreeAttention => 2,
            BedsFreeCritical => 0,
            RegionIcFreeCritical => 3,
            SupplyDaysAttention => 7,
            SupplyDaysCritical => 2,
            BackupHoursCritical => 12,
            UnfilledShiftsAttention => 2,
            UnfilledShiftsCritical => 5,
            AbsencePercentAttention => 10,
            AbsencePercentCritical => 25,
            SelfSufficiencyHoursAttention => 72,
            SelfSufficiencyHoursCritical => 24,
            VisitsAtRiskCritical => 10,
            // Once a year someone calls to check the 24/7 numbers still hold.
            ContactVerifiedDays => 365,
            // A total over one or two locations is their own figure: shown to those who
            // see no locations only from three on.
            AggregateMinLocations => 3,
        }
    }
}

vocabulary! {
    /// What a token's holder may do (§7).
    Role {
        Institution = "institution", "Zorginstelling", "Care institution";
        Informatiemanager = "informatiemanager", "Informatiemanager GHOR", "GHOR information manager";
        Netwerkfunctionaris = "netwerkfunctionaris", "Netwerkfunctionaris GHOR", "GHOR network officer";
        Oto = "oto", "OTO-specialist", "Exercise specialist";
        Rot = "rot", "ROT / VIC", "ROT / VIC";
        Ketenpartner = "ketenpartner", "Ketenpartner", "Chain partner";
        Bestuur = "bestuur", "Bestuur", "Board";
        Admin = "admin", "Beheerder", "Administrator";
    }
}

vocabulary! {
    /// Who sees a location's detail only as far as its organisation agreed (§7): everyone
    /// else sees all of it (GHOR roles) or none of it.
    Audience {
        Institution = "institution", "Andere zorginstellingen", "Other care institutions";
        Ketenpartner = "ketenpartner", "Ketenpartners", "Chain partners";
        Bestuur = "bestuur", "Bestuur", "Board";
    }
}

impl Audience {
    /// The audience a role's holders belong to, if they see by agreement.
    pub fn of(role: Role) -> Option<Audience> {
        match role {
            Role::Institution => Some(Audience::Institution),
            Role::Ketenpartner => Some(Audience::Ketenpartner),
            Role::Bestuur => Some(Audience::Bestuur),
            _ => None,
        }
    }
}

vocabulary! {
    /// Functional contact roles of a location (§3.1); personal data, kept out of the log.
    ContactRole {
        Crisiscoordinator = "crisiscoordinator", "Crisiscoördinator", "Crisis coordinator";
        CrisiscoordinatorVervanger = "crisiscoordinator_vervanger", "Vervangend crisiscoördinator", "Deputy crisis coordinator";
        Bestuurder = "bestuurder", "Bestuurder", "Executive";
        Communicatie = "communicatie", "Communicatie", "Communications";
        Facilitair = "facilitair", "Facilitair / technische dienst", "Facilities";
        Ict = "ict", "ICT", "ICT";
    }
}

vocabulary! {
    /// How a notification leaves ghor (§3.7).
    Channel {
        Email = "email", "E-mail", "Email";
        Webhook = "webhook", "Webhook", "Webhook";
    }
}

vocabulary! {
    /// What a notification is for: the event that called for it, seen from its receiver.
    NotificationKind {
        Uitvraag = "uitvraag", "Uitvraag", "Enquiry";
        Herinnering = "herinnering", "Herinnering uitvraag", "Enquiry reminder";
        Escalatie = "escalatie", "Escalatie uitvraag", "Enquiry escalation";
        Handelingsperspectief = "handelingsperspectief", "Handelingsperspectief", "Advice";
        TeLaat = "te_laat", "Melding te laat", "Report overdue";
        Abonnement = "abonnement", "Waarschuwing (abonnement)", "Alert (subscription)";
    }
}

vocabulary! {
    /// The alerts a GHOR user may subscribe to, per region (issue 9): what starts a
    /// notification to the subscription's own channels.
    SubscriptionKind {
        IcFreeBelow = "ic_free_below", "IC-bedden vrij onder", "ICU beds free below";
        SehStop = "seh_stop", "SEH-stop", "Emergency department stop";
        UtilityDownWithoutBackup = "utility_down_without_backup", "Nutsvoorziening uitgevallen zonder noodvoorziening", "Utility down without backup";
        ReportOverdue = "report_overdue", "Melding te laat", "Report overdue";
    }
}

vocabulary! {
    /// What became of one notification to one receiver. The page shows `afgeleverd` as
    /// "bereikt" and `opgegeven` as "niet afgeleverd".
    DeliveryState {
        Afgeleverd = "afgeleverd", "Bereikt", "Delivered";
        Mislukt = "mislukt", "Mislukt, wordt opnieuw geprobeerd", "Failed, retrying";
        Opgegeven = "opgegeven", "Niet afgeleverd", "Not delivered";
    }
}

/// One vocabulary as the page gets it: its type name and every value (wire name, Dutch and
/// English label), in display order.
#[derive(Debug, Clone)]
pub struct Served {
    pub name: &'static str,
    pub values: Vec<(&'static str, &'static str, &'static str)>,
}

macro_rules! served {
    ($($t:ident),+ $(,)?) => {
        /// Every vocabulary the page labels values with.
        pub fn served() -> Vec<Served> {
            vec![$(Served {
                name: stringify!($t),
                values: $t::ALL.iter().map(|v| (v.as_str(), v.label(Lang::Nl), v.label(Lang::En))).collect(),
            }),+]
        }
    };
}

served!(
    Category,
    LocationType,
    Dimension,
    State,
    Bron,
    Scope,
    Judgement,
    BedType,
    TreatmentPlace,
    Triage,
    AcuteFunction,
    FunctionStatus,
    FacilityStatus,
    Supply,
    Utility,
    UtilityStatus,
    IctCause,
    StaffRole,
    Disbalance,
    DisbalanceLevel,
    CareType,
    HelpStatus,
    HelpCategory,
    Urgency,
    IncidentState,
    Theme,
    ThresholdKey,
    Role,
    Audience,
    ContactRole,
    CallOutcome,
    AnswerState,
    Channel,
    NotificationKind,
    DeliveryState,
    SubscriptionKind,
);
