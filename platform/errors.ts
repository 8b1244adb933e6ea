// One base for Remedy's own errors: each says whether trying the same thing again can help. Permanent: report it
// and dead-letter (or refuse) at once, with the message as the reason. Retryable: leave the work for the next
// attempt. Errors from elsewhere (the AWS SDK, the network) are sorted by their codes in aws-errors.ts.

export type FailureKind = "permanent" | "retryable";

export abstract class RemedyError extends Error {
  abstract readonly kind: FailureKind;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** Retrying cannot help: bad input, a refused claim, a missing setting, a denied or invalid request. */
export abstract class PermanentError extends RemedyError {
  readonly kind = "permanent";
}

/** A later attempt may succeed: throttling, a lost race, an unavailable service. */
export abstract class RetryableError extends RemedyError {
  readonly kind = "retryable";
}

/** The kind of any error that is Remedy's own; undefined for others (sort those by their AWS codes). */
export function failureKind(error: unknown): FailureKind | undefined {
  return error instanceof RemedyError ? error.kind : undefined;
}
