# SPDX-License-Identifier: AGPL-3.0-or-later
"""Sanity checks for the routing evaluation data set.

Run: python data/routing-eval/validate.py
Exits non-zero and lists the problems if anything is wrong.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LANGS = {"en", "fr", "ar"}
SCOPES = {"org", "global"}
ARABIC = re.compile(r"[\u0600-\u06FF]")

errors = []


def err(msg):
    errors.append(msg)


orgs = json.loads((HERE / "organizations.json").read_text(encoding="utf-8"))
if not isinstance(orgs, list):
    err("organizations.json must be a JSON list")
    orgs = []

groups_by_org = {}
for o in orgs:
    for key in ("slug", "name", "domain", "category", "tags", "languages", "description", "groups"):
        if key not in o:
            err(f"org {o.get('slug')}: missing {key}")
    slug = o.get("slug", "")
    if not SLUG.match(slug):
        err(f"bad org slug {slug!r}")
    if slug in groups_by_org:
        err(f"duplicate org slug {slug}")
    if not str(o.get("domain", "")).endswith(".example"):
        err(f"org {slug}: domain should end with .example")
    if not set(o.get("languages", [])) <= LANGS or not o.get("languages"):
        err(f"org {slug}: bad languages {o.get('languages')}")
    if not isinstance(o.get("tags"), list) or not o.get("tags"):
        err(f"org {slug}: tags must be a non-empty list")
    gs = o.get("groups", [])
    if not 3 <= len(gs) <= 6:
        err(f"org {slug}: has {len(gs)} groups, expected 3-6")
    gslugs = set()
    for g in gs:
        for key in ("slug", "name", "description"):
            if not g.get(key):
                err(f"org {slug}: group missing {key}")
        if not SLUG.match(g.get("slug", "")):
            err(f"org {slug}: bad group slug {g.get('slug')!r}")
        if g.get("slug") in gslugs:
            err(f"org {slug}: duplicate group {g.get('slug')}")
        gslugs.add(g.get("slug"))
        n = len(re.findall(r"[.!?](\s|$)", g.get("description", "")))
        if not 2 <= n <= 4:
            err(f"org {slug}/{g.get('slug')}: description has {n} sentences, expected 2-4")
    groups_by_org[slug] = (gslugs, set(o.get("languages", [])))

queries = []
for n, line in enumerate((HERE / "queries.jsonl").read_text(encoding="utf-8").splitlines(), 1):
    if not line.strip():
        continue
    try:
        queries.append(json.loads(line))
    except json.JSONDecodeError as e:
        err(f"queries.jsonl line {n}: invalid JSON ({e})")

ids = Counter(q.get("id") for q in queries)
for i, c in ids.items():
    if c > 1:
        err(f"duplicate id {i}")
texts = Counter(q.get("text", "").strip().lower() for q in queries)
for t, c in texts.items():
    if c > 1:
        err(f"duplicate text {t!r}")
used_groups = set()
for q in queries:
    qid = q.get("id")
    if set(q) != {"id", "text", "lang", "scope", "org", "group"}:
        err(f"{qid}: unexpected keys {sorted(q)}")
    if not re.match(r"^q\d{3,}$", str(qid)):
        err(f"{qid}: bad id format")
    if q.get("lang") not in LANGS:
        err(f"{qid}: bad lang {q.get('lang')}")
    if q.get("scope") not in SCOPES:
        err(f"{qid}: bad scope {q.get('scope')}")
    if not str(q.get("text", "")).strip():
        err(f"{qid}: empty text")
    if (q.get("lang") == "ar") != bool(ARABIC.search(q.get("text", ""))):
        err(f"{qid}: Arabic script / lang mismatch")
    org = q.get("org")
    if org not in groups_by_org:
        err(f"{qid}: unknown org {org}")
        continue
    gslugs, langs = groups_by_org[org]
    if q.get("group") not in gslugs:
        err(f"{qid}: unknown group {org}/{q.get('group')}")
    if q.get("lang") not in langs:
        err(f"{qid}: lang {q.get('lang')} not among {org}'s languages")
    used_groups.add((org, q.get("group")))

for org, (gslugs, _) in groups_by_org.items():
    for g in gslugs - {g for o, g in used_groups if o == org}:
        err(f"group {org}/{g} has no query")

by_lang = Counter(q.get("lang") for q in queries)
by_scope = Counter(q.get("scope") for q in queries)
if len(orgs) < 22:
    err(f"only {len(orgs)} organizations, need >= 22")
if len(queries) < 260:
    err(f"only {len(queries)} queries, need >= 260")
if by_lang["fr"] < 25 or by_lang["ar"] < 25 or by_lang["en"] < 180:
    err(f"language mix off: {dict(by_lang)}")
share = by_scope["org"] / max(len(queries), 1)
if not 0.5 <= share <= 0.7:
    err(f"org-scoped share {share:.0%} outside 50-70%")

print(f"organizations: {len(orgs)}, groups: {sum(len(o['groups']) for o in orgs)}")
print(f"queries: {len(queries)}")
print("by language:", dict(sorted(by_lang.items())))
print("by scope:", dict(sorted(by_scope.items())), f"(org share {share:.0%})")
print("by language x scope:", dict(sorted(Counter((q['lang'], q['scope']) for q in queries).items())))
if errors:
    print(f"\n{len(errors)} problem(s):")
    for e in errors:
        print(" -", e)
    sys.exit(1)
print("OK")
