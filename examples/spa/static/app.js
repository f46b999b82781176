// The example SPA: signs in through authsvc's REST API (session cookies, set HttpOnly by authsvc
// and sent with credentials: 'include'), then calls the orders service through this page's own
// origin (/api/, proxied by main.go), which verifies the same session cookie.
'use strict';

let config = { authsvc: '', organization_id: '' };
let signedIn = ''; // '', 'b2b' or 'consumer'

const $ = (id) => document.getElementById(id);
const say = (msg) => { $('status').textContent = msg; };

// authsvc calls one REST route with a JSON body and the session cookies.
async function authsvc(path, body) {
  const res = await fetch(config.authsvc + path, {
    method: 'POST',
    credentials: 'include',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body || {}),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(json.message || ('HTTP ' + res.status));
  }
  return json;
}

// refresh asks authsvc which session the cookies carry: a member's (B2B) or a user's (consumer).
// authsvc verifies the session JWT locally, so the answer names the member or user by ID.
async function refresh() {
  signedIn = '';
  let who = 'signed out';
  try {
    const r = await authsvc('/v1/b2b/sessions/authenticate');
    signedIn = 'b2b';
    who = 'member ' + r.member_session.member_id;
  } catch {
    try {
      const r = await authsvc('/v1/sessions/authenticate');
      signedIn = 'consumer';
      who = 'user ' + r.session.user_id;
    } catch { /* no session */ }
  }
  $('session').textContent = who;
  $('logout').hidden = signedIn === '';
}

// action runs a button's work and reports its outcome in #status.
function action(id, fn) {
  $(id).addEventListener('click', async () => {
    try {
      say(await fn());
    } catch (e) {
      say('Error: ' + e.message);
    }
  });
}

// completeMagicLink finishes a B2B login when the page was opened from the emailed link.
async function completeMagicLink() {
  const q = new URLSearchParams(location.search);
  const token = q.get('token');
  if (location.pathname !== '/authenticate' || !token) {
    return;
  }
  history.replaceState(null, '', '/'); // the token is single-use: keep it out of history
  try {
    await authsvc('/v1/b2b/magic_links/authenticate', { magic_links_token: token });
    say('Signed in with the magic link.');
  } catch (e) {
    say('Error: ' + e.message);
  }
}

let otpMethodID = '';

function wire() {
  action('b2b-send', async () => {
    await authsvc('/v1/b2b/magic_links/email/login_or_signup', {
      organization_id: $('b2b-org').value,
      email_address: $('b2b-email').value,
    });
    return 'Login link sent: check your email.';
  });
  action('otp-send', async () => {
    const r = await authsvc('/v1/otps/email/login_or_create', { email: $('otp-email').value });
    otpMethodID = r.email_id;
    return 'Code sent: check your email.';
  });
  action('otp-verify', async () => {
    await authsvc('/v1/otps/authenticate', { method_id: otpMethodID, code: $('otp-code').value, session_duration_minutes: 60 });
    await refresh();
    return 'Signed in with the code.';
  });
  action('pw-signup', async () => {
    await authsvc('/v1/passwords', { email: $('pw-email').value, password: $('pw-password').value, session_duration_minutes: 60 });
    await refresh();
    return 'Account created; signed in.';
  });
  action('pw-login', async () => {
    await authsvc('/v1/passwords/authenticate', { email: $('pw-email').value, password: $('pw-password').value, session_duration_minutes: 60 });
    await refresh();
    return 'Signed in with the password.';
  });
  action('passkey-register', async () => {
    const start = await authsvc('/v1/webauthn/register/start', {
      domain: location.hostname, return_passkey_credential_options: true, use_base64_url_encoding: true,
    });
    const opts = JSON.parse(start.public_key_credential_creation_options);
    const cred = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(opts.publicKey || opts),
    });
    await authsvc('/v1/webauthn/register', {
      user_id: start.user_id, public_key_credential: JSON.stringify(cred.toJSON()), session_duration_minutes: 60,
    });
    await refresh();
    return 'Passkey added.';
  });
  action('passkey-login', async () => {
    const start = await authsvc('/v1/webauthn/authenticate/start', { domain: location.hostname, use_base64_url_encoding: true });
    const opts = JSON.parse(start.public_key_credential_request_options);
    const cred = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(opts.publicKey || opts),
    });
    await authsvc('/v1/webauthn/authenticate', { public_key_credential: JSON.stringify(cred.toJSON()), session_duration_minutes: 60 });
    await refresh();
    return 'Signed in with the passkey.';
  });
  action('order-add', async () => {
    const res = await fetch('/api/orders', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ item: $('order-item').value }),
    });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(json.message || ('orders service: HTTP ' + res.status));
    }
    return 'Order placed: ' + json.item;
  });
  action('order-list', async () => {
    const res = await fetch('/api/orders');
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      throw new Error(json.message || ('orders service: HTTP ' + res.status));
    }
    $('orders').textContent = (json.orders || []).map((o) => o.item).join('\n');
    return (json.orders || []).length + ' order(s).';
  });
  action('logout', async () => {
    const path = signedIn === 'consumer' ? '/v1/sessions/revoke' : '/v1/b2b/sessions/revoke';
    await authsvc(path, {});
    await refresh();
    return 'Logged out.';
  });
}

async function main() {
  config = await (await fetch('/config.json')).json();
  $('b2b-org').value = config.organization_id;
  wire();
  await completeMagicLink();
  await refresh();
  document.body.dataset.ready = 'true';
}

main();
