"""The small page a browser lands on after connecting, when no ``return_to`` was given."""

from __future__ import annotations

from html import escape

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid;
       place-items: center; background: #f4f5f7; color: #1d2330; }}
main {{ background: #fff; padding: 2rem 2.5rem; border-radius: 12px; max-width: 28rem;
       box-shadow: 0 2px 12px rgba(0, 0, 0, .08); text-align: center; }}
h1 {{ font-size: 1.4rem; margin: 0 0 .5rem; }}
p {{ margin: .25rem 0; color: #4a5263; }}
</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>
"""


def connected_page(provider: str) -> str:
    name = escape(provider.upper() if provider == "whoop" else provider.capitalize())
    body = (
        f"<p>Your {name} account is connected.</p>"
        "<p>Your data is being synced now; you can close this window.</p>"
    )
    return _PAGE.format(title=f"{name} connected", body=body)
