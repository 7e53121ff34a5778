/**
 * envtest-style throwaway Kubernetes control plane for tests.
 *
 * Starts etcd, kube-apiserver and kube-controller-manager (binaries found in
 * $KUBEBUILDER_ASSETS, else provided by scripts/envtest/assets.sh) on loopback
 * with random ports in a fresh temp dir, plus a "kubelet stand-in" that binds
 * pods to a fake Node and marks them Running/Ready (or Running/not-Ready for
 * "broken" images), so that Deployment rollouts are driven by the real
 * deployment/replicaset controllers.
 *
 * Loaded by jest's globalSetup through tsx (see global-setup.ts), by ts-jest in
 * test files, and by tsx in scripts: it avoids `import.meta` and top-level await
 * so that it works the same under each.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod, type V1PodStatus } from '@kubernetes/client-node';

export const RESTRICTED_USER = 'rollback-receiver-test';
const BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;
const CONTROLLERS = [
  'deployment',
  'replicaset',
  'serviceaccount',
  'serviceaccount-token',
  'namespace',
  'garbagecollector',
  'clusterrole-aggregation', // fills the admin/edit/view ClusterRoles
  'statefulset',
  'daemonset',
];

export interface ClusterOptions {
  /** Directory with etcd, kube-apiserver, kube-controller-manager. Default: $KUBEBUILDER_ASSETS or assets.sh output. */
  assetsDir?: string;
  /** Pods with any container whose image matches stay Running but never Ready. Default: {@link defaultIsBroken}. */
  isBroken?: (image: string) => boolean;
  /** Name of the fake Node. Default 'envtest-node'. */
  nodeName?: string;
  /** Timeout for each startup phase (assets excluded). Default 90 s. */
  startTimeoutMs?: number;
  /** Path of assets.sh. Default: scripts/envtest/assets.sh in the first ancestor of cwd that has it. */
  assetsScript?: string;
  /** Timeout for running assets.sh (may build from source on first use). Default 40 min. */
  assetsTimeoutMs?: number;
  /** Run the kubelet stand-in. Default true. */
  kubelet?: boolean;
  /** Progress logger. Default: silent unless ENVTEST_VERBOSE is set (then stderr). */
  log?: (msg: string) => void;
}

/** Serializable connection info (what global-setup writes for test workers). */
export interface ClusterInfo {
  server: string;
  /** PEM of the apiserver's self-signed serving cert bundle (use as CA). */
  caData: string;
  adminToken: string;
  restrictedToken: string;
  restrictedUser: string;
  tmpDir: string;
  /** Path of a kubeconfig file using the admin token. */
  kubeconfigPath: string;
  /** Wall time startCluster took, in ms. */
  startMs: number;
}

export interface Cluster extends ClusterInfo {
  kubeConfig(token?: string): KubeConfig;
  kubeconfigYaml(token?: string): string;
  writeKubeconfig(file: string, token?: string): void;
  /** Stops only kube-apiserver (SIGTERM, SIGKILL after 1 s); etcd, controller-manager and kubelet stand-in keep running. */
  stopApiServer(): Promise<void>;
  /** Restarts kube-apiserver on the same port with the same certs; resolves when ready. */
  startApiServer(): Promise<void>;
  apiServerRunning(): boolean;
  /** Kills every process, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  info(): ClusterInfo;
}

// ----------------------------------------------------------------- helpers

/** Image contains ':broken', or matches the regex in $ENVTEST_BROKEN_IMAGE_PATTERN if set. */
export function defaultIsBroken(image: string): boolean {
  const pattern = process.env.ENVTEST_BROKEN_IMAGE_PATTERN;
  return pattern ? new RegExp(pattern).test(image) : image.includes(':broken');
}

export function buildKubeConfig(server: string, caPem: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'envtest', server, caData: Buffer.from(caPem).toString('base64'), skipTLSVerify: false },
    ],
    users: [{ name: 'envtest-user', token }],
    contexts: [{ name: 'envtest', cluster: 'envtest', user: 'envtest-user' }],
    currentContext: 'envtest',
  });
  return kc;
}

/** kubeconfig file contents (JSON, which is valid YAML) for other processes. */
export function kubeconfigText(server: string, caPem: string, token: string): string {
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'envtest',
          cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
        },
      ],
      users: [{ name: 'envtest-user', user: { token } }],
      contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'envtest-user' } }],
      'current-context': 'envtest',
    },
    null,
    2,
  );
}

function errCode(e: unknown): number | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'number' ? c : undefined;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function tailFile(file: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch (e) {
    return `<cannot read ${file}: ${String(e)}>`;
  }
}

function findRepoRoot(): string {
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'scripts/envtest/assets.sh'))) return dir;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`envtest: cannot find scripts/envtest/assets.sh above ${process.cwd()}`);
}

function hasAssets(dir: string | undefined): dir is string {
  return !!dir && BINARIES.every((b) => fs.existsSync(path.join(dir, b)));
}

/** Resolve the assets dir: $KUBEBUILDER_ASSETS if complete, else run scripts/envtest/assets.sh. */
export async function findAssets(timeoutMs = 40 * 60_000, assetsScript?: string): Promise<string> {
  const env = process.env.KUBEBUILDER_ASSETS;
  if (hasAssets(env)) return env;
  const script = assetsScript ?? path.join(findRepoRoot(), 'scripts/envtest/assets.sh');
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      'bash',
      [script],
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, out, errOut) => {
        if (err) {
          const tail = String(errOut).split('\n').slice(-41).join('\n');
          reject(new Error(`envtest: ${script} failed (${err.message.split('\n')[0]}):\n${tail}`));
        } else resolve(String(out));
      },
    );
    // Show progress: the first run builds kube-apiserver from source (minutes).
    child.stderr?.on('data', (d: Buffer | string) => process.stderr.write(d));
  });
  const dir = stdout.trim().split('\n').pop()?.trim();
  if (!hasAssets(dir)) {
    throw new Error(`envtest: ${script} printed ${JSON.stringify(stdout)}, which lacks ${BINARIES.join(', ')}`);
  }
  return dir;
}

// ------------------------------------------------------ process management

/** Every live process group we started, for the synchronous exit handler. */
const liveGroups = new Map<number, string>();
const liveDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pgid of liveGroups.keys()) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
  });
}

class Proc {
  readonly exited: Promise<void>;
  exitInfo: string | undefined;
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly logPath: string,
    private readonly onChange: () => void,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        if (child.pid) liveGroups.delete(child.pid);
        this.onChange();
        resolve();
      });
    });
  }

  static start(name: string, bin: string, args: string[], logPath: string, onChange: () => void): Proc {
    installExitHook();
    const fd = fs.openSync(logPath, 'a');
    fs.writeSync(fd, `### ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
    let child: ChildProcess;
    try {
      // detached => own process group (setsid), so the whole group can be killed.
      child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      fs.closeSync(fd);
    }
    if (!child.pid) throw new Error(`envtest: failed to spawn ${bin}`);
    child.unref();
    liveGroups.set(child.pid, name);
    const p = new Proc(name, child, logPath, onChange);
    child.on('error', () => undefined);
    return p;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  tail(lines = 40): string {
    return tailFile(this.logPath, lines);
  }

  async stop(graceMs = 5000): Promise<void> {
    const pid = this.child.pid;
    if (!this.running || !pid) return;
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-pid, sig);
      } catch {
        /* already gone */
      }
    };
    this.child.ref(); // keep the event loop alive until it has exited
    kill('SIGTERM');
    const t = setTimeout(() => kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
    kill('SIGKILL'); // stragglers in the group
  }
}

// ----------------------------------------------------------- kubelet stand-in

/** Binds pods to a fake Node and fakes their status; deletes terminating pods at once. */
export class FakeKubelet {
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private ipCounter = 1;
  private readonly ips = new Map<string, string>();
  lastError: unknown;
  private readonly core: CoreV1Api;

  constructor(
    kc: KubeConfig,
    readonly nodeName: string,
    private readonly isBroken: (image: string) => boolean,
    private readonly intervalMs = 200,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async start(): Promise<void> {
    const now = new Date();
    const resources = { cpu: '64', memory: '256Gi', pods: '1000', 'ephemeral-storage': '1Ti' };
    const status = {
      capacity: resources,
      allocatable: resources,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'envtest kubelet stand-in',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: this.nodeName },
      ],
      nodeInfo: {
        architecture: 'amd64',
        bootID: 'envtest',
        containerRuntimeVersion: 'envtest://0.0.0',
        kernelVersion: os.release(),
        kubeProxyVersion: 'v1.20.2',
        kubeletVersion: 'v1.20.2',
        machineID: 'envtest',
        operatingSystem: 'linux',
        osImage: 'envtest',
        systemUUID: 'envtest',
      },
    };
    try {
      await this.core.createNode({
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: this.nodeName,
            labels: {
              'kubernetes.io/hostname': this.nodeName,
              'kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
            },
          },
          status,
        },
      });
    } catch (e) {
      if (errCode(e) !== 409) throw e;
    }
    const node = await this.core.readNode({ name: this.nodeName });
    node.status = status;
    await this.core.replaceNodeStatus({ name: this.nodeName, body: node });
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((e: unknown) => {
          this.lastError = e;
        })
        .finally(() => this.schedule(this.intervalMs));
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const pods = await this.core.listPodForAllNamespaces({});
    await Promise.all(
      pods.items.map((p) =>
        this.reconcile(p).catch((e: unknown) => {
          this.lastError = e;
        }),
      ),
    );
  }

  private async reconcile(pod: V1Pod): Promise<void> {
    const name = pod.metadata?.name;
    const namespace = pod.metadata?.namespace;
    if (!name || !namespace || this.stopped) return;
    if (pod.metadata?.deletionTimestamp) {
      try {
        await this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
      } catch (e) {
        if (errCode(e) !== 404) throw e;
      }
      return;
    }
    if (!pod.spec?.nodeName) {
      await this.core.createNamespacedPodBinding({
        name,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace },
          target: { apiVersion: 'v1', kind: 'Node', name: this.nodeName },
        },
      });
      pod = await this.core.readNamespacedPod({ name, namespace });
    }
    if (pod.spec?.nodeName !== this.nodeName) return;
    const containers = pod.spec?.containers ?? [];
    const ready = !containers.some((c) => this.isBroken(c.image ?? ''));
    const readyCond = pod.status?.conditions?.find((c) => c.type === 'Ready');
    const statuses = pod.status?.containerStatuses ?? [];
    const upToDate =
      pod.status?.phase === 'Running' &&
      readyCond?.status === (ready ? 'True' : 'False') &&
      statuses.length === containers.length &&
      containers.every((c) => statuses.some((s) => s.name === c.name && s.image === c.image && s.ready === ready));
    if (upToDate) return;

    const uid = pod.metadata?.uid ?? name;
    let ip = this.ips.get(uid);
    if (!ip) {
      const n = this.ipCounter++;
      // Loopback addresses: nothing ever connects to them, but they are valid IPs.
      ip = `127.244.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;
      this.ips.set(uid, ip);
    }
    const now = new Date();
    const cond = (type: string, ok: boolean) => ({
      type,
      status: ok ? 'True' : 'False',
      lastTransitionTime: now,
      ...(ok ? {} : { reason: 'ContainersNotReady', message: 'envtest: broken image never becomes ready' }),
    });
    const status: V1PodStatus = {
      ...pod.status,
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: pod.status?.startTime ?? now,
      conditions: [
        cond('Initialized', true),
        cond('Ready', ready),
        cond('ContainersReady', ready),
        cond('PodScheduled', true),
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: `envtest://${c.image ?? ''}`,
        containerID: `envtest://${uid}/${c.name}`,
        ready,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      })),
    };
    pod.status = status;
    try {
      await this.core.replaceNamespacedPodStatus({ name, namespace, body: pod });
    } catch (e) {
      const code = errCode(e);
      if (code !== 409 && code !== 404) throw e; // conflict/gone: next tick
    }
  }
}

// ----------------------------------------------------------------- cluster

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

class EnvtestCluster implements Cluster {
  server = '';
  caData = '';
  readonly adminToken = randomBytes(24).toString('hex');
  readonly restrictedToken = randomBytes(24).toString('hex');
  readonly restrictedUser = RESTRICTED_USER;
  readonly tmpDir: string;
  readonly kubeconfigPath: string;
  startMs = 0;

  private etcd: Proc | undefined;
  private apiserver: Proc | undefined;
  private kcm: Proc | undefined;
  private watchdog: ChildProcess | undefined;
  private kubelet: FakeKubelet | undefined;
  private readonly procs = new Set<Proc>();
  private apiArgs: string[] = [];
  private stopping: Promise<void> | undefined;
  private readonly log: (msg: string) => void;
  private readonly timeoutMs: number;

  constructor(
    private readonly assets: string,
    private readonly opts: ClusterOptions,
  ) {
    // tmpfs makes etcd's fsyncs free; etcd preallocates 64 MB WAL segments, so want room.
    const base = process.env.ENVTEST_TMPDIR ?? (roomyTmpfs('/dev/shm') ? '/dev/shm' : os.tmpdir());
    this.tmpDir = fs.mkdtempSync(path.join(base, 'envtest-'));
    liveDirs.add(this.tmpDir);
    this.kubeconfigPath = path.join(this.tmpDir, 'admin.kubeconfig');
    this.timeoutMs = opts.startTimeoutMs ?? 90_000;
    this.log =
      opts.log ?? (process.env.ENVTEST_VERBOSE ? (m: string) => process.stderr.write(`[envtest] ${m}\n`) : () => {});
  }

  private file(name: string): string {
    return path.join(this.tmpDir, name);
  }

  /** pgids file read by the watchdog if our process dies without cleaning up. */
  private writePgids = (): void => {
    const pgids = [...this.procs].filter((p) => p.running && p.child.pid).map((p) => String(p.child.pid));
    try {
      fs.writeFileSync(this.file('pgids'), pgids.join('\n') + '\n');
    } catch {
      /* tmp dir removed */
    }
  };

  private spawn(name: string, args: string[]): Proc {
    const p = Proc.start(name, path.join(this.assets, name), args, this.file(`${name}.log`), this.writePgids);
    this.procs.add(p);
    p.exited.then(() => this.procs.delete(p)).catch(() => undefined);
    this.writePgids();
    return p;
  }

  private startWatchdog(): void {
    // Kills our process groups and removes the temp dir if this Node process dies
    // without running its exit handlers (SIGKILL, fatal signal).
    const script = [
      'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done',
      '[ -d "$2" ] || exit 0',
      'for g in $(cat "$2/pgids" 2>/dev/null); do kill -KILL -- "-$g" 2>/dev/null; done',
      'rm -rf "$2"',
    ].join('\n');
    const w = spawn('bash', ['-c', script, 'envtest-watchdog', String(process.pid), this.tmpDir], {
      detached: true,
      stdio: 'ignore',
    });
    w.on('error', () => undefined);
    w.unref();
    this.watchdog = w;
  }

  private fail(proc: Proc | undefined, what: string, cause?: unknown): Error {
    const detail = cause ? `: ${cause instanceof Error ? cause.message : String(cause)}` : '';
    const state = proc ? (proc.running ? 'still running' : `exited with ${proc.exitInfo}`) : '';
    const tail = proc ? `\n--- last 40 lines of ${proc.logPath} (${state}) ---\n${proc.tail(40)}` : '';
    return new Error(`envtest: ${what}${detail}${tail}`);
  }

  private async waitUntil(
    proc: Proc | undefined,
    what: string,
    check: () => Promise<boolean>,
    timeoutMs = this.timeoutMs,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (;;) {
      if (proc && !proc.running) throw this.fail(proc, `${proc.name} exited while waiting for ${what}`);
      try {
        if (await check()) return;
      } catch (e) {
        lastErr = e;
      }
      if (Date.now() > deadline) throw this.fail(proc, `timed out after ${timeoutMs} ms waiting for ${what}`, lastErr);
      await sleep(100);
    }
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    this.startWatchdog();
    const [etcdClient, etcdPeer, apiPort] = await threePorts();

    // --- etcd
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    this.etcd = this.spawn('etcd', [
      '--name=envtest',
      `--data-dir=${this.file('etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=envtest=http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster-state=new',
      '--logger=zap',
      '--log-level=warn',
    ]);
    await this.waitUntil(this.etcd, 'etcd /health', async () => {
      const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await res.text()).includes('true');
    });
    this.log(`etcd ready after ${Date.now() - t0} ms`);

    // --- credentials
    fs.writeFileSync(
      this.file('tokens.csv'),
      `${this.adminToken},envtest-admin,envtest-admin,"system:masters"\n` +
        `${this.restrictedToken},${RESTRICTED_USER},${RESTRICTED_USER}\n`,
      { mode: 0o600 },
    );
    const sa = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    fs.writeFileSync(this.file('sa.pub'), sa.publicKey);
    fs.writeFileSync(this.file('sa.key'), sa.privateKey, { mode: 0o600 });
    const certDir = this.file('apiserver-certs');
    fs.mkdirSync(certDir);

    // --- kube-apiserver
    this.server = `https://127.0.0.1:${apiPort}`;
    this.apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      '--insecure-port=0',
      `--cert-dir=${certDir}`,
      `--token-auth-file=${this.file('tokens.csv')}`,
      '--authorization-mode=RBAC',
      `--service-account-key-file=${this.file('sa.pub')}`,
      `--service-account-signing-key-file=${this.file('sa.key')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--endpoint-reconciler-type=none',
      '--disable-admission-plugins=TaintNodesByCondition',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
    ];
    await this.launchApiServer();
    this.log(`kube-apiserver ready after ${Date.now() - t0} ms`);
    fs.writeFileSync(this.kubeconfigPath, this.kubeconfigYaml(), { mode: 0o600 });

    // --- kube-controller-manager
    this.kcm = this.spawn('kube-controller-manager', [
      `--kubeconfig=${this.kubeconfigPath}`,
      `--controllers=${CONTROLLERS.join(',')}`,
      '--leader-elect=false',
      '--use-service-account-credentials=false',
      `--service-account-private-key-file=${this.file('sa.key')}`,
      `--root-ca-file=${this.file('ca.crt')}`,
      '--port=0',
      '--secure-port=0',
      '--concurrent-deployment-syncs=5',
      '--concurrent-replicaset-syncs=5',
      '--profiling=false',
      '--v=1',
    ]);
    const core = this.kubeConfig().makeApiClient(CoreV1Api);
    await this.waitUntil(this.kcm, 'ServiceAccount default/default with a token secret', async () => {
      const sa = await core.readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
      return (sa.secrets?.length ?? 0) > 0;
    });
    this.log(`kube-controller-manager ready after ${Date.now() - t0} ms`);

    // --- kubelet stand-in
    if (this.opts.kubelet !== false) {
      this.kubelet = new FakeKubelet(
        this.kubeConfig(),
        this.opts.nodeName ?? 'envtest-node',
        this.opts.isBroken ?? defaultIsBroken,
      );
      try {
        await this.kubelet.start();
      } catch (e) {
        throw this.fail(this.apiserver, 'kubelet stand-in failed to register its Node', e);
      }
    }
    this.startMs = Date.now() - t0;
    this.log(`cluster ready after ${this.startMs} ms at ${this.server} (${this.tmpDir})`);
  }

  private async launchApiServer(): Promise<void> {
    this.apiserver = this.spawn('kube-apiserver', this.apiArgs);
    const certFile = path.join(this.file('apiserver-certs'), 'apiserver.crt');
    await this.waitUntil(this.apiserver, 'kube-apiserver /readyz', async () => {
      // Self-signed bundle generated by the apiserver on first start (reused on restarts).
      if (!fs.existsSync(certFile)) return false;
      const ca = fs.readFileSync(certFile, 'utf8');
      const res = await httpsGet(`${this.server}/readyz`, ca, this.adminToken);
      if (res.status !== 200) return false;
      if (ca !== this.caData) {
        this.caData = ca;
        fs.writeFileSync(this.file('ca.crt'), ca);
      }
      return true;
    });
  }

  apiServerRunning(): boolean {
    return !!this.apiserver?.running;
  }

  async stopApiServer(): Promise<void> {
    // Graceful shutdown would wait for open watches to drain (up to a minute): SIGKILL after 1 s.
    await this.apiserver?.stop(1000);
  }

  async startApiServer(): Promise<void> {
    if (this.apiserver?.running) return;
    if (this.stopping) throw new Error('envtest: cluster is stopping');
    await this.launchApiServer();
  }

  kubeConfig(token: string = this.adminToken): KubeConfig {
    return buildKubeConfig(this.server, this.caData, token);
  }

  kubeconfigYaml(token: string = this.adminToken): string {
    return kubeconfigText(this.server, this.caData, token);
  }

  writeKubeconfig(file: string, token?: string): void {
    fs.writeFileSync(file, this.kubeconfigYaml(token), { mode: 0o600 });
  }

  info(): ClusterInfo {
    return {
      server: this.server,
      caData: this.caData,
      adminToken: this.adminToken,
      restrictedToken: this.restrictedToken,
      restrictedUser: this.restrictedUser,
      tmpDir: this.tmpDir,
      kubeconfigPath: this.kubeconfigPath,
      startMs: this.startMs,
    };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.kubelet?.stop();
      // Controller-manager first (it would otherwise log errors about the apiserver), etcd last.
      await this.kcm?.stop();
      await this.apiserver?.stop();
      await this.etcd?.stop();
      const w = this.watchdog;
      if (w?.pid && w.exitCode === null) {
        try {
          process.kill(-w.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      fs.rmSync(this.tmpDir, { recursive: true, force: true });
      liveDirs.delete(this.tmpDir);
    })();
    return this.stopping;
  }
}

function roomyTmpfs(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    const st = fs.statfsSync(dir);
    return st.bavail * st.bsize > 1024 * 1024 * 1024;
  } catch {
    return false;
  }
}

async function threePorts(): Promise<[number, number, number]> {
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [a = 0, b = 0, c = 0] = [...ports];
  return [a, b, c];
}

/** Start a throwaway control plane. Throws (with the failing component's log tail) if it cannot. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const assets = opts.assetsDir ?? (await findAssets(opts.assetsTimeoutMs, opts.assetsScript));
  for (let attempt = 1; ; attempt++) {
    const cluster = new EnvtestCluster(assets, opts);
    try {
      await cluster.start();
      return cluster;
    } catch (e) {
      await cluster.stop().catch(() => undefined);
      // A random port can be taken between picking and binding it: retry once.
      if (attempt < 2 && /address already in use/i.test(String(e))) continue;
      throw e;
    }
  }
}
