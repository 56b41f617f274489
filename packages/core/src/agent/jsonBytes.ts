/**
 * Sizes of text as it travels inside a JSON string (without the quotes): UTF-8 bytes plus the
 * escapes JSON.stringify writes for quotes, backslashes, control characters and lone
 * surrogates. Operation limits are counted this way so that a result that "fits" really fits in
 * its frame, whatever the text holds (ANSI colours are 6 bytes each once escaped).
 */

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** JSON bytes of the one UTF-16 unit `code` that is not part of a surrogate pair. */
function unitBytes(code: number): number {
  if (code < 0x20) return code === 8 || code === 9 || code === 10 || code === 12 || code === 13 ? 2 : 6;
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  return isHigh(code) || isLow(code) ? 6 : 3;
}

export function jsonStringBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isHigh(code) && isLow(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += unitBytes(code);
  }
  return bytes;
}

/** Length (in UTF-16 units) of the longest prefix of `text` within `maxBytes`; never splits a pair. */
export function jsonPrefixLength(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    const pair = isHigh(code) && isLow(text.charCodeAt(i + 1));
    const size = pair ? 4 : unitBytes(code);
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return i;
}

/** Start index of the longest suffix of `text` within `maxBytes`; never splits a pair. */
export function jsonSuffixStart(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const code = text.charCodeAt(i - 1);
    const pair = isLow(code) && i >= 2 && isHigh(text.charCodeAt(i - 2));
    const size = pair ? 4 : unitBytes(code);
    if (bytes + size > maxBytes) break;
    bytes += size;
    i -= pair ? 2 : 1;
  }
  return i;
}
