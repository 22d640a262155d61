/**
 * The cashier's Content-Security-Policy and the other response headers of
 * the page. The page has no inline script or style, so the policy can forbid
 * both outright.
 */

// After new URL() an origin is already canonical, but WHATWG hosts may still
// hold ";", "," or quotes, which would split or extend a CSP directive. Only
// plain DNS names and IPv4 get through: a CSP host-source has no spelling for
// an IPv6 literal (browsers drop "[::1]" as invalid).
const SAFE_ORIGIN = /^https?:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::\d{1,5})?$/;

/** The origin of an absolute http(s) URL as a CSP source can spell it, or null. */
export function httpOrigin(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return null;
  const origin = parsed.origin;
  return SAFE_ORIGIN.test(origin) ? origin : null;
}

export interface CspOptions {
  /**
   * Absolute URLs a form submission may end up at. Chrome applies
   * form-action to the redirect that follows a form POST, so the merchant's
   * returnUrl origin must be listed when an outcome redirects there.
   */
  formTargets: string[];
}

/**
 * The source that lets a form submission end up at `target`: its origin, or,
 * for a host no CSP host-source can spell (an underscore, a trailing dot, an
 * IPv6 literal, or worse), its scheme, so the redirect to the merchant still happens.
 */
function formSource(target: string): string | null {
  const origin = httpOrigin(target);
  if (origin !== null) return origin;
  try {
    const { protocol } = new URL(target);
    return protocol === 'https:' || protocol === 'http:' ? protocol : null;
  } catch {
    return null;
  }
}

export function cashierCsp(opts: CspOptions): string {
  const origins = new Set<string>();
  for (const target of opts.formTargets) {
    const source = formSource(target);
    if (source !== null) origins.add(source);
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // data: carries the QR code SVG and the empty favicon.
    "img-src 'self' data:",
    "connect-src 'self'",
    ['form-action', "'self'", ...origins].join(' '),
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Whether cashier pages tell browsers to use HTTPS only for the public host
 * (HSTS). Only for an https public URL whose host is a domain name: browsers
 * ignore HSTS for IP addresses, and on `localhost` it would force HTTPS on every
 * other local development server, whatever its port.
 */
export function hstsFor(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  const { protocol } = url;
  // A fully qualified name may end in a dot: `localhost.` is localhost.
  const hostname = url.hostname.replace(/\.$/, '');
  if (protocol !== 'https:' || hostname === 'localhost' || hostname.endsWith('.localhost')) return false;
  return !/^\d+(?:\.\d+){3}$/.test(hostname) && !hostname.startsWith('[');
}

const HSTS = 'max-age=31536000';

/** Headers for every cashier HTML response. */
export function securityHeaders(csp: string, hsts = false): Record<string, string> {
  return {
    ...(hsts ? { 'Strict-Transport-Security': HSTS } : {}),
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    // The page URL identifies an order; it must not leak to the merchant's
    // site or to a bank app through Referer.
    'Referrer-Policy': 'no-referrer',
    // Order status changes; a back button must not show a stale "pay" page.
    'Cache-Control': 'no-store',
    // Older browsers ignore frame-ancestors; clickjacking a pay button matters.
    'X-Frame-Options': 'DENY',
  };
}
