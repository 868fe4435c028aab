// The HTTP API: JSON in and out, errors as readable messages.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// The credential this tab sends: a room link's token (from the URL it was opened with), or
// an API key asked for once and kept in session storage (gone when the tab closes).
const STORED = "podium.credential";
const linked = new URLSearchParams(location.search).get("token");
if (linked) sessionStorage.setItem(STORED, linked);

export function credential() {
  return sessionStorage.getItem(STORED) || "";
}

// A URL for EventSource and WebSocket, which cannot send headers: the credential rides along.
export function withCredential(path) {
  const token = credential();
  if (!token) return path;
  return `${path}${path.includes("?") ? "&" : "?"}access_token=${encodeURIComponent(token)}`;
}

function askForKey() {
  const key = window.prompt("This Podium server needs an API key:");
  if (!key) return false;
  sessionStorage.setItem(STORED, key.trim());
  return true;
}

export async function api(path, { method = "GET", body } = {}, retried = false) {
  let response;
  const headers = body ? { "Content-Type": "application/json" } : {};
  if (credential()) headers.Authorization = `Bearer ${credential()}`;
  try {
    response = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch {
    throw new ApiError("The server is unreachable. Check your connection.", 0);
  }
  if (response.status === 401 && !retried && !linked && askForKey()) {
    return api(path, { method, body }, true);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const message = data?.error?.message || data?.detail?.[0]?.msg || data?.detail || response.statusText;
    throw new ApiError(String(message), response.status);
  }
  return data;
}

export async function serverUp() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    return response.ok;
  } catch {
    return false;
  }
}
