/** `serve`: start the receiver; SIGTERM/SIGINT shut it down gracefully. */
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { guardProcess } from '../process-guard.js';
import { kubeFromEnvironment, Service } from '../service.js';
import { VERSION } from '../version.js';
import { EXIT } from './exit-codes.js';
import { CliError, exitWith } from './fail.js';

export async function serveCommand(opts: { config?: string; port?: number }): Promise<void> {
  let service: Service;
  const config = (() => {
    try {
      return loadConfig(opts.config);
    } catch (err) {
      return exitWith(err);
    }
  })();
  const log = createLogger(config.logLevel);
  try {
    service = new Service({ config, log, kube: await kubeFromEnvironment() });
  } catch (err) {
    exitWith(err);
  }
  guardProcess(log, service.metrics);
  for (const line of service.describe()) log.info(line);
  try {
    log.info(await service.checkCluster());
  } catch (err) {
    await service.close();
    exitWith(err);
  }
  const port = opts.port ?? config.port;
  const address = await service.listen(port).catch((err: Error) => exitWith(new CliError(`cannot listen on :${port}: ${err.message}`, EXIT.unavailable)));
  log.info({ port: address.port }, `rollback-receiver ${VERSION} listening on :${address.port}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: intake stopped, finishing in-flight work');
    service.close().then(
      () => {
        log.info('shutdown complete');
        process.exit(0);
      },
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
