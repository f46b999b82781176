// Typed errors of authsvc's REST API.
//
// Every API error is a google.rpc.Status JSON body ({"code", "message", "details"}) with the HTTP
// status of its gRPC code (internal/gateway/errors.go); a CSRF refusal has the same shape
// (internal/gateway/csrf.go). The details this client reads are the ones authsvc sends
// (internal/rpcerr): ErrorInfo (reason, domain, metadata), BadRequest (the field at fault) and
// RetryInfo (also sent as the Retry-After header on 429 and 503).

/** The gRPC status code names, indexed by code. */
const codeNames = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
] as const;

/** A gRPC status code name, e.g. "INVALID_ARGUMENT". */
export type GrpcCodeName = (typeof codeNames)[number];

/** One field named by a google.rpc.BadRequest detail. */
export interface FieldViolation {
  field: string;
  description: string;
}

const errorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";
const badRequestType = "type.googleapis.com/google.rpc.BadRequest";
const retryInfoType = "type.googleapis.com/google.rpc.RetryInfo";

type Detail = Record<string, unknown> & { "@type"?: unknown };

/**
 * An error answered by authsvc (any HTTP status outside 2xx). `reason` is the machine-readable
 * cause to branch on (ErrorInfo reason, e.g. "idempotency_key_invalid"); `message` is safe to show.
 */
export class AuthsvcError extends Error {
  override readonly name = "AuthsvcError";
  /** The HTTP status, e.g. 401. */
  readonly status: number;
  /** The gRPC status code, e.g. 16 (UNKNOWN, 2, when the body carried none). */
  readonly code: number;
  /** The gRPC status code name, e.g. "UNAUTHENTICATED". */
  readonly codeName: GrpcCodeName;
  /** The ErrorInfo reason, when the error has one. */
  readonly reason: string | undefined;
  /** The ErrorInfo domain ("authsvc" for authsvc's own reasons, Stytch's otherwise). */
  readonly domain: string | undefined;
  /** The ErrorInfo metadata (IDs, never user input); empty when none. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The fields a BadRequest detail names (INVALID_ARGUMENT); empty when none. */
  readonly fieldViolations: readonly FieldViolation[];
  /** Seconds to wait before retrying (Retry-After, or the RetryInfo delay); undefined when none. */
  readonly retryAfterSeconds: number | undefined;
  /** Every detail of the status, as sent. */
  readonly details: readonly Detail[];
  /** The HTTP response (its body already read). */
  readonly response: Response;

  constructor(response: Response, body: unknown) {
    const status = isRecord(body) ? body : {};
    const message =
      typeof status.message === "string" && status.message !== ""
        ? status.message
        : `authsvc answered HTTP ${response.status}`;
    super(message);
    this.status = response.status;
    this.response = response;
    const code = typeof status.code === "number" && Number.isInteger(status.code) ? status.code : 2;
    this.code = code;
    this.codeName = codeNames[code] ?? "UNKNOWN";
    this.details = Array.isArray(status.details) ? status.details.filter(isRecord) : [];

    const info = this.details.find((d) => d["@type"] === errorInfoType);
    this.reason = typeof info?.reason === "string" ? info.reason : undefined;
    this.domain = typeof info?.domain === "string" ? info.domain : undefined;
    const metadata: Record<string, string> = {};
    if (isRecord(info?.metadata)) {
      for (const [k, v] of Object.entries(info.metadata)) {
        if (typeof v === "string") metadata[k] = v;
      }
    }
    this.metadata = metadata;

    const violations: FieldViolation[] = [];
    for (const d of this.details) {
      if (d["@type"] !== badRequestType) continue;
      // The gateway writes proto field names (field_violations); accept the JSON name too.
      const list = d.field_violations ?? d.fieldViolations;
      if (!Array.isArray(list)) continue;
      for (const v of list) {
        if (isRecord(v) && typeof v.field === "string") {
          violations.push({ field: v.field, description: typeof v.description === "string" ? v.description : "" });
        }
      }
    }
    this.fieldViolations = violations;

    this.retryAfterSeconds = parseRetryAfter(response.headers.get("Retry-After")) ?? retryInfoSeconds(this.details);
  }
}

/** Whether err is an AuthsvcError, optionally with the given reason. */
export function isAuthsvcError(err: unknown, reason?: string): err is AuthsvcError {
  return err instanceof AuthsvcError && (reason === undefined || err.reason === reason);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110, section 10.2.3).
function parseRetryAfter(v: string | null): number | undefined {
  if (v === null) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

// retryInfoSeconds reads a RetryInfo retry_delay, a protobuf Duration in JSON ("1.5s"), rounded up.
function retryInfoSeconds(details: readonly Detail[]): number | undefined {
  const info = details.find((d) => d["@type"] === retryInfoType);
  const delay = info?.retry_delay ?? info?.retryDelay;
  if (typeof delay !== "string") return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(delay);
  return m ? Math.ceil(Number(m[1])) : undefined;
}
