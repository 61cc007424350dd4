"""What the dashboard's web server adds beside its pages: sign-in as a plain HTML form that
sets an HttpOnly session cookie (a browser script can never read it), sign-out, a gate that
sends page loads without a session to the form, the API (its reference page open to signed-in
users too), and Streamlit's single-sign-on secrets. The dashboard script checks the session
again on every run. Kept out of `agent_core`: only the dashboard has sessions and pages."""

from __future__ import annotations

import base64
import html
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from agent_core.access.authentication import Authenticator
from agent_core.access.models import Principal
from agent_core.errors import SignInError, ThrottledError
from agent_core.http.api_docs import ApiDocs
from agent_core.http.app import api_middleware, api_routes
from agent_core.http.hosts import same_origin
from agent_core.runtime import Runtime, shared_runtime
from agent_core.settings import Settings

SESSION_COOKIE = "vam_session"
SSO_COOKIE = "_streamlit_user"
SIGN_IN_PATH = "/account/sign-in"
SIGN_OUT_PATH = "/account/sign-out"
_MAX_FORM_BYTES = 4096
# Paths the gate lets through: the API (its own keys), sign-in itself, Streamlit's SSO
# routes, and the assets and socket the app needs (the script checks the session itself).
_OPEN_PREFIXES = (
    "/api/",
    "/account/",
    "/auth/",
    "/oauth2callback",
    "/_stcore/",
    "/static/",
    "/media/",
    "/component/",
)
_FAVICONS = ("/favicon.png", "/favicon.ico")

_HERE = Path(__file__).parent
_PAGE = (_HERE / "sign_in.html").read_text("utf-8")
PRODUCT_ICON = _HERE / "icon.png"
"""The product's icon (the dashboard's favicon too): a file here, so no page fetches one."""
_ICON_URL = "data:image/png;base64," + base64.b64encode(PRODUCT_ICON.read_bytes()).decode("ascii")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def client_address(scope: Scope) -> str:
    """The client's address as the server saw it (for the audit log)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def sign_in_page(
    next_path: str,
    *,
    message: str = "",
    notice: str = "",
    email: str = "",
    sso: bool = False,
    font_url: str | None = None,
) -> str:
    """The sign-in form, with an error message or a notice, a single-sign-on link when
    configured, and the dashboard's own font when its URL is known."""
    shown = ""
    if message:
        shown = f'<p class="error" role="alert">{html.escape(message)}</p>'
    elif notice:
        shown = f'<p class="notice" role="status">{html.escape(notice)}</p>'
    font = (
        f'@font-face{{font-family:"Source Sans";src:url("{html.escape(font_url)}") format("woff2")}}'
        if font_url
        else ""
    )
    return _PAGE.format(
        action=SIGN_IN_PATH,
        icon=_ICON_URL,
        font=font,
        next=html.escape(safe_next(next_path)),
        email=html.escape(email),
        message=shown,
        sso='<p class="hint"><a href="/?sso=1">Sign in with single sign-on</a></p>' if sso else "",
    )


class AccountRoutes:
    """The sign-in form, its post, and sign-out."""

    def __init__(self, runtime: Callable[[], Runtime], font_url: str | None = None) -> None:
        self._runtime = runtime
        self._font_url = font_url

    def _page(self, next_path: str, **shown: str) -> str:
        sso = self._runtime().settings.sso_configured
        return sign_in_page(next_path, sso=sso, font_url=self._font_url, **shown)

    def routes(self) -> list[Route]:
        """The account routes to mount beside the dashboard."""
        return [
            Route(SIGN_IN_PATH, self.form, methods=["GET"]),
            Route(SIGN_IN_PATH, self.sign_in, methods=["POST"]),
            Route(SIGN_OUT_PATH, self.sign_out, methods=["GET", "POST"]),
        ]

    async def form(self, request: Request) -> Response:
        runtime = self._runtime()
        if await run_in_threadpool(runtime.authenticator.local_mode):
            return RedirectResponse("/", 303)
        signed_out = "You are signed out." if "signed-out" in request.query_params else ""
        return HTMLResponse(self._page(request.query_params.get("next", "/"), notice=signed_out))

    async def sign_in(self, request: Request) -> Response:
        runtime = self._runtime()
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_FORM_BYTES:
                return HTMLResponse(self._page("/", message="The form is too large."), 413)
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        email, password = fields.get("email", ""), fields.get("password", "")
        next_path = safe_next(fields.get("next"))
        if not same_origin(request):
            page = self._page(next_path, message="Sign in from this site's own page.")
            return HTMLResponse(page, 403)
        try:
            signed_in = await run_in_threadpool(
                runtime.authenticator.sign_in, email, password, client_address(request.scope)
            )
        except ThrottledError as exc:
            page = self._page(next_path, message=f"Sign-in paused: {exc}.", email=email)
            return HTMLResponse(page, 429, headers={"Retry-After": str(exc.retry_after)})
        except SignInError as exc:
            page = self._page(next_path, message=f"Could not sign in: {exc}.", email=email)
            return HTMLResponse(page, 401)
        response = RedirectResponse(next_path, 303)
        response.set_cookie(
            SESSION_COOKIE,
            signed_in.token,
            max_age=int(runtime.authenticator.policy.session_lifetime.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        runtime = self._runtime()
        await run_in_threadpool(runtime.authenticator.sign_out, request.cookies.get(SESSION_COOKIE))
        # Streamlit's own logout route clears a single-sign-on identity as well.
        target = "/auth/logout" if SSO_COOKIE in request.cookies else f"{SIGN_IN_PATH}?signed-out"
        response = RedirectResponse(target, 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


class DashboardGate:
    """Sends a page load with no live session to the sign-in form (unless in local mode)."""

    def __init__(self, app: ASGIApp, runtime: Callable[[], Runtime]) -> None:
        self._app = app
        self._runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or not self._gated(scope["path"])
        ):
            await self._app(scope, receive, send)
            return
        request = Request(scope)
        # A single-sign-on identity, or the way to get one (?sso=1), is for the script to check.
        passes = SSO_COOKIE in request.cookies or request.query_params.get("sso") == "1"
        if passes or await run_in_threadpool(self._allowed, request):
            await self._app(scope, receive, send)
            return
        query = scope["query_string"].decode("latin-1")
        target = scope["path"] + (f"?{query}" if query else "")
        response = RedirectResponse(f"{SIGN_IN_PATH}?next={quote(target, safe='')}", 303)
        await response(scope, receive, send)

    @staticmethod
    def _gated(path: str) -> bool:
        return not path.startswith(_OPEN_PREFIXES) and path not in _FAVICONS

    def _allowed(self, request: Request) -> bool:
        authenticator = self._runtime().authenticator
        return authenticator.local_mode() or _has_session(authenticator, request)


def streamlit_font_url() -> str | None:
    """Where Streamlit serves the dashboard's font (Source Sans; its file name carries a hash
    that changes with each release), so the sign-in page looks like the dashboard."""
    media = Path(st.__file__).parent / "static" / "static" / "media"
    found = sorted(media.glob("SourceSansVF-Upright*.woff2"))
    return f"/static/media/{found[0].name}" if found else None


def _has_session(authenticator: Authenticator, request: Request) -> bool:
    """Whether a request carries a live session cookie."""
    return authenticator.session_user(request.cookies.get(SESSION_COOKIE)) is not None


def dashboard_routes(
    runtime: Callable[[], Runtime] = shared_runtime, font_url: str | None = None
) -> list[BaseRoute]:
    """What serves beside the dashboard: sign-in and sign-out (in the dashboard's font, at
    `font_url`, when given), then the API."""
    docs = ApiDocs(
        runtime, also_for=lambda r: _has_session(runtime().authenticator, r), sign_in_path=SIGN_IN_PATH
    )

    def signed_in(connection: HTTPConnection) -> Principal | None:
        return runtime().authenticator.session_principal(connection.cookies.get(SESSION_COOKIE))

    return [*AccountRoutes(runtime, font_url).routes(), *api_routes(runtime, docs, signed_in)]


def dashboard_middleware(runtime: Callable[[], Runtime] = shared_runtime) -> list[Middleware]:
    """The API's middleware, then the gate that sends page loads without a session to sign-in."""
    return [*api_middleware(runtime), Middleware(DashboardGate, runtime=runtime)]


def streamlit_secrets(settings: Settings) -> dict[str, Any]:
    """Streamlit's `[auth]` secrets for `st.login` from OIDC_* settings (empty without SSO)."""
    if not settings.sso_configured or settings.oidc_client_secret is None:
        return {}
    cookie = settings.oidc_cookie_secret.get_secret_value() if settings.oidc_cookie_secret else None
    redirect = settings.oidc_redirect_uri or f"http://{settings.host}:{settings.port}/oauth2callback"
    return {
        "auth": {
            "redirect_uri": str(redirect),
            "cookie_secret": cookie or secrets.token_urlsafe(32),
            "client_id": settings.oidc_client_id,
            "client_secret": settings.oidc_client_secret.get_secret_value(),
            "server_metadata_url": str(settings.oidc_server_metadata_url),
            # Streamlit asks for `select_account`, which many providers refuse; `login` is the
            # prompt every OpenID provider supports (and an operator proves who they are anew).
            "client_kwargs": {"scope": "openid email profile", "prompt": "login"},
        }
    }
