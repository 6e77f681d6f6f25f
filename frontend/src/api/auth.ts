/** Sign-in, sign-up, sign-out, password and personal API tokens (/api/v1/auth), on the shared typed client. */
import { call, client } from './client';
import type { components } from './schema';

type Schemas = components['schemas'];
export type AuthConfig = Schemas['AuthConfigOut'];
/** The signed-in account, with the CSRF token the page sends back with every change. */
export type Me = Schemas['MeOut'];
export type ApiToken = Schemas['ApiTokenOut'];
/** A token just made: the only answer that carries the token itself. */
export type NewApiToken = Schemas['ApiTokenCreatedOut'];

/** Where "Sign in with your provider" starts (a plain link: the provider's pages take over). */
export const OIDC_LOGIN_URL = '/api/v1/auth/oidc/login';

export const authApi = {
  config: () => call(() => client.GET('/api/v1/auth/config')),
  me: () => call(() => client.GET('/api/v1/auth/me')),
  signIn: (username: string, password: string) => call(() => client.POST('/api/v1/auth/signin', { body: { username, password } })),
  signUp: (username: string, password: string) => call(() => client.POST('/api/v1/auth/signup', { body: { username, password } })),
  signOut: () => call(() => client.POST('/api/v1/auth/signout')),
  changePassword: (currentPassword: string, newPassword: string) =>
    call(() => client.POST('/api/v1/auth/password', { body: { current_password: currentPassword, new_password: newPassword } })),
  tokens: () => call(() => client.GET('/api/v1/auth/tokens')),
  createToken: (name: string, expiresInDays: number | null) =>
    call(() => client.POST('/api/v1/auth/tokens', { body: expiresInDays ? { name, expires_in_days: expiresInDays } : { name } })),
  revokeToken: (id: string) => call(() => client.DELETE('/api/v1/auth/tokens/{token_id}', { params: { path: { token_id: id } } })),
};

export type AuthApi = typeof authApi;
