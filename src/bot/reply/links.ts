/**
 * Whether a link's text would make a reader expect another site than the one it opens: the text
 * names a URL or a domain, and that host is not the target's. `[https://bank.example/login](https://evil.test/x)`
 * and `[bank.example](https://bank.example.evil.test)` disguise; `[the docs](https://x.test)` and
 * `[x.test](https://www.x.test/a)` do not. Anything that looks like a domain counts (`Node.js` too):
 * a false alarm shows the real address, a miss is a phishing link.
 */
export function disguisesLink(label: string, target: string): boolean {
  const targetHost = hostOf(target)
  if (targetHost === undefined) return true
  for (const named of namedHosts(label)) if (named !== targetHost) return true
  return false
}

/** `www.` aside, lower-cased and in punycode, as the URL parser normalises it. */
function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^www\./, '')
  } catch {
    return undefined
  }
}

/**
 * Every host the text names: URLs with a scheme, then bare domains (`bank.example/login`), with the
 * dots browsers also accept (`bank．example`).
 */
function namedHosts(label: string): string[] {
  const hosts: string[] = []
  const rest = label.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s]+/gi, (url) => {
    hosts.push(hostOf(url) ?? url)
    return ' '
  })
  for (const m of rest.matchAll(
    /(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?[.\uFF0E\u3002\uFF61])+\p{L}{2,}/gu,
  ))
    hosts.push(hostOf(`http://${m[0]}`) ?? m[0])
  return hosts
}
