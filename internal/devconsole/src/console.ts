// The dev console's script: one bundle for every page (static/*.html), which picks its page from
// <body data-page="...">. Every REST call goes through the TypeScript client (clients/typescript)
// in cookie mode: the console is served on the REST port, so the calls are same-origin and the
// session cookies the login RPCs set are the console's session. (The demo organization and SSO
// connection go in bearer mode, with the token of an M2M client made through /dev/m2m/clients: the
// `admin` client.) The dev-only routes (/dev/outbox,
// /dev/m2m/clients, /dev/access.md) are not in the OpenAPI document and use fetch directly.
//
// Bundled by internal/devconsole/build.mjs (make generate) into static/console.js, which is
// committed and embedded; internal/devconsole's tests check that every route named here exists.
import { createAuthsvcClient, isAuthsvcError } from "../../../clients/typescript/src/index.js";

const api = createAuthsvcClient({ baseUrl: location.origin, auth: { mode: "cookie" } });

// The console's admin: an M2M client made through dev mode's /dev/m2m/clients (as the M2M page
// does) whose token creates demo organizations and SSO connections, which no member session of a
// fresh console has the rights for. Its token lives in this page only.
const adminScopes = ["read:organizations", "write:organizations", "read:sso", "write:sso"];
let adminToken: string | undefined;
const admin = createAuthsvcClient({ baseUrl: location.origin, auth: { mode: "bearer", token: () => adminToken } });

async function adminReady(): Promise<void> {
  if (adminToken) return;
  const out = (await devFetch("POST", "/dev/m2m/clients", "", { client_name: "dev console admin", scopes: adminScopes })) as {
    m2m_client: { client_id: string; client_secret: string };
  };
  const { data } = await api.POST("/v1/m2m/token", {
    body: { client_id: out.m2m_client.client_id, client_secret: out.m2m_client.client_secret, scopes: adminScopes },
  });
  adminToken = data.access_token;
}

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

/**
 * The console page that redeems an emailed token: its type is the one the link as sent names
 * (stytch_token_type: a magic link, a password reset), else a magic link of the message's project.
 */
function consoleLink(m: OutboxMessage): string {
  let type = m.project === "b2b" ? "multi_tenant_magic_links" : "magic_links";
  try {
    type = (m.url && new URL(m.url).searchParams.get("stytch_token_type")) || type;
  } catch {
    // not a URL: keep the project's magic link
  }
  return `/dev/authenticate.html?stytch_token_type=${encodeURIComponent(type)}&token=${encodeURIComponent(m.token ?? "")}`;
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

// ---- B2B login outcomes, MFA and redirect flows --------------------------------------------------

/** A B2B primary login's answer: a session, or an intermediate session with what MFA still needs. */
interface B2BLogin {
  member_id?: string;
  organization_id?: string;
  member_authenticated?: boolean;
  member_session?: unknown;
  intermediate_session_token?: string;
  mfa_required?: { member_options?: { mfa_phone_number?: string; totp_registration_id?: string }; secondary_auth_initiated?: string };
  member?: { organization_id?: string };
}

/** A B2B login waiting for its second factor, kept in this tab's sessionStorage until finished. */
interface PendingMFA {
  organization_id: string;
  member_id: string;
  intermediate_session_token: string;
  mfa_required?: B2BLogin["mfa_required"];
}

const pendingKey = "authsvc-console:b2b-mfa";

function pendingMFA(): PendingMFA | undefined {
  const raw = sessionStorage.getItem(pendingKey);
  return raw ? (JSON.parse(raw) as PendingMFA) : undefined;
}

/** What the page shows of a pending MFA login (the intermediate session token itself stays out). */
function describePending(p: PendingMFA | undefined): unknown {
  if (!p) return "no MFA login pending: sign in to an organization that requires MFA first";
  return {
    organization_id: p.organization_id,
    member_id: p.member_id,
    mfa_required: p.mfa_required ?? {},
    intermediate_session: "held in this tab (sessionStorage); a TOTP code, a recovery code or an SMS code finishes it",
  };
}

/**
 * Records a B2B login's outcome and says what it was: a session (any pending MFA login is done),
 * or an intermediate session, kept for the MFA section to finish.
 */
function b2bOutcome(data: B2BLogin): unknown {
  const org = data.organization_id || data.member?.organization_id || "";
  // JSON leaves out false: no member_authenticated and an intermediate session is a pending login.
  if (!data.member_authenticated && data.intermediate_session_token) {
    const p: PendingMFA = {
      organization_id: org,
      member_id: data.member_id ?? "",
      intermediate_session_token: data.intermediate_session_token,
      mfa_required: data.mfa_required,
    };
    sessionStorage.setItem(pendingKey, JSON.stringify(p));
    showPending();
    return { member_id: p.member_id, organization_id: org, member_authenticated: false, mfa_required: p.mfa_required ?? {}, next: "MFA required: finish it in the MFA section of the sign-in page" };
  }
  sessionStorage.removeItem(pendingKey);
  showPending();
  return { member_id: data.member_id, organization_id: org, member_session: data.member_session };
}

/** Shows the pending MFA login on the page that has the MFA section (the sign-in page). */
function showPending(): void {
  if (document.getElementById("b2b-mfa-pending")) show("b2b-mfa-pending", describePending(pendingMFA()));
}

/**
 * Where a redirect flow (SSO; OAuth) began, kept in this tab's sessionStorage for the landing page:
 * which project the token it gets back belongs to, and the PKCE verifier of the start.
 */
interface RedirectStart {
  project: "b2b" | "consumer";
  flow: "sso" | "oauth";
  pkce_code_verifier?: string;
}

const redirectKey = "authsvc-console:redirect";

function rememberRedirect(r: RedirectStart): void {
  sessionStorage.setItem(redirectKey, JSON.stringify(r));
}

/** The start of the redirect flow that landed, once (it is removed). */
function takeRedirect(): RedirectStart | undefined {
  const raw = sessionStorage.getItem(redirectKey);
  sessionStorage.removeItem(redirectKey);
  return raw ? (JSON.parse(raw) as RedirectStart) : undefined;
}

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const x of bytes) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A PKCE verifier and its S256 challenge. */
async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const sum = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return { verifier, challenge: b64url(new Uint8Array(sum)) };
}

/**
 * Starts a B2B redirect flow with PKCE: start gets the start URL for the challenge; the verifier is
 * remembered for the landing page, and the browser goes to the URL.
 */
async function b2bRedirect(flow: RedirectStart["flow"], start: (challenge: string) => Promise<string | undefined>): Promise<void> {
  const { verifier, challenge } = await pkcePair();
  const url = await start(challenge);
  rememberRedirect({ project: "b2b", flow, pkce_code_verifier: verifier });
  location.assign(url ?? "");
}

/** The console's landing page, where SSO, OAuth and reset links come back (dev mode allows it). */
function landingURL(): string {
  return `${location.origin}/dev/authenticate.html`;
}

// The emulator's stand-in SAML IdP publishes its metadata here, on the emulator's host
// (internal/stytchemu IdPSAMLMetadataPath; a test keeps them equal).
const idpMetadataPath = "/emulator/idp/saml/metadata";

/** The member of the console's B2B session (TOTP enrolment for a signed-in member acts on it). */
async function b2bSessionMember(): Promise<{ organization_id: string; member_id: string; session_jwt: string }> {
  const { data } = await api.POST("/v1/b2b/sessions/authenticate", { body: {} });
  const s = data.member_session;
  if (!s?.member_id || !s.organization_id || !data.session_jwt) throw new Error("sign in as a B2B member first (or start a login that needs MFA)");
  return { organization_id: s.organization_id, member_id: s.member_id, session_jwt: data.session_jwt };
}

// ---- sign-in ---------------------------------------------------------------------------------

let consumerEmailId = "";

/** The B2B sections' organization inputs, which a demo organization fills in. */
const b2bOrgInputs = ["b2b-ml-org", "b2b-otp-org", "b2b-pw-org", "b2b-sso-org", "b2b-oauth-org"];

function signinPage(): void {
  for (const id of b2bOrgInputs) el<HTMLInputElement>(id).value = sandboxOrg;
  b2bSections();

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
    return b2bOutcome(data);
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
    rememberRedirect({ project: "consumer", flow: "oauth" });
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

function b2bSections(): void {
  // A demo organization whose MFA policy is REQUIRED_FOR_ALL: every login answers an intermediate
  // session until a second factor finishes it.
  on("b2b-org-create", "b2b-org-result", async () => {
    await adminReady();
    const { data } = await admin.POST("/v1/b2b/organizations", {
      body: { organization_name: `MFA demo ${crypto.randomUUID().slice(0, 8)}`, mfa_policy: "MFA_POLICY_REQUIRED_FOR_ALL" },
    });
    const org = data.organization?.organization_id ?? "";
    for (const id of b2bOrgInputs) el<HTMLInputElement>(id).value = org;
    return { organization_id: org, organization_name: data.organization?.organization_name, mfa_policy: data.organization?.mfa_policy, next: "sign in to it below" };
  });

  // Password: a member gets one through the reset email (the link proves the address).
  on("b2b-pw-login", "b2b-pw-result", async () => {
    const { data } = await api.POST("/v1/b2b/passwords/authenticate", {
      body: {
        organization_id: value("b2b-pw-org"),
        email_address: value("b2b-pw-email"),
        password: value("b2b-pw-password"),
        session_duration_minutes: sessionMinutes,
      },
    });
    return b2bOutcome(data);
  });
  on("b2b-pw-reset", "b2b-pw-result", async () => {
    // The answer names no member (known and unknown addresses are answered alike).
    await api.POST("/v1/b2b/passwords/email/reset/start", {
      body: { organization_id: value("b2b-pw-org"), email_address: value("b2b-pw-email"), reset_password_redirect_url: landingURL() },
    });
    return { next: "open the outbox and click the reset link" };
  });

  // SSO through the emulator's stand-in IdP.
  on("b2b-sso-demo", "b2b-sso-result", async () => {
    await adminReady();
    const org = value("b2b-sso-org");
    const { data: created } = await admin.POST("/v1/b2b/sso/saml/{organization_id}", {
      params: { path: { organization_id: org } },
      body: { display_name: "Stand-in IdP (dev console)" },
    });
    const id = created.connection?.connection_id ?? "";
    // The start URL names the emulator's host, which serves the stand-in IdP's metadata.
    const { data: start } = await api.POST("/v1/b2b/sso/start_url", { body: { connection_id: id } });
    const { data: updated } = await admin.PUT("/v1/b2b/sso/saml/{organization_id}/connections/{connection_id}/url", {
      params: { path: { organization_id: org, connection_id: id } },
      body: { metadata_url: new URL(start.url ?? "").origin + idpMetadataPath },
    });
    el<HTMLInputElement>("b2b-sso-conn").value = id;
    return { connection_id: id, display_name: updated.connection?.display_name, status: updated.connection?.status };
  });
  on("b2b-sso-list", "b2b-sso-result", async () => {
    await adminReady();
    const { data } = await admin.GET("/v1/b2b/sso/{organization_id}", { params: { path: { organization_id: value("b2b-sso-org") } } });
    const brief = (c: { connection_id?: string; display_name?: string; status?: string }) => ({ connection_id: c.connection_id, display_name: c.display_name, status: c.status });
    const saml = (data.saml_connections ?? []).map(brief);
    const oidc = (data.oidc_connections ?? []).map(brief);
    const first = saml[0] ?? oidc[0];
    if (first?.connection_id && !value("b2b-sso-conn")) el<HTMLInputElement>("b2b-sso-conn").value = first.connection_id;
    return { saml_connections: saml, oidc_connections: oidc };
  });
  on("b2b-sso-start", "b2b-sso-result", async () => {
    await b2bRedirect("sso", async (challenge) => {
      const { data } = await api.POST("/v1/b2b/sso/start_url", {
        body: { connection_id: value("b2b-sso-conn"), login_redirect_url: landingURL(), signup_redirect_url: landingURL(), pkce_code_challenge: challenge },
      });
      return data.url;
    });
    return "to the stand-in identity provider…";
  });

  // OAuth through the emulator's stand-in consent page: a login into the organization, or discovery.
  type B2BProvider = "IDENTITY_PROVIDER_GOOGLE" | "IDENTITY_PROVIDER_MICROSOFT" | "IDENTITY_PROVIDER_GITHUB" | "IDENTITY_PROVIDER_HUBSPOT" | "IDENTITY_PROVIDER_SLACK";
  const oauthStart = async (discovery: boolean) => {
    const provider = el<HTMLSelectElement>("b2b-oauth-provider").value as B2BProvider;
    await b2bRedirect("oauth", async (challenge) => {
      const body = discovery
        ? { provider, discovery: true, discovery_redirect_url: landingURL(), pkce_code_challenge: challenge }
        : { provider, organization_id: value("b2b-oauth-org"), login_redirect_url: landingURL(), signup_redirect_url: landingURL(), pkce_code_challenge: challenge };
      const { data } = await api.POST("/v1/b2b/oauth/start_url", { body });
      return data.url;
    });
    return "to the consent page…";
  };
  on("b2b-oauth-start", "b2b-oauth-result", () => oauthStart(false));
  on("b2b-oauth-discovery", "b2b-oauth-result", () => oauthStart(true));

  // MFA: finish a pending login with a second factor; enrol an authenticator app.
  showPending();
  const finished = (data: { member_id?: string; member_session?: unknown; recovery_codes_remaining?: number }) => {
    sessionStorage.removeItem(pendingKey);
    showPending();
    return { signed_in: true, member_id: data.member_id, member_session: data.member_session, recovery_codes_remaining: data.recovery_codes_remaining };
  };
  const needPending = (): PendingMFA => {
    const p = pendingMFA();
    if (!p) throw new Error("no MFA login pending: sign in to an organization that requires MFA first");
    return p;
  };

  on("b2b-totp-create", "b2b-mfa-result", async () => {
    const p = pendingMFA();
    // A pending login enrols with its intermediate session; a signed-in member with the session.
    const who = p ?? (await b2bSessionMember());
    const { data } = await api.POST("/v1/b2b/totp", {
      body: { organization_id: who.organization_id, member_id: who.member_id, intermediate_session_token: p?.intermediate_session_token },
    });
    el<HTMLImageElement>("b2b-totp-qr").src = data.qr_code ?? "";
    el<HTMLImageElement>("b2b-totp-qr").hidden = false;
    el("b2b-totp-secret").textContent = data.secret ?? "";
    return { totp_registration_id: data.totp_registration_id, recovery_codes: data.recovery_codes, next: "scan the code (or type the secret), then enter a code" };
  });
  on("b2b-totp-verify", "b2b-mfa-result", async () => {
    const p = pendingMFA();
    if (p) {
      const { data } = await api.POST("/v1/b2b/totp/authenticate", {
        body: {
          organization_id: p.organization_id,
          member_id: p.member_id,
          code: value("b2b-totp-code"),
          intermediate_session_token: p.intermediate_session_token,
          session_duration_minutes: sessionMinutes,
        },
      });
      return finished(data);
    }
    // No login pending: the code steps up the signed-in member's session.
    const m = await b2bSessionMember();
    const { data } = await api.POST("/v1/b2b/totp/authenticate", {
      body: { organization_id: m.organization_id, member_id: m.member_id, code: value("b2b-totp-code"), session_jwt: m.session_jwt, session_duration_minutes: sessionMinutes },
    });
    return { signed_in: true, member_id: data.member_id, member_session: data.member_session };
  });
  on("b2b-rc-recover", "b2b-mfa-result", async () => {
    const p = needPending();
    const { data } = await api.POST("/v1/b2b/recovery_codes/recover", {
      body: {
        organization_id: p.organization_id,
        member_id: p.member_id,
        recovery_code: value("b2b-rc-code"),
        intermediate_session_token: p.intermediate_session_token,
        session_duration_minutes: sessionMinutes,
      },
    });
    return finished(data);
  });
  on("b2b-sms-send", "b2b-mfa-result", async () => {
    const p = needPending();
    const phone = value("b2b-sms-phone");
    await api.POST("/v1/b2b/otps/sms/send", {
      body: {
        organization_id: p.organization_id,
        member_id: p.member_id,
        mfa_phone_number: phone || undefined,
        intermediate_session_token: p.intermediate_session_token,
      },
    });
    return { next: "read the code in the outbox" };
  });
  on("b2b-sms-verify", "b2b-mfa-result", async () => {
    const p = needPending();
    const { data } = await api.POST("/v1/b2b/otps/sms/authenticate", {
      body: {
        organization_id: p.organization_id,
        member_id: p.member_id,
        code: value("b2b-sms-code"),
        intermediate_session_token: p.intermediate_session_token,
        session_duration_minutes: sessionMinutes,
      },
    });
    return finished(data);
  });
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

// ---- landing: magic links, password resets, SSO and OAuth ---------------------------------------

async function redeem(type: string, token: string): Promise<unknown> {
  switch (type) {
    case "multi_tenant_magic_links": {
      const { data } = await api.POST("/v1/b2b/magic_links/authenticate", {
        body: { magic_links_token: token, session_duration_minutes: sessionMinutes },
      });
      return b2bOutcome(data);
    }
    case "magic_links": {
      const { data } = await api.POST("/v1/magic_links/authenticate", {
        body: { token, session_duration_minutes: sessionMinutes },
      });
      return { user_id: data.user_id, session: data.session };
    }
    case "sso": {
      const started = takeRedirect();
      const { data } = await api.POST("/v1/b2b/sso/authenticate", {
        body: { sso_token: token, pkce_code_verifier: started?.pkce_code_verifier, session_duration_minutes: sessionMinutes },
      });
      return b2bOutcome(data);
    }
    case "oauth": {
      // Both projects' OAuth tokens have this type: the start recorded which project it began in
      // (a start in another tab or by curl records nothing: the consumer project's, as before).
      const started = takeRedirect();
      if (started?.project === "b2b") {
        const { data } = await api.POST("/v1/b2b/oauth/authenticate", {
          body: { oauth_token: token, pkce_code_verifier: started.pkce_code_verifier, session_duration_minutes: sessionMinutes },
        });
        return b2bOutcome(data);
      }
      const { data } = await api.POST("/v1/oauth/authenticate", { body: { token, session_duration_minutes: sessionMinutes } });
      return { user_id: data.user_id, provider_type: data.provider_type, session: data.session };
    }
    case "discovery_oauth": {
      // B2B OAuth discovery: the organizations the provider's address may enter (the console shows
      // them; entering one is DiscoveryService's, see the README's discovery walk-through).
      const started = takeRedirect();
      const { data } = await api.POST("/v1/b2b/oauth/discovery/authenticate", {
        body: { discovery_oauth_token: token, pkce_code_verifier: started?.pkce_code_verifier },
      });
      return {
        email_address: data.email_address,
        provider_type: data.provider_type,
        discovered_organizations: (data.discovered_organizations ?? []).map((d) => ({
          organization_id: d.organization?.organization_id,
          organization_name: d.organization?.organization_name,
          membership: d.membership?.type,
        })),
        next: "an intermediate session (not shown) can enter one of these organizations or create one",
      };
    }
    default:
      throw new Error(`the console does not redeem tokens of type ${type}`);
  }
}

/** Shows a landing's outcome: signed in, or a B2B login that still needs its second factor. */
function landed(v: unknown): void {
  const mfa = (v as { member_authenticated?: boolean } | undefined)?.member_authenticated === false;
  show("au-status", mfa ? "MFA required: finish the login on the sign-in page" : "signed in: see the session inspector");
  el("au-mfa").hidden = !mfa;
  show("au-result", v);
}

/** A B2B password reset link: the page asks for the new password and spends the token on it. */
function resetPassword(token: string): void {
  show("au-status", "choose the member's new password");
  el("au-reset").hidden = false;
  el("au-reset-submit").addEventListener("click", () => {
    show("au-status", "…");
    const reset = api.POST("/v1/b2b/passwords/email/reset", {
      body: { password_reset_token: token, password: value("au-reset-password"), session_duration_minutes: sessionMinutes },
    });
    reset.then(
      ({ data }) => {
        el("au-reset").hidden = true;
        landed(b2bOutcome(data));
      },
      (e: unknown) => show("au-status", describeError(e)),
    );
  });
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
  if (type === "multi_tenant_passwords") {
    resetPassword(token);
    return;
  }
  show("au-status", `redeeming a ${type} token…`);
  redeem(type, token).then(landed, (e: unknown) => show("au-status", describeError(e)));
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
