import { Command } from '../command';

/** Every `tandem` subcommand, in help order. Add a command: one file in cli/commands/, one line here. */
export const COMMANDS: Command[] = [];
