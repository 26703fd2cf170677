import { SpecError } from '../phases/errors';
import { SplitColumn, splitColumn } from '../phases/sql/operations/split-column';
import { MigrationSpec } from '../phases/sql/spec';

/** The refactoring the demo app's three versions are written for, taken from a spec. */
export interface DemoShape {
  readonly table: string;
  readonly oldColumn: 'full_name';
  readonly newColumns: readonly [{ name: 'first_name'; up: string }, { name: 'last_name'; up: string }];
  /** The spec's down expression: full_name from first_name and last_name. */
  readonly down: string;
}

const REQUIRED =
  'one split_column of customers.full_name into first_name and last_name (text), as in migrations/split-full-name.yaml';

/**
 * `tandem rehearse` drives the demo app's v1/v2/v3, which know the customers table of the talk.
 * A spec of any other shape is refused (exit 2) with what the rehearsal needs.
 */
export function demoShapeOf(spec: MigrationSpec): DemoShape {
  const fail = (field: string, what: string) =>
    new SpecError(field, `${what}; tandem rehearse drives the demo app, which needs ${REQUIRED}`);
  if (spec.table !== 'customers' || spec.schema !== undefined)
    throw fail('table', `is "${spec.schema ? spec.schema + '.' : ''}${spec.table}", not customers`);
  if (spec.operations.length !== 1 || spec.operations[0].kind !== splitColumn.kind)
    throw fail('operations', `must be exactly one ${splitColumn.kind}`);
  const op = spec.operations[0].body as SplitColumn;
  const field = spec.operations[0].field;
  if (op.column !== 'full_name') throw fail(`${field}.column`, `is "${op.column}", not full_name`);
  const names = op.into.map((c) => c.name).join(',');
  if (names !== 'first_name,last_name') throw fail(`${field}.into`, `names ${names}, not first_name,last_name`);
  const nonText = op.into.find((c) => c.type.toLowerCase() !== 'text');
  if (nonText) throw fail(`${field}.into`, `gives ${nonText.name} the type ${nonText.type}, not text`);
  return {
    table: spec.table,
    oldColumn: 'full_name',
    newColumns: [
      { name: 'first_name', up: op.into[0].up },
      { name: 'last_name', up: op.into[1].up },
    ],
    down: op.down,
  };
}
