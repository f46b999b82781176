// Shared by the tests: the authsvc under test, a cookie jar for Node's fetch, and the dev outbox.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

/** The REST address of the dev-mode authsvc the Go test started (client_test.go). */
export const baseUrl: string = (() => {
  const url = process.env.AUTHSVC_BASE_URL;
  assert.ok(url, "AUTHSVC_BASE_URL is not set: run these tests through `go test ./clients/typescript`");
  return url;
})();

/** The dev emulator's sandbox organization (README, "Try it"). */
export const sandboxOrg = "organization-test-007d9d4a-deac-4a87-ba0a-e6e8afba4d4b";

/** A fresh address per call, so that tests never share rate-limit budgets or accounts. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
}

/**
 * A fetch with a cookie jar, as a browser in cookie mode has: it stores Set-Cookie (and deletes
 * cookies set to expire) and sends them back. It records whether each request asked for
 * credentials: "include", which is what makes a browser do the same.
 */
export class CookieJarFetch {
  readonly cookies = new Map<string, string>();
  readonly credentials: RequestCredentials[] = [];

  fetch = async (request: Request): Promise<Response> => {
    this.credentials.push(request.credentials);
    const headers = new Headers(request.headers);
    if (this.cookies.size > 0) {
      headers.set("Cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const response = await fetch(request.url, { method: request.method, headers, body });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k = "", v = ""] = a.split("=").map((s) => s.trim());
        return (k.toLowerCase() === "max-age" && Number(v) <= 0) || (k.toLowerCase() === "expires" && Date.parse(v) < Date.now());
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  };
}

interface OutboxMessage {
  kind: string;
  method: string;
  to: string;
  token?: string;
  code?: string;
}

/** The emulator's deliveries to one address, oldest first (GET /dev/outbox?to=, dev mode only). */
export async function outbox(to: string): Promise<OutboxMessage[]> {
  const res = await fetch(`${baseUrl}/dev/outbox?to=${encodeURIComponent(to)}`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { messages: OutboxMessage[] };
  return body.messages;
}

/** The token of the last magic link sent to an address. */
export async function lastMagicLinkToken(to: string): Promise<string> {
  const msgs = (await outbox(to)).filter((m) => m.method === "magic_link" && m.token);
  const token = msgs.at(-1)?.token;
  assert.ok(token, "no magic link in the outbox");
  return token;
}

/** Creates an M2M client in dev mode (POST /dev/m2m/clients, README "Try it"). */
export async function devM2MClient(scopes: string[]): Promise<{ client_id: string; client_secret: string }> {
  const res = await fetch(`${baseUrl}/dev/m2m/clients`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ client_name: `ts-${randomUUID().slice(0, 8)}`, scopes }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as Record<string, unknown>;
  const client = (body.m2m_client ?? body) as { client_id?: string; client_secret?: string };
  assert.ok(client.client_id && client.client_secret, "the dev endpoint answered no client credentials");
  return { client_id: client.client_id, client_secret: client.client_secret };
}
