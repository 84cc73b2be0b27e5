/**
 * The Velociraptor gRPC API client: mutual TLS, a deadline on every call, streaming rows with early stop, VQL errors
 * detected from log lines, and retries for transient connection failures before any row has arrived.
 */
import * as grpc from "@grpc/grpc-js";
import { setTimeout as sleep } from "node:timers/promises";
import { apiClientConstructor, apiServiceDefinition, type WireHealthCheckResponse, type WireVFSFileBuffer, type WireVQLCollectorArgs } from "../proto/wire.js";
import { decodeVQLResponse, type WireVQLResponseBytes } from "../proto/vql-response.js";
import { MegaraptorError } from "../core/errors.js";
import { log } from "../core/logger.js";
import { NUMERIC_SETTINGS, numericSetting } from "../core/settings.js";
import type { ApiClientConfig } from "./config.js";
import { CancelledError, classifyGrpcError, ConnectTimeoutError, QueryTimeoutError, TlsError, VelociraptorUnreachableError, VqlError, type LogLine } from "./errors.js";
import { probeTcp, probeTls } from "./diagnose.js";
import { backoffDelayMs, DEFAULT_RETRY_POLICY, isRetryable, type RetryPolicy } from "./retry.js";
import type { BuiltQuery } from "./query.js";
import { readServerFacts, type UnavailableFact } from "./server-facts.js";
import { jsonArrayToLines } from "./json-lines.js";
import { RowIndex } from "./row-index.js";
import { RowPieces } from "./row-batch.js";

export type Row = Record<string, unknown>;
export type { LogLine };

export interface QueryOptions {
  /** Extra env parameters (strings). Prefer vqlQuery(), which checks names against the query text. */
  env?: Record<string, string>;
  orgId?: string;
  /** Stop after this many rows (the RPC is cancelled). */
  maxRows?: number;
  /** Server-side query timeout (VQLCollectorArgs.timeout). */
  timeoutSeconds?: number;
  /** Client deadline for the whole RPC; defaults to timeoutSeconds + 30 s, or 10 minutes. */
  deadlineSeconds?: number;
  signal?: AbortSignal;
  /** Rows per response batch (max_row). Never 0: Velociraptor would then send one row per message. */
  batchRows?: number;
  /** Seconds the server may buffer rows before sending a partial batch (max_wait). */
  maxWaitSeconds?: number;
  /** Label echoed by the server (VQLRequest.Name). */
  name?: string;
  /** Raise VqlError when the server logs a VQL error (default true). */
  failOnVqlError?: boolean;
  retry?: Partial<RetryPolicy> | false;
}

export interface QuerySummary {
  rows: number;
  logs: LogLine[];
  columns: string[];
  truncated: boolean;
}

export interface ClientOptions {
  /** Default org for every call (org_id). */
  orgId?: string;
  /** Deadline for unary calls, seconds. */
  unaryDeadlineSeconds?: number;
  /**
   * Deadline for TCP connect + TLS handshake + HTTP/2 setup before any call, seconds (default 15). grpc-js has no
   * handshake timeout of its own: against a port that accepts TCP and never speaks, a call would wait its whole
   * deadline (ten minutes for a query without a timeout).
   */
  connectTimeoutSeconds?: number;
  retry?: Partial<RetryPolicy>;
}

export const DEFAULT_CONNECT_TIMEOUT_SECONDS = NUMERIC_SETTINGS.MEGARAPTOR_CONNECT_TIMEOUT_SECONDS.default;

// Lines Velociraptor logs when a query failed but the stream still ended normally.
const VQL_ERROR_PATTERNS = [
  /^VQL Error:/i,
  /^ERROR:/,
  /Unexpected arg/i,
  /Symbol .* not found/i,
  /Plugin .* not found/i,
  /Function .* not found/i,
  /^[a-z_]+: .*(invalid|required|must|cannot|error|failed|not found|permission)/i,
];
const TIMEOUT_PATTERN = /(Timeout Error|query timed out|timed out after)/i;

export function classifyLogLine(message: string): LogLine["level"] {
  const m = message.replace(/<[a-z]+>|<\/>/g, "");
  if (m.startsWith("DEBUG:")) return "debug";
  if (m.startsWith("WARN:")) return "warn";
  if (VQL_ERROR_PATTERNS.some((p) => p.test(m))) return "error";
  return "info";
}

function toLogLine(msg: WireVQLResponseBytes): LogLine {
  const message = msg.log.replace(/\n$/, "");
  return { timestampUs: String(msg.timestamp), message, level: classifyLogLine(message) };
}

/** A running query: iterate it for rows; logs and columns fill in as the stream proceeds. */
export class QueryStream implements AsyncIterable<Row> {
  readonly logs: LogLine[] = [];
  columns: string[] = [];
  rowCount = 0;
  truncated = false;
  private call?: grpc.ClientReadableStream<WireVQLResponseBytes>;
  private started = false;
  private cancelled = false;

  constructor(
    private readonly open: () => grpc.ClientReadableStream<WireVQLResponseBytes>,
    private readonly opts: QueryOptions & {
      address: string;
      user: string;
      vql: string;
      retryPolicy: RetryPolicy | false;
      diagnose: (e: MegaraptorError) => Promise<MegaraptorError>;
      /** Resolves once the channel is connected (or has failed, for the call to report why); throws on timeout. */
      connect: (signal?: AbortSignal) => Promise<void>;
    },
  ) {}

  /** Stops the query; the RPC is cancelled on the server. */
  cancel(): void {
    this.cancelled = true;
    this.call?.cancel();
  }

  private start(): void {
    if (this.started) throw new MegaraptorError("INTERNAL", "A QueryStream can be iterated only once (as rows or as JSON Lines).");
    this.started = true;
  }

  [Symbol.asyncIterator](): AsyncIterator<Row> {
    this.start();
    // Rows are served from the current piece with already-resolved promises; the next piece of a batch is parsed
    // synchronously when the rows before it are used up, and only a new batch awaits the network. This flattening is
    // several times cheaper per row than yielding each row from an async generator.
    const batches = this.batches();
    let batch: Row[] = [];
    let pieces: RowPieces | undefined;
    let i = 0;
    const maxRows = this.opts.maxRows;
    const finish = async (): Promise<IteratorResult<Row>> => {
      await batches.return(undefined);
      return { done: true, value: undefined };
    };
    const next = async (): Promise<IteratorResult<Row>> => {
      for (;;) {
        let piece: Row[] | undefined;
        try {
          piece = pieces?.next();
        } catch (e) {
          // A malformed batch shows in a later piece: the RPC must still be cancelled.
          await batches.return(undefined);
          throw e;
        }
        if (!piece) {
          const r = await batches.next();
          if (r.done) return { done: true, value: undefined };
          [piece, pieces] = r.value;
        }
        batch = piece;
        i = 0;
        if (batch.length) return take();
      }
    };
    const take = (): IteratorResult<Row> | Promise<IteratorResult<Row>> => {
      if (maxRows !== undefined && this.rowCount >= maxRows) {
        this.truncated = true;
        return finish();
      }
      this.rowCount++;
      return { done: false, value: batch[i++]! };
    };
    return {
      next: () => (i < batch.length ? Promise.resolve(take()) : next()),
      return: () => finish(),
    };
  }

  /**
   * The rows as JSON Lines, one chunk per result batch: each row exactly as the server encoded it, then "\n" (see
   * json-lines.ts for why the bytes are passed through rather than parsed and re-serialised). Honours maxRows,
   * rowCount, truncated, columns and logs like row iteration; use one or the other, once.
   */
  async *jsonLines(): AsyncGenerator<Buffer> {
    this.start();
    const maxRows = this.opts.maxRows ?? Infinity;
    const batches = this.results((response, columns) => {
      const batch = jsonArrayToLines(response, maxRows - this.rowCount);
      if (batch.rows && columns.length) this.columns = columns;
      return batch.rows || batch.dropped ? batch : undefined;
    });
    for await (const batch of batches) {
      if (batch.rows) {
        this.rowCount += batch.rows;
        yield batch.lines;
      }
      if (batch.dropped) {
        this.truncated = true;
        return;
      }
    }
  }

  /**
   * The rows as indexed result batches (row-index.ts): each row's bytes as the server encoded them and where its
   * top-level columns lie, found in one pass over the batch. One RowIndex is reused: read each before asking for the
   * next. Honours maxRows, rowCount, truncated, columns and logs like row iteration; use one way of reading, once.
   */
  async *indexedBatches(): AsyncGenerator<RowIndex> {
    this.start();
    const maxRows = this.opts.maxRows ?? Infinity;
    const index = new RowIndex();
    const batches = this.results((response, columns) => {
      const batch = index.index(response, maxRows - this.rowCount);
      if (batch.rows && columns.length) this.columns = columns;
      return batch.rows || batch.dropped ? batch : undefined;
    });
    for await (const batch of batches) {
      if (batch.rows) {
        this.rowCount += batch.rows;
        yield batch;
      }
      if (batch.dropped) {
        this.truncated = true;
        return;
      }
    }
  }

  /** Consumes the stream, discarding rows, and returns what happened. */
  async summary(): Promise<QuerySummary> {
    for await (const row of this) void row;
    return { rows: this.rowCount, logs: this.logs, columns: this.columns, truncated: this.truncated };
  }

  /**
   * The RPC as a sequence of non-empty row batches, each as its first piece of parsed rows and the parser for the rest
   * (row-batch.ts: why a batch is parsed in pieces, as the rows are used). Rows are handed out as parsed, without copies.
   */
  private batches(): AsyncGenerator<[Row[], RowPieces]> {
    return this.results((response, columns) => {
      const pieces = new RowPieces(response);
      const first = pieces.next()!;
      if (!first.length) return undefined;
      if (columns.length) this.columns = columns;
      return [first, pieces];
    });
  }

  /**
   * The RPC as a sequence of result batches, each turned into a T by `take` (undefined: nothing to hand out), with
   * retries before the first batch and errors read from the logs.
   */
  private async *results<T>(take: (response: Buffer, columns: string[]) => T | undefined): AsyncGenerator<T> {
    const { signal } = this.opts;
    let attempt = 0;
    const firstTry = Date.now();
    for (;;) {
      attempt++;
      let delivered = false;
      let call: grpc.ClientReadableStream<WireVQLResponseBytes> | undefined;
      const onAbort = () => this.cancel();
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        // Checked before the RPC exists: a call opened only to be cancelled is wasted work on the server.
        if (signal?.aborted) throw new CancelledError();
        if (this.cancelled) return;
        await this.opts.connect(signal);
        if (signal?.aborted) throw new CancelledError();
        if (this.cancelled) return;
        call = this.open();
        // grpc-js reports a cancelled or failed call as an 'error' event, and an 'error' event nobody listens to
        // kills the process. The iterator below listens only while it runs; this listener covers the rest (a cancel
        // before the first read, or after the consumer stopped). The error itself still reaches the iterator.
        call.on("error", ignoreStreamError);
        this.call = call;
        // for await pulls one message at a time: while the consumer is busy (e.g. waiting for its output to drain),
        // grpc-js pauses the HTTP/2 stream and flow control stops the server, so memory stays bounded.
        for await (const msg of call as AsyncIterable<WireVQLResponseBytes>) {
          if (msg.log) {
            this.logs.push(toLogLine(msg));
            continue;
          }
          if (!msg.Response.length) continue;
          const batch = take(msg.Response, msg.Columns);
          if (batch !== undefined) {
            delivered = true;
            yield batch;
          }
        }
        if (signal?.aborted) throw new CancelledError();
        this.raiseFromLogs();
        return;
      } catch (err) {
        if (signal?.aborted) throw new CancelledError();
        if (this.cancelled) return;
        const classified = classifyGrpcError(err, { address: this.opts.address, user: this.opts.user, timeoutSeconds: this.opts.deadlineSeconds });
        const e = await this.opts.diagnose(classified);
        if (signal?.aborted) throw new CancelledError();
        const policy = this.opts.retryPolicy;
        const withinTime = policy && Date.now() - firstTry < policy.maxRetryTimeMs;
        if (policy && withinTime && !delivered && this.rowCount === 0 && isRetryable(e) && attempt <= policy.retries) {
          const delay = backoffDelayMs(policy, attempt);
          log.debug("query failed before any row; retrying", { attempt, delayMs: delay, error: e.message });
          await sleep(delay, undefined, { signal }).catch(() => undefined);
          if (signal?.aborted) throw new CancelledError();
          continue;
        }
        if (this.rowCount > 0 && (e.code === "VELOCIRAPTOR_UNREACHABLE" || e instanceof TlsError))
          throw new VelociraptorUnreachableError(this.opts.address, `connection lost after ${this.rowCount} rows (${e.message})`, e);
        throw e;
      } finally {
        signal?.removeEventListener("abort", onAbort);
        // Leaving early (break, return, throw in the consumer) must not leave the server running the query.
        call?.cancel();
      }
    }
  }

  private raiseFromLogs(): void {
    if (this.opts.failOnVqlError === false) return;
    const timeout = this.logs.find((l) => TIMEOUT_PATTERN.test(l.message));
    if (timeout) throw new QueryTimeoutError(this.opts.timeoutSeconds ?? 0);
    const first = this.logs.find((l) => l.level === "error");
    if (first) throw new VqlError(first.message.replace(/<[a-z]+>|<\/>/g, ""), this.logs, this.opts.vql);
  }
}

export interface HealthStatus {
  serving: boolean;
  status: string;
  serverVersion?: string;
  hostname?: string;
  /** Facts the caller's permissions do not cover (e.g. hostname without MACHINE_STATE). */
  unavailable: UnavailableFact[];
  latencyMs: number;
  user: string;
}

export class VelociraptorClient {
  readonly address: string;
  readonly user: string;
  private readonly grpcClient: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  private readonly retryPolicy: RetryPolicy;
  private readonly connectTimeoutSeconds: number;

  private constructor(
    private readonly config: ApiClientConfig,
    private readonly options: ClientOptions,
  ) {
    this.address = config.api_connection_string;
    this.user = config.name;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.connectTimeoutSeconds = options.connectTimeoutSeconds ?? connectTimeoutFromEnv();
    const creds = grpc.credentials.createSsl(
      Buffer.from(config.ca_certificate),
      Buffer.from(config.client_private_key),
      Buffer.from(config.client_cert),
    );
    const recv = config.max_grpc_recv_size ?? 1024 * 1024 * 1024;
    const Ctor = apiClientConstructor();
    this.grpcClient = new Ctor(this.address, creds, {
      // The server certificate is issued for VelociraptorServer (or the pinned name), never for the host.
      "grpc.ssl_target_name_override": config.pinned_server_name || "VelociraptorServer",
      "grpc.default_authority": config.pinned_server_name || "VelociraptorServer",
      "grpc.max_receive_message_length": recv,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      // Large result batches: a bigger HTTP/2 window avoids a WINDOW_UPDATE round trip every 64 KiB.
      "grpc-node.flow_control_window": 8 * 1024 * 1024,
      "grpc.keepalive_time_ms": 60_000,
      "grpc.keepalive_timeout_ms": 20_000,
      "grpc.initial_reconnect_backoff_ms": 200,
      "grpc.max_reconnect_backoff_ms": 5_000,
    }) as unknown as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  static fromConfig(config: ApiClientConfig, options: ClientOptions = {}): VelociraptorClient {
    return new VelociraptorClient(config, options);
  }

  /** Starts a query. Iterate the result for rows; break early to cancel it. */
  query(q: string | BuiltQuery, opts: QueryOptions = {}): QueryStream {
    const built = typeof q === "string" ? { vql: q, env: {} } : q;
    const env = { ...built.env, ...opts.env };
    const batchRows = Math.max(1, opts.batchRows ?? 1000);
    const deadlineSeconds = opts.deadlineSeconds ?? (opts.timeoutSeconds ? opts.timeoutSeconds + 30 : 600);
    const args: WireVQLCollectorArgs = {
      Query: [{ VQL: built.vql, Name: opts.name ?? "megaraptor" }],
      env: Object.entries(env).map(([key, value]) => ({ key, value })),
      max_row: batchRows,
      max_wait: Math.max(1, opts.maxWaitSeconds ?? 1),
      timeout: opts.timeoutSeconds ?? 0,
      org_id: opts.orgId ?? this.options.orgId ?? "",
    };
    const open = () =>
      this.grpcClient.makeServerStreamRequest(
        "/proto.API/Query",
        (a: WireVQLCollectorArgs) => serialize("Query", a),
        // The static decoder hands Response over as bytes (proto/vql-response.ts).
        decodeVQLResponse,
        args,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineSeconds * 1000 },
      ) as grpc.ClientReadableStream<WireVQLResponseBytes>;
    return new QueryStream(open, {
      ...opts,
      deadlineSeconds,
      address: this.address,
      user: this.user,
      vql: built.vql,
      retryPolicy: opts.retry === false ? false : { ...this.retryPolicy, ...(opts.retry ?? {}) },
      diagnose: (e) => this.diagnose(e),
      connect: (signal) => this.connected(signal, deadlineSeconds),
    });
  }

  /**
   * Waits until the channel is READY, for at most connectTimeoutSeconds (never longer than the call's own deadline).
   * A channel in TRANSIENT_FAILURE returns at once: the call then fails fast with grpc-js's reason (refused, TLS
   * alert), which classifyGrpcError and diagnose() turn into a named error. Only a connection that neither succeeds
   * nor fails — a port that accepts TCP and never answers the handshake, a black-holed address — ends here in
   * ConnectTimeoutError.
   */
  private async connected(signal: AbortSignal | undefined, callDeadlineSeconds: number): Promise<void> {
    const channel = this.grpcClient.getChannel();
    const { IDLE, CONNECTING } = grpc.connectivityState;
    let state = channel.getConnectivityState(true);
    if (state !== IDLE && state !== CONNECTING) return;
    const seconds = Math.min(this.connectTimeoutSeconds, callDeadlineSeconds);
    const deadline = Date.now() + seconds * 1000;
    while (state === IDLE || state === CONNECTING) {
      if (signal?.aborted) throw new CancelledError();
      const from = state;
      const next = await new Promise<grpc.connectivityState | "timeout" | "aborted">((resolve) => {
        const onAbort = () => resolve("aborted");
        signal?.addEventListener("abort", onAbort, { once: true });
        channel.watchConnectivityState(from, deadline, (err?: Error) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(err ? "timeout" : channel.getConnectivityState(true));
        });
      });
      if (next === "aborted") throw new CancelledError();
      if (next === "timeout") {
        const tcp = this.address.startsWith("unix://") ? undefined : await probeTcp(this.address, Math.min(3000, seconds * 1000));
        throw new ConnectTimeoutError(this.address, seconds, tcp);
      }
      state = next;
    }
  }

  /**
   * grpc-js reports some TLS failures only as "Failed to connect"; a direct handshake with the same credentials
   * names the cause (e.g. the server rejecting our client certificate).
   */
  async diagnose(e: MegaraptorError): Promise<MegaraptorError> {
    if (!(e instanceof VelociraptorUnreachableError) || e instanceof TlsError || this.address.startsWith("unix://")) return e;
    const probe = await probeTls(this.config);
    return probe.kind ? new TlsError(probe.kind, this.address, probe.detail, e) : e;
  }

  /** Collects every row (up to maxRows, default 10,000) with logs and columns. */
  async queryAll(q: string | BuiltQuery, opts: QueryOptions = {}): Promise<{ rows: Row[]; logs: LogLine[]; columns: string[]; truncated: boolean }> {
    const stream = this.query(q, { ...opts, maxRows: opts.maxRows ?? 10_000 });
    const rows: Row[] = [];
    for await (const row of stream) rows.push(row);
    return { rows, logs: stream.logs, columns: stream.columns, truncated: stream.truncated };
  }

  private async unary<Req, Res>(method: string, req: Req, opts: { deadlineSeconds?: number; signal?: AbortSignal } = {}): Promise<Res> {
    const seconds = opts.deadlineSeconds ?? this.options.unaryDeadlineSeconds ?? 60;
    const { signal } = opts;
    if (signal?.aborted) throw new CancelledError();
    await this.connected(signal, seconds);
    return new Promise<Res>((resolve, reject) => {
      if (signal?.aborted) return reject(new CancelledError());
      const onAbort = () => call.cancel();
      const call = this.grpcClient.makeUnaryRequest(
        `/proto.API/${method}`,
        (a: Req) => serialize(method, a),
        (b: Buffer) => deserialize(method, b),
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + seconds * 1000 },
        (err: grpc.ServiceError | null, res?: Res) => {
          signal?.removeEventListener("abort", onAbort);
          if (signal?.aborted) return reject(new CancelledError());
          if (!err) return resolve(res!);
          void this.diagnose(classifyGrpcError(err, { address: this.address, user: this.user, timeoutSeconds: seconds })).then(reject, reject);
        },
      ) as grpc.ClientUnaryCall;
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Reads one chunk from the server's filestore. An empty `data` means end of file. */
  async vfsGetBuffer(req: { components: string[]; offset: number; length: number; clientId?: string; orgId?: string; signal?: AbortSignal }): Promise<Buffer> {
    const res = await this.unary<Partial<WireVFSFileBuffer>, WireVFSFileBuffer>(
      "VFSGetBuffer",
      {
        components: req.components,
        offset: req.offset,
        length: req.length,
        client_id: req.clientId ?? "",
        org_id: req.orgId ?? this.options.orgId ?? "",
      },
      { signal: req.signal },
    );
    return Buffer.from(res.data ?? Buffer.alloc(0));
  }

  /** Reads a whole filestore file chunk by chunk, handing each chunk to `onChunk`; stops at maxBytes. */
  async readFile(
    components: string[],
    opts: { maxBytes?: number; chunkSize?: number; orgId?: string; signal?: AbortSignal; onChunk: (chunk: Buffer, offset: number) => void | Promise<void> },
  ): Promise<{ bytes: number; truncated: boolean }> {
    const chunkSize = Math.min(opts.chunkSize ?? 1024 * 1024, 4 * 1024 * 1024);
    let offset = 0;
    for (;;) {
      const want = opts.maxBytes === undefined ? chunkSize : Math.min(chunkSize, opts.maxBytes - offset);
      if (want <= 0) return { bytes: offset, truncated: true };
      const data = await this.vfsGetBuffer({ components, offset, length: want, orgId: opts.orgId, signal: opts.signal });
      if (data.length === 0) return { bytes: offset, truncated: false };
      await opts.onChunk(data, offset);
      offset += data.length;
    }
  }

  /** proto.API/Check: the server answers SERVING when its API is up. */
  async check(deadlineSeconds = 10, signal?: AbortSignal): Promise<string> {
    const res = await this.unary<{ service: string }, WireHealthCheckResponse>("Check", { service: "" }, { deadlineSeconds, signal });
    return res.status;
  }

  /**
   * Check plus what the caller may read about the server (velociraptor/server-facts.ts): the version always, host name
   * and uptime only with MACHINE_STATE; what is missing is listed in `unavailable` with the permission and its roles.
   */
  async healthCheck(deadlineSeconds = 15, signal?: AbortSignal): Promise<HealthStatus> {
    const start = performance.now();
    const status = await this.check(deadlineSeconds, signal);
    const facts = await readServerFacts(this, { deadlineSeconds, signal });
    return {
      serving: status === "SERVING",
      status,
      hostname: facts.hostname,
      serverVersion: facts.version,
      unavailable: facts.unavailable,
      latencyMs: Math.round(performance.now() - start),
      user: this.user,
    };
  }

  close(): void {
    this.grpcClient.close();
  }
}

/** One-shot health check for deploy tools: connect, check, close. */
export async function checkVelociraptorHealth(config: ApiClientConfig, deadlineSeconds = 15, signal?: AbortSignal): Promise<HealthStatus> {
  const client = VelociraptorClient.fromConfig(config, { retry: { retries: 0 }, connectTimeoutSeconds: Math.min(DEFAULT_CONNECT_TIMEOUT_SECONDS, deadlineSeconds) });
  try {
    return await client.healthCheck(deadlineSeconds, signal);
  } finally {
    client.close();
  }
}

/** MEGARAPTOR_CONNECT_TIMEOUT_SECONDS overrides the default for every client (slow links; tests). */
function connectTimeoutFromEnv(): number {
  return numericSetting("MEGARAPTOR_CONNECT_TIMEOUT_SECONDS");
}

function ignoreStreamError(): void {
  // The error is delivered through the stream's iterator (or deliberately dropped after a cancel).
}

// Serialisers come from the loaded service definition, so proto/wire.ts stays the only module reading the .proto.
function serialize(method: string, value: unknown): Buffer {
  return apiServiceDefinition()[method]!.requestSerialize(value);
}
function deserialize(method: string, bytes: Buffer): never {
  return apiServiceDefinition()[method]!.responseDeserialize(bytes) as never;
}
