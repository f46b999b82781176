// Services: an M2M token in bearer mode, typed errors, idempotency keys.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { AuthsvcError, createAuthsvcClient, isAuthsvcError } from "../src/index.js";
import { baseUrl, devM2MClient, outbox, sandboxOrg, uniqueEmail } from "./helpers.js";

async function serviceClient(scopes: string[]) {
  const creds = await devM2MClient(scopes);
  const { data } = await createAuthsvcClient({ baseUrl }).POST("/v1/m2m/token", {
    body: { client_id: creds.client_id, client_secret: creds.client_secret, scopes },
  });
  assert.ok(data.access_token);
  return createAuthsvcClient({ baseUrl, auth: { mode: "bearer", token: data.access_token } });
}

test("an M2M access token in bearer mode calls a service RPC", async () => {
  const client = await serviceClient(["read:members"]);
  const { data } = await client.POST("/v1/b2b/organizations/members/search", {
    body: { organization_ids: [sandboxOrg] },
  });
  assert.ok(Array.isArray(data.members));
  assert.ok(data.members.length > 0, "the sandbox organization has members");
});

test("a service RPC without credentials is a typed 401", async () => {
  const client = createAuthsvcClient({ baseUrl });
  await assert.rejects(
    client.POST("/v1/b2b/organizations/members/search", { body: { organization_ids: [sandboxOrg] } }),
    (err: unknown) => {
      assert.ok(err instanceof AuthsvcError);
      assert.equal(err.status, 401);
      assert.equal(err.code, 16);
      assert.equal(err.codeName, "UNAUTHENTICATED");
      assert.ok(err.reason, "the 401 carries an ErrorInfo reason");
      assert.equal(err.domain, "authsvc");
      assert.equal(err.response.headers.get("WWW-Authenticate"), 'Bearer realm="authsvc"');
      return true;
    },
  );
});

test("a bad field is a typed 400 INVALID_ARGUMENT naming the field", async () => {
  const client = createAuthsvcClient({ baseUrl });
  await assert.rejects(
    client.POST("/v1/b2b/magic_links/email/login_or_signup", {
      body: { organization_id: sandboxOrg, email_address: "not-an-email-address" },
    }),
    (err: unknown) => {
      assert.ok(err instanceof AuthsvcError);
      assert.equal(err.status, 400);
      assert.equal(err.codeName, "INVALID_ARGUMENT");
      assert.match(err.message, /email_address/);
      return true;
    },
  );
});

test("a send with an Idempotency-Key is replayed, not sent twice", async () => {
  const client = createAuthsvcClient({ baseUrl });
  const email = uniqueEmail("idem");
  const idempotencyKey = randomUUID();
  const body = { organization_id: sandboxOrg, email_address: email };

  const first = await client.POST("/v1/b2b/magic_links/email/login_or_signup", { body, idempotencyKey });
  assert.equal(first.replayed, false);
  const again = await client.POST("/v1/b2b/magic_links/email/login_or_signup", { body, idempotencyKey });
  assert.equal(again.replayed, true);
  assert.deepEqual(again.data, first.data);
  assert.equal((await outbox(email)).length, 1, "one email, not two");

  // A fresh key is a fresh send.
  const third = await client.POST("/v1/b2b/magic_links/email/login_or_signup", { body, idempotencyKey: randomUUID() });
  assert.equal(third.replayed, false);
  assert.equal((await outbox(email)).length, 2);
});

test("an invalid Idempotency-Key is a typed 400 with its reason, and nothing is sent", async () => {
  const client = createAuthsvcClient({ baseUrl });
  const email = uniqueEmail("badkey");
  await assert.rejects(
    client.POST("/v1/b2b/magic_links/email/login_or_signup", {
      body: { organization_id: sandboxOrg, email_address: email },
      idempotencyKey: "has a space",
    }),
    (err: unknown) => {
      assert.ok(isAuthsvcError(err, "idempotency_key_invalid"));
      assert.equal(err.status, 400);
      assert.equal(err.codeName, "INVALID_ARGUMENT");
      return true;
    },
  );
  assert.equal((await outbox(email)).length, 0);
});
