"""Who is calling: sign-in modes (AUTH_MODE), accounts, tokens and the checks that go with them."""
