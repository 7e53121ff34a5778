#!/usr/bin/env node
/** The `rollback-receiver` command. */
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
