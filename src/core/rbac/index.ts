// Role-based access control: built-in roles, action patterns, scopes and the access-check evaluator.

export {
  actionMatches,
  compileActionPattern,
  MAX_ACTION_PATTERN_LENGTH,
  MAX_ACTION_PATTERN_WILDCARDS,
  validateActionPattern,
  type ActionMatcher,
} from './actions.js';
export { assignServicePrincipalRole, type ServicePrincipalRole } from './assign.js';
export {
  addRoleAssignment,
  isAssignableAt,
  removeRoleAssignment,
  rolesGrantedAt,
} from './assignments.js';
export {
  BUILT_IN_ROLE_IDS,
  BUILT_IN_ROLES,
  builtInRoleDefinitions,
  seedBuiltInRoles,
  type BuiltInRole,
} from './builtin-roles.js';
export {
  MAX_CUSTOM_ROLES,
  deleteCustomRole,
  isCustomRoleProblem,
  isVisibleAt,
  putCustomRole,
  type CustomRoleContent,
  type CustomRoleProblem,
  type ScopeAuthorizer,
} from './custom-roles.js';
export {
  createRbacEvaluator,
  type RbacCheckInput,
  type RbacDecision,
  type RbacEvaluator,
  type RbacEvaluatorOptions,
} from './evaluator.js';
export {
  parseRoleDefinitionId,
  roleDefinitionGuid,
  roleDefinitionResourceId,
} from './role-definition-id.js';
export { ancestorScopes, parseScope, type ParsedScope, type ScopeKind } from './scope.js';
export { subscriptionsReached, type SubscriptionReach } from './reach.js';
