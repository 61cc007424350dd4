// A real OpenID Connect provider for the single-sign-on tests: node-oidc-provider (the
// certified implementation), with its development login screens. Every login name is an
// account whose verified email is that name.
//
//   node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      // Streamlit's sign-out comes back to the same callback.
      post_logout_redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
    },
  ],
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: id };
      },
    };
  },
  cookies: { keys: ["test-only-cookie-key"] },
  // Put the email in the ID token, as Google, Microsoft and Okta do (Streamlit reads it there).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
});
provider.proxy = false;
provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
