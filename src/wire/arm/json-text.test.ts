// Tests of the JSON fault locator: Json.NET's sentences, paths, lines and positions.
import { describe, expect, it } from 'vitest';

import { describeJsonFault } from './json-text.js';

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
