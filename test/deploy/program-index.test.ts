/** The Pulumi.yaml program itself: stack config in, exports out (imported after setMocks, as Pulumi documents). */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecret, ofType, value, waitForType } from "../helpers/pulumi-mocks.js";

let program: Record<string, pulumi.Output<string> | string>;

beforeAll(async () => {
  await installMocks();
  pulumi.runtime.setAllConfig({
    "megaraptor:target": "docker",
    "megaraptor:profile": "rapid",
    "megaraptor:hostname": "vr.local",
    "megaraptor:case_id": "CASE-9",
    "megaraptor:docker": JSON.stringify({ network_isolation: false }),
  });
  program = (await import("../../deploy/program/index.js")) as unknown as typeof program;
});

describe("stack program", () => {
  it("builds the configured target and exports URLs and secret credentials", async () => {
    expect(program.target).toBe("docker");
    expect(await value(program.serverUrl as pulumi.Output<string>)).toBe("https://vr.local:8000/");
    expect(await isSecret(program.apiClientYaml as pulumi.Output<string>)).toBe(true);
    expect(ofType("megaraptor:index:DockerServer")).toHaveLength(1);
    expect(ofType("docker:index/network:Network")).toHaveLength(0);
    const labels = (await waitForType("docker:index/container:Container"))[0]!.inputs.labels as { label: string; value: string }[];
    expect(labels).toContainEqual({ label: "megaraptor-case", value: "CASE-9" });
  });
});
