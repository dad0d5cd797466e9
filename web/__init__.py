"""The people's pages: review queue, runs and schedule, the managers' dashboard, sign-in.

`create_app(store, settings)` builds the FastAPI app; `quotebot serve` runs it.
"""

from web._app import create_app
from web._config import UnsafeSecret, WebSettings

__all__ = ["UnsafeSecret", "WebSettings", "create_app"]
