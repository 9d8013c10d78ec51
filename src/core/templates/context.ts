// What an ARM template expression can see while it is evaluated: the deployment's values, its scope, and the hooks the engine provides.

/** A JSON value as templates produce them. */
export type TemplateValue =
  | null
  | boolean
  | number
  | string
  | readonly TemplateValue[]
  | { readonly [key: string]: TemplateValue };

/** Where a deployment runs and who asked: what `resourceGroup()`, `subscription()`, `tenant()` and `deployment()` answer. */
export interface DeploymentScope {
  readonly tenantId: string;
  /** `tenant().displayName` and `tenant().countryCode`; left out of `tenant()` when absent. */
  readonly tenantDisplayName?: string;
  readonly tenantCountryCode?: string;
  readonly subscriptionId: string;
  readonly subscriptionDisplayName: string;
  /** Absent for a subscription-scope deployment. */
  readonly resourceGroup?: {
    readonly name: string;
    readonly location: string;
    readonly tags: Readonly<Record<string, string>>;
  };
  readonly deploymentName: string;
  /**
   * The `properties` object `deployment()` answers: `template`, `templateHash`, `parameters`,
   * `mode`, `provisioningState`, and `templateLink` for a linked template. `{}` when absent.
   */
  readonly deploymentProperties?: { readonly [key: string]: TemplateValue };
  /** `deployment().location`, which only subscription-scope deployments have. */
  readonly deploymentLocation?: string;
  /** The object `environment()` answers (Tessera's own endpoints). */
  readonly environment: { readonly [key: string]: TemplateValue };
}

/**
 * Everything an expression may call out to, supplied by the engine for the place being evaluated
 * (a parameter default, a variable, a resource, an output). Each hook throws a
 * {@link TemplateExpressionError} when it is not allowed there (e.g. `reference()` in a name).
 */
export interface ExpressionContext {
  readonly scope: DeploymentScope;
  /** `parameters(name)`: name compared case-insensitively. */
  parameter(name: string): TemplateValue;
  /** `variables(name)`: name compared case-insensitively. */
  variable(name: string): TemplateValue;
  /** `copyIndex([loopName], [offset])`: the current index of the named (or innermost) loop. */
  copyIndex(loopName: string | undefined): number;
  /** `reference(nameOrId, [apiVersion], ['Full'])`. */
  reference(nameOrId: string, apiVersion: string | undefined, full: boolean): TemplateValue;
  /** `newGuid()` and `utcNow()` are legal only in parameter defaults; the engine injects both. */
  newGuid?(): string;
  /** Epoch ms for `utcNow()`. */
  now?(): number;
  /** User-defined functions (`namespace.name`, lower-cased), when the template declares any. */
  userFunction?(qualifiedName: string, args: readonly TemplateValue[]): TemplateValue;
}

/**
 * An expression that cannot be evaluated: an unknown function, a wrong argument, a missing
 * property. `message` is ARM's wording of the fault (e.g. "The language expression property 'x'
 * doesn't exist, available properties are 'a, b'."), without the template path the engine adds.
 */
export class TemplateExpressionError extends Error {
  override readonly name = 'TemplateExpressionError';
}
