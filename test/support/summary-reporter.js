/**
 * A jest reporter that ends the run with one plain line, `N passed, N failed`, for people
 * and CI logs. It is written when the process exits, after jest's own summary and the
 * global teardown, so it really is the last line. A test file that cannot run (it fails
 * to load, or a hook outside any test throws) counts as one failure, so a broken file
 * never reads as "0 failed".
 */
import { writeSync } from 'node:fs';

export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `\n${results.numPassedTests} passed, ${failed} failed\n`;
    process.once('exit', () => writeSync(process.stdout.fd, line));
  }
}
