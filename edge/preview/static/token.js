/**
 * The page's token: from the URL fragment `#token=...` (kept in sessionStorage and removed
 * from the address bar, so it is not left in a screenshot or a shared link), else from
 * sessionStorage, else the user is asked. parseFragment() is pure; the rest touch the browser.
 */

export const STORAGE_KEY = "onset.preview.token";

/**
 * The token in a fragment ("#token=abc&x=1") and the fragment without it ("#x=1", or "").
 * @returns {{token: string|null, rest: string}}
 */
export function parseFragment(hash) {
  const text = String(hash || "").replace(/^#/, "");
  if (!text) return { token: null, rest: "" };
  const params = new URLSearchParams(text);
  const token = params.get("token");
  params.delete("token");
  const rest = params.toString();
  return { token: token ? token : null, rest: rest ? `#${rest}` : "" };
}

/** The token for this page, taking it out of the address bar if it came in the fragment. */
export function loadToken() {
  const { token, rest } = parseFragment(window.location.hash);
  if (token) {
    saveToken(token);
    history.replaceState(history.state, "", `${window.location.pathname}${window.location.search}${rest}`);
    return token;
  }
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveToken(token) {
  try {
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused (private mode): the token lives for this page only
  }
}

/** Headers for a REST call that needs the token. */
export function authHeaders(token, json = false) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json) headers["Content-Type"] = "application/json";
  return headers;
}

/** `path` with the token as ?token= (for links a browser fetches itself: downloads, images). */
export function withTokenQuery(path, token) {
  if (!token) return path;
  return `${path}${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
}
