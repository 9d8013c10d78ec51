// Tests of the JSON fault locator: Json.NET's sentences, paths, lines and positions.
import { describe, expect, it } from 'vitest';

import { describeJsonDepthFault, describeJsonFault, MAX_JSON_DEPTH } from './json-text.js';

describe('describeJsonFault', () => {
  it.each([
    ['{"a":1}', undefined],
    [
      '{"a":x}',
      "Unexpected character encountered while parsing value: x. Path 'a', line 1, position 5.",
    ],
    ['x', "Unexpected character encountered while parsing value: x. Path '', line 0, position 0."],
    [
      '{"a" 1}',
      "Invalid character after parsing property name. Expected ':' but got: 1. Path '', line 1, position 5.",
    ],
    ['{"a":1,}', "Invalid property identifier character: }. Path 'a', line 1, position 7."],
    [
      '{"a":1]',
      "JsonToken EndArray is not valid for closing JsonType Object. Path 'a', line 1, position 6.",
    ],
    [
      '[1}',
      "JsonToken EndObject is not valid for closing JsonType Array. Path '[0]', line 1, position 2.",
    ],
    [
      '{"a":1 "b":2}',
      "After parsing a value an unexpected character was encountered: \". Path 'a', line 1, position 7.",
    ],
    ['{"a":tru}', "Error parsing boolean value. Path 'a', line 1, position 8."],
    ['{"a":"b', "Unterminated string. Expected delimiter: \". Path 'a', line 1, position 7."],
    ['{"a":01}', "Input string '01' is not a valid number. Path 'a', line 1, position 7."],
    ['{"a":"\\q"}', "Bad JSON escape sequence: \\q. Path 'a', line 1, position 8."],
    [
      '{"a":1} x',
      "Additional text encountered after finished reading JSON content: x. Path '', line 1, position 8.",
    ],
    [
      '{\n  "v": [1, 2,, 3]\n}',
      "Unexpected character encountered while parsing value: ,. Path 'v[2]', line 2, position 13.",
    ],
    [
      '{"a b":{"c":[1,{"d":-}]}}',
      "Input string '-' is not a valid number. Path '['a b'].c[1].d', line 1, position 21.",
    ],
  ])('%j', (text, expected) => {
    expect(describeJsonFault(text)).toBe(expected);
    if (expected === undefined) expect(() => JSON.parse(text) as unknown).not.toThrow();
    else expect(() => JSON.parse(text) as unknown).toThrow();
  });
});

describe('describeJsonDepthFault', () => {
  // Json.NET's own test (JsonTextReaderTest.MaxDepth): "[[]]" with MaxDepth 1.
  it("words the fault as Json.NET's MaxDepth test does", () => {
    expect(describeJsonDepthFault('[[]]', 1)).toBe(
      "The reader's MaxDepth of 1 has been exceeded. Path '[0]', line 1, position 2.",
    );
  });

  it.each([
    ['{"a":{"b":[1,{"c":{}}]}}', 5, undefined],
    [
      '{"a":{"b":[1,{"c":{}}]}}',
      3,
      "The reader's MaxDepth of 3 has been exceeded. Path 'a.b[1]', line 1, position 14.",
    ],
    [
      '{\n "x y": [ [ [] ] ]\n}',
      3,
      "The reader's MaxDepth of 3 has been exceeded. Path '['x y'][0][0]', line 2, position 13.",
    ],
    // Brackets inside strings, escaped quotes included, do not count.
    ['{"a":"[[[[{{{{\\"[[[["}', 1, undefined],
    // A syntax fault before the depth is exceeded is the JSON parser's to report.
    ['{"a":x, "b":[[[[]]]]}', 2, undefined],
    // Beyond the depth first: the depth is reported even though the text is broken later.
    [
      '[[[[]]]] x',
      2,
      "The reader's MaxDepth of 2 has been exceeded. Path '[0][0]', line 1, position 3.",
    ],
    ['', 1, undefined],
  ])('%j at depth %d', (text, depth, expected) => {
    expect(describeJsonDepthFault(text, depth)).toBe(expected);
  });

  it('allows 64 levels by default and refuses 65', () => {
    const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    expect(MAX_JSON_DEPTH).toBe(64);
    expect(describeJsonDepthFault(nested(64))).toBeUndefined();
    expect(describeJsonDepthFault(nested(65))).toBe(
      `The reader's MaxDepth of 64 has been exceeded. Path '${'[0]'.repeat(64)}', line 1, position 65.`,
    );
  });

  it('does not overflow the stack on a million levels', () => {
    const deep = '{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000);
    expect(describeJsonDepthFault(deep)).toMatch(
      /^The reader's MaxDepth of 64 has been exceeded\. Path 'a(\.a){63}', line 1, position 321\.$/,
    );
  });
});
