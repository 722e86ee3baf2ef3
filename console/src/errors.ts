// Tells apart what can go wrong with a call, so every page shows the same clear states.

export type ErrorKind =
  | "auth" // wrong keys, bad signature, clock skew
  | "unreachable" // no answer from the server
  | "not-found" // the resource does not exist (any more)
  | "unsupported" // this server does not serve that API (yet)
  | "throttled"
  | "model" // the model answered an error (InvokeEndpoint ModelError)
  | "other";

export interface Classified {
  kind: ErrorKind;
  title: string;
  message: string;
}

const AUTH_CODES = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "IncompleteSignatureException",
  "MissingAuthenticationToken",
  "MissingAuthenticationTokenException",
  "InvalidClientTokenId",
  "AccessDeniedException",
  "AccessDenied",
  "ExpiredToken",
  "RequestExpired",
  "InvalidAccessKeyId",
]);

interface ErrorLike {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

export function classifyError(err: unknown): Classified {
  const e = (err ?? {}) as ErrorLike;
  const name = e.Code || e.name || "Error";
  // The first paragraph: a signature refusal goes on with the whole canonical request.
  const message = (e.message || String(err) || "").trim().split(/\n\s*\n/)[0].trim();
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  if (AUTH_CODES.has(name) || (status === 403 && name !== "ModelError")) {
    return {
      kind: "auth",
      title: "thaw refused these keys",
      message: `${message || name}. Sign in again with a key pair from thaw-data/credentials.`,
    };
  }
  if (
    status === undefined &&
    (name === "TypeError" || /fetch|network|Failed to|NetworkError|ECONNREFUSED/i.test(message))
  ) {
    return {
      kind: "unreachable",
      title: "The server is unreachable",
      message: "No answer from thaw at this address. Is it running? The page retries on its own.",
    };
  }
  if (name === "UnknownOperationException" || name === "UnknownOperation" || status === 404 && /No operation matches|not served here/.test(message)) {
    return { kind: "unsupported", title: "Not served by this thaw", message: message || name };
  }
  if (name === "ResourceNotFoundException" || name === "ResourceNotFound" || /Could not find/.test(message)) {
    return { kind: "not-found", title: "Not found", message: message || name };
  }
  if (name === "ThrottlingException") {
    return { kind: "throttled", title: "Throttled", message: message || "Too many requests in flight (MaxConcurrency)." };
  }
  if (name === "ModelError") return { kind: "model", title: "The model answered an error", message };
  return { kind: "other", title: name, message: message || name };
}
