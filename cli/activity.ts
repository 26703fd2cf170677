/**
 * What the running command is doing, for the one sentence printed when it is interrupted or
 * loses its connection: the command, its spec file, the last progress it reported, and the
 * warnings it gave (which --json puts in its one object).
 */
export interface Activity {
  command?: string;
  specPath?: string;
  last?: string;
  warnings: string[];
}

export const activity: Activity = { warnings: [] };
