// A thin typed client for authsvc's REST API over openapi-fetch. The request and response types
// of every route (B2B, consumer and M2M) come from src/generated/authsvc.ts, generated from the
// gateway's OpenAPI document by `make generate`.
import createClient, { mergeHeaders } from "openapi-fetch";
import type { Client, ClientPathsWithMethod, MaybeOptionalInit, MethodResponse } from "openapi-fetch";
import type { components, paths } from "./generated/authsvc.js";
import { AuthsvcError } from "./errors.js";

export type { components, operations, paths } from "./generated/authsvc.js";
export { AuthsvcError, isAuthsvcError } from "./errors.js";
export type { FieldViolation, GrpcCodeName } from "./errors.js";

/** A schema of the API by name, e.g. Schema<"authsvcB2bV1SessionsServiceAuthenticateResponse">. */
export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];

/** Where a credential comes from: a fixed value, or a function asked before every request. */
export type TokenSource = string | (() => string | undefined | Promise<string | undefined>);

/**
 * How requests are authenticated.
 * - `cookie`: the browser sends authsvc's session cookies (fetch with `credentials: "include"`);
 *   the login RPCs set them and SessionsService.Revoke clears them.
 * - `bearer`: `Authorization: Bearer <token>`, with an M2M access token (service RPCs) or a
 *   session JWT or token (member and user RPCs).
 * - `none`: public RPCs only.
 */
export type AuthMode = { mode: "cookie" } | { mode: "bearer"; token: TokenSource } | { mode: "none" };

export interface AuthsvcClientOptions {
  /** authsvc's REST address, e.g. "http://localhost:8080" or "https://auth.example.com". */
  baseUrl: string;
  /** Default: { mode: "none" }. */
  auth?: AuthMode;
  /** A fetch to use instead of globalThis.fetch (tests, proxies, custom agents). */
  fetch?: (input: Request) => Promise<Response>;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/** Options of one call, besides the typed params and body. */
export interface CallOptions {
  /**
   * Sent as the Idempotency-Key header: a retry with the same key and request is answered with
   * the first response instead of sending again (docs/idempotency.md). 1 to 255 printable ASCII
   * characters without spaces, e.g. crypto.randomUUID().
   */
  idempotencyKey?: string;
}

/** A successful answer. */
export interface AuthsvcResponse<T> {
  data: T;
  response: Response;
  /** True when authsvc answered a repeated Idempotency-Key from its stored first response. */
  replayed: boolean;
}

type Method = "get" | "put" | "post" | "delete" | "patch";
type Raw = Client<paths>;
type Init<M extends Method, P extends ClientPathsWithMethod<Raw, M>> = MaybeOptionalInit<paths[P], M>;

/** A typed call: resolves with the response data, rejects with AuthsvcError on any non-2xx. */
export type Call<M extends Method> = <P extends ClientPathsWithMethod<Raw, M>, I extends Init<M, P>>(
  url: P,
  ...init: undefined extends I ? [(I & CallOptions)?] : [I & CallOptions]
) => Promise<AuthsvcResponse<MethodResponse<Raw, M, P, I>>>;

export interface AuthsvcClient {
  GET: Call<"get">;
  POST: Call<"post">;
  PUT: Call<"put">;
  PATCH: Call<"patch">;
  DELETE: Call<"delete">;
  /** The underlying openapi-fetch client (same auth), for its { data, error } style. */
  raw: Raw;
}

const replayedHeader = "Grpc-Metadata-Idempotent-Replayed";

/** Creates a client; see AuthsvcClientOptions. */
export function createAuthsvcClient(options: AuthsvcClientOptions): AuthsvcClient {
  const auth = options.auth ?? { mode: "none" };
  const raw = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    // Cookie mode: the browser attaches and stores authsvc's cookies, across origins too (CORS
    // with credentials). The other modes send no cookies, so a stale session cookie can never
    // authenticate a bearer client.
    credentials: auth.mode === "cookie" ? "include" : "omit",
  });
  if (auth.mode === "bearer") {
    const source = auth.token;
    raw.use({
      async onRequest({ request }) {
        const token = typeof source === "function" ? await source() : source;
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }

  const call =
    (method: Uppercase<Method>) =>
    async (url: string, init?: Record<string, unknown> & CallOptions & { headers?: unknown }) => {
      const { idempotencyKey, headers, ...rest } = init ?? {};
      const merged = mergeHeaders(headers as HeadersInit | undefined);
      if (idempotencyKey !== undefined) merged.set("Idempotency-Key", idempotencyKey);
      const r = await raw.request(method as never, url as never, { ...rest, headers: merged } as never);
      const { response } = r as { response: Response };
      if (!response.ok) {
        throw new AuthsvcError(response, (r as { error?: unknown }).error);
      }
      return {
        data: (r as { data?: unknown }).data,
        response,
        replayed: response.headers.get(replayedHeader) === "true",
      };
    };

  return {
    GET: call("GET") as Call<"get">,
    POST: call("POST") as Call<"post">,
    PUT: call("PUT") as Call<"put">,
    PATCH: call("PATCH") as Call<"patch">,
    DELETE: call("DELETE") as Call<"delete">,
    raw,
  };
}
