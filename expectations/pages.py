"""The HTML pages gridfusion writes itself (quality summary, Data Docs index), from ``expectations/templates``."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

_templates = Environment(
    loader=PackageLoader("expectations", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context) -> str:
    return _templates.get_template(template).render(**context)
