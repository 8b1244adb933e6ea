// Sorting AWS SDK errors by what a remediation should do about them:
// - permanent: retrying the same request cannot help (denied, invalid, malformed) → report failed, dead-letter now;
// - transient: throttling, 5xx, timeouts, network → report failed, leave the message for the next attempt;
// - gone: the resource (or the rule entry) no longer exists → nothing left to fix.
// Codes checked against the EC2 API error-code list and the S3 error-response list (and S3's per-operation
// "special errors"): EC2 throttles with RequestLimitExceeded, S3 with SlowDown (503).
import { failureKind, PermanentError, RetryableError } from "./errors.ts";

export type AwsErrorKind = "permanent" | "transient" | "gone";

/** A failure that retrying cannot fix: the message is dead-lettered at once. */
export class PermanentRemediationError extends PermanentError {
  override name = "PermanentRemediationError";
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? errorCode(options.cause);
  }
}

/** A failure that a later attempt may not hit: the message stays on the queue. */
export class TransientRemediationError extends RetryableError {
  override name = "TransientRemediationError";
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? errorCode(options.cause);
  }
}

/** The resource is gone: InvalidGroup.NotFound, NoSuchBucket, ... (Malformed ids are permanent, not gone.) */
export const GONE_CODES: ReadonlySet<string> = new Set([
  "InvalidGroup.NotFound",
  "InvalidGroupId.NotFound",
  "InvalidSecurityGroupRuleId.NotFound",
  "NoSuchBucket",
  // EC2's answer for a snapshot id that does not exist (any more) in the account and region.
  "InvalidSnapshot.NotFound",
  // RDS: a DB snapshot's fault carries the code DBSnapshotNotFound (the SDK names it DBSnapshotNotFoundFault); a
  // DB cluster snapshot's fault is its code.
  "DBSnapshotNotFound",
  "DBSnapshotNotFoundFault",
  "DBClusterSnapshotNotFoundFault",
]);

export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException",
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "PriorRequestNotComplete",
]);

/** Server-side and connection failures that name themselves without (or before) an HTTP status. */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  "InternalError",
  "InternalFailure",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "Unavailable",
  "InsufficientCapacity",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "NetworkingError",
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "AbortError",
]);

/** Documented permanent codes (everything else that is a 4xx is permanent too); listed for readers and tests. */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "UnauthorizedOperation",
  "AuthFailure",
  "InvalidClientTokenId",
  "ExpiredToken",
  "ExpiredTokenException",
  "SignatureDoesNotMatch",
  "InvalidParameter",
  "InvalidParameterValue",
  "InvalidParameterCombination",
  "MissingParameter",
  "InvalidGroupId.Malformed",
  "InvalidSecurityGroupRuleId.Malformed",
  "InvalidPermission.Malformed",
  "InvalidPermission.NotFound",
  "MalformedPolicy",
  "MalformedACLError",
  "MalformedXML",
  "InvalidArgument",
  "InvalidRequest",
  "InvalidBucketName",
  "AccessControlListNotSupported",
  "ValidationError",
  "ValidationException",
  "OptInRequired",
  "Blocked",
]);

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The service's error code (the SDK puts it in `name`; Node network errors in `code`). */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const shape = error as ErrorShape;
  if (typeof shape.Code === "string" && shape.Code) return shape.Code;
  if (typeof shape.code === "string" && shape.code) return shape.code;
  if (typeof shape.name === "string" && shape.name && shape.name !== "Error") return shape.name;
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = (error as ErrorShape).$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** Whether the error (or its `cause`) carries one of `codes`. */
export function hasErrorCode(error: unknown, ...codes: string[]): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = errorCode(current);
    if (code !== undefined && codes.includes(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A conditional write or delete (If-Match, If-None-Match) that lost: 412, its condition did not hold; 409, another
 * conditional request on the key was in flight.
 */
export function isConditionalWriteConflict(error: unknown): boolean {
  if (hasErrorCode(error, "PreconditionFailed", "ConditionalRequestConflict")) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return status === 412 || status === 409;
}

type StoreErrorClass = new (message: string, options: { cause?: unknown }) => Error;

/**
 * An AWS failure of a store (a ledger-bucket object), as one of its two errors: `transient` when a retry may help
 * (throttling, 5xx, a race), `permanent` otherwise; the message is `context` and what AWS said.
 */
export function storeFailure(
  context: string,
  error: unknown,
  errors: { transient: StoreErrorClass; permanent: StoreErrorClass },
): Error {
  const message = `${context}: ${describeAwsError(error)}`;
  const ErrorClass = classifyAwsError(error) === "transient" ? errors.transient : errors.permanent;
  return new ErrorClass(message, { cause: error });
}

export function classifyAwsError(error: unknown): AwsErrorKind {
  // Remedy's own errors say what they are (platform/errors.ts).
  const own = failureKind(error);
  if (own !== undefined) return own === "permanent" ? "permanent" : "transient";
  const code = errorCode(error);
  if (code !== undefined) {
    if (GONE_CODES.has(code)) return "gone";
    if (THROTTLING_CODES.has(code) || TRANSIENT_CODES.has(code)) return "transient";
    if (PERMANENT_CODES.has(code)) return "permanent";
  }
  if (typeof error === "object" && error !== null && (error as ErrorShape).$retryable) return "transient";
  const status = httpStatus(error);
  if (status !== undefined && (status >= 500 || status === 429)) return "transient";
  // Any other 4xx, and errors of our own code (unjudgeable data, bugs): the same request would fail again.
  return "permanent";
}

/** One line for logs, reports and the DLQ reason: code and message. */
export function describeAwsError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (code === undefined || message.startsWith(code)) return message || code || "unknown error";
  return message ? `${code}: ${message}` : code;
}

// Failures after which the request may still have taken effect: the connection broke or timed out before an answer.
const ANSWER_LOST_CODES: ReadonlySet<string> = new Set([
  "TimeoutError",
  "RequestTimeout",
  "AbortError",
  "NetworkingError",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
]);

/**
 * True when the call got no answer, so whether it took effect is unknown (ECONNREFUSED or a DNS failure mean it
 * never left; an HTTP error status means the service refused it).
 */
export function answerLost(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if (status !== undefined) return false;
  const code = errorCode(error);
  return code !== undefined && ANSWER_LOST_CODES.has(code);
}
