"""Running the app: uvicorn on loopback unless the caller explicitly allows another address."""

from __future__ import annotations

import ipaddress
import logging
import threading
import webbrowser
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..api import Assistant

__all__ = ["check_host", "is_loopback", "serve"]

log = logging.getLogger(__name__)

REMOTE_WARNING = (
    "serving on {host}, which other machines can reach: anyone who can connect can read the corpus "
    "and add papers to the index (there is no login)"
)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str, allow_remote: bool, warn=None) -> None:
    """Refuse a non-loopback ``host`` unless ``allow_remote``; when allowed, ``warn`` says why it is risky."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise ConfigError(
            f"{host} is not a loopback address: the page has no login, so binding to it needs --allow-remote"
        )
    (warn or log.warning)(REMOTE_WARNING.format(host=host))


def serve(
    assistant: Assistant | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = False,
    allow_remote: bool = False,
    background: bool = False,
    warn=None,
):
    """Serve the web page until interrupted (``background``: in a daemon thread; the uvicorn server is returned).

    A non-loopback ``host`` needs ``allow_remote``, and ``warn`` is told why it is risky."""
    import uvicorn

    from .app import create_app

    check_host(host, allow_remote, warn)
    app = create_app(assistant)
    app.state.warm.warm_up()  # index, embedder and BM25 loaded before the first request
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    if background:
        thread = threading.Thread(target=server.run, daemon=True, name="review-serve")
        thread.start()
        return server
    log.info("serving on %s", url)
    server.run()
    return server
