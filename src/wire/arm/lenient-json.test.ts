// Tests of the lenient JSON reader: what Json.NET forgives, its fault sentences, and the line info of each element.
import { describe, expect, it } from 'vitest';

import { JsonReadFault, readLenientJson } from './lenient-json.js';

function faultOf(text: string): string {
  try {
    readLenientJson(text);
  } catch (error) {
    if (error instanceof JsonReadFault) return error.message;
    throw error;
  }
  throw new Error('expected a fault');
}

describe('readLenientJson', () => {
  it('reads what az sends: unquoted names, comments, trailing commas, raw line breaks in strings', () => {
    const text = [
      '{"properties": {"parameters": {}, "mode": "Incremental", template:{',
      '  "$schema": "s", /* block',
      '  comment */ "contentVersion": "1.0.0.0",',
      '  "variables": { "location": "[',
      '    resourceGroup().location',
      '  ]", "crlf": "a\r\nb", },',
      '  "resources": [] // comment',
      '}}}',
    ].join('\n');
    expect(readLenientJson(text).value).toEqual({
      properties: {
        parameters: {},
        mode: 'Incremental',
        template: {
          $schema: 's',
          contentVersion: '1.0.0.0',
          variables: { location: '[\n    resourceGroup().location\n  ]', crlf: 'a\r\nb' },
          resources: [],
        },
      },
    });
  });

  it('decodes escapes, numbers and literals, and keeps __proto__ as a member', () => {
    const { value } = readLenientJson(
      '{"a": "x\\ty\\u00e9\\"", "n": -1.5e2, "t": true, "f": false, "z": null, "__proto__": 1}',
    );
    expect(value).toEqual(
      JSON.parse('{"a":"x\\ty\\u00e9\\"","n":-150,"t":true,"f":false,"z":null,"__proto__":1}'),
    );
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("gives each element Json.NET's line info: after an opening bracket, after a value, after a closing bracket", () => {
    const { source } = readLenientJson('{\n  "a": {\n    "b": [1, "two"]\n  }\n}');
    expect(source.start([])).toEqual({ lineNumber: 1, linePosition: 1 });
    expect(source.start(['a'])).toEqual({ lineNumber: 2, linePosition: 8 });
    expect(source.end(['a'])).toEqual({ lineNumber: 4, linePosition: 3 });
    expect(source.start(['a', 'b'])).toEqual({ lineNumber: 3, linePosition: 10 });
    expect(source.start(['a', 'b', 1])).toEqual({ lineNumber: 3, linePosition: 18 });
    expect(source.start(['a', 'c'])).toBeUndefined();
  });

  it.each([
    [
      '{"a":x}',
      "Unexpected character encountered while parsing value: x. Path 'a', line 1, position 5.",
    ],
    ['x', "Unexpected character encountered while parsing value: x. Path '', line 0, position 0."],
    [
      '{"a" 1}',
      "Invalid character after parsing property name. Expected ':' but got: 1. Path '', line 1, position 5.",
    ],
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
    ['{"a": 1 /* open', "Unexpected end while parsing comment. Path 'a', line 1, position 15."],
    ['{"a": [1, 2', "Unexpected end when deserializing array. Path 'a[1]', line 1, position 11."],
    ['{"a-b": 1}', undefined],
    ['{a-b: 1}', "Invalid property identifier character: a. Path '', line 1, position 1."],
  ])('%j', (text, expected) => {
    if (expected === undefined) expect(() => readLenientJson(text)).not.toThrow();
    else expect(faultOf(text)).toBe(expected);
  });

  it('refuses nesting deeper than Json.NET allows', () => {
    expect(faultOf(`${'['.repeat(65)}${']'.repeat(65)}`)).toBe(
      `The reader's MaxDepth of 64 has been exceeded. Path '${'[0]'.repeat(64)}', line 1, position 65.`,
    );
  });
});
