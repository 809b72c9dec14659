import type { MessageKey } from '#lib/i18n/index.ts';

/**
 * What a SIP final response means to the person who placed the call, in words (RFC 3261 §21):
 * users never see a bare code such as 603.
 */
const FAILURE_OF: Record<number, MessageKey> = {
  403: 'phone.failure.forbidden',
  404: 'phone.failure.notFound',
  604: 'phone.failure.notFound',
  408: 'phone.failure.noAnswer',
  480: 'phone.failure.unavailable',
  484: 'phone.failure.incomplete',
  486: 'phone.failure.busy',
  600: 'phone.failure.busy',
  487: 'phone.failure.cancelled',
  488: 'phone.failure.unsupported',
  606: 'phone.failure.unsupported',
  503: 'phone.failure.serviceDown',
  603: 'phone.failure.declined',
};

export function callFailureMessage(status: number): MessageKey {
  return FAILURE_OF[status] ?? (status >= 600 ? 'phone.failure.declined' : status >= 500 ? 'phone.failure.serviceDown' : 'phone.failure.other');
}
