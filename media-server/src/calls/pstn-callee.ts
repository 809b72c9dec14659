import type { SipTarget, SipTransportProtocol } from '../sip/transport/index.ts';
import type { PstnDestination, TrunkTarget } from '../routing/destination.ts';

/**
 * How a call reaches the carrier behind an account's trunk: the one place
 * that says it, for the B2BUA's outbound calls (calls/b2bua/b2bua-call.ts) and the
 * outside numbers an application bridges to (forwarding, calls/app-call.ts).
 */

/** Where the trunk's INVITEs go. */
export function trunkSipTarget(trunk: TrunkTarget): SipTarget {
  return { transport: trunk.transport === 'tcp' ? 'TCP' : trunk.transport === 'tls' ? 'TLS' : 'UDP', host: trunk.host, port: trunk.port };
}

/** The Request-URI: the number as the carrier wants it, at the carrier. */
export const trunkRequestUri = (trunk: TrunkTarget): string => `sip:${trunk.dialString}@${trunk.host}:${trunk.port}`;

/**
 * The From (without its tag), To and identity headers of an INVITE to the
 * carrier. The caller ID shown is `callerId` (RFC 3325 P-Asserted-Identity
 * says the same to a carrier that trusts us); a withheld one is anonymous
 * with `Privacy: id` (RFC 3323 §4.2).
 *
 * A forwarded call (`forwardedFrom`, issue 13) keeps the original caller's ID
 * in From, and asserts the account's own number, the one the carrier knows
 * is ours, in P-Asserted-Identity and in Diversion (RFC 5806, reason
 * follow-me): carriers that allow it show the original caller to the mobile,
 * the others show our number; neither refuses the call for a From it does
 * not own.
 */
export function pstnHeaders(route: PstnDestination, host: string): { from: string; to: string; headers: [string, string][] } {
  const cid = route.callerId.number;
  const name = route.callerId.name ? `"${route.callerId.name.replace(/"/g, '')}" ` : '';
  const from = cid ? `${name}<sip:${cid}@${host}>` : '"Anonymous" <sip:anonymous@anonymous.invalid>';
  const headers: [string, string][] = [];
  const asserted = route.forwardedFrom ?? cid;
  if (asserted) headers.push(['p-asserted-identity', `<sip:${asserted}@${host}>`]);
  if (!cid) headers.push(['privacy', 'id']);
  if (route.forwardedFrom) headers.push(['diversion', `<sip:${route.forwardedFrom}@${host}>;reason=follow-me;counter=1`]);
  if (route.emergency) headers.push(['priority', 'emergency']);
  return { from, to: `<sip:${route.trunk.dialString}@${route.trunk.host}>`, headers };
}

/** A forwarded outside number as `bridgeTo` rings it. */
export function pstnCallee(route: PstnDestination, localContact: (transport: SipTransportProtocol) => { host: string; port: number }) {
  const target = trunkSipTarget(route.trunk);
  return { target, uri: trunkRequestUri(route.trunk), deviceId: null, ...pstnHeaders(route, localContact(target.transport).host), trunk: route.trunk };
}
