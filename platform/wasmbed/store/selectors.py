"""Kubernetes label selector strings: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
`a`, `!a`, comma-separated (AND). Shared by the store, the API and the controllers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TERM = re.compile(
    r"^\s*(?:(?P<neg>!)\s*(?P<nkey>[\w./-]+)"
    r"|(?P<key>[\w./-]+)\s*(?:(?P<op>==|=|!=)\s*(?P<val>[\w./-]*)"
    r"|\s+(?P<setop>in|notin)\s*\((?P<set>[^)]*)\))?)\s*$"
)


class SelectorError(ValueError):
    pass


@dataclass(frozen=True)
class _Term:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        if self.op == "exists":
            return self.key in labels
        if self.op == "!exists":
            return self.key not in labels
        if self.op in ("=", "in"):
            return labels.get(self.key) in self.values
        return labels.get(self.key) not in self.values


def _split(selector: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p for p in parts if p.strip()]


@dataclass(frozen=True)
class LabelSelector:
    terms: tuple[_Term, ...]

    @classmethod
    def parse(cls, selector: str | None) -> LabelSelector:
        terms = []
        for raw in _split(selector or ""):
            m = _TERM.match(raw)
            if not m:
                raise SelectorError(
                    f"invalid label selector term {raw.strip()!r}; "
                    "use key=value, key!=value, key in (a,b), key or !key"
                )
            if m["nkey"]:
                terms.append(_Term(m["nkey"], "!exists"))
            elif m["op"]:
                terms.append(_Term(m["key"], "!=" if m["op"] == "!=" else "=", (m["val"],)))
            elif m["setop"]:
                values = tuple(v.strip() for v in m["set"].split(",") if v.strip())
                terms.append(_Term(m["key"], m["setop"], values))
            else:
                terms.append(_Term(m["key"], "exists"))
        return cls(tuple(terms))

    @classmethod
    def from_match_labels(cls, labels: dict[str, str]) -> LabelSelector:
        return cls(tuple(_Term(k, "=", (v,)) for k, v in sorted(labels.items())))

    def matches(self, labels: dict[str, str] | None) -> bool:
        return all(t.matches(labels or {}) for t in self.terms)

    @property
    def empty(self) -> bool:
        return not self.terms

    def __str__(self) -> str:
        out = []
        for t in self.terms:
            if t.op == "exists":
                out.append(t.key)
            elif t.op == "!exists":
                out.append(f"!{t.key}")
            elif t.op in ("=", "!="):
                out.append(f"{t.key}{t.op}{t.values[0]}")
            else:
                out.append(f"{t.key} {t.op} ({','.join(t.values)})")
        return ",".join(out)
