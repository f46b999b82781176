// AuthsvcError's parsing of google.rpc.Status bodies, without a server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsvcError } from "../src/index.js";

function response(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

test("AuthsvcError reads ErrorInfo, BadRequest and RetryInfo details", () => {
  const err = new AuthsvcError(response(429), {
    code: 8,
    message: "too many attempts",
    details: [
      { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "rate_limited", domain: "authsvc", metadata: { limit: "ip" } },
      { "@type": "type.googleapis.com/google.rpc.BadRequest", field_violations: [{ field: "email", description: "bad" }] },
      { "@type": "type.googleapis.com/google.rpc.RetryInfo", retry_delay: "2.5s" },
    ],
  });
  assert.equal(err.message, "too many attempts");
  assert.equal(err.codeName, "RESOURCE_EXHAUSTED");
  assert.equal(err.reason, "rate_limited");
  assert.equal(err.domain, "authsvc");
  assert.deepEqual(err.metadata, { limit: "ip" });
  assert.deepEqual(err.fieldViolations, [{ field: "email", description: "bad" }]);
  assert.equal(err.retryAfterSeconds, 3, "RetryInfo rounded up when there is no Retry-After header");
});

test("AuthsvcError prefers the Retry-After header and survives a body that is no status", () => {
  const err = new AuthsvcError(response(503, { "Retry-After": "7" }), "upstream text");
  assert.equal(err.status, 503);
  assert.equal(err.code, 2);
  assert.equal(err.codeName, "UNKNOWN");
  assert.equal(err.reason, undefined);
  assert.equal(err.retryAfterSeconds, 7);
  assert.match(err.message, /503/);
});
