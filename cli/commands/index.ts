import { Command } from '../command';
import { backfillCommand, contractCommand, expandCommand, rollbackCommand } from './steps';
import { sqlCommand } from './sql';
import { statusCommand } from './status';
import { validateCommand } from './validate';
import { verifyCommand } from './verify';
import { planCommand } from './plan';
import { walkCommand } from './walk';
import { rehearseCommand } from './rehearse';
import { repairCommand } from './repair';
import { checkRolesCommand } from './check-roles';
import { historyCommand } from './history';

/** Every `tandem` subcommand, in help order. Add a command: one file in cli/commands/, one line here. */
export const COMMANDS: Command[] = [
  validateCommand,
  sqlCommand,
  expandCommand,
  backfillCommand,
  verifyCommand,
  contractCommand,
  rollbackCommand,
  repairCommand,
  statusCommand,
  historyCommand,
  planCommand,
  walkCommand,
  rehearseCommand,
  checkRolesCommand,
];
