/**
 * Credentials never leave the process in text form: a tracking URI such as
 * `http://alice:SECRET@host:5000` is used for its credentials (basic auth) and everywhere else
 * (messages, tags, the run directory, the journal, the store) appears as `http://host:5000`.
 */
import type { TrackingAuth } from "./auth.js";

const SECRET_PARAMS = /^(token|access_token|api_key|apikey|key|password|secret|sig|signature)$/i;

/** The URI without user info and with secret-looking query values masked; non-URLs come back unchanged. */
export function redactUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return redactSecrets(uri);
  }
  if (!url.username && !url.password && ![...url.searchParams.keys()].some((k) => SECRET_PARAMS.test(k))) return uri;
  url.username = "";
  url.password = "";
  for (const k of [...url.searchParams.keys()]) if (SECRET_PARAMS.test(k)) url.searchParams.set(k, "***");
  const out = url.toString();
  // URL adds a trailing slash to a bare origin; keep the caller's spelling otherwise.
  return uri.endsWith("/") || url.pathname !== "/" ? out : out.replace(/\/$/, "");
}

/** Basic-auth credentials written into a URI's user info, as requests/MLflow honour them. */
export function uriCredentials(uri: string): TrackingAuth | undefined {
  try {
    const url = new URL(uri);
    if (!url.username && !url.password) return undefined;
    return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  } catch {
    return undefined;
  }
}

/** Strips `scheme://user:pass@` user info from any URL inside free text (error messages from libraries). */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi, "$1");
  for (const s of secrets) if (s && s.length >= 3) out = out.split(s).join("***");
  return out;
}
