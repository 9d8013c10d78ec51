// Control characters in request values that end up in tokens, headers or logs: refused at every surface.

/**
 * True when `value` holds a control character: C0 (U+0000-U+001F, so CR, LF, TAB and NUL), DEL
 * (U+007F) or C1 (U+0080-U+009F), Unicode's category Cc. None belongs in a resource URI or an
 * identifier (RFC 3986 section 2 and RFC 6749 appendix A allow none); passed on, CR/LF would
 * reach a token's `aud`, a relying party's headers and every log line that quotes the value.
 */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
