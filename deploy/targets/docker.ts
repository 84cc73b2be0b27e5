/** Docker Engine (local, or DOCKER_HOST): the DockerServer component. */
import { z } from "zod";
import { loadProfile } from "../../profiles/index.js";
import { dockerVersion, fail, pass, portFree, skip, type CheckResult } from "../preflight/checks.js";
import { defineTarget } from "./target.js";

export const DockerSettings = z
  .object({
    image: z.string().optional().describe("image instead of ghcr.io/velocidex/velociraptor-server:<version>"),
    network_isolation: z.boolean().optional().describe("dedicated bridge network without inter-container traffic (default: the profile's)"),
    local_bind_ip: z.string().optional().describe("address GUI/API are published on when the profile keeps them local (default 127.0.0.1)"),
  })
  .strict()
  .default({});

export const dockerTarget = defineTarget({
  name: "docker",
  title: "Docker Engine on this machine or DOCKER_HOST",
  example: "docker-local",
  settings: DockerSettings,
  sectionRequired: false,
  defaultHostname: "localhost",
  async preflight(_docker, s, { env }) {
    const out: CheckResult[] = [];
    try {
      const v = await dockerVersion(env);
      const major = Number(v.Version.split(".")[0]);
      out.push(major >= 20 ? pass("docker daemon", `Docker ${v.Version} (API ${v.ApiVersion})`) : fail("docker daemon", `Docker ${v.Version} is too old`, "Upgrade to Docker Engine 20.10 or newer."));
    } catch (err) {
      out.push(fail("docker daemon", `not reachable: ${(err as Error).message}`, "Start Docker (systemctl start docker / Docker Desktop), or set DOCKER_HOST to the remote engine."));
    }
    if (env.DOCKER_HOST && !env.DOCKER_HOST.startsWith("unix://")) out.push(skip("ports free", "remote Docker host: ports are checked there at deploy time"));
    else {
      const profile = loadProfile(s.profile, s.overrides);
      for (const [name, port] of Object.entries(profile.ports)) {
        if (name === "monitoring" && !profile.monitoring) continue;
        out.push((await portFree(port)) ? pass(`port ${port} free`, `${name} port`) : fail(`port ${port} free`, `${name} port ${port} is in use`, `Stop what listens on ${port}, or override ports.${name}.`));
      }
    }
    return out;
  },
  async build(d, { name, base, opts }) {
    const { DockerServer } = await import("../../components/docker/index.js");
    return new DockerServer(name, { ...base, image: d.image, networkIsolation: d.network_isolation, localBindIp: d.local_bind_ip }, opts);
  },
});
