#!/usr/bin/env python3
"""Validates a FHIR R4 Bundle of SANER MeasureReports, offline.

    tests/exchange/validate-fhir FILE [FILE...]     (- reads standard input)

validate-fhir runs this script (validate_fhir.py) after installing the pinned packages of
requirements.txt into a venv first. Three layers, every finding printed with its JSON path:

1. fhir.resources 6.4.0 (FHIR R4 4.0.1 models): parses the Bundle and every entry's resource
   (unknown elements, required elements, choice types, formats of the primitives).
2. A strict reading of the JSON against the same R4 models, for what pydantic 1 lets through:
   JSON types of primitives (an integer must be a JSON integer, not "7", 7.5 or true), codes of
   required bindings (e.g. MeasureReport.status), the FHIR regexes of code/id/uri/dateTime/...,
   no null, no empty string, array or object, ext-1, the reference target types, Bundle rules
   bdl-1..bdl-8 that apply, and every urn:uuid/#/Type/id reference resolving inside the Bundle.
3. SANER (http://hl7.org/fhir/uv/saner, STU1 1.0.0 = the CI build 1.0.1 in these respects) and
   the rules ghor adds for its export; see tests/exchange/SANER.md. The codes of each Measure
   are the table MEASURES below, derived from the IG's FSH by extract_saner_codes.py.

Prints one line per MeasureReport and exits 0 when all is well, 1 on any error, 2 when it
cannot run (usage, unreadable file, wrong package versions). Warnings do not fail.
"""
import datetime as dt
import json
import re
import sys
import typing

try:
    import pydantic
    import fhir.resources
    from fhir.resources import fhirtypes, get_fhir_model_class
    from fhir.resources.bundle import Bundle
    from fhir.resources.measurereport import MeasureReport
except ImportError as e:  # pragma: no cover - only without the venv
    sys.exit(f"validate-fhir: cannot import the FHIR models ({e}); run tests/exchange/validate-fhir")

# ---------------------------------------------------------------------------------------------
# The packages must be the R4 line, whatever got installed.
if fhir.resources.__version__ != "6.4.0" or fhir.resources.__fhir_version__ != "4.0.1":
    sys.exit(f"validate-fhir: need fhir.resources 6.4.0 (FHIR 4.0.1), have "
             f"{fhir.resources.__version__} (FHIR {fhir.resources.__fhir_version__})")
if not pydantic.VERSION.startswith("1.10."):
    sys.exit(f"validate-fhir: need pydantic 1.10.x, have {pydantic.VERSION}")
_MR_FIELDS = {f.alias for f in MeasureReport.__fields__.values()}
if not {"reporter", "evaluatedResource", "improvementNotation"} <= _MR_FIELDS or \
        _MR_FIELDS & {"dataUpdateType", "reportingVendor", "scoring", "inputParameters"}:
    sys.exit("validate-fhir: the MeasureReport model is not the R4 one")

# ---------------------------------------------------------------------------------------------
# SANER facts (sources: input/fsh/*.fsh of github HL7/fhir-saner; SANER.md lists them).
SANER = "http://hl7.org/fhir/uv/saner"
PROFILE = f"{SANER}/StructureDefinition/PublicHealthMeasureReport"
GEOLOCATION = f"{SANER}/StructureDefinition/GeoLocation"
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
MGS = f"{SANER}/CodeSystem/MeasureGroupSystem"
MV = f"{SANER}/CodeSystem/MeasuredValues"
SANERPOP = f"{SANER}/CodeSystem/MeasurePopulationSystem"
MPOP = "http://terminology.hl7.org/CodeSystem/measure-population"
SPECIAL = "http://terminology.hl7.org/CodeSystem/special-values"

# Codes that may stand beside a population's SANER code, saying its role (with their displays).
ROLE_CODES = {
    MPOP: {"initial-population": "Initial Population", "numerator": "Numerator",
           "numerator-exclusion": "Numerator Exclusion", "denominator": "Denominator",
           "denominator-exclusion": "Denominator Exclusion",
           "denominator-exception": "Denominator Exception", "measure-population": "Measure Population",
           "measure-population-exclusion": "Measure Population Exclusion",
           "measure-observation": "Measure Observation"},
    SANERPOP: {"numerator-complement": "Numerator Complement", "duration": "Duration",
               "duration-squared": "Duration Squared", "supporting": "Supporting"},
}
# http://hl7.org/fhir/R4/valueset-data-absent-reason.html
DAR_CODES = {"unknown", "asked-unknown", "temp-unknown", "not-asked", "asked-declined", "masked",
             "not-applicable", "unsupported", "as-text", "error", "not-a-number",
             "negative-infinity", "positive-infinity", "not-performed", "not-permitted"}
# Strata the Measures' stratifier criteria can return, where the IG spells them out.
KNOWN_STRATA = {"By Type of Location": ["Inpatient ICU", "Inpatient Non-ICU", "Other"]}
# Stratifiers whose strata split the group's populations without overlap: the strata add up.
PARTITIONS = {"By Type of Location"}
# ghor: the kinds of resource its Bundle may hold.
ENTRY_TYPES = {"MeasureReport", "Location", "Organization"}


def group(code, display, populations, stratifiers):
    return {"code": code, "display": display, "populations": populations, "stratifiers": stratifiers}


def pop(code, display, role):
    return {"code": code, "display": display, "role": role}


MEASURES = {
    f"{SANER}/Measure/CDCHealthcareSupplyPathway": {
        "source": "input/fsh/NHSNReporting.fsh",
        "groups": [
            group((MGS, "Ventilators"), "Ventilators", [
                pop((MV, "ventsupply"), "Ventilator supplies (any, including tubing) - On-hand Supply", None),
                pop((MV, "ventreuse"), "Ventilator supplies (any, including tubing) - Reusing or Extending Use", None),
                pop((MV, "ventobtain"), "Ventilator supplies (any, including tubing) - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "N95Masks"), "N95 masks", [
                pop((MV, "n95masksupply"), "N95 masks - On-hand Supply", None),
                pop((MV, "n95maskreuse"), "N95 masks - Reusing or Extending Use", None),
                pop((MV, "n95maskobtain"), "N95 masks - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "OtherRespirators"), "Other respirators including PAPRs", [
                pop((MV, "othrespsupply"), "Other respirators including PAPRs - On-hand Supply", None),
                pop((MV, "othrespreuse"), "Other respirators including PAPRs - Reusing or Extending Use", None),
                pop((MV, "othrespobtain"), "Other respirators including PAPRs - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "SurgicalMasks"), "Surgical masks", [
                pop((MV, "surgmasksupply"), "Surgical masks - On-hand Supply", None),
                pop((MV, "surgmaskreuse"), "Surgical masks - Reusing or Extending Use", None),
                pop((MV, "surgmaskobtain"), "Surgical masks - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "EyeProtection"), "Eye protection including face shields or goggles", [
                pop((MV, "shieldsupply"), "Eye protection including face shields or goggles - On-hand Supply", None),
                pop((MV, "shieldreuse"), "Eye protection including face shields or goggles - Reusing or Extending Use", None),
                pop((MV, "shieldobtain"), "Eye protection including face shields or goggles - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "Gown"), "Gowns (single use)", [
                pop((MV, "gownsupply"), "Gowns (single use) - On-hand Supply", None),
                pop((MV, "gownreuse"), "Gowns (single use) - Reusing or Extending Use", None),
                pop((MV, "gownobtain"), "Gowns (single use) - Able to Obtain", None),
            ], stratifiers=[]),
            group((MGS, "Glove"), "Gloves", [
                pop((MV, "glovesupply"), "Gloves - On-hand Supply", None),
                pop((MV, "glovereuse"), "Gloves - Reusing or Extending Use", None),
                pop((MV, "gloveobtain"), "Gloves - Able to Obtain", None),
            ], stratifiers=[]),
        ],
    },
    f"{SANER}/Measure/CDCHealthcareWorkerStaffingPathway": {
        "source": "input/fsh/NHSNReporting.fsh",
        "groups": [
            group((MV, "shortenvsvc"), "Environmental services - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortnurse"), "Nurses - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortrt"), "Respiratory therapists - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortphar"), "Pharmacists and pharmacy techs - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortphys"), "Attending physicians, fellows - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shorttemp"), "Temporary physicians, nurses, respiratory therapists, and pharmacists - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortoth"), "Other HCP - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "shortothlic"), "Other licensed independent practitioners - Critical Staffing Shortage Today", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortenvsvc"), "Environmental services - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortnurse"), "Nurses - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortrt"), "Respiratory therapists - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortphar"), "Pharmacists and pharmacy techs - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortphys"), "Attending physicians, fellows - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshorttemp"), "Temporary physicians, nurses, respiratory therapists, and pharmacists - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortoth"), "Other HCP - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
            group((MV, "posshortothlic"), "Other licensed independent practitioners - Critical Staffing Shortage Within a Week", [
                pop((SPECIAL, "true"), "true", None),
                pop((SPECIAL, "false"), "false", None),
            ], stratifiers=[]),
        ],
    },
    f"{SANER}/Measure/CDCPatientImpactAndHospitalCapacity": {
        "source": "input/fsh/NHSNReporting.fsh",
        "groups": [
            group((MGS, "Beds"), "Beds", [
                pop((MV, "numTotBeds"), "All Hospital Beds", (MPOP, "initial-population")),
                pop((MV, "numbeds"), "Hospital Inpatient Beds", None),
                pop((MV, "numBedsOcc"), "Hospital Inpatient Bed Occupancy", None),
                pop((MV, "numICUBeds"), "ICU Beds", None),
                pop((MV, "numICUBedsOcc"), "ICU Bed Occupancy", None),
            ], stratifiers=[]),
            group((MGS, "Ventilators"), "Ventilators", [
                pop((MV, "numVent"), "Mechanical Ventilators", (MPOP, "initial-population")),
                pop((MV, "numVentUse"), "Mechanical Ventilators in Use", None),
            ], stratifiers=[]),
            group((MGS, "Encounters"), "Encounters", [
                pop((MV, "numC19HospPats"), "Hospitalized COVID-19 Patients", None),
                pop((MV, "numC19MechVentPats"), "Hospitalized and Ventilated COVID-19 Patients", None),
                pop((MV, "numC19HOPats"), "Hospital Onset COVID-19 Patients", None),
                pop((MV, "numC19OverflowPats"), "ED/Overflow COVID-19 Patients", None),
                pop((MV, "numC19OFMechVentPats"), "ED/Overflow and Ventilated COVID-19 Patients", None),
                pop((MV, "numC19Died"), "COVID-19 Patient Deaths", None),
                pop((MV, "numC19Pats"), "All COVID-19 Confirmed or Suspected Patients", (MPOP, "initial-population")),
                pop((MV, "numC19VentPats"), "Ventilated COVID-19 Patients", None),
            ], stratifiers=[]),
        ],
    },
    f"{SANER}/Measure/ComputableCDCPatientImpactAndHospitalCapacity": {
        "source": "input/fsh/ComputableNHSNReporting.fsh",
        "groups": [
            group((MGS, "Encounters"), "Encounters", [
                pop((MV, "numC19Pats"), "All COVID-19 Confirmed or Suspected Patients", (MPOP, "initial-population")),
            ], stratifiers=["By Location and Ventilator Status"]),
            group((MGS, "AcquiredCovid"), "Acquired COVID-19 in Hospital", [
                pop((MV, "numC19HospPats"), "Hospitalized COVID-19 Patients", (MPOP, "initial-population")),
                pop((MV, "numC19HOPats"), "Hospital Onset COVID-19 Patients", (MPOP, "numerator")),
                pop((MV, "cumC19HOPats"), "Cumulative Hospital Onset COVID-19 Patients", (MPOP, "denominator")),
            ], stratifiers=["By Age Group", "By Gender", "By Ethnicity", "By Race"]),
            group((MGS, "CovidDeaths"), "COVID-19 Deaths", [
                pop((MV, "numC19Pats"), "All COVID-19 Confirmed or Suspected Patients", (MPOP, "initial-population")),
                pop((MV, "numC19Died"), "COVID-19 Patient Deaths", (MPOP, "numerator")),
                pop((MV, "cumC19Died"), "Cumulative COVID-19 Patient Deaths", (MPOP, "denominator")),
            ], stratifiers=["By Age Group", "By Gender", "By Ethnicity", "By Race"]),
            group((MGS, "Ventilators"), "Ventilators", [
                pop((MV, "numVent"), "Mechanical Ventilators", (MPOP, "denominator")),
                pop((MV, "numVentUse"), "Mechanical Ventilators in Use", (MPOP, "numerator")),
                pop((MV, "numVentAvail"), "Mechanical Ventilators Available", (SANERPOP, "numerator-complement")),
            ], stratifiers=[]),
            group((MGS, "Beds"), "Beds", [
                pop((MV, "numTotBeds"), "All Hospital Beds", (MPOP, "denominator")),
                pop((MV, "numTotBedsOcc"), "Hospital Beds Occupied", (MPOP, "numerator")),
                pop((MV, "numTotBedsAvail"), "Hospital Beds Available", (SANERPOP, "numerator-complement")),
            ], stratifiers=["By Type of Location"]),
        ],
    },
    f"{SANER}/Measure/FEMADailyHospitalCOVID19Reporting": {
        "source": "input/fsh/FEMAReporting.fsh",
        "groups": [
            group((MGS, "positiveIncreasePercent"), "Percent Positive among Newly Resulted Tests", [
                pop((MV, "totalOrdersIncrease"), "New Diagnostic Tests Ordered/Received", (MPOP, "initial-population")),
                pop((MV, "totalTestResultsIncrease"), "New Tests Resulted", (MPOP, "denominator")),
                pop((MV, "positiveIncrease"), "New Positive COVID-19 Tests", (MPOP, "numerator")),
            ], stratifiers=[]),
            group((MGS, "positivePercent"), "Cumulative Percent Positive among Resulted Tests", [
                pop((MV, "totalOrders"), "Cumulative Diagnostic Tests Ordered/Received", (MPOP, "initial-population")),
                pop((MV, "rejected"), "Cumulative Specimens Rejected", (MPOP, "denominator-exclusion")),
                pop((MV, "totalTestResults"), "Cumulative Tests Performed", (MPOP, "denominator")),
                pop((MV, "positive"), "Cumulative Positive COVID-19 Tests", (MPOP, "numerator")),
                pop((MV, "allReports"), "All Laboratory Reports for any Order", None),
                pop((MV, "latestReports"), "Most Recent Laboratory Reports for any Order", None),
            ], stratifiers=[]),
        ],
    },
    f"{SANER}/Measure/PatientsByRiskFactorWithSupplementalData": {
        "source": "input/fsh/ReportingWithSupplementalData.fsh",
        "groups": [
            group((MGS, "Encounters"), "Encounters", [
                pop((MV, "confirmedC19Pats"), "All Confirmed COVID-19 Patients", (MPOP, "initial-population")),
            ], stratifiers=["By Risk Factor"]),
        ],
    },
}


# ---------------------------------------------------------------------------------------------
class Findings:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, path, msg):
        self.errors.append((path, msg))

    def warn(self, path, msg):
        self.warnings.append((path, msg))


def jpath(parts):
    out = ""
    for p in parts:
        if p == "__root__":
            continue
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(bundle)"


# ---------------------------------------------------------------------------------------------
# Layer 2: the JSON against the R4 models, strictly.
PRIMITIVE_RE = {
    # http://hl7.org/fhir/R4/datatypes.html, the regexes of the primitive types
    "Code": r"[^\s]+( [^\s]+)*",
    "Id": r"[A-Za-z0-9\-\.]{1,64}",
    "Uri": r"\S*",
    "Url": r"\S*",
    "Canonical": r"\S*",
    "Oid": r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+",
    "Uuid": r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "Date": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?",
    "DateTime": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
                r"(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?",
    "Instant": r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])"
               r"T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))",
    "Time": r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?",
    "Base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+",
}
INT32 = (-2147483648, 2147483647)
REL_REF = re.compile(r"^(?:(?:https?://\S+?/)?)([A-Z][A-Za-z]+)/([A-Za-z0-9\-\.]{1,64})(?:/_history/[A-Za-z0-9\-\.]{1,64})?$")


def is_list_field(field):
    return getattr(field.outer_type_, "__origin__", None) is list


def unwrap(t):
    """(type, nullable): the X of Optional[X]."""
    args = getattr(t, "__args__", None)
    if getattr(t, "__origin__", None) is typing.Union and args:
        return next(a for a in args if a is not type(None)), type(None) in args
    return t, False


class Strict:
    """Walks the raw JSON with the fhir.resources R4 models as the map."""

    def __init__(self, findings):
        self.f = findings
        self.current = ([], None)  # the resource being walked: (path, json)
        self.refs = []  # (path, reference, allowed types, resource path, resource json)

    def resource(self, obj, path):
        if not isinstance(obj, dict):
            self.f.error(jpath(path), "a resource must be a JSON object")
            return
        rt = obj.get("resourceType")
        if not isinstance(rt, str):
            self.f.error(jpath(path), "resourceType missing")
            return
        try:
            cls = get_fhir_model_class(rt)
        except (KeyError, LookupError):
            self.f.error(jpath(path + ["resourceType"]), f"{rt!r} is not an R4 resource type")
            return
        outer, self.current = self.current, (path, obj)
        self.element(cls, obj, path, is_resource=True)
        self.current = outer

    def element(self, cls, obj, path, is_resource=False):
        if not isinstance(obj, dict):
            self.f.error(jpath(path), f"must be a JSON object ({cls.__name__})")
            return
        if not obj:
            self.f.error(jpath(path), "empty object (ele-1: an element needs a value or children)")
            return
        fields = {f.alias: f for f in cls.__fields__.values()
                  if f.alias not in ("resource_type", "fhir_comments")}
        if is_resource:
            expected = cls.__name__ if hasattr(cls, "__name__") else None
            if obj.get("resourceType") != expected:
                self.f.error(jpath(path + ["resourceType"]), f"expected {expected}")
        for key, value in obj.items():
            p = path + [key]
            if is_resource and key == "resourceType":
                continue
            field = fields.get(key)
            if field is None:
                self.f.error(jpath(p), f"{key!r} is not an element of R4 {cls.__name__}")
                continue
            if value is None:
                self.f.error(jpath(p), "null is not allowed")
                continue
            if is_list_field(field):
                if not isinstance(value, list):
                    self.f.error(jpath(p), "must be a JSON array (the element repeats)")
                    continue
                if not value:
                    self.f.error(jpath(p), "empty array")
                    continue
                nullable = unwrap(field.type_)[1]
                twin = obj.get("_" + key) if not key.startswith("_") else obj.get(key[1:])
                for i, item in enumerate(value):
                    if item is None:
                        # [1, null] with _x [null, {...}]: a null stands for a value with only extensions
                        paired = isinstance(twin, list) and i < len(twin) and twin[i] is not None
                        if not (nullable or paired):
                            self.f.error(jpath(p + [i]), "null is not allowed")
                    else:
                        self.value(field, item, p + [i], obj, key)
            else:
                if isinstance(value, list):
                    self.f.error(jpath(p), "must not be an array (the element does not repeat)")
                    continue
                self.value(field, value, p, obj, key)
        if cls.__name__ == "Extension":
            has_value = any(k.startswith("value") for k in obj)
            has_ext = bool(obj.get("extension"))
            if has_value == has_ext:
                self.f.error(jpath(path), "ext-1: an extension has either a value[x] or extensions, not both or neither")

    def value(self, field, value, path, parent, key):
        t = unwrap(field.type_)[0]
        extra = field.field_info.extra
        rname = getattr(t, "__resource_type__", None)
        if rname is None:
            self.primitive(t.__name__, value, path, extra)
            return
        if rname == "Resource":
            self.resource(value, path)
            return
        try:
            cls = get_fhir_model_class(rname)
        except (KeyError, LookupError):
            self.f.error(jpath(path), f"no R4 model for {rname}")
            return
        self.element(cls, value, path)
        if rname == "Reference" and isinstance(value, dict):
            allowed = extra.get("enum_reference_types") or ["Resource"]
            rtype = value.get("type")
            if isinstance(rtype, str) and "Resource" not in allowed and rtype not in allowed:
                self.f.error(jpath(path + ["type"]), f"{rtype!r} is not a target type allowed here ({', '.join(allowed)})")
            ref = value.get("reference")
            if isinstance(ref, str):
                self.refs.append((jpath(path + ["reference"]), ref, allowed, rtype, self.current))

    def primitive(self, tname, value, path, extra):
        p = jpath(path)
        if tname in ("Boolean", "bool"):
            if not isinstance(value, bool):
                self.f.error(p, f"must be a JSON boolean, not {json.dumps(value)}")
            return
        if tname in ("Integer", "UnsignedInt", "PositiveInt"):
            if isinstance(value, bool) or not isinstance(value, int):
                self.f.error(p, f"must be a JSON integer, not {json.dumps(value)}")
                return
            low = {"Integer": INT32[0], "UnsignedInt": 0, "PositiveInt": 1}[tname]
            if not low <= value <= INT32[1]:
                self.f.error(p, f"{value} is out of range for {tname[0].lower() + tname[1:]}")
            return
        if tname == "Decimal":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.f.error(p, f"must be a JSON number, not {json.dumps(value)}")
            return
        if not isinstance(value, str):
            self.f.error(p, f"must be a JSON string, not {json.dumps(value)}")
            return
        if not value.strip():
            self.f.error(p, "empty or blank string")
            return
        rx = PRIMITIVE_RE.get(tname)
        if rx and not re.fullmatch(rx, value):
            self.f.error(p, f"{value!r} is not a valid {tname[0].lower() + tname[1:]}")
            return
        enum = extra.get("enum_values")
        if enum and value not in enum:
            self.f.error(p, f"{value!r} is not one of the codes of its required binding: {', '.join(enum)}")


def check_bundle(data, f):
    """Bundle-level R4 rules that apply to a collection, and ghor's on the entries."""
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        f.error("(bundle)", "the document must be a FHIR Bundle")
        return []
    btype = data.get("type")
    if btype != "collection":
        f.error("type", f"the Bundle's type must be 'collection', not {btype!r}")
    if "total" in data and btype not in ("searchset", "history"):
        f.error("total", "bdl-1: total only when a search set or history")
    entries = data.get("entry")
    if not isinstance(entries, list) or not entries:
        f.error("entry", "the Bundle holds no entry")
        return []
    seen = {}
    for i, e in enumerate(entries):
        p = f"entry[{i}]"
        if not isinstance(e, dict):
            continue
        if "search" in e and btype != "searchset":
            f.error(p + ".search", "bdl-2: entry.search only when a search set")
        if "request" in e and btype not in ("batch", "transaction", "history"):
            f.error(p + ".request", "bdl-3: entry.request only for a batch, transaction or history")
        if "response" in e and btype not in ("batch-response", "transaction-response", "history"):
            f.error(p + ".response", "bdl-4: entry.response only for a response or history")
        if "resource" not in e:
            f.error(p, "bdl-5: the entry has no resource")
        full = e.get("fullUrl")
        if not isinstance(full, str):
            f.error(p + ".fullUrl", "ghor: every entry has a fullUrl (references resolve against it)")
            continue
        if "/_history/" in full:
            f.error(p + ".fullUrl", "bdl-8: fullUrl cannot be a version specific reference")
        if full in seen:
            f.error(p + ".fullUrl", f"bdl-7: fullUrl {full!r} is also entry[{seen[full]}]'s")
        seen[full] = i
        res = e.get("resource")
        if isinstance(res, dict):
            rid = res.get("id")
            m = re.fullmatch(r"urn:uuid:([0-9a-f\-]{36})", full)
            if m and rid is not None and rid != m.group(1):
                f.error(p + ".resource.id", f"ghor: the id {rid!r} is not the uuid of the fullUrl {full!r}")
            m = REL_REF.match(full)
            if m and rid is not None and (m.group(1), m.group(2)) != (res.get("resourceType"), rid):
                f.error(p + ".fullUrl", "the fullUrl does not end in the resource's type and id")
            rt = res.get("resourceType")
            if rt not in ENTRY_TYPES:
                f.error(p + ".resource.resourceType",
                        f"ghor: the Bundle holds MeasureReport, Location and Organization, not {rt!r}")
    return entries


def resolve_refs(strict, entries, f):
    by_full = {}
    by_type_id = {}
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
            continue
        res = e["resource"]
        if isinstance(e.get("fullUrl"), str):
            by_full[e["fullUrl"]] = res
        if isinstance(res.get("id"), str):
            by_type_id[(res.get("resourceType"), res["id"])] = res
    for path, ref, allowed, rtype, (res_path, res_obj) in strict.refs:
        target = None
        if ref.startswith("#"):
            contained = res_obj.get("contained") if isinstance(res_obj, dict) else None
            ids = {c.get("id"): c for c in contained or [] if isinstance(c, dict)}
            target = res_obj if ref == "#" else ids.get(ref[1:])
            if target is None:
                f.error(path, f"{ref!r} names no contained resource")
                continue
        elif ref.startswith("urn:uuid:") or ref.startswith("urn:oid:"):
            target = by_full.get(ref)
            if target is None:
                f.error(path, f"{ref!r} resolves to no entry of the Bundle")
                continue
        else:
            m = REL_REF.match(ref)
            if not m:
                f.error(path, f"{ref!r} is neither Type/id, an absolute URL, urn:uuid nor #id")
                continue
            target = by_full.get(ref) or by_type_id.get((m.group(1), m.group(2)))
            if target is None:
                f.error(path, f"ghor: {ref!r} resolves to no entry of the Bundle (the export is self-contained)")
                continue
        ttype = target.get("resourceType")
        if "Resource" not in allowed and ttype not in allowed:
            f.error(path, f"refers to a {ttype}, where only {', '.join(allowed)} may be")
        if isinstance(rtype, str) and rtype != ttype:
            f.error(path, f"Reference.type says {rtype} but the target is a {ttype}")


# ---------------------------------------------------------------------------------------------
# Layer 3: SANER, and ghor's rules for its export.
PRECISE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def precise_time(f, path, value, what):
    """SANER's DateTimePreciseToSecond: value.toString().length() = 25, i.e. seconds, no
    fraction, and a numeric offset (+00:00, not Z)."""
    if not isinstance(value, str):
        f.error(path, f"{what} is missing (SANER: 1..1)")
        return None
    if not PRECISE.match(value):
        f.error(path, f"{what} {value!r} must be precise to the second with a numeric offset, "
                      f"like 2026-03-14T09:00:00+00:00 (SANER DateTimePreciseToSecond: 25 characters; no Z, no fraction)")
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        f.error(path, f"{what} {value!r} is not a valid date and time")
        return None


def codings_of(cc):
    if not isinstance(cc, dict):
        return []
    cs = cc.get("coding")
    return [c for c in cs if isinstance(c, dict)] if isinstance(cs, list) else []


def dar_of(element_ext):
    """The data-absent-reason code in an _element's extensions, or None."""
    if not isinstance(element_ext, dict):
        return None
    for ext in element_ext.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == DAR:
            return ext.get("valueCode", "")
    return None


def check_count(f, path, holder, what):
    """A population's count: a JSON integer >= 0, or _count with a data-absent-reason. Returns
    the count, 'absent' or None (error)."""
    has = "count" in holder
    absent = dar_of(holder.get("_count"))
    if has and absent is not None:
        f.error(path + ".count", f"{what}: a count and a data-absent-reason together")
        return None
    if absent is not None:
        if absent not in DAR_CODES:
            f.error(path + "._count", f"{what}: {absent!r} is not a data-absent-reason code ({', '.join(sorted(DAR_CODES))})")
            return None
        return "absent"
    if not has:
        f.error(path, f"{what}: no count (SANER: count 1..1; use _count with the data-absent-reason extension when unknown)")
        return None
    c = holder["count"]
    if isinstance(c, bool) or not isinstance(c, int):
        f.error(path + ".count", f"{what}: the count must be a JSON integer, not {json.dumps(c)}")
        return None
    if c < 0:
        f.error(path + ".count", f"{what}: the count {c} is negative")
        return None
    return c


def match_code(f, path, cc, known, what, allow_roles=False):
    """Finds the one coding of cc that is in `known` {(system, code): display}. Other codings
    must be role codes (populations only). Returns the (system, code) found or None."""
    cods = codings_of(cc)
    if not cods:
        f.error(path, f"{what} has no code.coding (SANER: code 1..1, a coding the Measure defines)")
        return None
    found = []
    for j, c in enumerate(cods):
        key = (c.get("system"), c.get("code"))
        cp = f"{path}.coding[{j}]"
        if key in known:
            found.append(key)
            disp = c.get("display")
            if disp is not None and known[key] is not None and disp != known[key]:
                f.error(cp + ".display", f"{disp!r} is not the display of {key[1]}: {known[key]!r}")
        elif allow_roles and key[0] in ROLE_CODES:
            if key[1] not in ROLE_CODES[key[0]]:
                f.error(cp, f"{key[1]!r} is not a code of {key[0]}")
            else:
                disp = c.get("display")
                if disp is not None and disp != ROLE_CODES[key[0]][key[1]]:
                    f.error(cp + ".display", f"{disp!r} is not the display of {key[1]}: {ROLE_CODES[key[0]][key[1]]!r}")
        else:
            f.error(cp, f"{key[0]}#{key[1]} is not a code the Measure defines here")
    if not found:
        f.error(path, f"{what}: none of its codings is one the Measure defines here")
        return None
    if len(found) > 1:
        f.error(path, f"{what}: more than one coding the Measure defines ({', '.join(c for _, c in found)})")
        return None
    return found[0]


def identifier_of(f, path, ref, what, required_by):
    ident = ref.get("identifier")
    if not isinstance(ident, dict) or not isinstance(ident.get("system"), str) or not isinstance(ident.get("value"), str):
        f.error(path + ".identifier", f"{what}.identifier with system and value is required ({required_by})")
        return None
    return (ident["system"], ident["value"])


def target_of(ref, by_full, by_type_id):
    r = ref.get("reference")
    if not isinstance(r, str):
        return None
    if r in by_full:
        return by_full[r]
    m = REL_REF.match(r)
    return by_type_id.get((m.group(1), m.group(2))) if m else None


def target_identifiers(res):
    out = set()
    for i in res.get("identifier") or [] if isinstance(res.get("identifier"), list) else []:
        if isinstance(i, dict):
            out.add((i.get("system"), i.get("value")))
    return out


def check_geolocation(f, path, ref):
    for j, ext in enumerate(ref.get("extension") or []):
        if not isinstance(ext, dict) or ext.get("url") != GEOLOCATION:
            continue
        p = f"{path}.extension[{j}]"
        subs = {}
        for s in ext.get("extension") or []:
            if isinstance(s, dict):
                subs.setdefault(s.get("url"), []).append(s)
        for name, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
            got = subs.get(name, [])
            if len(got) != 1:
                f.error(p, f"SANER GeoLocation: exactly one {name}")
                continue
            v = got[0].get("valueDecimal")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not low <= v <= high:
                f.error(p, f"SANER GeoLocation: {name}.valueDecimal must be a number in [{low}, {high}]")
        for name in subs:
            if name not in ("latitude", "longitude"):
                f.error(p, f"SANER GeoLocation has no {name!r}")


def check_report(f, i, mr, by_full, by_type_id, seen_keys):
    """SANER PublicHealthMeasureReport and ghor's rules. Returns the summary line."""
    base = f"entry[{i}].resource"
    meta = mr.get("meta") if isinstance(mr.get("meta"), dict) else {}
    profiles = meta.get("profile") if isinstance(meta.get("profile"), list) else []
    if not any(isinstance(p, str) and p.split("|")[0] == PROFILE for p in profiles):
        f.error(base + ".meta.profile", f"must claim {PROFILE}")
    if mr.get("status") != "complete":
        f.error(base + ".status", f"ghor exports complete reports only, not {mr.get('status')!r}")
    if mr.get("type") != "summary":
        f.error(base + ".type", f"SANER: type is fixed to 'summary', not {mr.get('type')!r}")
    measure_url = mr.get("measure")
    measure = None
    if not isinstance(measure_url, str):
        f.error(base + ".measure", "SANER: measure 1..1")
    else:
        measure = MEASURES.get(measure_url.split("|")[0])
        if measure is None:
            f.error(base + ".measure", f"{measure_url!r} is not a SANER Measure this validator knows: "
                                       + ", ".join(u.rsplit('/', 1)[1] for u in MEASURES))
    name = measure_url.split("|")[0].rsplit("/", 1)[-1] if isinstance(measure_url, str) else "?"

    # subject: Reference(Location) with an identifier
    subject = mr.get("subject")
    subject_key = None
    if not isinstance(subject, dict):
        f.error(base + ".subject", "SANER: subject 1..1, a Reference(Location) with an identifier")
    else:
        subject_key = identifier_of(f, base + ".subject", subject, "subject", "SANER: subject.identifier 1..1")
        if subject.get("type") not in (None, "Location"):
            f.error(base + ".subject.type", "SANER: subject only Reference(Location)")
        t = target_of(subject, by_full, by_type_id)
        if isinstance(subject.get("reference"), str):
            if t is not None and t.get("resourceType") != "Location":
                f.error(base + ".subject.reference", f"SANER: subject only Reference(Location), not a {t.get('resourceType')}")
            if t is not None and subject_key and subject_key not in target_identifiers(t):
                f.error(base + ".subject.identifier", "ghor: the identifier is not one of the referenced Location's")
        check_geolocation(f, base + ".subject", subject)

    # reporter: SANER's ReporterPresentInCompleteReport (its expression compares with 'completed', so it
    # never fires, but its description is the intent); ghor: an Organization with an identifier.
    reporter = mr.get("reporter")
    if not isinstance(reporter, dict):
        f.error(base + ".reporter", "SANER ReporterPresentInCompleteReport: a complete report has a reporter")
    else:
        reporter_key = identifier_of(f, base + ".reporter", reporter, "reporter",
                                     "ghor: SANER's CSV form and reporter:identifier search use it")
        if reporter.get("type") not in (None, "Organization"):
            f.error(base + ".reporter.type", "ghor: the reporter is an Organization")
        t = target_of(reporter, by_full, by_type_id)
        if t is not None:
            if t.get("resourceType") != "Organization":
                f.error(base + ".reporter.reference", f"ghor: the reporter is an Organization, not a {t.get('resourceType')}")
            elif reporter_key and reporter_key not in target_identifiers(t):
                f.error(base + ".reporter.identifier", "ghor: the identifier is not one of the referenced Organization's")

    date = precise_time(f, base + ".date", mr.get("date"), "date")
    period = mr.get("period") if isinstance(mr.get("period"), dict) else {}
    if not period:
        f.error(base + ".period", "SANER: period 1..1 with start and end")
    start = precise_time(f, base + ".period.start", period.get("start"), "period.start")
    end = precise_time(f, base + ".period.end", period.get("end"), "period.end")
    if start and end and start > end:
        f.error(base + ".period", "period.start is after period.end")
    if date and end and date < end:
        f.warn(base + ".date", "the report is dated before the end of its period")

    key = (measure_url, subject_key, period.get("start"), period.get("end"))
    if key in seen_keys:
        f.error(base, f"ghor: entry[{seen_keys[key]}] reports the same measure, subject and period")
    else:
        seen_keys[key] = i

    groups = mr.get("group")
    parts = []
    if not isinstance(groups, list) or not groups:
        f.error(base + ".group", "a report carries at least one group")
        return summary(name, subject_key, period, parts)
    if measure is None:
        return summary(name, subject_key, period, parts)
    known_groups = {g["code"]: g for g in measure["groups"]}
    seen_groups = {}
    for gi, g in enumerate(groups):
        gp = f"{base}.group[{gi}]"
        if not isinstance(g, dict):
            continue
        gkey = match_code(f, gp + ".code", g.get("code"), {k: v["display"] for k, v in known_groups.items()},
                          "the group's code")
        if gkey is None:
            continue
        if gkey in seen_groups:
            f.error(gp + ".code", f"group {gkey[1]} also is group[{seen_groups[gkey]}]")
            continue
        seen_groups[gkey] = gi
        mg = known_groups[gkey]
        known_pops = {p["code"]: p for p in mg["populations"]}
        counts = check_populations(f, gp, g.get("population"), known_pops, f"group {gkey[1]}")
        text = " ".join(f"{c[1]}={'?' if v == 'absent' else v}" for c, v in counts.items() if v is not None)
        strata_text = check_stratifiers(f, gp, g, mg, known_pops, counts)
        parts.append(f"{gkey[1]}[{text}{strata_text}]")
        consistency(f, gp, counts)
    return summary(name, subject_key, period, parts)


def check_populations(f, path, pops, known_pops, what):
    counts = {}
    if not isinstance(pops, list) or not pops:
        f.error(path + ".population", f"{what}: SANER: population 1..*")
        return counts
    for pi, p in enumerate(pops):
        pp = f"{path}.population[{pi}]"
        if not isinstance(p, dict):
            continue
        pkey = match_code(f, pp + ".code", p.get("code"), {k: v["display"] for k, v in known_pops.items()},
                          "the population's code", allow_roles=True)
        if pkey is None:
            check_count(f, pp, p, "population")
            continue
        role = known_pops[pkey]["role"]
        for j, c in enumerate(codings_of(p.get("code"))):
            if role and c.get("system") == role[0] and c.get("code") != role[1]:
                f.error(f"{pp}.code.coding[{j}]", f"the Measure gives {pkey[1]} the role {role[1]}, not {c.get('code')}")
        if pkey in counts:
            f.error(pp + ".code", f"population {pkey[1]} appears twice")
            continue
        counts[pkey] = check_count(f, pp, p, f"population {pkey[1]}")
    for k in known_pops:
        if k not in counts:
            f.error(path + ".population", f"ghor: {what} lacks population {k[1]} (report every population "
                                          f"its Measure defines; _count with a data-absent-reason when unknown)")
    return counts


def check_stratifiers(f, gp, g, mg, known_pops, counts):
    strats = g.get("stratifier")
    if strats is None:
        return ""
    if not isinstance(strats, list):
        return ""
    out = []
    for si, s in enumerate(strats):
        sp = f"{gp}.stratifier[{si}]"
        if not isinstance(s, dict):
            continue
        codes = s.get("code")
        if not isinstance(codes, list) or not codes:
            f.error(sp + ".code", "SANER: stratifier.code 1..*")
            continue
        texts = [c.get("text") for c in codes if isinstance(c, dict)]
        stext = next((t for t in texts if t in mg["stratifiers"]), None)
        if stext is None:
            f.error(sp + ".code", f"names no stratifier the Measure defines for this group "
                                  f"({', '.join(mg['stratifiers']) or 'it defines none'}); SANER's are named by code.text")
            continue
        strata = s.get("stratum")
        if not isinstance(strata, list) or not strata:
            f.error(sp + ".stratum", "SANER: stratum 1..*")
            continue
        sums = {}
        seen = {}
        for ti, st in enumerate(strata):
            tp = f"{sp}.stratum[{ti}]"
            if not isinstance(st, dict):
                continue
            if "value" in st:
                f.error(tp + ".value", "SANER: stratum.value 0..0; name the stratum in stratum.component")
            comps = st.get("component")
            label = None
            if not isinstance(comps, list) or len(comps) != 1 or not isinstance(comps[0], dict):
                f.error(tp + ".component", "ghor: one component names the stratum (code: the stratifier, value: the stratum)")
            else:
                comp = comps[0]
                ctext = comp.get("code", {}).get("text") if isinstance(comp.get("code"), dict) else None
                if ctext != stext:
                    f.error(tp + ".component[0].code.text", f"must be the stratifier's {stext!r}")
                label = comp.get("value", {}).get("text") if isinstance(comp.get("value"), dict) else None
                allowed = KNOWN_STRATA.get(stext)
                if not isinstance(label, str):
                    f.error(tp + ".component[0].value.text", "names the stratum")
                elif allowed and label not in allowed:
                    f.error(tp + ".component[0].value.text", f"{label!r} is not one of the strata of {stext!r}: {', '.join(allowed)}")
                elif label in seen:
                    f.error(tp, f"stratum {label!r} also is stratum[{seen[label]}]")
                else:
                    seen[label] = ti
            scounts = check_populations(f, tp, st.get("population"), known_pops, f"stratum {label or ti}")
            consistency(f, tp, scounts)
            for k in known_pops:
                v = scounts.get(k)
                sums[k] = sums.get(k, 0) + v if isinstance(v, int) and sums.get(k, 0) is not None else None
            out.append(f"{label}:" + "/".join("?" if v == "absent" else str(v) for v in scounts.values()))
        if stext in PARTITIONS:
            for k, total in counts.items():
                if isinstance(total, int) and isinstance(sums.get(k), int) and sums[k] != total:
                    f.error(sp, f"ghor: the strata of {stext!r} split the group, but their {k[1]} add up to {sums[k]}, not {total}")
    return (" {" + ", ".join(out) + "}") if out else ""


def consistency(f, path, counts):
    """Warnings only: the arithmetic of beds."""
    def c(code):
        v = counts.get((MV, code))
        return v if isinstance(v, int) else None
    for tot, occ, avail in (("numTotBeds", "numTotBedsOcc", "numTotBedsAvail"),
                            ("numVent", "numVentUse", "numVentAvail")):
        t, o, a = c(tot), c(occ), c(avail)
        if None not in (t, o, a) and a != max(0, t - o):
            f.warn(path, f"{avail}={a} is not max(0, {tot} - {occ}) = {max(0, t - o)}")
    for small, big in (("numICUBeds", "numbeds"), ("numbeds", "numTotBeds"), ("numICUBedsOcc", "numICUBeds")):
        s, b = c(small), c(big)
        if None not in (s, b) and s > b:
            f.warn(path, f"{small}={s} exceeds {big}={b}")


def summary(name, subject_key, period, parts):
    subj = f"{subject_key[0]}|{subject_key[1]}" if subject_key else "?"
    per = f"{period.get('start')}..{period.get('end')}" if period else "?"
    return f"{name} {subj} {per} " + " ".join(parts)


def check_targets(f, entries):
    """ghor: the Locations and Organizations in the Bundle carry identifiers (SANER's reports name
    them by identifier)."""
    for i, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") not in ("Location", "Organization"):
            continue
        idents = [x for x in res.get("identifier") or [] if isinstance(x, dict)] \
            if isinstance(res.get("identifier"), list) else []
        if not any(isinstance(x.get("system"), str) and isinstance(x.get("value"), str) for x in idents):
            f.error(f"entry[{i}].resource.identifier", f"ghor: a {res['resourceType']} in the Bundle has an identifier with system and value")
        if not isinstance(res.get("name"), str):
            f.error(f"entry[{i}].resource.name", f"ghor: a {res['resourceType']} in the Bundle has a name")


# ---------------------------------------------------------------------------------------------
def load(arg):
    def no_dupes(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError(f"duplicate key {k!r}")
            d[k] = v
        return d

    def no_constant(c):
        raise ValueError(f"{c} is not JSON")

    text = sys.stdin.read() if arg == "-" else open(arg, encoding="utf-8").read()
    return json.loads(text, object_pairs_hook=no_dupes, parse_constant=no_constant)


def validate(data):
    f = Findings()
    lines = []
    entries = check_bundle(data, f)
    if not isinstance(data, dict):
        return f, lines
    # Layer 1: fhir.resources
    try:
        Bundle.parse_obj(data)
    except pydantic.ValidationError as e:
        for err in e.errors():
            f.error(jpath(list(err["loc"])), f"R4 model: {err['msg']}")
    except (LookupError, ValueError, TypeError) as e:
        f.error("(bundle)", f"R4 model: {e}")
    # Layer 2: strict JSON
    strict = Strict(f)
    strict.current = ([], data)
    strict.element(Bundle, data, [], is_resource=True)
    resolve_refs(strict, entries, f)
    # Layer 3: SANER and ghor
    check_targets(f, entries)
    by_full, by_type_id = {}, {}
    for e in entries:
        if isinstance(e, dict) and isinstance(e.get("resource"), dict):
            res = e["resource"]
            if isinstance(e.get("fullUrl"), str):
                by_full[e["fullUrl"]] = res
            if isinstance(res.get("id"), str):
                by_type_id[(res.get("resourceType"), res["id"])] = res
    seen_keys = {}
    reports = 0
    for i, e in enumerate(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if isinstance(res, dict) and res.get("resourceType") == "MeasureReport":
            reports += 1
            line = check_report(f, i, res, by_full, by_type_id, seen_keys)
            lines.append((i, line))
    if not reports:
        f.error("entry", "the Bundle holds no MeasureReport")
    return f, lines


def main(argv):
    args = argv[1:]
    if not args or any(a in ("-h", "--help") for a in args):
        print(__doc__.strip().split("\n\n")[0] + "\n\n" + __doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    failed = False
    for arg in args:
        label = "<stdin>" if arg == "-" else arg
        try:
            data = load(arg)
        except (OSError, ValueError) as e:
            print(f"validate-fhir: {label}: cannot read it as JSON: {e}", file=sys.stderr)
            return 2
        f, lines = validate(data)
        for i, line in lines:
            mark = "ok  " if not any(p.startswith(f"entry[{i}]") for p, _ in f.errors) else "FAIL"
            print(f"{mark} entry[{i}] {line}")
        for path, msg in f.warnings:
            print(f"  warning: {path}: {msg}")
        for path, msg in f.errors:
            print(f"  error: {path}: {msg}")
        n = len(lines)
        if f.errors:
            failed = True
            print(f"validate-fhir: {label}: INVALID: {len(f.errors)} error(s), {len(f.warnings)} warning(s), {n} MeasureReport(s)")
        else:
            print(f"validate-fhir: {label}: valid: {n} MeasureReport(s), {len(f.warnings)} warning(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
