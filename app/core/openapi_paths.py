"""Which documented path template a request path falls under."""

import re
from typing import Any

_PARAM = re.compile(r"\\\{[^}]+\\\}")


def path_template(spec: dict[str, Any], path: str, method: str | None = None) -> str | None:
    """Of the templates `path` fits (that serve `method`, when given), the one with the most
    literal segments: `/by-external-id/{id}` before `/{record_id}`."""
    fits = []
    for template, item in spec.get("paths", {}).items():
        if method is not None and method.lower() not in item:
            continue
        if re.fullmatch(_PARAM.sub("[^/]+", re.escape(template)), path):
            literal = sum(1 for part in template.split("/") if not part.startswith("{"))
            fits.append((literal, template))
    return max(fits)[1] if fits else None


def documented_methods(spec: dict[str, Any], path: str) -> list[str]:
    """The methods the document gives the path (with HEAD beside GET), or none."""
    template = path_template(spec, path)
    if template is None:
        return []
    methods = {method.upper() for method in spec["paths"][template]}
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)
