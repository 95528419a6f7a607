"""`review serve`: a local web page and JSON API over one warm Assistant.

    from assistant.web import create_app
    app = create_app(Assistant())     # a FastAPI app: pages, /api/*, /docs

Pages are rendered on the server (Jinja2 templates shipped here) with a little vendored
JavaScript; nothing is loaded from the network.
"""

from __future__ import annotations

from .app import create_app
from .server import is_loopback, serve

__all__ = ["create_app", "is_loopback", "serve"]
