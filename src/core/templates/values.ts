// What ARM's expression language does with JSON values: type names, equality, case-insensitive keys, JSON text.
import { TemplateExpressionError, type TemplateValue } from './context.js';

/** An object value of a template. */
export type TemplateObject = { readonly [key: string]: TemplateValue };

/** The type names ARM's messages use (Json.NET's `JTokenType`). */
export type TemplateTypeName =
  'Null' | 'Boolean' | 'Integer' | 'Float' | 'String' | 'Array' | 'Object';

/** Json.NET's name for the type of `value`, as ARM's messages print it. */
export function typeName(value: TemplateValue): TemplateTypeName {
  if (value === null) return 'Null';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Float';
  if (typeof value === 'string') return 'String';
  return isArray(value) ? 'Array' : 'Object';
}

/** Narrowing `Array.isArray` for the readonly arrays of {@link TemplateValue}. */
export function isArray(value: TemplateValue): value is readonly TemplateValue[] {
  return Array.isArray(value);
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isObject(value: TemplateValue): value is TemplateObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` is a whole number (ARM's `Integer`). */
export function isInteger(value: TemplateValue): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

/** Shorthand for the one error type of the expression language. */
export function fail(message: string): TemplateExpressionError {
  return new TemplateExpressionError(message);
}

/**
 * The key of `object` that `name` selects: the exact key if present, else the first key equal to
 * it ignoring case (ARM looks properties up case-insensitively).
 */
export function findKey(object: TemplateObject, name: string): string | undefined {
  if (Object.hasOwn(object, name)) return name;
  const wanted = name.toLowerCase();
  return Object.keys(object).find((key) => key.toLowerCase() === wanted);
}

/** `object[name]` compared case-insensitively, or `undefined` when there is no such key. */
export function getProperty(object: TemplateObject, name: string): TemplateValue | undefined {
  const key = findKey(object, name);
  return key === undefined ? undefined : object[key];
}

/**
 * Json.NET's `JToken.DeepEquals`: same type and value, strings compared case-sensitively, arrays
 * item by item, objects by their set of keys (exact case) and values.
 */
export function deepEquals(a: TemplateValue, b: TemplateValue): boolean {
  if (a === b) return true;
  if (isArray(a)) {
    return (
      isArray(b) && a.length === b.length && a.every((item, i) => deepEquals(item, b[i] ?? null))
    );
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEquals(a[key] ?? null, b[key] ?? null));
  }
  return false;
}

/** `value` as compact JSON text (Json.NET's `Formatting.None`). */
export function toJson(value: TemplateValue): string {
  return JSON.stringify(value);
}

/**
 * `value` as .NET prints a JSON scalar: strings as they are, booleans as `True`/`False` (Json.NET
 * converts through `Convert.ToString`), null as the empty string, arrays and objects as JSON.
 */
export function toText(value: TemplateValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return toJson(value);
}

/** The article-prefixed type word ARM uses in "expects … to be an array or a string". */
export function typeNoun(type: TemplateTypeName): string {
  const word = type === 'Integer' ? 'integer' : type.toLowerCase();
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}
