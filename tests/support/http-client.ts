/**
 * A small HTTP client that keeps cookies and sends the Origin header, like a
 * browser posting a form to the app. For API and form-action tests.
 */
export class HttpClient {
  private cookies = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  async request(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Response> {
    const headers: Record<string, string> = { origin: this.base, accept: 'application/json', ...extra };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let payload: string | FormData | Uint8Array<ArrayBuffer> | undefined;
    if (body instanceof Uint8Array) {
      // A raw file body (a greeting's audio): its type is the caller's to say in `extra`.
      payload = new Uint8Array(body);
    } else if (body instanceof FormData) {
      // fetch writes the multipart boundary into the content type itself.
      payload = body;
    } else if (body instanceof URLSearchParams) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = body.toString();
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const res = await fetch(this.base + path, { method, headers, body: payload, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const value = v.join('=');
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') this.cookies.delete(k!.trim());
      else this.cookies.set(k!.trim(), value);
    }
    return res;
  }

  get = (path: string) => this.request('GET', path);
  /** A plain HTML form post, as a browser without JavaScript sends it. */
  form = (path: string, fields: Record<string, string>) =>
    this.request('POST', path, new URLSearchParams(fields), { accept: 'text/html' });
  json = (method: string, path: string, body?: unknown) => this.request(method, path, body);
  cookie = (name: string) => this.cookies.get(name);
  /** The Cookie header a request of this client sends, for a test that writes its own request (node:http). */
  cookieHeader = () => [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
}

export const STRONG = { password: 'Tulip7Harbor!', pin: '482915', answer: 'Biscuit the cat' };

/** Activates an account through its link, as the activation page's form does. */
export async function activate(client: HttpClient, link: string, creds = STRONG): Promise<Response> {
  const path = new URL(link).pathname;
  return client.form(path, {
    password: creds.password,
    passwordConfirm: creds.password,
    pin: creds.pin,
    pinConfirm: creds.pin,
    securityQuestion: 'first_pet',
    securityAnswer: creds.answer,
  });
}

/** An integration's request: no cookie, no Origin, just `Authorization: Bearer <API token>`. */
export const bearerRequest = (baseUrl: string, secret: string, method: string, path: string, body?: unknown): Promise<Response> =>
  fetch(baseUrl + path, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
