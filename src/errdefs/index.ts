/**
 * errdefs: the few error classes every subsystem throws. Each carries the HTTP status the Docker
 * Engine API answers with; `api/` turns any of them into Docker's `{"message": ...}` body in one
 * place. Wrap with context where the error happens: `image "web:1": not found`.
 */

export abstract class HakoError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** 404: no such container, image, exec instance, path. */
export class NotFound extends HakoError {
  readonly status = 404;
  readonly code = 'not_found';
}

/** 409: name in use, image used by a container, container not running/paused as required. */
export class Conflict extends HakoError {
  readonly status = 409;
  readonly code = 'conflict';
}

/** 400: malformed reference, bad flag value, bad request body. */
export class InvalidArgument extends HakoError {
  readonly status = 400;
  readonly code = 'invalid_argument';
}

/** 304: the operation was already done (start of a running container, stop of a stopped one). */
export class NotModified extends HakoError {
  readonly status = 304;
  readonly code = 'not_modified';
}

/** 401: a registry refused the credentials (login, pull, push). */
export class Unauthorized extends HakoError {
  readonly status = 401;
  readonly code = 'unauthorized';
}

/** 403: forbidden by policy (e.g. writing to a read-only path in `cp`). */
export class Forbidden extends HakoError {
  readonly status = 403;
  readonly code = 'forbidden';
}

/** 501: a feature Docker has and hako does not (yet). Name the feature in the message. */
export class NotImplemented extends HakoError {
  readonly status = 501;
  readonly code = 'not_implemented';
}

/** 503: a dependency is missing or not answering (runc, conmon, the daemon). */
export class Unavailable extends HakoError {
  readonly status = 503;
  readonly code = 'unavailable';
}

/** 500: a failure of the engine itself (a runtime or kernel call that failed). */
export class Internal extends HakoError {
  readonly status = 500;
  readonly code = 'internal';
}

export function isHakoError(err: unknown): err is HakoError {
  return err instanceof HakoError;
}

/** The HTTP status an arbitrary thrown value maps to. */
export function statusOf(err: unknown): number {
  return isHakoError(err) ? err.status : 500;
}
