"""Sign-in (AUTH_MODE=password), who is signed in, password changes and personal API tokens.

Sign-up and sign-in carry no credentials yet, so no CSRF token either: another site's attempt is
refused by the Origin check every unsafe request passes. Sign-out, password changes and tokens
go through get_principal like every other change (the cookie needs its X-CSRF-Token).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from agente_films.api.deps import AuthDep, CurrentUser
from agente_films.api.rate_limits import count_sign_in_attempt
from agente_films.api.schemas import (
    ApiTokenCreatedOut,
    ApiTokenIn,
    ApiTokenOut,
    AuthConfigOut,
    MeOut,
    PasswordChangeIn,
    SignInIn,
    SignUpIn,
)
from agente_films.auth.accounts import Accounts
from agente_films.auth.cookies import close_sign_in, open_sign_in
from agente_films.auth.identity import Authenticator
from agente_films.auth.principal import Principal
from agente_films.db.tables import User

router = APIRouter(prefix="/auth", tags=["auth"])


def get_accounts(auth: AuthDep) -> Accounts:
    return Accounts(auth.settings, auth.sessionmaker)


AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def me_out(auth: Authenticator, principal: Principal) -> MeOut:
    return MeOut(
        user_id=principal.user_id, username=principal.username, is_admin=principal.is_admin,
        via=principal.via, csrf_token=auth.csrf_token(principal),
    )


async def signed_in(auth: Authenticator, request: Request, response: Response, user: User) -> MeOut:
    """Gives this browser a new sign-in cookie for `user` (open_sign_in ends the one it came with)."""
    sign_in = await open_sign_in(auth, request, response, user.id)
    principal = Principal(user_id=user.id, username=user.username, is_admin=user.is_admin, via="cookie", sign_in=sign_in)
    return me_out(auth, principal)


@router.get("/config")
async def auth_config(auth: AuthDep) -> AuthConfigOut:
    """How people sign in here (public: the UI reads it before anyone is signed in)."""
    settings = auth.settings
    return AuthConfigOut(
        auth_mode=settings.auth_mode,
        signup_open=settings.auth_mode == "password" and settings.signup_open,
        oidc_enabled=settings.auth_mode == "oidc",
    )


@router.get("/me")
async def me(auth: AuthDep, principal: CurrentUser) -> MeOut:
    """The signed-in caller (401 when nobody is); in AUTH_MODE=none the local user."""
    return me_out(auth, principal)


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def sign_up(
    request: Request, response: Response, auth: AuthDep, accounts: AccountsDep, body: SignUpIn
) -> MeOut:
    """A new account, signed in at once (AUTH_MODE=password with SIGNUP_OPEN; 403 when closed,
    409 when the name is taken, 422 for a name or password that does not follow the rules)."""
    await count_sign_in_attempt(request, body.username)  # sign-in attempt limits: api/rate_limits.py
    user = await accounts.sign_up(body.username, body.password)
    return await signed_in(auth, request, response, user)


@router.post("/signin")
async def sign_in(
    request: Request, response: Response, auth: AuthDep, accounts: AccountsDep, body: SignInIn
) -> MeOut:
    """Sets the sign-in cookie (HttpOnly, SameSite=Lax, Secure behind TLS) and answers as /me
    does, with the CSRF token. 401 bad_credentials for an unknown name or a wrong password alike."""
    await count_sign_in_attempt(request, body.username)  # sign-in attempt limits: api/rate_limits.py
    user = await accounts.sign_in(body.username, body.password)
    return await signed_in(auth, request, response, user)


@router.post("/signout", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, response: Response, auth: AuthDep, principal: CurrentUser) -> None:
    """Ends this browser's sign-in: the cookie is cleared and its stored sign-in deleted, so the
    old cookie value is worthless too."""
    await close_sign_in(auth, request, response)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    request: Request, principal: CurrentUser, accounts: AccountsDep, body: PasswordChangeIn
) -> None:
    """Needs the current password (403 when wrong); signs out every other browser of this user.
    Each try counts as a sign-in attempt: a stolen sign-in cannot guess the password freely."""
    await count_sign_in_attempt(request, principal.username)  # sign-in attempt limits: api/rate_limits.py
    await accounts.change_password(
        principal.user_id, body.current_password, body.new_password, keep_sign_in=principal.sign_in
    )


@router.get("/tokens")
async def list_tokens(principal: CurrentUser, accounts: AccountsDep) -> list[ApiTokenOut]:
    """The caller's API tokens that are not revoked (newest first; expired ones too)."""
    return [ApiTokenOut.model_validate(row) for row in await accounts.tokens(principal.user_id)]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(principal: CurrentUser, accounts: AccountsDep, body: ApiTokenIn) -> ApiTokenCreatedOut:
    """A new personal API token, shown this once (send it as `Authorization: Bearer <token>`)."""
    made = await accounts.create_token(principal.user_id, body.name, body.expires_in_days)
    return ApiTokenCreatedOut(**ApiTokenOut.model_validate(made.row).model_dump(), token=made.secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(principal: CurrentUser, accounts: AccountsDep, token_id: uuid.UUID) -> None:
    """Revokes one of the caller's tokens at once (404 if it is not theirs or already revoked)."""
    await accounts.revoke_token(principal.user_id, str(token_id))
