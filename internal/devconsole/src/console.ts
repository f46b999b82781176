// The dev console's script: one bundle for every page (static/*.html), which picks its page from
// <body data-page="...">. Every REST call goes through the TypeScript client (clients/typescript)
// in cookie mode: the console is served on the REST port, so the calls are same-origin and the
// session cookies the login RPCs set are the console's session. The dev-only routes (/dev/outbox,
// /dev/m2m/clients, /dev/access.md) are not in the OpenAPI document and use fetch directly.
//
// Bundled by internal/devconsole/build.mjs (make generate) into static/console.js, which is
// committed and embedded; internal/devconsole's tests check that every route named here exists.
import { createAuthsvcClient, isAuthsvcError } from "../../../clients/typescript/src/index.js";

const api = createAuthsvcClient({ baseUrl: location.origin, auth: { mode: "cookie" } });

// The sandbox organization of dev mode (internal/stytchemu SandboxOrganizationID; a test keeps them equal).
const sandboxOrg = "organization-test-007d9d4a-deac-4a87-ba0a-e6e8afba4d4b";
const sessionMinutes = 60;

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`dev console: no element #${id}`);
  return e as T;
}

function value(id: string): string {
  return el<HTMLInputElement>(id).value.trim();
}

/** Shows v (an object as JSON) in the <pre> with the given ID. */
function show(id: string, v: unknown): void {
  el(id).textContent = typeof v === "string" ? v : JSON.stringify(v, null, 2);
}

function describeError(e: unknown): string {
  if (isAuthsvcError(e)) {
    const retry = e.retryAfterSeconds !== undefined ? ` (retry after ${e.retryAfterSeconds}s)` : "";
    return `HTTP ${e.status} ${e.codeName ?? ""} ${e.reason ?? ""}${retry}: ${e.message}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Runs f when the button is clicked, showing its result or error in the <pre> out. */
function on(button: string, out: string, f: () => Promise<unknown>): void {
  el(button).addEventListener("click", () => {
    show(out, "…");
    f().then(
      (v) => show(out, v ?? "done"),
      (e: unknown) => show(out, describeError(e)),
    );
  });
}

async function devFetch(method: "GET" | "POST", path: string, query = "", body?: unknown): Promise<unknown> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "Content-Type": "application/json", Accept: "application/json" };
  }
  const r = await fetch(path + query, init);
  const text = await r.text();
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

/** The claims of a JWT, decoded without verifying it (authsvc has verified it). */
export function decodeClaims(jwt: string | undefined): Record<string, unknown> | undefined {
  const part = jwt?.split(".")[1];
  if (!part) return undefined;
  const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
  return JSON.parse(json) as Record<string, unknown>;
}

function link(href: string, text: string): HTMLAnchorElement {
  const a = document.createElement("a");
  a.href = href;
  a.textContent = text;
  return a;
}

// Every call names its method and path as literals (the typed client's POST with a path, devFetch
// with a method and a path), so internal/devconsole's Calls can list them and a test can check that
// each is a route.

// ---- outbox ----------------------------------------------------------------------------------

interface OutboxMessage {
  id: string;
  kind: string;
  method: string;
  template: string;
  to: string;
  project: string;
  token?: string;
  url?: string;
  code?: string;
  sent_at: string;
}

/** The console page that redeems a magic-link token of the given project. */
function consoleLink(m: OutboxMessage): string {
  const type = m.project === "b2b" ? "multi_tenant_magic_links" : "magic_links";
  return `/dev/authenticate.html?stytch_token_type=${type}&token=${encodeURIComponent(m.token ?? "")}`;
}

async function loadOutbox(): Promise<void> {
  const to = value("ob-to");
  const query = to ? `?to=${encodeURIComponent(to)}` : "";
  const { messages } = (await devFetch("GET", "/dev/outbox", query)) as { messages: OutboxMessage[] };
  const list = el("ob-list");
  list.replaceChildren();
  for (const m of messages.slice().reverse()) {
    const li = document.createElement("li");
    li.id = `ob-msg-${m.id}`;
    const head = document.createElement("div");
    head.textContent = `${m.sent_at} · ${m.project} · ${m.kind} ${m.method} (${m.template}) to ${m.to}`;
    li.append(head);
    if (m.code) {
      const code = document.createElement("code");
      code.className = "ob-code";
      code.textContent = m.code;
      li.append("Your code: ", code);
    }
    if (m.token) {
      const a = link(consoleLink(m), "Sign in (opens in the console)");
      a.className = "ob-link";
      li.append(a);
      if (m.url) li.append(" · ", link(m.url, "the link as sent"));
    }
    list.append(li);
  }
  el("ob-count").textContent = String(messages.length);
}

function outboxPage(): void {
  el("ob-refresh").addEventListener("click", () => void loadOutbox().catch((e: unknown) => show("ob-error", describeError(e))));
  void loadOutbox().catch((e: unknown) => show("ob-error", describeError(e)));
}

// ---- sign-in ---------------------------------------------------------------------------------

let consumerEmailId = "";

function signinPage(): void {
  el<HTMLInputElement>("b2b-ml-org").value = sandboxOrg;
  el<HTMLInputElement>("b2b-otp-org").value = sandboxOrg;

  on("b2b-ml-send", "b2b-ml-result", async () => {
    const { data } = await api.POST("/v1/b2b/magic_links/email/login_or_signup", {
      body: { organization_id: value("b2b-ml-org"), email_address: value("b2b-ml-email") },
    });
    return { member_id: data.member_id, member_created: data.member_created, next: "open the outbox and click the link" };
  });

  on("b2b-otp-send", "b2b-otp-result", async () => {
    const { data } = await api.POST("/v1/b2b/otps/email/login_or_signup", {
      body: { organization_id: value("b2b-otp-org"), email_address: value("b2b-otp-email") },
    });
    return { member_id: data.member_id, next: "read the code in the outbox" };
  });
  on("b2b-otp-verify", "b2b-otp-result", async () => {
    const { data } = await api.POST("/v1/b2b/otps/email/authenticate", {
      body: {
        organization_id: value("b2b-otp-org"),
        email_address: value("b2b-otp-email"),
        code: value("b2b-otp-code"),
        session_duration_minutes: sessionMinutes,
      },
    });
    return { member_id: data.member_id, member_session: data.member_session };
  });

  on("c-ml-send", "c-ml-result", async () => {
    const { data } = await api.POST("/v1/magic_links/email/login_or_create", { body: { email: value("c-ml-email") } });
    return { user_id: data.user_id, user_created: data.user_created, next: "open the outbox and click the link" };
  });

  on("c-otp-send", "c-otp-result", async () => {
    const { data } = await api.POST("/v1/otps/email/login_or_create", { body: { email: value("c-otp-email") } });
    consumerEmailId = data.email_id ?? "";
    return { user_id: data.user_id, next: "read the code in the outbox" };
  });
  on("c-otp-verify", "c-otp-result", async () => {
    const { data } = await api.POST("/v1/otps/authenticate", {
      body: { method_id: consumerEmailId, code: value("c-otp-code"), session_duration_minutes: sessionMinutes },
    });
    return { user_id: data.user_id, session: data.session };
  });

  on("c-pw-create", "c-pw-result", async () => {
    const { data } = await api.POST("/v1/passwords", {
      body: { email: value("c-pw-email"), password: value("c-pw-password"), session_duration_minutes: sessionMinutes },
    });
    return { user_id: data.user_id, session: data.session };
  });
  on("c-pw-login", "c-pw-result", async () => {
    const { data } = await api.POST("/v1/passwords/authenticate", {
      body: { email: value("c-pw-email"), password: value("c-pw-password"), session_duration_minutes: sessionMinutes },
    });
    return { user_id: data.user_id, session: data.session };
  });

  on("c-oauth-start", "c-oauth-result", async () => {
    const provider = el<HTMLSelectElement>("c-oauth-provider").value as "IDENTITY_PROVIDER_GITHUB" | "IDENTITY_PROVIDER_GOOGLE";
    const { data } = await api.POST("/v1/oauth/start_url", { body: { provider } });
    window.open(data.url, "_blank", "noopener");
    return "the emulator's consent page opened in a new tab; after Allow, paste the address you land on below";
  });
  on("c-oauth-finish", "c-oauth-result", async () => {
    const landed = value("c-oauth-landed");
    const token = landed.includes("token=") ? (new URL(landed).searchParams.get("token") ?? "") : landed;
    const { data } = await api.POST("/v1/oauth/authenticate", { body: { token, session_duration_minutes: sessionMinutes } });
    return { user_id: data.user_id, provider_type: data.provider_type, session: data.session };
  });

  on("c-totp-create", "c-totp-result", async () => {
    const { data } = await api.POST("/v1/totps", { body: { user_id: await consumerUserId() } });
    el<HTMLImageElement>("c-totp-qr").src = data.qr_code ?? "";
    el<HTMLImageElement>("c-totp-qr").hidden = false;
    return { totp_id: data.totp_id, recovery_codes: data.recovery_codes, next: "scan the code, then enter a code" };
  });
  on("c-totp-verify", "c-totp-result", async () => {
    const { data } = await api.POST("/v1/totps/authenticate", {
      body: { user_id: await consumerUserId(), totp_code: value("c-totp-code"), session_duration_minutes: sessionMinutes },
    });
    return { totp_id: data.totp_id, session: data.session };
  });

  on("c-pk-register", "c-pk-result", registerPasskey);
  on("c-pk-login", "c-pk-result", signInWithPasskey);
}

/** The user of the console's consumer session (TOTP and passkey registration act on it). */
async function consumerUserId(): Promise<string> {
  const { data } = await api.POST("/v1/sessions/authenticate", { body: {} });
  const id = data.session?.user_id ?? data.user?.user_id;
  if (!id) throw new Error("sign in as a consumer user first");
  return id;
}

// WebAuthn: Stytch's options are JSON with base64url binary fields (use_base64_url_encoding).
function fromB64url(s: string): ArrayBuffer {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(s.length / 4) * 4, "="));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function toB64url(b: ArrayBuffer | null): string | null {
  if (b === null) return null;
  let s = "";
  for (const x of new Uint8Array(b)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

type Cred = { id: string; type: string; transports?: string[] };
type PubKeyJSON = {
  publicKey?: Record<string, unknown>;
  challenge: string;
  user?: { id: string; name: string; displayName: string };
  excludeCredentials?: Cred[];
  allowCredentials?: Cred[];
} & Record<string, unknown>;

function credentialOptions(json: string): PubKeyJSON {
  const o = JSON.parse(json) as PubKeyJSON;
  return (o.publicKey as PubKeyJSON | undefined) ?? o;
}

function creds(list: Cred[] | undefined): PublicKeyCredentialDescriptor[] | undefined {
  return list?.map((c) => ({ type: "public-key", id: fromB64url(c.id) }));
}

function credentialJSON(c: PublicKeyCredential): string {
  const r = c.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  const response: Record<string, unknown> = { clientDataJSON: toB64url(r.clientDataJSON) };
  if ("attestationObject" in r) response.attestationObject = toB64url(r.attestationObject);
  if ("authenticatorData" in r) {
    response.authenticatorData = toB64url(r.authenticatorData);
    response.signature = toB64url(r.signature);
    response.userHandle = toB64url(r.userHandle);
  }
  return JSON.stringify({ id: c.id, rawId: toB64url(c.rawId), type: c.type, response, clientExtensionResults: {} });
}

async function registerPasskey(): Promise<unknown> {
  const userId = await consumerUserId();
  const { data } = await api.POST("/v1/webauthn/register/start", {
    body: { user_id: userId, domain: location.hostname, return_passkey_credential_options: true, use_base64_url_encoding: true },
  });
  const o = credentialOptions(data.public_key_credential_creation_options ?? "");
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    user: { ...o.user, id: fromB64url(o.user?.id ?? "") },
    excludeCredentials: creds(o.excludeCredentials),
  } as unknown as PublicKeyCredentialCreationOptions;
  const c = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!c) throw new Error("no credential created");
  const { data: reg } = await api.POST("/v1/webauthn/register", {
    body: { user_id: userId, public_key_credential: credentialJSON(c), session_duration_minutes: sessionMinutes },
  });
  return { webauthn_registration_id: reg.webauthn_registration_id, session: reg.session };
}

async function signInWithPasskey(): Promise<unknown> {
  const { data } = await api.POST("/v1/webauthn/authenticate/start", {
    body: { domain: location.hostname, return_passkey_credential_options: true, use_base64_url_encoding: true },
  });
  const o = credentialOptions(data.public_key_credential_request_options ?? "");
  const publicKey = {
    ...o,
    challenge: fromB64url(o.challenge),
    allowCredentials: creds(o.allowCredentials),
  } as unknown as PublicKeyCredentialRequestOptions;
  const c = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!c) throw new Error("no credential chosen");
  const { data: auth } = await api.POST("/v1/webauthn/authenticate", {
    body: { public_key_credential: credentialJSON(c), session_duration_minutes: sessionMinutes },
  });
  return { user_id: auth.user_id, webauthn_registration_id: auth.webauthn_registration_id, session: auth.session };
}

// ---- magic-link and OAuth landing --------------------------------------------------------------

async function redeem(type: string, token: string): Promise<unknown> {
  switch (type) {
    case "multi_tenant_magic_links": {
      const { data } = await api.POST("/v1/b2b/magic_links/authenticate", {
        body: { magic_links_token: token, session_duration_minutes: sessionMinutes },
      });
      return { member_id: data.member_id, organization_id: data.organization_id, member_session: data.member_session };
    }
    case "magic_links": {
      const { data } = await api.POST("/v1/magic_links/authenticate", {
        body: { token, session_duration_minutes: sessionMinutes },
      });
      return { user_id: data.user_id, session: data.session };
    }
    case "oauth": {
      const { data } = await api.POST("/v1/oauth/authenticate", { body: { token, session_duration_minutes: sessionMinutes } });
      return { user_id: data.user_id, provider_type: data.provider_type, session: data.session };
    }
    default:
      throw new Error(`the console does not redeem tokens of type ${type}`);
  }
}

function authenticatePage(): void {
  const q = new URLSearchParams(location.search);
  const type = q.get("stytch_token_type") ?? "";
  const token = q.get("token") ?? "";
  // The token is single-use: drop it from the address bar (and the history) before redeeming it.
  history.replaceState(null, "", location.pathname);
  if (!token) {
    show("au-status", "no token in the address");
    return;
  }
  show("au-status", `redeeming a ${type} token…`);
  redeem(type, token).then(
    (v) => {
      show("au-status", "signed in: see the session inspector");
      show("au-result", v);
    },
    (e: unknown) => show("au-status", describeError(e)),
  );
}

// ---- session inspector -------------------------------------------------------------------------

interface Inspected {
  verified_by?: string;
  session_jwt?: string;
}

function inspect(kind: "b2b" | "consumer", data: Inspected, session: unknown): unknown {
  const claims = decodeClaims(data.session_jwt);
  const s = session as { authentication_factors?: unknown; expires_at?: string } | undefined;
  return {
    project: kind,
    verified_by: data.verified_by,
    expires_at: s?.expires_at,
    authentication_factors: s?.authentication_factors,
    claims,
  };
}

function sessionPage(): void {
  on("ss-b2b-check", "ss-result", async () => {
    const { data } = await api.POST("/v1/b2b/sessions/authenticate", { body: {} });
    return inspect("b2b", data, data.member_session);
  });
  on("ss-c-check", "ss-result", async () => {
    const { data } = await api.POST("/v1/sessions/authenticate", { body: {} });
    return inspect("consumer", data, data.session);
  });
  on("ss-b2b-logout", "ss-result", async () => {
    const { data } = await api.POST("/v1/b2b/sessions/revoke", { body: {} });
    return data;
  });
  on("ss-c-logout", "ss-result", async () => {
    const { data } = await api.POST("/v1/sessions/revoke", { body: {} });
    return data;
  });
}

// ---- M2M ---------------------------------------------------------------------------------------

let m2mClient: { client_id: string; client_secret: string; scopes: string[] } | undefined;

function m2mPage(): void {
  on("m2m-create", "m2m-result", async () => {
    const scopes = value("m2m-scopes").split(/[\s,]+/).filter(Boolean);
    const out = (await devFetch("POST", "/dev/m2m/clients", "", { client_name: value("m2m-name"), scopes })) as {
      m2m_client: { client_id: string; client_secret: string; scopes: string[] };
    };
    m2mClient = out.m2m_client;
    el("m2m-client").textContent = m2mClient.client_id;
    return { client_id: m2mClient.client_id, scopes: m2mClient.scopes, client_secret: "(kept in this page only)" };
  });
  on("m2m-mint", "m2m-result", async () => {
    if (!m2mClient) throw new Error("create a client first");
    const { data } = await api.POST("/v1/m2m/token", {
      body: { client_id: m2mClient.client_id, client_secret: m2mClient.client_secret, scopes: m2mClient.scopes },
    });
    const claims = decodeClaims(data.access_token);
    el("m2m-token-scopes").textContent = String(claims?.scope ?? "");
    return { token_type: data.token_type, expires_in: data.expires_in, claims };
  });
}

// ---- access table ------------------------------------------------------------------------------

/** Renders docs/access.md's sections and pipe tables (the text of each cell, markup stripped). */
async function accessPage(): Promise<void> {
  const r = await fetch("/dev/access.md");
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const root = el("ac-tables");
  let table: HTMLTableElement | undefined;
  for (const line of (await r.text()).split("\n")) {
    if (line.startsWith("## ")) {
      const h = document.createElement("h2");
      h.textContent = line.slice(3);
      root.append(h);
      table = undefined;
    } else if (/^\|[-| :]+$/.test(line)) {
      continue; // the header separator
    } else if (line.startsWith("|")) {
      const cells = line.slice(1, line.endsWith("|") ? -1 : undefined).split(" | ").map((c) => c.trim());
      const header = !table;
      if (!table) {
        table = document.createElement("table");
        root.append(table);
      }
      const tr = table.insertRow();
      for (const c of cells) {
        const cell = document.createElement(header ? "th" : "td");
        cell.textContent = c.replace(/`/g, "").replace(/\*\*?/g, "").replace(/<br>/g, " ");
        tr.append(cell);
      }
    } else {
      table = undefined;
    }
  }
}

const pages: Record<string, () => void> = {
  outbox: outboxPage,
  signin: signinPage,
  authenticate: authenticatePage,
  session: sessionPage,
  m2m: m2mPage,
  access: () => void accessPage().catch((e: unknown) => show("ac-error", describeError(e))),
};

const page = document.body.dataset.page ?? "";
pages[page]?.();
