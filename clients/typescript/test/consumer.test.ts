// Consumer users: password sign-up and login, then the session JWT in bearer mode.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsvcError, createAuthsvcClient } from "../src/index.js";
import { CookieJarFetch, baseUrl, uniqueEmail } from "./helpers.js";

const password = "tangerine-Kayak-47-orbit";

test("consumer password sign-up and login; the session JWT works in bearer mode", async () => {
  const jar = new CookieJarFetch();
  const client = createAuthsvcClient({ baseUrl, fetch: jar.fetch });
  const email = uniqueEmail("lin");

  const { data: created } = await client.POST("/v1/passwords", { body: { email, password } });
  assert.ok(created.user_id);

  const { data: login } = await client.POST("/v1/passwords/authenticate", {
    body: { email, password, session_duration_minutes: 60 },
  });
  assert.ok(login.session_jwt, "a login with session_duration_minutes starts a session");
  // Not in cookie mode: the client asked fetch not to send or store cookies.
  assert.deepEqual(new Set(jar.credentials), new Set(["omit"]));

  const sessionJWT = login.session_jwt;
  const bearer = createAuthsvcClient({ baseUrl, auth: { mode: "bearer", token: () => sessionJWT } });
  const { data: session } = await bearer.POST("/v1/sessions/authenticate", { body: {} });
  assert.equal(session.verified_by, "SESSION_VERIFIER_LOCAL");
});

test("the 6th wrong password for one address is a typed 429 with Retry-After", async () => {
  const client = createAuthsvcClient({ baseUrl });
  const email = uniqueEmail("brute");
  await client.POST("/v1/passwords", { body: { email, password } });

  const wrong = () =>
    client.POST("/v1/passwords/authenticate", { body: { email, password: "not-the-Password-0" } });
  for (let i = 0; i < 5; i++) {
    await assert.rejects(wrong(), (err: unknown) => {
      assert.ok(err instanceof AuthsvcError);
      assert.notEqual(err.status, 429, `attempt ${i + 1} was refused before reaching Stytch`);
      assert.equal(err.retryAfterSeconds, undefined);
      return true;
    });
  }
  await assert.rejects(wrong(), (err: unknown) => {
    assert.ok(err instanceof AuthsvcError);
    assert.equal(err.status, 429);
    assert.equal(err.codeName, "RESOURCE_EXHAUSTED");
    assert.equal(err.code, 8);
    assert.ok(err.reason, "a 429 names its reason");
    assert.ok(err.retryAfterSeconds !== undefined && err.retryAfterSeconds >= 1, "Retry-After is read");
    assert.equal(String(err.retryAfterSeconds), err.response.headers.get("Retry-After"));
    return true;
  });
});
