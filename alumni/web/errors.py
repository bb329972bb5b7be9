"""Plain-words pages for routing, validation and server errors, in the browser's language.

They say what the person can do, never an internal id, state or traceback: those go to the log
(Starlette re-raises a server error after its page is sent, so uvicorn logs the traceback).
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from alumni.web.site import Site, request_words

__all__ = ["add_error_pages"]

# (title, text) keys of ``alumni.web.i18n`` by status; any other status reads "could not be read".
_PAGES = {404: ("not_found_title", "not_found"), 405: ("method_title", "method")}
_UNREADABLE = ("unreadable_title", "unreadable")


def add_error_pages(app: FastAPI, site: Site) -> None:
    """Answer routing (404, 405), unreadable (400, 422) and server (500) errors with a page."""

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        words = request_words(request)
        title, text = _PAGES.get(error.status_code, _UNREADABLE)
        response = site.message(words, error.status_code, words(title), words(text))
        response.headers.update(error.headers or {})  # e.g. Allow on a 405
        return response

    @app.exception_handler(RequestValidationError)
    async def unreadable(request: Request, error: RequestValidationError) -> Response:
        words = request_words(request)
        return site.message(words, 422, words("unreadable_title"), words("unreadable"))

    @app.exception_handler(Exception)
    async def server_error(request: Request, error: Exception) -> Response:
        words = request_words(request)
        text = words("server", office=site.office)
        return site.message(words, 500, words("server_title"), text)
