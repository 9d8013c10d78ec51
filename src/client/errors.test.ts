// The error answers of every dialect the server speaks, read into one line.
import { describe, expect, it } from 'vitest';
import { errorFromAnswer } from './errors.js';

describe('errorFromAnswer', () => {
  it.each([
    [
      'ARM',
      404,
      {
        error: { code: 'ResourceGroupNotFound', message: "Resource group 'g' could not be found." },
      },
      ['ResourceGroupNotFound', "Resource group 'g' could not be found."],
    ],
    [
      'Key Vault, with its inner code and a message on several lines',
      403,
      {
        error: {
          code: 'Forbidden',
          message: 'Caller is not authorized.\r\nAction: x\r\n',
          innererror: { code: 'ForbiddenByRbac' },
        },
      },
      ['Forbidden', 'Caller is not authorized. Action: x (ForbiddenByRbac)'],
    ],
    [
      'OAuth',
      400,
      {
        error: 'invalid_scope',
        error_description: 'AADSTS70011: bad scope.\r\nTrace ID: 1\r\nTimestamp: 2',
      },
      ['invalid_scope', 'AADSTS70011: bad scope.'],
    ],
  ])('%s', (_name, status, body, [code, message]) => {
    const error = errorFromAnswer(status, JSON.stringify(body), 'GET /x');
    expect([error.code, error.message, error.status]).toEqual([code, message, status]);
  });

  it('names the status and call for anything else', () => {
    const error = errorFromAnswer(502, '<html>bad gateway</html>', 'GET /x');
    expect([error.code, error.message]).toEqual(['UnexpectedResponse', 'HTTP 502 from GET /x']);
  });
});
