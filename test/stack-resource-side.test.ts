import { classifyResourceSide, COMPONENT_TYPES } from '../phases/deploy/resource-side';

describe('classifyResourceSide', () => {
  it.each([
    // Tandem's components decide by their token.
    [COMPONENT_TYPES.databaseAccess, undefined, 'schema'],
    [COMPONENT_TYPES.schemaChange, undefined, 'schema'],
    [COMPONENT_TYPES.appRollout, undefined, 'app'],
    // The nearest Tandem component above a resource decides, whatever its package.
    ['command:local:Command', COMPONENT_TYPES.schemaChange, 'schema'],
    ['postgresql:index/grant:Grant', COMPONENT_TYPES.databaseAccess, 'schema'],
    ['kubernetes:argoproj.io/v1alpha1:Rollout', COMPONENT_TYPES.appRollout, 'app'],
    ['command:local:Command', COMPONENT_TYPES.appRollout, 'app'],
    ['kubernetes:batch/v1:Job', COMPONENT_TYPES.schemaChange, 'schema'],
    ['random:index/randomPassword:RandomPassword', COMPONENT_TYPES.databaseAccess, 'schema'],
    ['random:index/randomPassword:RandomPassword', COMPONENT_TYPES.appRollout, 'app'],
    ['pulumi:providers:random', COMPONENT_TYPES.appRollout, 'app'],
    // ... also through a component of another package in between (ancestors, nearest first).
    ['random:index/randomPassword:RandomPassword', ['acme:index:Wrapper', COMPONENT_TYPES.appRollout], 'app'],
    ['kubernetes:core/v1:Secret', ['acme:index:Wrapper', COMPONENT_TYPES.databaseAccess], 'schema'],
    ['kubernetes:core/v1:Secret', [COMPONENT_TYPES.appRollout, COMPONENT_TYPES.schemaChange], 'app'],
    // Without a Tandem component above: the package.
    ['postgresql:index/role:Role', undefined, 'schema'],
    ['command:local:Command', 'acme:index:Wrapper', 'schema'],
    ['kubernetes:core/v1:Service', undefined, 'app'],
    // Provider resources go with their package; providers of other packages are neutral.
    ['pulumi:providers:postgresql', undefined, 'schema'],
    ['pulumi:providers:command', undefined, 'schema'],
    ['pulumi:providers:kubernetes', undefined, 'app'],
    ['pulumi:providers:random', undefined, 'neutral'],
    // The stack itself (and other pulumi: resources) are neutral.
    ['pulumi:pulumi:Stack', undefined, 'neutral'],
    ['pulumi:pulumi:StackReference', undefined, 'neutral'],
    // Any other package outside a Tandem component is unknown, never silently neutral.
    ['random:index/randomPassword:RandomPassword', undefined, 'unknown'],
    ['random:index/randomPassword:RandomPassword', 'acme:index:Wrapper', 'unknown'],
    ['acme:index:Wrapper', undefined, 'unknown'],
    ['tandem:other:Thing', undefined, 'unknown'],
  ] as [string, string | string[] | undefined, string][])('%s under %j is %s', (type, ancestors, side) => {
    expect(classifyResourceSide(type, ancestors)).toBe(side);
  });
});
