"""What every server-rendered page a link opens shares (the client's feedback form, the
candidate's page): the security headers and the template environment."""

from jinja2 import Environment, PackageLoader, StrictUndefined

PAGE_HEADERS = {
    # No scripts, no external anything; forms post back here only; never framed.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",  # the link's token is in the URL
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def page_templates(package: str) -> Environment:
    """The templates in `package`'s `templates/` folder: autoescaped, strict about missing
    values."""
    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
