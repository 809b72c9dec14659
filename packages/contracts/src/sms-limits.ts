/**
 * Redis keys of the SMS limits that every workers process shares (issue 18):
 * the token buckets of a carrier's bind and of each sender number on it,
 * counted in segments, and the per-account count of campaign texts handed
 * to the carriers on one local day.
 *
 * A carrier's buckets share the hash tag `{carrierId}`, so that the one Lua
 * script that takes from the bind and the sender bucket together touches a
 * single cluster slot.
 */
export const smsBindRateKey = (carrierId: string): string => `carillon:sms-rate:{${carrierId}}:bind`;

/** A sender's bucket, by its digits (with or without '+', the same bucket). */
export const smsSenderRateKey = (carrierId: string, sender: string): string => `carillon:sms-rate:{${carrierId}}:sender:${sender.replace(/^\+/, '')}`;

/** Campaign texts of an account released on `day` (YYYY-MM-DD in the account's time zone). */
export const smsDailyCampaignSendsKey = (accountId: string, day: string): string => `carillon:sms-daily:${accountId}:${day}`;
