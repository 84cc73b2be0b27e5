#!/usr/bin/env python3
"""The second witness: runs one VQL query through pyvelociraptor (Velociraptor's official Python binding, PyPI, MIT)
and reports what came back, so the tests can compare our client with an independent one and the benchmarks can set
our client's CPU against the binding's.

It connects exactly as pyvelociraptor's own client_example.py does (0.1.14): the config is read by
pyvelociraptor.LoadConfigFile, the channel is grpc.secure_channel with grpc.ssl_channel_credentials(CA, key, cert)
and grpc.ssl_target_name_override, and the query is api_pb2_grpc.APIStub(channel).Query(api_pb2.VQLCollectorArgs).
One deliberate difference: client_example.py always overrides the target name with "VelociraptorServer"; this honours
the config's pinned_server_name first, as Velociraptor's Go API client does, and falls back to the same name.

Modes:
  summary (default)  one JSON object at the end: rows, columns, logs, error, responses
  responses          one JSON line per response: {query_id, part, columns, rows, log}
  count              rows are decoded (json.loads per response) and visited, nothing printed: the binding's CPU bar
  --jsonl-out PATH   each row written as one compact JSON line (the same bytes as `megaraptor query --format jsonl`)
--stats-out PATH writes {rows, responses, cpu_stream_s, cpu_total_s, wall_stream_s, maxrss_kb}; CPU is
resource.getrusage(RUSAGE_SELF) (every thread of this process, gRPC's included), the stream part measured from just
before the channel opens to the end of the stream.
"""
import argparse
import json
import resource
import sys
import time


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def parse_env(values):
    env = {}
    for v in values or []:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise SystemExit("--env expects NAME=value, got %r" % v)
        env[key] = value
    return env


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="api_client.yaml")
    p.add_argument("--env", action="append", metavar="NAME=VALUE", help="query parameter (repeatable)")
    p.add_argument("--org", default="", help="org_id")
    p.add_argument("--name", default="megaraptor", help="VQLRequest.Name (the server echoes it in its logs)")
    p.add_argument("--max-row", type=int, default=1000)
    p.add_argument("--max-wait", type=int, default=1)
    p.add_argument("--timeout", type=int, default=0, help="server-side timeout, seconds")
    p.add_argument("--deadline", type=float, default=600, help="client deadline for the RPC, seconds")
    p.add_argument("--mode", choices=["summary", "responses", "count"], default="summary")
    p.add_argument("--jsonl-out", help="write rows as JSON Lines to this file ('-' = stdout)")
    p.add_argument("--stats-out", help="write CPU, wall and memory figures as JSON to this file")
    p.add_argument("query")
    a = p.parse_args()
    if a.jsonl_out == "-" and a.mode != "count":
        p.error("--jsonl-out - writes rows to stdout; use it with --mode count")

    # Imported after argument parsing so that --help works without the venv; their cost is counted in cpu_total_s.
    import grpc
    import pyvelociraptor
    from pyvelociraptor import api_pb2, api_pb2_grpc

    config = pyvelociraptor.LoadConfigFile(a.config)
    env = [api_pb2.VQLEnv(key=k, value=v) for k, v in parse_env(a.env).items()]

    cpu0 = cpu_seconds()
    t0 = time.monotonic()
    creds = grpc.ssl_channel_credentials(
        root_certificates=config["ca_certificate"].encode("utf8"),
        private_key=config["client_private_key"].encode("utf8"),
        certificate_chain=config["client_cert"].encode("utf8"),
    )
    options = (("grpc.ssl_target_name_override", config.get("pinned_server_name") or "VelociraptorServer"),)
    request = api_pb2.VQLCollectorArgs(
        org_id=a.org,
        max_row=a.max_row,
        max_wait=a.max_wait,
        timeout=a.timeout,
        Query=[api_pb2.VQLRequest(Name=a.name, VQL=a.query)],
        env=env,
    )

    rows_seen = 0
    responses = 0
    keep_rows = a.mode == "summary"
    all_rows, columns, logs, error = [], [], [], None
    out = None
    if a.jsonl_out:
        out = sys.stdout if a.jsonl_out == "-" else open(a.jsonl_out, "w", encoding="utf8")
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    try:
        with grpc.secure_channel(config["api_connection_string"], creds, options) as channel:
            stub = api_pb2_grpc.APIStub(channel)
            for response in stub.Query(request, timeout=a.deadline):
                responses += 1
                if response.log:
                    message = response.log[:-1] if response.log.endswith("\n") else response.log
                    if a.mode == "responses":
                        print(json.dumps({"query_id": response.query_id, "part": response.part, "columns": [], "rows": [], "log": message}))
                    elif keep_rows:
                        logs.append(message)
                    continue
                if not response.Response:
                    continue
                rows = json.loads(response.Response)
                if rows and response.Columns:
                    columns = list(response.Columns)
                if a.mode == "responses":
                    print(json.dumps({"query_id": response.query_id, "part": response.part, "columns": list(response.Columns), "rows": rows, "log": None}))
                elif keep_rows:
                    all_rows.extend(rows)
                if out is not None:
                    for row in rows:
                        out.write(dumps(row))
                        out.write("\n")
                    rows_seen += len(rows)
                else:
                    # Visit every row, as any consumer of the rows does (our client hands each one out).
                    for _row in rows:
                        rows_seen += 1
    except grpc.RpcError as e:
        error = {"code": e.code().name, "details": e.details()}
    finally:
        if out is not None and out is not sys.stdout:
            out.close()
        elif out is sys.stdout:
            sys.stdout.flush()

    wall = time.monotonic() - t0
    cpu1 = cpu_seconds()
    if a.mode == "summary":
        json.dump({"rows": all_rows, "columns": columns, "logs": logs, "error": error, "responses": responses}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    if a.stats_out:
        with open(a.stats_out, "w", encoding="utf8") as f:
            json.dump({
                "rows": rows_seen,
                "responses": responses,
                "error": error,
                "cpu_stream_s": cpu1 - cpu0,
                "cpu_total_s": cpu1,
                "wall_stream_s": wall,
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            }, f)
    if error and a.mode != "summary":
        print("pyvelociraptor: %s: %s" % (error["code"], error["details"]), file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
