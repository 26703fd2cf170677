/**
 * Reading what the Pulumi engine reports: resource steps from engine events (the Automation API's
 * onEvent), and the operations an interrupted update left in an exported deployment
 * (`pulumi stack export`: deployment.pending_operations[].{resource.urn, resource.type, type}).
 */
import type { EngineEvent } from '@pulumi/pulumi/automation';
import { ResourceChange } from '../phases/deploy/preview-check';
import { PendingOperation, ResourceEvent } from './stack-driver';

/** A preview's resource step (resourcePreEvent), or undefined for any other event. */
export function resourceChangeOf(event: EngineEvent): ResourceChange | undefined {
  const m = event.resourcePreEvent?.metadata;
  return m ? { urn: m.urn, type: m.type, op: m.op } : undefined;
}

/** An update's resource step: started (pre), finished (done) or failed, or undefined. */
export function resourceEventOf(event: EngineEvent): ResourceEvent | undefined {
  const [phase, m] = event.resourcePreEvent
    ? (['pre', event.resourcePreEvent.metadata] as const)
    : event.resOutputsEvent
      ? (['done', event.resOutputsEvent.metadata] as const)
      : event.resOpFailedEvent
        ? (['failed', event.resOpFailedEvent.metadata] as const)
        : [undefined, undefined];
  return phase && m ? { phase, op: m.op, urn: m.urn, type: m.type } : undefined;
}

/** The parts of `pulumi stack export` Tandem reads: the operations an interrupted update left pending. */
export interface ExportedDeployment {
  readonly deployment?: {
    readonly pending_operations?: readonly {
      readonly type?: string;
      readonly resource?: {
        readonly urn?: string;
        readonly type?: string;
        readonly id?: string;
        readonly provider?: string;
        readonly inputs?: Record<string, unknown>;
        readonly outputs?: Record<string, unknown>;
        readonly [field: string]: unknown;
      };
    }[];
    readonly [field: string]: unknown;
  };
}

/** The pending operations of an exported deployment (`{ version, deployment }`). */
export function pendingOperationsOf(exported: ExportedDeployment): PendingOperation[] {
  const pending = exported.deployment?.pending_operations ?? [];
  return pending.map((p) => ({ urn: String(p?.resource?.urn), type: String(p?.resource?.type), op: String(p?.type) }));
}
