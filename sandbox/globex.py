"""Globex: a legacy, server-rendered client portal (the sandbox's second UI flavour).

What bots meet here and not in acme: grey tables without test ids, `ctl00_main_*` ids,
full page reloads, pagination links, `<select>` dropdowns, a quote editor inside an
iframe with a server-side "Are you sure?" page (each added line's service dates typed as
text, `yyyy-mm-dd`, blank for the term; amounts only calculated on save), the install
base's line ends and "Renew: No (notice given)" in plain cells, and a multipart booking
form. The core's
`create_app` mounts `router` when `config.flavour == "globex"`; it provides the session,
the CSRF check and `app.state.portal`.
"""

from __future__ import annotations

from fastapi import APIRouter

from sandbox import globex_editor, globex_files, globex_opportunities, globex_quotes

router = APIRouter()
router.include_router(globex_files.router)
router.include_router(globex_opportunities.router)
router.include_router(globex_editor.router)
router.include_router(globex_quotes.router)

__all__ = ["router"]
