import { describe, expect, it } from 'vitest';
import { checkSmsContent, mergeSmsContentWarnings, smsContentWarningMessage, SMS_URL_SHORTENERS } from '@carillon/domain';

describe('SMS content check (shortened URLs and spam patterns)', () => {
  it('finds a shortener link with or without a scheme, www. or a path, each domain once', () => {
    expect(checkSmsContent('Your order: https://bit.ly/3xYz and again bit.ly/abc')).toEqual([{ code: 'shortened_url', domain: 'bit.ly' }]);
    expect(checkSmsContent('See www.TinyURL.com/y6 or t.co/x9, or cutt.ly.')).toEqual([
      { code: 'shortened_url', domain: 'tinyurl.com' },
      { code: 'shortened_url', domain: 't.co' },
      { code: 'shortened_url', domain: 'cutt.ly' },
    ]);
    expect(checkSmsContent('Track it at http://rebrand.ly?x=1')).toEqual([{ code: 'shortened_url', domain: 'rebrand.ly' }]);
    for (const domain of ['bit.ly', 'tinyurl.com', 't.co', 'goo.gl', 'ow.ly', 'is.gd', 'buff.ly', 'rebrand.ly', 'cutt.ly']) expect(SMS_URL_SHORTENERS).toContain(domain);
  });

  it('leaves a business’s own links, e-mail addresses and look-alike names alone', () => {
    expect(checkSmsContent('Book at https://example.com/book or write to help@bit.ly')).toEqual([]);
    expect(checkSmsContent('Visit bit.lyrics.com or at.com or my-t.co.uk today')).toEqual([]);
    expect(checkSmsContent('Your code is 123456. It expires in 10 minutes.')).toEqual([]);
    expect(checkSmsContent('Reply STOP to opt out. Msg&data rates may apply.')).toEqual([]);
  });

  it('warns about spam phrases, shouting, repeated punctuation and currency symbols', () => {
    expect(checkSmsContent('Congratulations, you have won! Claim your prize now')).toEqual([{ code: 'spam_phrase', phrase: 'you have won' }]);
    expect(checkSmsContent('100% FREE, guaranteed, act now')).toEqual([
      { code: 'spam_phrase', phrase: '100% free' },
      { code: 'spam_phrase', phrase: 'act now' },
      { code: 'spam_phrase', phrase: 'guaranteed' },
    ]);
    expect(checkSmsContent('HUGE SALE THIS WEEKEND AT OUR STORE')).toEqual([{ code: 'shouting' }]);
    expect(checkSmsContent('Meet at the ATM by the NYC office')).toEqual([]);
    expect(checkSmsContent('Really?!?! Come now')).toEqual([{ code: 'repeated_punctuation' }]);
    expect(checkSmsContent('Save $$$ today')).toEqual([{ code: 'money_symbols' }]);
  });

  it('merges the warnings of several texts once each, and says each in a sentence', () => {
    const merged = mergeSmsContentWarnings([checkSmsContent('bit.ly/a'), checkSmsContent('bit.ly/b act now'), []]);
    expect(merged).toEqual([
      { code: 'shortened_url', domain: 'bit.ly' },
      { code: 'spam_phrase', phrase: 'act now' },
    ]);
    expect(smsContentWarningMessage(merged[0]!)).toContain('bit.ly is a URL shortener');
    expect(smsContentWarningMessage({ code: 'shouting' })).toContain('capitals');
  });
});
