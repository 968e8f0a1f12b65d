"""The one Liquid environment: templates are parsed at compile time and rendered at run time.

Context: contact, event, journey (data keys), now. An undefined variable renders empty. A value
that is exactly one output (`"{{ journey.x.body.n }}"`) keeps the type of what it yields; when that
output is undefined a caller may ask for a marker instead of '' (`when_undefined=UNDEFINED`), so that
update_profile can tell "the lookup gave nothing" from "the lookup gave an empty string".
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from journeys import clock
from journeys.language.model import NOT_TEMPLATES
from journeys.language.secret_refs import is_secret_ref


@lru_cache(maxsize=1)
def _env():
    """Liquid, imported on the first template that needs it: a Lambda whose steps render nothing
    (tags, control) never pays for Liquid and the babel it pulls in (cold start, issue 11)."""
    from liquid import Environment

    return Environment()

# ---------------------------------------------------------------------------- URLs
# A value rendered into a URL's path or query is data: percent-encoded whole ('/', '?', '&', '#', '..'
# included), so a contact id like `../../admin?x=` stays one path segment. An output before the path
# begins (`{{ event.url }}/...`: scheme, host, base) is written as it is; the outbound policy checks it.
_PATH_BEGUN = re.compile(r"^(/|[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*[/?#])")


@lru_cache(maxsize=1)
def _url_env():
    """Liquid whose outputs percent-encode inside a URL's path or query (imported when first used)."""
    from liquid import Environment
    from liquid.builtin.output import Output, OutputNode
    from liquid.stringify import to_liquid_string

    class UrlOutputNode(OutputNode):
        def render_to_output(self, context, buffer) -> int:
            text = to_liquid_string(self.expression.evaluate(context), False)
            so_far = buffer.getvalue() if hasattr(buffer, "getvalue") else ""
            return buffer.write(quote(text, safe="") if _PATH_BEGUN.match(so_far) else text)

    class UrlOutput(Output):
        node_class = UrlOutputNode

    env = Environment()
    env.add_tag(UrlOutput)
    return env


def render_url(source: str, context: Mapping[str, Any]) -> str:
    """Render a URL (or a path) template, percent-encoding what its outputs put in the path or query."""
    parse(source)  # the same errors as any template
    return _parse_url(source).render(**context)


@lru_cache(maxsize=1024)
def _parse_url(source: str):
    return _url_env().from_string(source)


class TemplateError(ValueError):
    pass


class _Undefined:
    """The marker `render(..., when_undefined=UNDEFINED)` returns for a lone output that is undefined."""

    def __repr__(self) -> str:
        return "templates.UNDEFINED"


UNDEFINED = _Undefined()


@lru_cache(maxsize=4096)
def parse(source: str):
    """A parsed template; raises TemplateError with Liquid's own message."""
    from liquid.exceptions import LiquidError

    try:
        return _env().from_string(source)
    except LiquidError as error:
        first_line = str(error).splitlines()[0]
        raise TemplateError(f"invalid template {source!r}: {first_line}") from None


def template_fields(settings: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, source) for every template string in a step's settings (a secret reference is none)."""
    if is_secret_ref(settings):
        return
    if isinstance(settings, Mapping):
        for key, value in settings.items():
            if not path and key in NOT_TEMPLATES:
                continue
            yield from template_fields(value, f"{path}.{key}" if path else str(key))
    elif isinstance(settings, list):
        for index, value in enumerate(settings):
            yield from template_fields(value, f"{path}.{index}")
    elif isinstance(settings, str):
        yield path, settings


def check(settings: Any) -> list[tuple[str, str]]:
    """(key, message) for each template in settings that would not render: a syntax error, or a filter
    or tag this environment does not have (Liquid only finds those out when it renders, for every contact)."""
    problems = []
    for key, source in template_fields(settings):
        try:
            validate(source)
        except TemplateError as error:
            problems.append((key, str(error)))
    return problems


# Tags that read other template files: a journey has none, so they would fail for every contact.
_NO_TEMPLATE_FILES = {"include", "render"}


@lru_cache(maxsize=4096)
def validate(source: str) -> None:
    """Raise TemplateError unless `source` parses and uses only filters and tags of the one environment."""
    analysis = parse(source).analyze(include_partials=False)  # partials: none exist, reported below
    unknown_filters = sorted(name for name in analysis.filters if name not in _env().filters)
    if unknown_filters:
        raise TemplateError(f"invalid template {source!r}: unknown filter {_names(unknown_filters)}")
    file_tags = sorted(name for name in analysis.tags if name in _NO_TEMPLATE_FILES or name not in _env().tags)
    if file_tags:
        raise TemplateError(f"invalid template {source!r}: tag {_names(file_tags)} is not available (a journey has no template files)")


def _names(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


def scope(contact: Mapping, event: Mapping | None = None, journey: Mapping | None = None) -> dict[str, Any]:
    return {"contact": dict(contact), "event": dict(event or {}), "journey": dict(journey or {}), "now": clock.iso(clock.now())}


def render(source: str, context: Mapping[str, Any], *, when_undefined: Any = "") -> Any:
    """Render one template; a lone output keeps its type. An undefined lone output gives `when_undefined`
    ('' by default, as the contract says); in any other template an undefined variable renders empty."""
    if "{" not in source:
        return source  # plain text: nothing to render, no need for Liquid
    from liquid import RenderContext
    from liquid.builtin.output import OutputNode
    from liquid.undefined import Undefined

    template = parse(source)
    nodes = [node for node in template.nodes if not (isinstance(node, str) or _is_blank_text(node))]
    if len(nodes) == 1 and isinstance(nodes[0], OutputNode) and source.strip().startswith("{{") and source.strip().endswith("}}"):
        value = nodes[0].expression.evaluate(RenderContext(template, globals=template.make_globals(context)))
        if isinstance(value, Undefined):
            return when_undefined
        if value is None:
            return ""
        if isinstance(value, (int, float, bool, list, dict)):
            return value
    return template.render(**context)


def render_settings(settings: Any, context: Mapping[str, Any], path: str = "") -> Any:
    """Render every template string in settings (ids, durations, conditions and secret references stay
    as they are)."""
    if is_secret_ref(settings):
        return settings
    if isinstance(settings, Mapping):
        return {
            key: value if (not path and key in NOT_TEMPLATES) else render_settings(value, context, f"{path}.{key}")
            for key, value in settings.items()
        }
    if isinstance(settings, list):
        return [render_settings(value, context, path) for value in settings]
    if isinstance(settings, str):
        return render(settings, context)
    return settings


def _is_blank_text(node: Any) -> bool:
    from liquid.builtin.output import OutputNode

    text = getattr(node, "text", None)
    return isinstance(text, str) and not text.strip() and not isinstance(node, OutputNode)
