import { classifyResourceSide, COMPONENT_TYPES } from '../phases/resource-side';

describe('classifyResourceSide', () => {
  it.each([
    // Tandem's components decide by their token.
    [COMPONENT_TYPES.databaseAccess, undefined, 'schema'],
    [COMPONENT_TYPES.schemaChange, undefined, 'schema'],
    [COMPONENT_TYPES.appRollout, undefined, 'app'],
    // Provider packages.
    ['command:local:Command', COMPONENT_TYPES.schemaChange, 'schema'],
    ['postgresql:index/grant:Grant', COMPONENT_TYPES.databaseAccess, 'schema'],
    ['postgresql:index/role:Role', undefined, 'schema'],
    ['kubernetes:argoproj.io/v1alpha1:Rollout', COMPONENT_TYPES.appRollout, 'app'],
    ['kubernetes:core/v1:Service', undefined, 'app'],
    // Provider resources go with their package.
    ['pulumi:providers:postgresql', undefined, 'schema'],
    ['pulumi:providers:command', undefined, 'schema'],
    ['pulumi:providers:kubernetes', undefined, 'app'],
    // The package wins over the parent: a Command is schema even under the app component.
    ['command:local:Command', COMPONENT_TYPES.appRollout, 'schema'],
    // Unknown packages take their parent component's side, else neutral.
    ['random:index/randomPassword:RandomPassword', COMPONENT_TYPES.databaseAccess, 'schema'],
    ['random:index/randomPassword:RandomPassword', COMPONENT_TYPES.appRollout, 'app'],
    ['random:index/randomPassword:RandomPassword', undefined, 'neutral'],
    ['pulumi:pulumi:Stack', undefined, 'neutral'],
    ['pulumi:providers:random', undefined, 'neutral'],
    ['tandem:other:Thing', undefined, 'neutral'],
  ] as const)('%s under %s is %s', (type, parentType, side) => {
    expect(classifyResourceSide(type, parentType)).toBe(side);
  });
});
