#!/usr/bin/env python3
"""Derive the SANER code table of validate_fhir.py from the IG's own FHIR Shorthand.

Not run by the tests (they are offline): run it by hand after taking a snapshot of the IG's
source (github HL7/fhir-saner), to check or renew the table `MEASURES` in validate_fhir.py:

    extract_saner_codes.py GIT_DIR [REV]      # prints the table as JSON

It reads, at REV (default HEAD), input/fsh/*.fsh: the aliases, the CodeSystems' concepts
(their displays) and every Instance of PublicHealthMeasure: its url, each group's code and
each population's codes (the SANER code and the measure-population code beside it).
"""
import json
import re
import subprocess
import sys

SANER = "http://hl7.org/fhir/uv/saner"


def git_show(git_dir, rev, path):
    return subprocess.run(["git", "--git-dir", git_dir, "show", f"{rev}:{path}"],
                          check=True, capture_output=True, text=True).stdout


def fsh_files(git_dir, rev):
    out = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "--name-only", rev, "input/fsh"],
                         check=True, capture_output=True, text=True).stdout
    return [p for p in out.split() if p.endswith(".fsh")]


def logical_lines(text):
    """The rule lines, with comments and the insides of multi-line strings left out."""
    in_triple = False
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw
        if in_triple:
            if line.count('"""') % 2 == 1:
                in_triple = False
            continue
        if line.count('"""') % 2 == 1:
            in_triple = True
            line = line.split('"""')[0]
        s = line.strip()
        if s.startswith("//"):
            continue
        yield s


def main():
    git_dir = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    files = {p: git_show(git_dir, rev, p) for p in fsh_files(git_dir, rev)}

    aliases = {}
    code_systems = {}  # name -> url
    displays = {}  # (system url, code) -> display
    for text in files.values():
        for s in logical_lines(text):
            m = re.match(r"^Alias:\s*(\S+)\s*=\s*(\S+)", s)
            if m:
                aliases[m.group(1)] = m.group(2)
    for text in files.values():
        current = None
        for s in logical_lines(text):
            m = re.match(r"^CodeSystem:\s*(\S+)", s)
            if m:
                current = m.group(1)
                code_systems[current] = f"{SANER}/CodeSystem/{current}"
                continue
            if re.match(r"^(Instance|Profile|Extension|ValueSet|RuleSet|Invariant|Logical|Mapping):", s):
                current = None
                continue
            if current:
                m = re.match(r'^\*\s+#(\S+)(?:\s+"([^"]*)")?', s)
                if m:
                    displays[(code_systems[current], m.group(1))] = m.group(2)

    def system(sym):
        if sym in aliases:
            return aliases[sym]
        if sym in code_systems:
            return code_systems[sym]
        return sym

    coding_re = re.compile(r'^(\S+?)#(\S+)(?:\s+"([^"]*)")?$')

    measures = {}
    for path, text in sorted(files.items()):
        inst = None
        for s in logical_lines(text):
            m = re.match(r"^Instance:\s*(\S+)", s)
            if m:
                inst = {"name": m.group(1), "of": None, "url": None, "groups": {}, "file": path}
                continue
            if re.match(r"^(Profile|Extension|ValueSet|CodeSystem|RuleSet|Invariant):", s):
                inst = None
                continue
            if inst is None:
                continue
            m = re.match(r"^InstanceOf:\s*(\S+)", s)
            if m:
                inst["of"] = m.group(1)
                if m.group(1).endswith("PublicHealthMeasure"):
                    measures[inst["name"]] = inst
                continue
            m = re.match(r'^\*\s+url\s*=\s*"([^"]+)"', s)
            if m:
                inst["url"] = m.group(1)
                continue
            m = re.match(r"^\*\s+group(?:\[(\d+)\])?\.(.*?)\s*=\s*(.+)$", s)
            if not m:
                continue
            gi = int(m.group(1) or 0)
            rest, value = m.group(2), m.group(3).strip()
            g = inst["groups"].setdefault(gi, {"code": {}, "populations": {}, "stratifiers": {}})
            pm = re.match(r"^population(?:\[(\d+)\])?\.code(?:\.coding(?:\[(\d+)\])?)?(\.display)?$", rest)
            gm = re.match(r"^code(?:\.coding(?:\[(\d+)\])?)?(\.display)?$", rest)
            sm = re.match(r"^stratifier(?:\[(\d+)\])?\.code\.text$", rest)
            if pm:
                pi = int(pm.group(1) or 0)
                ci = int(pm.group(2) or 0)
                target = g["populations"].setdefault(pi, {}).setdefault(ci, {})
                is_display = pm.group(3)
            elif gm:
                ci = int(gm.group(1) or 0)
                target = g["code"].setdefault(ci, {})
                is_display = gm.group(2)
            elif sm:
                g["stratifiers"][int(sm.group(1) or 0)] = value.strip('"')
                continue
            else:
                continue
            if is_display:
                target["display"] = value.strip('"')
            else:
                cm = coding_re.match(value)
                if not cm:
                    continue
                target["system"] = system(cm.group(1))
                target["code"] = cm.group(2)
                if cm.group(3):
                    target["display"] = cm.group(3)

    table = {}
    for name, inst in sorted(measures.items()):
        groups = []
        for gi in sorted(inst["groups"]):
            g = inst["groups"][gi]
            if 0 not in g["code"]:
                continue
            gc = g["code"][0]
            pops = []
            for pi in sorted(g["populations"]):
                codings = g["populations"][pi]
                main = codings.get(0)
                if not main or "code" not in main:
                    continue
                roles = [codings[k] for k in sorted(codings) if k != 0 and "code" in codings[k]]
                pops.append({
                    "system": main["system"], "code": main["code"],
                    "display": displays.get((main["system"], main["code"]), main.get("display")),
                    "measure_display": main.get("display"),
                    "beside": [{"system": r["system"], "code": r["code"]} for r in roles],
                })
            groups.append({
                "system": gc["system"], "code": gc["code"],
                "display": displays.get((gc["system"], gc["code"]), gc.get("display")),
                "measure_display": gc.get("display"),
                "populations": pops,
                "stratifiers": [g["stratifiers"][k] for k in sorted(g["stratifiers"])],
            })
        table[inst["url"]] = {"name": name, "file": inst["file"], "groups": groups}
    json.dump(table, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
