/** `--output text|json`: text for people (the default), JSON for scripts, on every command that prints data. */
import { Option } from 'commander';

export type OutputFormat = 'text' | 'json';

export function outputOption(description = 'text for people, json for scripts'): Option {
  return new Option('-o, --output <format>', description).choices(['text', 'json']).default('text');
}

/** Prints `data` as indented JSON, or as the text `render` makes of it. */
export function print<T>(format: OutputFormat, data: T, render: (data: T) => string): void {
  process.stdout.write(`${format === 'json' ? JSON.stringify(data, null, 2) : render(data)}\n`);
}
