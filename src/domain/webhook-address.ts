import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { BlockList, isIP } from 'node:net';

/**
 * @module
 * Where the vault may send webhooks (SPEC "Notifications"): `https` to public
 * addresses only, so that an admin's token cannot turn the vault against its
 * own network. Every address a name resolves to is checked, at registration
 * and again at each connection (the lookup the connection itself uses), so a
 * name that later rebinds to a private address is refused too.
 * VAULT_WEBHOOK_ALLOW_PRIVATE=true lifts both rules (development, tests).
 */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, 'ipv6');

export function isPublicAddress(text: string): boolean {
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  const address = mapped?.[1] ?? text;
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class WebhookAddressError extends Error {
  override name = 'WebhookAddressError';
}

/** Checks a URL before it is registered; throws WebhookAddressError saying why not. */
export async function checkWebhookUrl(text: string, allowPrivate: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new WebhookAddressError('not a URL');
  }
  if (url.username || url.password) throw new WebhookAddressError('must not carry credentials');
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))
    throw new WebhookAddressError('must be https');
  if (!allowPrivate) await resolvePublic(url.hostname.replace(/^\[|\]$/g, ''));
  return url;
}

/** Every address of the name, all public; throws otherwise. */
async function resolvePublic(host: string): Promise<{ address: string; family: number }[]> {
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host)
      ? [{ address: host, family: isIP(host) }]
      : await lookup(host, { all: true, verbatim: true });
  } catch {
    throw new WebhookAddressError(`${host} does not resolve`);
  }
  const bad = addresses.filter((a) => !isPublicAddress(a.address));
  if (addresses.length === 0 || bad.length > 0)
    throw new WebhookAddressError(
      `${host} resolves to an address that is not public (${bad.map((a) => a.address).join(', ')})`,
    );
  return addresses;
}

/** The lookup a delivery connects with: the same check at connection time, against DNS rebinding. */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction | undefined {
  if (allowPrivate) return undefined;
  return (hostname, options, callback) => {
    resolvePublic(hostname).then(
      (addresses) => {
        const first = addresses[0] as { address: string; family: number };
        if (typeof options === 'object' && options.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: Error) => callback(Object.assign(err, { code: 'EWEBHOOKADDRESS' }), '', 0),
    );
  };
}
