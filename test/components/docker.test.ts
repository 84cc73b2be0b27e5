import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, unwrapSecret, value } from "../helpers/pulumi-mocks.js";

let DockerServer: typeof import("../../components/docker/index.js").DockerServer;

beforeAll(async () => {
  await installMocks();
  ({ DockerServer } = await import("../../components/docker/index.js"));
});
beforeEach(resetRegistrations);

// A9: the kreuzwerker provider behind @pulumi/docker replaces a container whose uploads or labels change
// (resource_docker_container.go:833-839, 987-991: ForceNew), volumes/networks whose labels change
// (resource_docker_volume.go:48-53, resource_docker_network.go:32-37), and Pulumi creates the replacement before
// deleting the original — which collides with the fixed name and host ports (pulumi/pulumi-docker#1356).
describe("DockerServer day-2 changes", () => {
  it("replaces the container delete-first, and never replaces the datastore volume or network for a label", async () => {
    const seen: { type: string; name: string; opts: pulumi.CustomResourceOptions }[] = [];
    const s = new DockerServer("dr", { deploymentId: "ir-day2", profile: "standard", hostname: "vr.example.com" }, {
      transformations: [(a) => { seen.push({ type: a.type, name: a.name, opts: a.opts as pulumi.CustomResourceOptions }); return undefined; }],
    });
    await value(s.containerId);
    const opts = (t: string) => seen.find((r) => r.type === t)!.opts;
    expect(opts("docker:index/container:Container").deleteBeforeReplace).toBe(true);
    expect(opts("docker:index/volume:Volume").ignoreChanges).toContain("labels");
    expect(opts("docker:index/network:Network").ignoreChanges).toContain("labels");
  });

  // B6: the expiry is counted from the deployment's creation time kept in state (DeploymentClock), not from the
  // clock of whichever run computes it — otherwise every `pulumi up` changes a label and replaces the container.
  it("the expiry label comes from the deployment's creation time in state", async () => {
    const s = new DockerServer("dx", { deploymentId: "ir-expiry", profile: "rapid", hostname: "vr.example.com" });
    await value(s.containerId);
    const c = ofType("docker:index/container:Container").find((r) => r.name === "dx-server")!.inputs;
    const labels = Object.fromEntries(c.labels.map((l: { label: string; value: string }) => [l.label, l.value]));
    expect(labels["megaraptor-expires-at"]).toBe("2030-01-04T00-00-00.000Z"); // MOCK_CREATED_AT + 72 h, label-safe
  });
});

describe("DockerServer", () => {
  it("builds PKI, image, volume, isolated network and a container with the profile's limits", async () => {
    const s = new DockerServer("vr", { deploymentId: "ir-case-42", profile: "standard", hostname: "vr.example.com", caseId: "CASE-42", owner: "alice" });
    await value(s.containerId);
    const types = registrations.map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(["megaraptor:index:DockerServer", "megaraptor:index:VelociraptorPki", "docker:index/remoteImage:RemoteImage", "docker:index/volume:Volume", "docker:index/network:Network", "docker:index/container:Container"]));
    const c = ofType("docker:index/container:Container")[0]!.inputs;
    expect(c.memory).toBe(2048);
    // A2: the user bootstrap runs before the server, in the container, on every start (the official image does
    // `user add` the same way before `frontend -v`: Docker/entrypoint @ v0.77.2).
    expect(c.entrypoints).toEqual(["/bin/sh", "-c"]);
    expect(c.command).toEqual(["/bin/sh /etc/velociraptor/bootstrap-users.sh && exec /bin/velociraptor --config /etc/velociraptor/server.config.yaml frontend -v"]);
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
    const upload = uploads.value.find((u: { file: string }) => u.file === "/etc/velociraptor/server.config.yaml");
    expect(upload.permissions).toBe("0600");
    const users = uploads.value.find((u: { file: string }) => u.file === "/etc/velociraptor/bootstrap-users.sh");
    expect(users.permissions).toBe("0600");
    expect(users.content).toContain("'/bin/velociraptor' --config '/etc/velociraptor/server.config.yaml'");
    expect(users.content).toContain(`vr user add 'admin' '${(await value(s.guiPasswords)).admin}' --role 'administrator'`);
    expect(users.content).toContain("vr config api_client --name 'megaraptor' --role 'api,investigator' /dev/null");
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
