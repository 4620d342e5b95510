/**
 * The TCP side of the gdb stub: listens on 127.0.0.1 (port 0 = pick a free one), one client at a time
 * (a second connection is closed at once), and runs the machine between clients the way QEMU does with
 * `-s`: without --wait the guest runs from the start and an attaching gdb stops it; with --wait (QEMU
 * `-S`) nothing runs until gdb continues. Detach (`D`) or a dropped connection lets the guest run on;
 * `k` ends the run. The machine always runs in slices, so sockets are served while the guest computes.
 */
import * as net from 'net';
import { Machine, STOP_EXIT, STOP_LIMIT, STOP_TRIPLE, STOP_HALTED } from '../machine';
import { GdbSession } from './gdbSession';
import { SLICE_INSNS } from './execution';
import type { GuestTasks } from './guestTasks';
import { MonitorCommands } from './monitorCommands';

export interface GdbServerOptions {
  /** TCP port; 0 picks a free one (read it from GdbServer.port). */
  port: number;
  /** Wait for gdb before running (QEMU -S). */
  wait?: boolean;
  tasks?: GuestTasks | null;
  monitor?: MonitorCommands;
  log?: (line: string) => void;
}

export interface GdbRunResult {
  /** 'exit': the guest exited (exitStatus); 'killed': gdb sent k; 'stopped': triple fault or dead HLT; 'closed': close() */
  how: 'exit' | 'killed' | 'stopped' | 'closed';
  exitStatus: number;
  message: string;
}

export class GdbServer {
  private readonly server: net.Server;
  private session: GdbSession | null = null;
  private socket: net.Socket | null = null;
  private freeRunning = false;
  private finished = false;
  private resolveDone!: (r: GdbRunResult) => void;
  readonly monitor: MonitorCommands;
  /** Resolves when the run ends (guest exit, kill, fatal stop or close()). */
  readonly done: Promise<GdbRunResult>;
  port = 0;

  private constructor(readonly m: Machine, private readonly opts: GdbServerOptions) {
    this.monitor = opts.monitor ?? new MonitorCommands();
    this.done = new Promise((res) => { this.resolveDone = res; });
    this.server = net.createServer((s) => this.onConnection(s));
  }

  /** Start listening on 127.0.0.1; resolves once the port is bound. */
  static async listen(m: Machine, opts: GdbServerOptions): Promise<GdbServer> {
    const g = new GdbServer(m, opts);
    await new Promise<void>((res, rej) => {
      g.server.once('error', rej);
      g.server.listen(opts.port, '127.0.0.1', () => { g.server.off('error', rej); res(); });
    });
    g.port = (g.server.address() as net.AddressInfo).port;
    if (!opts.wait) g.startFreeRun();
    return g;
  }

  private log(s: string): void { this.opts.log?.(s); }

  /** True while a client is attached and its continue is running the guest. */
  get clientRunning(): boolean { return this.session !== null && this.session.isRunning; }

  /** True while a client is attached. */
  get attached(): boolean { return this.session !== null; }

  private onConnection(s: net.Socket): void {
    if (this.socket !== null || this.finished) {
      this.log('gdb: refusing a second client');
      s.destroy();
      return;
    }
    s.setNoDelay(true);
    this.socket = s;
    this.freeRunning = false;
    const session = new GdbSession(this.m, (b) => { if (!s.destroyed) s.write(b); }, {
      tasks: this.opts.tasks ?? null,
      monitor: this.monitor,
      log: this.opts.log,
      onKill: () => this.finish({ how: 'killed', exitStatus: 0, message: 'killed by gdb' }),
      onDetach: () => { this.log('gdb: detached'); },
    });
    this.session = session;
    this.log(`gdb: client connected from ${s.remoteAddress}:${s.remotePort}`);
    s.on('data', (d) => session.receive(d));
    s.on('error', () => { /* reset by peer: handled by close */ });
    s.on('close', () => {
      session.close();
      if (this.session === session) { this.session = null; this.socket = null; }
      this.log('gdb: client disconnected');
      if (!this.finished) {
        const dead = session.exec.dead;
        if (dead !== null) this.finishFromMachine();
        else this.startFreeRun();
      }
    });
  }

  /** Run without a client, in slices, until the guest ends or a client attaches. */
  private startFreeRun(): void {
    if (this.freeRunning || this.finished) return;
    this.freeRunning = true;
    const pump = (): void => {
      if (!this.freeRunning || this.finished) return;
      const r = this.m.run(SLICE_INSNS);
      if (r.reason !== STOP_LIMIT) { this.freeRunning = false; this.finishFromMachine(); return; }
      setImmediate(pump);
    };
    setImmediate(pump);
  }

  private finishFromMachine(): void {
    const reason = this.m.cpu.stopReason;
    const status = this.m.cpu.exitStatus;
    if (reason === STOP_EXIT) this.finish({ how: 'exit', exitStatus: status, message: `guest exit status ${status}` });
    else if (reason === STOP_TRIPLE || reason === STOP_HALTED) this.finish({ how: 'stopped', exitStatus: 0, message: this.m.stopMessage });
    else this.startFreeRun();
  }

  private finish(r: GdbRunResult): void {
    if (this.finished) return;
    this.finished = true;
    this.freeRunning = false;
    this.session?.close();
    this.socket?.destroy();
    this.server.close();
    this.resolveDone(r);
  }

  /** Stop serving and end the run. */
  close(): Promise<GdbRunResult> {
    this.finish({ how: 'closed', exitStatus: 0, message: 'server closed' });
    return this.done;
  }
}
