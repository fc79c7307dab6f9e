"""htmx conventions: full pages for navigation, named blocks for fragments."""
from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_fragment() -> bool:
    """A fragment only when htmx targets one: not a boosted navigation, not a history restore."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, message: str | None = None,
           **context) -> Response:
    """The whole page, or only `block` of it when htmx asks for a fragment.

    `message` is announced in the status region: out of band with a fragment, flashed otherwise."""
    if block and wants_fragment():
        body = render_block(template, block, **context)
        if message:
            body += render_template("_macros/status_oob.html", message=message)
    else:
        body = render_template(template, status_message=message, **context)
    resp = make_response(body, status)
    resp.headers["Vary"] = "HX-Request"
    return resp
