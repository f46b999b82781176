// B2B member login in cookie mode, as a browser frontend does it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsvcError, createAuthsvcClient } from "../src/index.js";
import { CookieJarFetch, baseUrl, lastMagicLinkToken, sandboxOrg, uniqueEmail } from "./helpers.js";

test("B2B magic-link login with cookies: login sets them, the session checks with them alone, logout clears them", async () => {
  const jar = new CookieJarFetch();
  const client = createAuthsvcClient({ baseUrl, auth: { mode: "cookie" }, fetch: jar.fetch });
  const email = uniqueEmail("ada");

  const { data: sent } = await client.POST("/v1/b2b/magic_links/email/login_or_signup", {
    body: { organization_id: sandboxOrg, email_address: email },
  });
  assert.ok(sent.member_id, "the send answers the member it is for");

  const token = await lastMagicLinkToken(email);
  const { data: login } = await client.POST("/v1/b2b/magic_links/authenticate", {
    body: { magic_links_token: token },
  });
  assert.equal(login.organization_id, sandboxOrg);
  assert.ok(jar.cookies.get("stytch_session"), "login sets the session token cookie");
  assert.ok(jar.cookies.get("stytch_session_jwt"), "login sets the session JWT cookie");

  // No token in the request: the cookies alone authenticate, and the JWT verifies locally.
  const { data: session } = await client.POST("/v1/b2b/sessions/authenticate", { body: {} });
  assert.equal(session.verified_by, "SESSION_VERIFIER_LOCAL");

  await client.POST("/v1/b2b/sessions/revoke", { body: {} });
  assert.equal(jar.cookies.size, 0, "logout clears the cookies");
  await assert.rejects(client.POST("/v1/b2b/sessions/authenticate", { body: {} }), (err: unknown) => {
    assert.ok(err instanceof AuthsvcError);
    // With the cookies gone the request carries no session at all (400 names the missing one).
    assert.ok(err.status === 400 || err.status === 401, `status ${err.status}`);
    return true;
  });

  // Cookie mode is what makes a browser send and store the cookies: every request asked for it.
  assert.ok(jar.credentials.length >= 5);
  assert.deepEqual(new Set(jar.credentials), new Set(["include"]));
});
