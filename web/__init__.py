"""The people's pages: review queue, runs and schedule, the managers' dashboard, sign-in.

`create_app(store, settings)` builds the FastAPI app; `quotebot serve` runs it;
`serve_demo(store, engagements=..., today=...)` starts it for the demo in a thread;
`report` writes the dashboard's figures (and `forecast_panel`'s forecast) as a file, for the
days `EARLIEST`..`LATEST` the figures cover.
"""

from web._app import create_app
from web._config import DEFAULT_SECRET, UnsafeSecret, WebSettings
from web._dashboard import EARLIEST, LATEST
from web._forecast import panel as forecast_panel
from web._security import hash_password
from web._server import WebServer, serve_demo

__all__ = [
    "DEFAULT_SECRET",
    "EARLIEST",
    "LATEST",
    "UnsafeSecret",
    "WebServer",
    "WebSettings",
    "create_app",
    "forecast_panel",
    "hash_password",
    "serve_demo",
]
