// Deployment outputs and the echo of parameters: evaluated values with their PascalCase types, secure ones hidden.
import { TemplateExpressionError, type TemplateValue } from './context.js';
import type { ResourceIndex } from './dependencies.js';
import { outputInvalid } from './errors.js';
import { hasTemplateType } from './parameters.js';
import { conditionValue, type Place, type TemplateEvaluator } from './evaluation.js';
import { referenceHook, type TemplateRuntime } from './plan-body.js';
import type { Instance } from './expansion.js';
import {
  PASCAL_TYPE_NAMES,
  type OutputDeclaration,
  type ParameterDeclaration,
  type ParameterType,
  type Template,
} from './template.js';
import { findKey, isObject, typeName } from './values.js';

/** An output or parameter as a deployment response shows it: `{type, value}`, no value when secure. */
export interface DeploymentValue {
  readonly type: string;
  readonly value?: TemplateValue;
}

function isSecure(type: ParameterType): boolean {
  return type === 'securestring' || type === 'secureobject';
}

function shown(type: ParameterType, value: TemplateValue): DeploymentValue {
  const pascal = PASCAL_TYPE_NAMES[type];
  return isSecure(type) ? { type: pascal } : { type: pascal, value };
}

/** `properties.parameters` of a deployment response, in declaration order. */
export function renderParameters(
  parameters: readonly {
    readonly declaration: ParameterDeclaration;
    readonly value: TemplateValue;
  }[],
): Record<string, DeploymentValue> {
  const out: Record<string, DeploymentValue> = {};
  for (const { declaration, value } of parameters)
    out[declaration.name] = shown(declaration.type, value);
  return out;
}

function member(output: OutputDeclaration, name: string): [string, TemplateValue] | undefined {
  const key = findKey(output.raw, name);
  return key === undefined ? undefined : [key, output.raw[key] ?? null];
}

function evaluateOutput(
  output: OutputDeclaration,
  evaluator: TemplateEvaluator,
  place: Place,
): TemplateValue | undefined {
  const at = (...segments: (string | number)[]) => ({
    source: output.source,
    path: [...output.path, ...segments],
  });
  const condition = member(output, 'condition');
  if (condition !== undefined) {
    const value = evaluator.tree(condition[1], place, at(condition[0]));
    if (conditionValue(value) === false) return undefined;
  }
  const copy = member(output, 'copy');
  if (copy === undefined || !isObject(copy[1])) {
    const value = member(output, 'value');
    return evaluator.tree(value?.[1] ?? null, place, at(value?.[0] ?? 'value'));
  }
  const loop = copy[1];
  const count = evaluator.copyCount(
    loop[findKey(loop, 'count') ?? 'count'] ?? null,
    place,
    at(copy[0], 'count'),
  );
  const input = loop[findKey(loop, 'input') ?? 'input'] ?? null;
  const items: TemplateValue[] = [];
  for (let index = 0; index < count; index++) {
    const frames = [...place.frames, { name: undefined, index, implicit: true }];
    items.push(evaluator.tree(input, { ...place, frames }, at(copy[0], 'input')));
  }
  return items;
}

/**
 * Evaluates the outputs once every resource is deployed (`condition`, `value` or `copy`
 * `{count, input}`), checks each against its declared type, and renders them as a response
 * shows them (syntax.md, "Outputs"). Conditioned-out outputs are left out.
 *
 * @throws {AppError} `InvalidTemplate` "The template output '…' is not valid: …".
 */
export function evaluateOutputs(
  template: Template,
  evaluator: TemplateEvaluator,
  index: ResourceIndex<Instance>,
  runtime: TemplateRuntime,
): Record<string, DeploymentValue> {
  const out: Record<string, DeploymentValue> = {};
  for (const output of template.outputs) {
    const reference = referenceHook(index, runtime, { at: output, name: output.name });
    let value: TemplateValue | undefined;
    try {
      value = evaluateOutput(output, evaluator, { kind: 'output', frames: [], reference });
    } catch (error) {
      if (!(error instanceof TemplateExpressionError)) throw error;
      throw outputInvalid(output, output.name, error.message);
    }
    if (value === undefined) continue;
    if (!hasTemplateType(output.type, value)) {
      throw outputInvalid(
        output,
        output.name,
        `Template output JToken type is not valid. Expected '${PASCAL_TYPE_NAMES[output.type]}'. Actual '${typeName(value)}'`,
      );
    }
    out[output.name] = shown(output.type, value);
  }
  return out;
}
