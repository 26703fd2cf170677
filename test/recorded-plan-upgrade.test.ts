import { upgradeRecordedPlan } from '../phases/sql/operations';

/** A plan recorded by an earlier Tandem (rollbackBefore, create_index / drop_index steps) reads back in today's names. */
describe('upgradeRecordedPlan', () => {
  const recorded = {
    spec: { name: 'x' },
    objects: [
      {
        field: 'operations[0].create_index',
        afterExpand: [
          {
            kind: 'create_index',
            id: 'create-index-i',
            schema: 'public',
            index: 'i',
            sql: 'CREATE INDEX CONCURRENTLY i ON t (a)',
          },
        ],
        rollbackBefore: [{ kind: 'drop_index', id: 'drop-index-i', schema: 'public', index: 'i', created: true }],
      },
      {
        field: 'operations[1].drop_index',
        afterContract: [{ kind: 'drop_index', id: 'drop-index-j', schema: 'public', index: 'j' }],
        contract: [{ id: 'c', sql: 'SELECT 1' }],
      },
      {
        field: 'operations[2].add_check',
        beforeContract: [
          { kind: 'transaction', id: 'add-check', sql: 'ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID' },
        ],
      },
    ],
  };

  it('renames the slot and the index steps, and keeps the rest as recorded', () => {
    const up = upgradeRecordedPlan(recorded) as any;
    expect(up.objects[0].rollbackBefore).toBeUndefined();
    expect(up.objects[0].beforeRollback).toEqual([
      { kind: 'index_drop', id: 'drop-index-i', schema: 'public', index: 'i', created: true },
    ]);
    expect(up.objects[0].afterExpand[0]).toMatchObject({ kind: 'index_build', id: 'create-index-i' });
    expect(up.objects[1].afterContract[0].kind).toBe('index_drop');
    expect(up.objects[1].contract).toEqual(recorded.objects[1].contract);
    expect(up.objects[2]).toEqual(recorded.objects[2]);
    expect(up.spec).toBe(recorded.spec);
  });

  it("leaves a plan in today's names and a malformed one alone", () => {
    const today = upgradeRecordedPlan(recorded);
    expect(upgradeRecordedPlan(today)).toEqual(today);
    expect(upgradeRecordedPlan(null)).toBeNull();
    expect(upgradeRecordedPlan({ objects: 'no' })).toEqual({ objects: 'no' });
  });
});
