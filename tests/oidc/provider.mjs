// provider.mjs — a real OpenID Certified provider (npm oidc-provider) for apikeyd's single
// sign-on tests, on 127.0.0.1 only. One confidential client (client_secret_basic, PKCE S256
// required, redirect_uri the daemon's callback) and two accounts:
//   alice  groups ["apikeyd-admins"]   bob  groups ["auditors"]
// The login and consent pages are oidc-provider's own (devInteractions: any password is
// accepted for a known account; an unknown login gets no account).
//
//   node provider.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET
// Prints one JSON line {"issuer": ...} on stdout when it listens; stops on SIGTERM.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri, clientId, clientSecret] = process.argv.slice(2);
if (!port || !redirectUri || !clientId || !clientSecret) {
  console.error('usage: node provider.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const ACCOUNTS = {
  alice: { name: 'Alice Admin', email: 'alice@example.org', groups: ['apikeyd-admins'] },
  bob: { name: 'Bob Auditor', email: 'bob@example.org', groups: ['auditors'] },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email', 'email_verified'],
  },
  conformIdTokenClaims: false, // the claims of the granted scopes go into the ID token
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const a = ACCOUNTS[id];
    if (!a) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: a.name, email: a.email,
          email_verified: true, groups: a.groups };
      },
    };
  },
});
provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(JSON.stringify({ issuer }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
