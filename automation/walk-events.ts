/** What the walker reports as it goes: the CLI prints them, `--json` writes one per line. */
import { ClassifiedChanges } from '../phases/deploy/preview-check';
import { MigrationProgress } from '../executor/types';
import { Side, Stage } from '../phases/deploy/stages';
import { GateName } from '../phases/deploy/walk-path';

export type WalkEvent =
  | {
      readonly event: 'start';
      readonly stack: string;
      readonly from: Stage | null;
      readonly to: Stage;
      readonly steps: number;
    }
  | { readonly event: 'nothing-to-do'; readonly stack: string; readonly stage: Stage }
  /** Before a walk back: the migration's step as the database records it. */
  | { readonly event: 'schema-step'; readonly step: MigrationProgress; readonly detail: string }
  | { readonly event: 'recovered'; readonly stack: string; readonly pendingOperations: number }
  | {
      readonly event: 'step-start';
      readonly index: number;
      readonly from: Stage | null;
      readonly to: Stage;
      readonly side: Side | null;
    }
  | {
      readonly event: 'preview';
      readonly from: Stage | null;
      readonly to: Stage;
      readonly schema: readonly string[];
      readonly app: readonly string[];
      readonly neutral: readonly string[];
      readonly plan: boolean;
    }
  | {
      readonly event: 'gate';
      readonly gate: GateName;
      readonly from: Stage | null;
      readonly to: Stage;
      readonly ok: boolean;
      readonly detail: string;
    }
  /** After an app step's up: did its canary end fully promoted and Healthy? */
  | {
      readonly event: 'rollout';
      readonly from: Stage | null;
      readonly to: Stage;
      readonly ok: boolean;
      readonly detail: string;
    }
  | {
      readonly event: 'resource';
      readonly to: Stage;
      readonly phase: 'pre' | 'done' | 'failed';
      readonly op: string;
      readonly urn: string;
      readonly type: string;
    }
  | {
      readonly event: 'step-done';
      readonly from: Stage | null;
      readonly to: Stage;
      readonly seconds: number;
      readonly resourceChanges: Readonly<Record<string, number>>;
    }
  | {
      readonly event: 'done';
      readonly stack: string;
      readonly stage: Stage;
      readonly steps: number;
      readonly seconds: number;
    };

/** The URNs a preview changes, as `op urn` strings, by side. */
export function describeChanges(c: ClassifiedChanges): { schema: string[]; app: string[]; neutral: string[] } {
  const d = (list: ClassifiedChanges['schema']) => list.map((r) => `${r.op} ${r.urn}`);
  return { schema: d(c.schema), app: d(c.app), neutral: d(c.neutral) };
}
