// The REST API and its WebSocket watch, with the token from the login page.

export interface Meta {
  name: string;
  labels?: Record<string, string>;
  resourceVersion?: string;
  creationTimestamp?: string;
}
// Resources are Kubernetes-shaped; spec and status vary by kind.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;
export interface Resource {
  kind?: string;
  metadata: Meta;
  spec: Any;
  status: Any;
}

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public hint: string) {
    super(message);
  }
}

export class Api {
  constructor(public token: string) {}

  async req<T = Any>(method: string, path: string, body?: unknown): Promise<T> {
    const resp = await fetch(`/api/v1${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    const data = text ? JSON.parse(text) : {};
    if (!resp.ok) {
      throw new ApiError(resp.status, data.code ?? "HTTPError", data.message ?? text, data.hint ?? "");
    }
    return data as T;
  }

  get<T = Any>(path: string): Promise<T> {
    return this.req<T>("GET", path);
  }

  post<T = Any>(path: string, body?: unknown): Promise<T> {
    return this.req<T>("POST", path, body ?? {});
  }

  del<T = Any>(path: string): Promise<T> {
    return this.req<T>("DELETE", path);
  }

  watchUrl(kinds: string, resourceVersion?: string): string {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const rv = resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : "";
    return `${proto}//${location.host}/api/v1/watch?kinds=${kinds}&token=${encodeURIComponent(this.token)}${rv}`;
  }
}

export function b64(bytes: ArrayBuffer): string {
  let s = "";
  const arr = new Uint8Array(bytes);
  for (let i = 0; i < arr.length; i += 0x8000) {
    s += String.fromCharCode(...arr.subarray(i, i + 0x8000));
  }
  return btoa(s);
}
