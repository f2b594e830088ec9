"""The registry of document codes: every code the indexed documents name, with its status (replaced
by what, in force as the sources state, disputed, unknown), and one code's page with every fact
the documents state about it, each with its evidence (the sentence, the document, how surely it
was read), and its relations in both directions.

The registry comes from the data directory's catalog (``Review.registry``), not from a search:
no embedding model is loaded.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from partybot.review.web import BadRequest, review
from retrieval.registry import Record, Registry, record_dict
from text.codes import find_codes
from text.terminology import body, type_name

router = APIRouter()

STATES = {"replaced": "replaced", "in_force_stated": "in force as stated", "disputed": "disputed",
          "unknown": "unknown"}
FACTS = {"issued": "Issued", "effective": "In force from", "issuer": "Issued by", "about": "About"}
# (kind, this record acts on the other) -> how the relation reads from this record's side
RELATIONS = {("replaces", True): "replaces", ("replaces", False): "replaced by",
             ("amends", True): "amends", ("amends", False): "amended by",
             ("implements", True): "guides or implements", ("implements", False): "guided or implemented by"}


def shown(kind: str, value: str) -> str:
    """A fact's value for a reader: the issuing body's name with its key, "from signing" spelt out."""
    if kind == "issuer" and body(value):
        return f"{body(value).name('en')} ({value})"
    if kind == "effective" and value == "signing":
        return "the day it was signed"
    return value


def summary(record: Record, registry: Registry) -> dict:
    """One row of the list."""
    status = registry.status(record)
    issued = record.issued()
    return {"code": record.code.display, "type": record.code.type, "type_name": type_name(record.code.type, "en"),
            "level": record.level, "state": status.state, "state_name": STATES[status.state],
            "by": [r.other.display for r in status.by], "current": status.current.display if status.current else None,
            "issued": issued[0] if issued else "", "ingested": bool(record.own_text),
            "mentions": len(record.mentioned_in)}


@router.get("/registry")
async def registry_list(request: Request):
    rv = review(request)
    s = await rv.require(request)
    registry, _names = await rv.db(rv.registry)
    rows = [summary(r, registry) for r in registry.all()]
    return rv.render(request, "registry.html", session=s, rows=rows, heading="Document registry", query=None)


@router.get("/registry/{code:path}")
async def registry_page(request: Request, code: str):
    rv = review(request)
    s = await rv.require(request)
    registry, names = await rv.db(rv.registry)
    records: list[Record] = []
    for c in find_codes(code[:200]):
        records += [r for r in registry.find(c) if r.code.key not in {x.code.key for x in records}]
    if not records:
        raise BadRequest(f"No indexed document states anything about the code “{code[:200]}”.", 404)
    if len(records) > 1:  # a partial code ("QĐ 22") that fits several documents: choose one
        return rv.render(request, "registry.html", session=s, rows=[summary(r, registry) for r in records],
                         heading=f"Codes that fit “{code[:200]}”", query=code[:200])
    record = records[0]
    data = record_dict(record, registry)
    status = registry.status(record)
    facts = [(FACTS[kind], f | {"shown": shown(kind, f["value"])}) for kind in FACTS for f in data[kind]]
    relations = [r | {"reads": RELATIONS[(r["kind"], r["direction"] == "acts on")]} for r in data["relations"]]
    return rv.render(request, "registry_code.html", session=s, r=data, row=summary(record, registry),
                     facts=facts, relations=relations, chain=[c.display for c in status.chain],
                     names=names)
