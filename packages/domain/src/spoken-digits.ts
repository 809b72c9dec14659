/**
 * Digits spoken one by one ("1 0 1", not "one hundred and one"), as phone numbers and extensions are read
 * in prompts: a TTS engine given "101" would say a quantity.
 */
export function spellDigits(number: string): string {
  return number.split('').join(' ');
}
