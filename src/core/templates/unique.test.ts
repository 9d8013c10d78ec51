// Tests for uniqueString() and guid() against published values, each with where it comes from.
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../test/fixtures/expression-context.js';
import { templateGuid, uniqueString } from './unique.js';

const SUB0 = '/subscriptions/00000000-0000-0000-0000-000000000000';

describe('uniqueString', () => {
  it.each([
    // PROTOCOL-TOOLS.md Part C §2.11 [USPS]: a bash port's vectors, "verified against Bicep".
    [['test'], 'rbgf3xv4ufgzg'],
    [['hello', 'world'], 'a7wkljktk6wne'],
    [['abc'], 'cgtzqvhu4i23s'],
    [[`${SUB0}/resourceGroups/my-rg`], 'bmg7c6xu4tw46'],
    [['foo', 'bar', 'baz'], 'xzi4ioaxtmth4'],
    // Azure/terraform-provider-azapi internal/services/functions/unique_string_function_test.go.
    [[SUB0, 'resource-id'], 'cwvxuqg24sifi'],
    [['fu'], '6rkxbspxjmsho'],
    [['fubar'], 'cj2xpqsiwjfne'],
    [['fu', 'bar'], 'q5wxoscxs5j6k'],
    // Azure/bicep src/Bicep.Core.Samples/Files/baselines_bicepparam/Expressions/parameters.json:
    // evaluated by Microsoft's Azure.Deployments.Expression library (5-byte tail).
    [['asd', 'asdf', 'asdf'], 'iizpqit7ih3cc'],
  ])('uniqueString(%j) = %s', (parts, expected) => {
    expect(uniqueString(parts)).toBe(expected);
  });

  it('reinterprets a negative tail product as C# does (§2.11 divergence check)', () => {
    // 6-byte tail whose upper-lane product has its sign bit set: reinterpretation gives
    // sodyxlxvzmr7k, azapi's negation hhoemm3utua2c (PROTOCOL-TOOLS.md §2.11, computed).
    expect(uniqueString([`${SUB0}/resourceGroups/rg1`])).toBe('sodyxlxvzmr7k');
    // Same case, checked by microsoft/commercial-marketplace-offer-deploy
    // tests/UnitTests/ArmFunctionsTests.cs ("valueFromArmTemplate"), which asserts it through
    // Azure.Deployments.Expression's uniqueString. Not yet confirmed against a live deployment.
    const id =
      '/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201';
    expect(uniqueString([id])).toBe('yvjxno3je5on2');
  });

  it('is always 13 characters of a-z and 2-7, and case-sensitive', () => {
    for (const input of ['', 'a', 'ABC', 'x'.repeat(1000), 'é€😀']) {
      expect(uniqueString([input])).toMatch(/^[a-z2-7]{13}$/);
    }
    expect(uniqueString(['ABC'])).not.toBe(uniqueString(['abc']));
  });

  it('joins the parts with "-" before hashing', () => {
    expect(uniqueString(['a', 'b'])).toBe(uniqueString(['a-b']));
  });

  it('is reached from the expression language, and wants strings', () => {
    expect(evaluate("[uniqueString('hello', 'world')]")).toBe('a7wkljktk6wne');
    expect(evaluate('[uniqueString(resourceGroup().id)]')).toBe(
      uniqueString(['/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg1']),
    );
    expect(() => evaluate("[uniqueString('a', 1)]")).toThrow(
      "The template language function 'uniqueString' expects its second parameter to be of type 'String'. The provided value is of type 'Integer'.",
    );
  });
});

describe('guid', () => {
  it.each([
    // Azure/bicep baselines_bicepparam/Expressions/parameters.json (Azure.Deployments.Expression).
    [['asdf'], '228d27cc-6fdb-5934-b7ac-1efccebade04'],
    // PROTOCOL-TOOLS.md Part C §2.11: computed as Python's uuid5 in ARM's namespace.
    [['a', 'b', 'c'], 'a98fa280-e03f-5afa-8d8e-92d0a9c201e8'],
    [['test'], 'd6a5baf1-8b9b-542a-8525-2982f1f98a0c'],
  ])('guid(%j) = %s', (parts, expected) => {
    expect(templateGuid(parts)).toBe(expected);
  });

  it('is a lower-case version 5 UUID', () => {
    expect(templateGuid(['x'])).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('is reached from the expression language', () => {
    expect(evaluate("[guid('a', 'b', 'c')]")).toBe('a98fa280-e03f-5afa-8d8e-92d0a9c201e8');
    expect(evaluate("[GUID('a-b-c')]")).toBe('a98fa280-e03f-5afa-8d8e-92d0a9c201e8');
  });
});
