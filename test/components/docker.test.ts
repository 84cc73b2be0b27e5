import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, unwrapSecret, value } from "../helpers/pulumi-mocks.js";

let DockerServer: typeof import("../../components/docker/index.js").DockerServer;

beforeAll(async () => {
  await installMocks();
  ({ DockerServer } = await import("../../components/docker/index.js"));
});
beforeEach(resetRegistrations);

describe("DockerServer", () => {
  it("builds PKI, image, volume, isolated network and a container with the profile's limits", async () => {
    const s = new DockerServer("vr", { deploymentId: "ir-case-42", profile: "standard", hostname: "vr.example.com", caseId: "CASE-42", owner: "alice" });
    await value(s.containerId);
    const types = registrations.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["megaraptor:index:DockerServer", "megaraptor:index:VelociraptorPki", "docker:index/remoteImage:RemoteImage", "docker:index/volume:Volume", "docker:index/network:Network", "docker:index/container:Container"]));
    const c = ofType("docker:index/container:Container")[0]!.inputs;
    expect(c.memory).toBe(2048);
    expect(c.command).toEqual(["--config", "/etc/velociraptor/server.config.yaml", "frontend", "-v"]);
    expect(c.restart).toBe("unless-stopped");
    expect(c.healthcheck.tests.join(" ")).toContain("https://127.0.0.1:8000/healthz");
    expect(c.ports).toEqual(expect.arrayContaining([
      expect.objectContaining({ internal: 8000, ip: "0.0.0.0" }),
      expect.objectContaining({ internal: 8889, ip: "127.0.0.1" }),
      expect.objectContaining({ internal: 8001, ip: "127.0.0.1" }),
    ]));
    expect(ofType("docker:index/remoteImage:RemoteImage")[0]!.inputs.name).toBe("ghcr.io/velocidex/velociraptor-server:0.77.2");
    const labels = Object.fromEntries(c.labels.map((l: { label: string; value: string }) => [l.label, l.value]));
    expect(labels).toMatchObject({ "managed-by": "megaraptor", "megaraptor-deployment": "ir-case-42", "megaraptor-case": "CASE-42", owner: "alice" });
    expect(ofType("docker:index/network:Network")[0]!.inputs.options["com.docker.network.bridge.enable_icc"]).toBe("false");
  });

  it("uploads a config Velociraptor can read, with the API bound inside the container", async () => {
    const s = new DockerServer("vr2", { deploymentId: "lab-one", profile: "minimal", hostname: "localhost" });
    await value(s.containerId);
    const uploads = unwrapSecret(ofType("docker:index/container:Container")[0]!.inputs.uploads);
    expect(uploads.secret).toBe(true); // the config (with keys) is encrypted in Pulumi state
    const upload = uploads.value[0];
    expect(upload.permissions).toBe("0600");
    const cfg = parse(upload.content);
    expect(cfg.API.bind_address).toBe("0.0.0.0");
    expect(cfg.Datastore.location).toBe("/datastore");
    expect(cfg.Monitoring).toBeUndefined();
  });

  it("keeps the API client and client config secret and reports URLs", async () => {
    const s = new DockerServer("vr3", { deploymentId: "lab-two", profile: "rapid", hostname: "vr.lab" });
    expect(await isSecret(s.apiClientYaml)).toBe(true);
    expect(await isSecret(s.clientConfigYaml)).toBe(true);
    expect(await value(s.serverUrl)).toBe("https://vr.lab:8000/");
    expect(await value(s.apiAddress)).toBe("vr.lab:8001");
    expect(parse(await value(s.apiClientYaml)).api_connection_string).toBe("vr.lab:8001");
    // A7: the GUI gateway inside the container dials API.hostname (GetAPIHostname, grpc_client/grpc.go:310 @ v0.77.2).
    expect(parse(await value(s.serverConfigYaml)).API.hostname).toBe("localhost");
  });

  it("can run without network isolation and rejects a bad deployment id", async () => {
    const s = new DockerServer("vr4", { deploymentId: "lab-three", profile: "minimal", hostname: "localhost", networkIsolation: false });
    await value(s.containerId); // the container is registered after the network would have been
    expect(ofType("docker:index/network:Network")).toHaveLength(0);
    expect(() => new DockerServer("vr5", { deploymentId: "Bad_Id", profile: "minimal", hostname: "x" })).toThrow(/deploymentId/);
  });
});
