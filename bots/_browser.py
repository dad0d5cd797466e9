"""Which Chromium to launch and with which flags, for bots, tests and benchmarks alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from schemas.settings import Settings

SYSTEM_CHROMIUM = Path("/usr/bin/chromium")
# Debian's build of Chromium's old headless shell: the browser Playwright itself runs for
# headless work. It renders the same Blink and V8 without the full browser's window
# machinery, and costs about 30 % less CPU per quote here (tests/test_bots_e2e.py, same run).
SYSTEM_HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")

# Flags that keep Chromium quiet on a closed network and in a root container.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_executable(settings: Settings) -> Path | None:
    """The configured Chromium; else Debian's headless shell when headless, else Debian's
    Chromium; else None (Playwright's managed browser)."""
    if settings.chromium_path is not None:
        if not settings.chromium_path.exists():
            raise FileNotFoundError(
                f"QUOTEBOT_CHROMIUM_PATH points to {settings.chromium_path}, which does not exist"
            )
        return settings.chromium_path
    if settings.headless and SYSTEM_HEADLESS_SHELL.exists():
        return SYSTEM_HEADLESS_SHELL
    if SYSTEM_CHROMIUM.exists():
        return SYSTEM_CHROMIUM
    return None


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch(...)`."""
    options: dict[str, Any] = {"headless": settings.headless, "args": list(CHROMIUM_ARGS)}
    executable = chromium_executable(settings)
    if executable is not None:
        options["executable_path"] = str(executable)
    return options
