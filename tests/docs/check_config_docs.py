#!/usr/bin/env python3
"""Checks that docs/reference/ documents every field of every reflected config, with its default.

Run by ctest as `config_docs` (and `config_docs_selftest` with --self-test). The code side comes
from the library itself: tests/docs/config_defaults.cpp prints, for an explicit list of config
types, the JSON form and the describe() text of a value-initialised config, its leaf keys and which
of its fields are nested configs. This script

1. scans include/dphys/ for DPHYS_ADAPT_STRUCT / BOOST_HANA_ADAPT_STRUCT and fails if a reflected
   type is missing from that list (or the list names a type that no longer exists);
2. reads the reference pages and finds the blocks that document configs. A block is the table (or
   the paragraph) that follows a marker line

       <!-- config: dphys::search::ga_config -->

   (several types: separated by commas). Markers are invisible on the rendered page;
3. fails for each field that no block of its config documents, and for each default written in a
   block that differs from the code's default.

Documented, for a field of config T:
- a row of a table marked T whose key cell holds the field's name (or its dotted key, `env.width`,
  relative to T) in backticks. A key cell may name several fields: `n_min`, `n_max` or
  `w_subtree w_point`; the default cell then holds as many values (comma- or space-separated).
  Tables whose header repeats the key column (`field | default | | field | default`) are read as
  several key/default column pairs.
- a row naming a nested config as a whole (`predictor`, `limits`) documents all fields below it,
  provided the nested type is documented itself.
- in a table whose header has a `fields (default)` column (policy tables, one row per type), the
  row whose first cell is the type's name (`tournament_selection`), with items `` `size` (2) ``.
- in a marked paragraph (prose), the field's name in backticks; a value right after it
  (`` `max_depth` 48 ``) is its default.
- a config without a marked block of its own is documented if a documented config that contains
  it lists its fields key by key (chemotaxis_config through koki2_config's `env.*` rows).

Defaults are compared when the table has a column whose header starts with "default" (or for the
forms above that carry a value), semantically, by the field's type: numbers as numbers (0.05 ==
0.050, 1e-08 == 1e-8; float fields after rounding to float, so 0.1 == 0.1f; `2^24`, `1 MiB`, `π`
and the minus sign − are understood), bools as true/false, strings and enum names with or without
backticks and quotes, lists as [a, b], a,b or "a b" (`""` is the empty list), a nested config as
{a, b, c} (its leaves in order). Deliberately not compared (listed with --verbose):
- a cell that states no value: empty, —, "defaults", "defaults above", "all three", "all 12
  operators", ... (anything that does not parse as a value of the field's type);
- a trailing parenthesised remark is ignored: `-1 (= max(epsilon, epsilon_min))` compares -1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

MARKER = re.compile(r"^\s*<!--\s*config:")  # <!-- config: a::b, c::d --> (may span lines)
ADAPT = re.compile(r"\b(?:DPHYS_ADAPT_STRUCT|BOOST_HANA_ADAPT_STRUCT)\s*\(\s*([A-Za-z_][\w:]*)\s*,")
NAME = re.compile(r"^[A-Za-z_][\w.]*$")
DESCRIBE = re.compile(r"^\s+--([^=\s]+)=<(.*)>\s+default: (.*)$")


# --- the code side ------------------------------------------------------------------------------

@dataclass
class Config:
    name: str                 # dphys::search::ga_config
    keys: list[str]           # leaf keys, declaration order
    defaults: dict            # to_json of a value-initialised config
    types: dict[str, str]     # leaf key -> describe() type ("int32", "a|b", "list of float")
    texts: dict[str, str]     # leaf key -> describe() default text
    nested: dict[str, str]    # dotted path of a nested config -> its listed type ("" if unlisted)

    @property
    def short(self) -> str:
        return self.name.rsplit("::", 1)[-1]

    def value(self, key: str):
        v = self.defaults
        for part in key.split("."):
            v = v[part]
        return v


def load_configs(dump: list) -> dict[str, Config]:
    configs = {}
    for e in dump:
        types, texts = {}, {}
        for line in e["describe"].splitlines():
            m = DESCRIBE.match(line)
            if m:
                types[m.group(1)], texts[m.group(1)] = m.group(2), m.group(3)
        configs[e["type"]] = Config(e["type"], e["keys"], e["defaults"], types, texts, e["nested"])
    return configs


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def reflected_types(include_dir: str) -> dict[str, str]:
    """Types reflected by an ADAPT_STRUCT in the headers -> "file:line"."""
    found = {}
    for root, _, files in os.walk(include_dir):
        for f in sorted(files):
            if not f.endswith((".hpp", ".h")):
                continue
            path = os.path.join(root, f)
            with open(path, encoding="utf-8") as fh:
                text = strip_comments(fh.read())
            for m in ADAPT.finditer(text):
                line_start = text.rfind("\n", 0, m.start()) + 1
                if text[line_start:m.start()].lstrip().startswith("#define"):
                    continue
                name = m.group(1).lstrip(":")
                line = text.count("\n", 0, m.start()) + 1
                found[name] = f"{os.path.relpath(path, os.path.dirname(include_dir))}:{line}"
    return found


# --- the markdown side --------------------------------------------------------------------------

@dataclass
class Entry:
    names: list[str]          # field names or dotted keys, relative to the config
    default: str | None       # the default cell (or value), None if the form has none
    page: str
    line: int
    prose: bool = False
    owners: list[str] = field(default_factory=list)  # the types of the block


@dataclass
class Block:
    types: list[str]
    page: str
    line: int
    entries_by_type: dict[str, list[Entry]] = field(default_factory=dict)


def split_row(line: str) -> list[str]:
    """Cells of a markdown table row (\\| is a literal bar; bars inside `code` do not split)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells, cur, in_code = [], "", False
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            cur += "|"
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    cells.append(cur.strip())
    return cells


def key_names(cell: str) -> list[str]:
    """Field names in a key cell: every backticked token, split at spaces (`w_a w_b`)."""
    names = []
    for token in re.findall(r"`([^`]*)`", cell):
        for part in token.split():
            if NAME.match(part):
                names.append(part)
    return names


def header_text(cell: str) -> str:
    return re.sub(r"`[^`]*`", "", cell).strip().lower()


def table_entries(rows: list[tuple[int, str]], cfg_types: list[str], short_names: dict[str, str],
                  page: str) -> dict[str, list[Entry]]:
    header = split_row(rows[0][1])
    body = [(n, split_row(t)) for n, t in rows[2:]]
    out: dict[str, list[Entry]] = {t: [] for t in cfg_types}
    heads = [header_text(h) for h in header]
    if any(h.startswith("fields (default)") for h in heads):
        col = next(i for i, h in enumerate(heads) if h.startswith("fields (default)"))
        for line, cells in body:
            owner = key_names(cells[0])
            for t in cfg_types:
                if owner and owner[0] == short_names[t] and col < len(cells):
                    for name, value in re.findall(r"`([A-Za-z_]\w*)`\s*\(([^)]*)\)", cells[col]):
                        out[t].append(Entry([name], value, page, line, owners=[t]))
        return out
    key_cols = [0] + [i for i in range(1, len(heads)) if heads[i] and heads[i] == heads[0]]
    for line, cells in body:
        for k in key_cols:
            if k >= len(cells):
                continue
            names = key_names(cells[k])
            if not names:
                continue
            default = None
            end = next((j for j in key_cols if j > k), len(heads))
            col = next((j for j in range(k + 1, end) if heads[j].startswith("default")), None)
            if col is not None and col < len(cells):
                default = cells[col]
            for t in cfg_types:
                out[t].append(Entry(names, default, page, line))
    return out


PROSE = re.compile(r"`([A-Za-z_][\w.]*)`"                  # the field's name
                   r"(?:[ \t]+(?:[^\x00-\x7f]{1,3}[ \t]+)?"  # a symbol after it: `entropy_bonus` β
                   r"(\([^)]*\)|[^\s`(]+))?")                # (value, rule) or a bare value


def prose_entries(lines: list[tuple[int, str]], cfg_types: list[str], page: str):
    """`name` value, `name` (value, rule) or `name` β (value): the name documents the field, the
    value (the first item in parentheses) is its default."""
    out = {t: [] for t in cfg_types}
    text = " ".join(t for _, t in lines)  # a value may follow on the next line
    starts = []
    pos = 0
    for n, t in lines:
        starts.append((pos, n))
        pos += len(t) + 1
    for m in PROSE.finditer(text):
        line = max(n for p0, n in starts if p0 <= m.start())
        value = m.group(2)
        if value is not None:
            if value.startswith("("):
                value = value[1:-1].split(",")[0]
            value = value.strip().rstrip(".,;:")
        for t in cfg_types:
            out[t].append(Entry([m.group(1)], value, page, line, prose=True))
    return out


def parse_pages(pages: dict[str, str], short_names: dict[str, str],
                errors: list[str]) -> list[Block]:
    blocks = []
    for page, text in sorted(pages.items()):
        lines = text.split("\n")
        i = 0
        fenced = False  # markers inside ``` code blocks are examples, not markers
        while i < len(lines):
            if lines[i].lstrip().startswith("```"):
                fenced = not fenced
            if fenced or not MARKER.match(lines[i]):
                i += 1
                continue
            marker_line = i + 1
            text = lines[i]
            while "-->" not in text and i + 1 < len(lines):
                i += 1
                text += " " + lines[i]
            body = re.sub(r"^\s*<!--\s*config:", "", text).split("-->")[0]
            types = [t.strip().lstrip(":") for t in body.split(",") if t.strip()]
            unknown = [t for t in types if t not in short_names]
            for t in unknown:
                errors.append(f"{page}:{marker_line}: marker names {t}, which is not a reflected "
                              f"config of include/dphys/ (write the fully qualified name, as in "
                              f"its DPHYS_ADAPT_STRUCT)")
            types = [t for t in types if t in short_names]
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            start = i
            if i < len(lines) and lines[i].lstrip().startswith("|"):
                while i < len(lines) and lines[i].lstrip().startswith("|"):
                    i += 1
                rows = [(n + 1, lines[n]) for n in range(start, i)]
                if len(rows) < 3:
                    errors.append(f"{page}:{marker_line}: the table after the marker has no rows")
                    continue
                entries = table_entries(rows, types, short_names, page)
            else:
                while i < len(lines) and lines[i].strip() and not MARKER.match(lines[i]):
                    i += 1
                if i == start:
                    errors.append(f"{page}:{marker_line}: nothing follows the marker")
                    continue
                entries = prose_entries([(n + 1, lines[n]) for n in range(start, i)], types, page)
            for es in entries.values():
                for e in es:
                    e.owners = e.owners or types
            blocks.append(Block(types, page, marker_line, entries))
    return blocks


# --- values -------------------------------------------------------------------------------------

class NoValue(Exception):
    """The text does not state a value of the field's type (such cells are skipped, not failed)."""


UNITS = {"KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}


def clean(text: str) -> str:
    t = text.strip().replace("\u2212", "-").replace("\u2011", "-")
    t = re.sub(r"\s+\(.*$", "", t)            # a trailing remark: "-1 (= max(...))"
    if len(t) >= 2 and t[0] == "`" and t[-1] == "`" and "`" not in t[1:-1]:
        t = t[1:-1]
    return t.strip()


def parse_number(text: str, integer: bool):
    t = clean(text).replace("`", "").replace("\u00a0", " ").strip()
    m = re.fullmatch(r"([-+]?\d+)\s*\^\s*(\d+)", t)
    if m:
        return int(m.group(1)) ** int(m.group(2))
    m = re.fullmatch(r"(\S+)\s+(KiB|MiB|GiB)", t)
    if m:
        return parse_number(m.group(1), integer) * UNITS[m.group(2)]
    if t in ("π", "pi"):
        return math.pi
    t = t.replace(" ", "")  # "1 000"
    if integer and re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    try:
        v = float(t)
    except ValueError:
        raise NoValue(text) from None
    if integer and v.is_integer():
        return int(v)
    return v  # for an integer field, a fraction: a value, and a wrong one


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def parse_scalar(text: str, typ: str):
    """The value `text` states for a field of describe() type `typ` (raises NoValue)."""
    t = clean(text)
    if typ == "bool":
        u = t.strip('"').lower()
        if u in ("true", "false"):
            return u == "true"
        raise NoValue(text)
    if re.fullmatch(r"u?int\d+", typ):
        return parse_number(t, integer=True)
    if typ in ("float", "double"):
        return parse_number(t, integer=False)
    if typ == "string":
        if t in ('""', "''"):
            return ""
        if len(t) >= 2 and t[0] == t[-1] == '"':
            return t[1:-1]
        if text.strip().startswith("`"):
            return t
        raise NoValue(text)  # plain prose: not a stated value
    names = typ.split("|")  # an enum
    u = t.strip('"')
    if u in names:
        return u
    raise NoValue(text)


def split_values(text: str) -> list[str]:
    """A list written as [a, b], a,b, "a b" or `""` (the empty list)."""
    t = clean(text)
    if t in ('""', "[]", "''"):
        return []
    if t.startswith("[") and t.endswith("]"):
        t = t[1:-1]
    if t.startswith("{") and t.endswith("}"):
        t = t[1:-1]
    parts = [p for p in re.split(r"\s*,\s*" if "," in t else r"\s+", t.strip()) if p != ""]
    if not parts:
        raise NoValue(text)
    return parts


def parse_value(text: str, typ: str):
    if typ.startswith("list of "):
        return [parse_scalar(p, typ[len("list of "):]) for p in split_values(text)]
    return parse_scalar(text, typ)


def same(doc, code, typ: str) -> bool:
    if isinstance(doc, list):
        return isinstance(code, list) and len(doc) == len(code) and all(
            same(d, c, typ[len("list of "):] if typ.startswith("list of ") else typ)
            for d, c in zip(doc, code))
    if typ == "float":
        return isinstance(code, (int, float)) and f32(float(doc)) == f32(float(code))
    if typ == "double":
        if isinstance(code, str):  # "inf", "nan"
            return str(doc) == code
        if doc == math.pi:
            return float(code) == math.pi
        return float(doc) == float(code)
    return doc == code


def split_defaults(text: str, n: int) -> list[str]:
    t = clean(text)
    parts = re.split(r"\s*,\s*", t) if "," in t else t.split()
    if len(parts) != n:
        raise NoValue(text)
    return parts


# --- the check ----------------------------------------------------------------------------------

@dataclass
class Result:
    errors: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    compared: int = 0


def check(configs: dict[str, Config], reflected: dict[str, str], pages: dict[str, str]) -> Result:
    r = Result()
    listed = set(configs)
    for name in sorted(set(reflected) - listed):
        r.errors.append(f"{name} ({reflected[name]}) is reflected but not listed in "
                        f"tests/docs/config_defaults.cpp: add it to DPHYS_DOC_CONFIGS, so that its "
                        f"fields are checked")
    for name in sorted(listed - set(reflected)):
        r.errors.append(f"{name} is listed in tests/docs/config_defaults.cpp but no ADAPT_STRUCT "
                        f"in include/dphys/ reflects it")
    for c in configs.values():
        for path, t in c.nested.items():
            if not t:
                r.errors.append(f"{c.name}.{path}: a nested config type that is not listed in "
                                f"tests/docs/config_defaults.cpp")

    short = {n: c.short for n, c in configs.items()}
    blocks = parse_pages(pages, short, r.errors)
    entries: dict[str, list[Entry]] = {n: [] for n in configs}
    for b in blocks:
        for t, es in b.entries_by_type.items():
            entries[t].extend(es)
    own = {n for n in configs if any(n in b.types for b in blocks)}

    # Which leaf keys of each marked config are documented, and by which entry.
    documented: dict[str, dict[str, Entry]] = {}
    whole: dict[str, dict[str, Entry]] = {}  # nested paths documented as a whole
    for n in own:
        c = configs[n]
        keyset = set(c.keys)
        doc, nest = {}, {}
        for e in entries[n]:
            for name in e.names:
                if name in keyset:
                    doc.setdefault(name, e)
                elif name in c.nested:
                    nest.setdefault(name, e)
                elif not e.prose and all(name not in configs[o].keys
                                         and name not in configs[o].nested for o in e.owners):
                    r.errors.append(f"{e.page}:{e.line}: `{name}` is in a table marked {n}, which "
                                    f"has no such field (renamed or removed?)")
        documented[n], whole[n] = doc, nest

    # A config without a block of its own is documented through an enclosing config that lists its
    # fields key by key.
    def via_enclosing(n: str) -> list[tuple[str, str]]:
        sites = []
        for o in own:
            for path, t in configs[o].nested.items():
                if t == n and any(k.startswith(path + ".") for k in documented[o]):
                    sites.append((o, path))
        return sites

    covered = set(own) | {n for n in configs if via_enclosing(n)}

    def pages_of(n: str) -> str:
        where = sorted({p for p, text in pages.items() if f"`{short[n]}`" in text})
        return ("; it is mentioned on " + ", ".join(where)) if where else ""

    for n in sorted(configs):
        c = configs[n]
        if n not in covered:
            for f in dict.fromkeys(k.split(".")[0] for k in c.keys):
                what = f" (a nested {c.nested[f]})" if f in c.nested else ""
                r.errors.append(f"{n}: field `{f}`{what} is not documented: no page of "
                                f"docs/reference/ has a block marked <!-- config: {n} --> (nor "
                                f"does a documented config that contains it list its keys)"
                                f"{pages_of(n)}")
            continue
        if n not in own:
            continue
        by_page: dict[str, list[int]] = {}
        for b in blocks:
            if n in b.types:
                by_page.setdefault(b.page, []).append(b.line)
        marked = [f"{p} (block{'s' * (len(ls) > 1)} marked at line{'s' * (len(ls) > 1)} "
                  + ", ".join(map(str, sorted(ls))) + ")" for p, ls in sorted(by_page.items())]
        for k in c.keys:
            if k in documented[n]:
                continue
            prefixes = [".".join(k.split(".")[:j]) for j in range(1, k.count(".") + 1)]
            if any(p in whole[n] for p in prefixes):
                continue
            r.errors.append(f"{n}: field `{k}` ({c.types.get(k, '?')}, default "
                            f"{c.texts.get(k, '?')}) is not documented on {', '.join(marked)}")
        for path, e in whole[n].items():
            t = c.nested[path]
            if t and t not in covered:
                r.errors.append(f"{e.page}:{e.line}: {n}: `{path}` is documented as a whole, but "
                                f"its type {t} is documented nowhere")

        # Defaults.
        for e in entries[n]:
            if e.default is None:
                continue
            names = [x for x in e.names if x in documented[n] or x in whole[n]]
            if not names:
                continue
            if len(e.names) > 1:
                try:
                    cells = split_defaults(e.default, len(e.names))
                except NoValue:
                    if not e.prose:
                        r.errors.append(f"{e.page}:{e.line}: {n}: the row names {len(e.names)} "
                                        f"fields ({', '.join(e.names)}) but its default cell "
                                        f"'{e.default}' does not hold as many values")
                    continue
                pairs = [(x, cells[e.names.index(x)]) for x in names]
            else:
                pairs = [(names[0], e.default)]
            for key, text in pairs:
                if key in whole[n]:
                    leaves = [k for k in c.keys if k.startswith(key + ".")]
                    t = clean(text)
                    if not (t.startswith("{") and t.endswith("}")):
                        r.skipped.append(f"{e.page}:{e.line}: {n}.{key} = '{text}' "
                                         f"(a nested config)")
                        continue
                    parts = split_values(t)
                    if len(parts) != len(leaves):
                        r.errors.append(f"{e.page}:{e.line}: {n}: `{key}` documented as {text}, "
                                        f"{len(parts)} values for {len(leaves)} fields ("
                                        + ", ".join(leaves) + ")")
                        continue
                    pairs_nested = list(zip(leaves, parts))
                else:
                    pairs_nested = [(key, text)]
                for leaf, value_text in pairs_nested:
                    typ = c.types[leaf]
                    try:
                        doc = parse_value(value_text, typ)
                    except NoValue:
                        r.skipped.append(f"{e.page}:{e.line}: {n}.{leaf} = '{value_text}' "
                                         f"(not a {typ} value)")
                        continue
                    r.compared += 1
                    if not same(doc, c.value(leaf), typ):
                        r.errors.append(f"{e.page}:{e.line}: {n}: field `{leaf}` has default "
                                        f"'{value_text.strip()}' on the page, but the code's "
                                        f"default is {c.texts[leaf]}")
    r.errors = list(dict.fromkeys(r.errors))
    return r


# --- driver -------------------------------------------------------------------------------------

def read_pages(docs_dir: str) -> dict[str, str]:
    pages = {}
    base = os.path.dirname(os.path.dirname(os.path.abspath(docs_dir)))  # repo root
    for root, _, files in os.walk(docs_dir):
        for f in sorted(files):
            if f.endswith(".md"):
                path = os.path.join(root, f)
                with open(path, encoding="utf-8") as fh:
                    pages[os.path.relpath(path, base)] = fh.read()
    return pages


def self_test(configs, reflected, pages) -> int:
    """Mutations of the real pages (and headers) that the check must report."""
    failures = []

    def expect(what, result, *needles):
        hits = [e for e in result.errors if all(s in e for s in needles)]
        if not hits:
            failures.append(f"{what}: expected an error containing {needles}; got "
                            + (json.dumps(result.errors, indent=1) if result.errors else "none"))
        else:
            print(f"ok: {what}\n    -> {hits[0]}")

    def mutate(page, old, new):
        p = dict(pages)
        assert old in p[page], (page, old)
        p[page] = p[page].replace(old, new, 1)
        return p

    base = check(configs, reflected, pages)
    if base.errors:
        failures.append("the unmodified pages must pass:\n  " + "\n  ".join(base.errors))

    def row_of(page, key):
        return next(l for l in pages[page].split("\n") if l.startswith(f"| `{key}` |"))

    koki2, snes = "docs/reference/koki2.md", "docs/reference/strategies/snes.md"
    ga, xnes = "docs/reference/strategies/ga.md", "docs/reference/strategies/xnes.md"
    curiosity, nsga2 = "docs/reference/curiosity.md", "docs/reference/strategies/nsga2.md"
    surrogate = "docs/reference/surrogate.md"
    lr_row, sigma_row = row_of(koki2, "es.lr"), row_of(snes, "sigma0")
    # (what, page, text replaced, replacement, substrings the reported error must contain)
    page_mutations = [
        # a field's row removed (the dotted key form)
        ("koki2.md without the row of es.lr", koki2, lr_row + "\n", "",
         ("dphys::experiments::koki2_config", "`es.lr`", koki2)),
        # a documented default changed (a plain field table)
        ("snes.md with sigma0's default 1.0 -> 2.0", snes, sigma_row,
         sigma_row.replace("| 1.0 |", "| 2.0 |"),
         ("dphys::search::snes_config", "`sigma0`", "2.0", snes)),
        # a default in a policy table ("fields (default)")
        ("ga.md with tournament size (2) -> (3)", ga, "`size` (2)", "`size` (3)",
         ("dphys::search::tournament_selection", "`size`", ga)),
        # a marker removed: the whole config is undocumented
        ("xnes.md without its marker", xnes, "<!-- config: dphys::search::xnes_config -->\n", "",
         ("dphys::search::xnes_config", "`lr_shape`", "not documented")),
        # a row of a multi-field cell with a wrong value ("`n_min`, `n_max` | 8, 16")
        ("curiosity.md with n_max 16 -> 17", curiosity, "| 8, 16 |", "| 8, 17 |",
         ("dphys::curiosity::nbody_template_config", "`n_max`", curiosity)),
        # a stale row (a field name the config does not have)
        ("nsga2.md with a row for a field that does not exist", nsga2,
         "| `crossover_probability` |", "| `crossover_prob` |",
         ("`crossover_prob`", "no such field", nsga2)),
        # a nested config documented as a whole, by its values: "`predictor` | {1, 1, 0.8}"
        ("curiosity.md with the crucible's predictor {1, 1, 0.8} -> {1, 1, 0.9}", curiosity,
         "| {1, 1, 0.8} |", "| {1, 1, 0.9} |",
         ("dphys::curiosity::curriculum_crucible_config", "`predictor.discount`", curiosity)),
        # prose: the value after a field's name (parse_limits)
        ("surrogate.md with parse_limits max_depth 48 -> 64", surrogate, "`max_depth` 48",
         "`max_depth` 64", ("dphys::surrogate::parse_limits", "`max_depth`", surrogate)),
    ]
    for what, page, old, new, needles in page_mutations:
        expect(what, check(configs, reflected, mutate(page, old, new)), *needles)

    # a reflected config missing from the program's list
    r = dict(reflected)
    r["dphys::search::new_config"] = "dphys/search/new.hpp:1"
    expect("a DPHYS_ADAPT_STRUCT not in config_defaults.cpp", check(configs, r, pages),
           "dphys::search::new_config", "not listed")
    # the header scan finds a new ADAPT_STRUCT (and ignores the macro's definition and comments)
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "dphys", "x"))
        with open(os.path.join(tmp, "dphys", "x", "a.hpp"), "w") as fh:
            fh.write("// DPHYS_ADAPT_STRUCT(dphys::x::in_comment, a);\n"
                     "#define DPHYS_ADAPT_STRUCT(TYPE, ...) x\n"
                     "DPHYS_ADAPT_STRUCT(dphys::x::cfg_a,\n    width, height);\n"
                     "BOOST_HANA_ADAPT_STRUCT(dphys::x::cfg_b, n);\n")
        found = sorted(reflected_types(os.path.join(tmp, "dphys")))
        if found != ["dphys::x::cfg_a", "dphys::x::cfg_b"]:
            failures.append(f"header scan: expected cfg_a, cfg_b, found {found}")
        else:
            print("ok: header scan finds multi-line and Hana ADAPT_STRUCTs, not comments")

    # a marker inside a ``` code block (configuration.md's example) is not a marker
    errs: list[str] = []
    fence = "```\n<!-- config: dphys::search::nope -->\n| f |\n| --- |\n| `x` |\n```\n"
    parse_pages({"p.md": fence}, {n: c.short for n, c in configs.items()}, errs)
    if errs:
        failures.append(f"a marker in a code block was read: {errs}")
    else:
        print("ok: a marker inside a code block is ignored")

    # The value comparison is semantic.
    cases = [("0.050", "float", 0.05, True), ("`0.05`", "double", 0.05, True),
             ("0.1", "float", 0.10000000149011612, True), ("0.06", "float", 0.05, False),
             ("1e-08", "float", 1e-08, True), ("1e−8", "double", 1e-08, True),
             ("`true`", "bool", True, True), ("true", "bool", False, False),
             ('"runs/koki2"', "string", "runs/koki2", True),
             ("`runs/koki2`", "string", "runs/koki2", True),
             ('""', "string", "", True), ("`ring`", "random|ring", "ring", True),
             ("random", "random|ring", "ring", False), ("2^24", "int32", 16777216, True),
             ("1 MiB", "int32", 1048576, True), ("π", "double", math.pi, True),
             ("−1 (= max(a, b))", "double", -1.0, True),
             ("`[50, 50]`", "list of int32", [50, 50], True),
             ("10,50,100,200", "list of int32", [10, 50, 100, 200], True),
             ('`""`', "list of uint64", [], True),
             ("−3 −2 0.5", "list of double", [-3, -2, 0.5], True),
             ("1.0", "int32", 1, True), ("1.5", "int32", 1, False), ("1.5", "double", 1.25, False),
             ("{1, 1, 0.8}", "list of double", [1, 1, 0.8], True)]
    for text, typ, code, want in cases:
        got = same(parse_value(text, typ), code, typ)
        if got != want:
            failures.append(f"value comparison: '{text}' ({typ}) vs {code!r}: {got}, "
                            f"expected {want}")
    for text, typ in [("—", "double"), ("defaults above", "int32"),
                      ("all three", "list of int32"),
                      ("on", "bool"), ("shell command", "string")]:
        try:
            parse_value(text, typ)
            failures.append(f"'{text}' ({typ}) should be skipped as stating no value")
        except NoValue:
            pass
    print(f"ok: {len(cases)} value comparisons, 5 cells stating no value")

    if failures:
        print("config_docs self-test FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("config_docs self-test passed: every mutation was reported")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dump-program", help="tests/docs/config_defaults.cpp, built")
    ap.add_argument("--dump-json", help="its output, saved (instead of --dump-program)")
    ap.add_argument("--docs", required=True, help="docs/reference")
    ap.add_argument("--include", required=True, help="include/dphys")
    ap.add_argument("--self-test", action="store_true", help="check that mutations are reported")
    ap.add_argument("--verbose", action="store_true", help="list the defaults not compared")
    a = ap.parse_args()
    for opt, path in (("--docs", a.docs), ("--include", a.include)):
        if not os.path.isdir(path):
            ap.error(f"{opt} {path}: not a directory")
    try:
        if a.dump_json:
            with open(a.dump_json, encoding="utf-8") as fh:
                dump = json.load(fh)
        elif a.dump_program:
            dump = json.loads(subprocess.run([a.dump_program], check=True, capture_output=True,
                                             text=True).stdout)
        else:
            ap.error("--dump-program or --dump-json is required")
    except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
        ap.exit(2, f"check_config_docs.py: error: cannot read the configs' defaults "
                   f"({a.dump_json or a.dump_program}): {e}\n")
    configs = load_configs(dump)
    reflected = reflected_types(a.include)
    pages = read_pages(a.docs)
    if a.self_test:
        return self_test(configs, reflected, pages)
    r = check(configs, reflected, pages)
    fields = sum(len(c.keys) for c in configs.values())
    if a.verbose:
        for s in r.skipped:
            print(f"not compared: {s}")
    if r.errors:
        print(f"config_docs: {len(r.errors)} problem(s) between docs/reference/ and the code "
              f"(see docs/reference/configuration.md, \"Documenting a config\"):")
        for e in r.errors:
            print(f"  {e}")
        return 1
    print(f"config_docs: {len(configs)} configs, {fields} leaf keys documented; {r.compared} "
          f"defaults compared, {len(r.skipped)} cells not compared (--verbose lists them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
