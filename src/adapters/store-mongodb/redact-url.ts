/**
 * Connection strings may carry credentials (`mongodb://user:secret@host/`); anything that reaches a log, an
 * error message or `/-/check-up` goes through here first.
 */

/** The URL with any password (and user name) replaced by `***`; unparsable input is reduced to its scheme. */
export function redactMongoUrl(url: string): string {
  // The driver accepts several comma-separated hosts, which WHATWG URL does not parse; only the part between
  // the scheme and the last `@` before the host list holds credentials, so cut it out textually.
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*@)?(.*)$/i.exec(url);
  if (match === null) return '<invalid url>';
  const [, scheme, userInfo, rest] = match;
  const redactedRest = (rest ?? '').replace(/([?&](?:password|authMechanismProperties|tlsCertificateKeyFilePassword)=)[^&#]*/gi, '$1***');
  return `${scheme}${userInfo === undefined ? '' : '***@'}${redactedRest}`;
}

/** The database named in the URL's path (`mongodb://host/shop` → `shop`), if any. */
export function databaseFromUrl(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\/([^?#]*)/i.exec(url);
  const name = match?.[1];
  return name === undefined || name === '' ? undefined : decodeURIComponent(name);
}
