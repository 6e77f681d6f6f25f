"""Sign-in with an OpenID Connect provider (AUTH_MODE=oidc; auth/oidc.py does the work).

The browser navigates here (a link, not a fetch): both routes answer with redirects, and a failed
sign-in goes back to the app as /?signin_error=<code> for the page to explain.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse

from agente_films.api.deps import AuthDep
from agente_films.auth.cookies import open_sign_in
from agente_films.auth.oidc import OidcSignIn, SignInFailed, callback_url
from agente_films.errors import Refused

router = APIRouter(prefix="/auth/oidc", tags=["auth"])

_OFF = {404: {"description": "AUTH_MODE is not oidc on this server."}}
_TO_PROVIDER = {302: {"description": "To the provider's sign-in page (or back to /?signin_error=<code>)."}, **_OFF}
_TO_APP = {302: {"description": "Signed in, back to /; or not, back to /?signin_error=<code>."}, **_OFF}


def get_oidc(request: Request) -> OidcSignIn:
    oidc = getattr(request.app.state, "oidc", None)
    if oidc is None:
        raise Refused(404, "Sign-in with OpenID Connect is off on this server (AUTH_MODE is not oidc).")
    return oidc


OidcDep = Annotated[OidcSignIn, Depends(get_oidc)]


def back_to_app(error: str | None = None) -> RedirectResponse:
    return RedirectResponse("/" + (f"?{urlencode({'signin_error': error})}" if error else ""), status_code=302)


@router.get("/login", status_code=302, response_class=RedirectResponse, responses=_TO_PROVIDER)
async def oidc_login(request: Request, oidc: OidcDep) -> RedirectResponse:
    """Starts the sign-in: a redirect to the provider, with state, nonce and a PKCE challenge."""
    try:
        return await oidc.start(request, callback_url(request, oidc.settings))  # type: ignore[return-value]
    except SignInFailed as failed:
        return back_to_app(failed.code)


@router.get("/callback", status_code=302, response_class=RedirectResponse, responses=_TO_APP)
async def oidc_callback(request: Request, oidc: OidcDep, auth: AuthDep) -> RedirectResponse:
    """Where the provider sends the browser back: verifies it all, signs in, and opens the app."""
    try:
        identity = await oidc.finish(request)
        user_id = await oidc.user_for(auth.sessionmaker, identity)
    except SignInFailed as failed:
        return back_to_app(failed.code)
    response = back_to_app()
    # open_sign_in ends a previous sign-in on this browser (someone else's ends here, not at its expiry).
    await open_sign_in(auth, request, response, user_id)
    return response
