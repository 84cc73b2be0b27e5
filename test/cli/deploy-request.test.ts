/** `megaraptor deploy` flags land on the one deploy request schema under the same names (cli/commands/deploy.ts). */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { deployRequest, register } from "../../cli/commands/deploy.js";
import { parseDeployRequest } from "../../deploy/request/index.js";

function parse(argv: string[]): Record<string, unknown> {
  const program = new Command().exitOverride();
  register(program);
  let opts: Record<string, unknown> = {};
  const deploy = program.commands.find((c) => c.name() === "deploy")!;
  deploy.action((o: Record<string, unknown>) => void (opts = o));
  program.parse(["node", "megaraptor", "deploy", ...argv]);
  return opts;
}

describe("megaraptor deploy flags", () => {
  it("map onto deploy_server's request: ssh flags make the ssh section, the binary flags go to the target's section", () => {
    const sha = "e".repeat(64);
    const req = parseDeployRequest(deployRequest(parse(["--deployment-id", "lab-1", "--target", "ssh", "--hostname", "vr.lab", "--case-id", "IR-7", "--ssh-host", "127.0.0.1", "--ssh-port", "2222", "--binary-url", "http://127.0.0.1:8080/velociraptor", "--binary-sha256", sha, "--tag", "team=ir", "--set", "resources.memoryMb=4096"])));
    expect(req).toMatchObject({ deployment_id: "lab-1", target: "ssh", hostname: "vr.lab", case_id: "IR-7", tags: { team: "ir" }, overrides: { resources: { memoryMb: 4096 } }, wait_healthy: true, skip_preflight: false });
    expect(req.ssh).toEqual({ host: "127.0.0.1", port: 2222, user: "root", binary_url: "http://127.0.0.1:8080/velociraptor", binary_sha256: sha, open_firewall: false, remove_datastore_on_delete: false });
    const aws = parseDeployRequest(deployRequest(parse(["--deployment-id", "cloud-1", "--target", "aws", "--binary-sha256", sha, "--no-wait-healthy"])));
    expect(aws).toMatchObject({ aws: { binary_sha256: sha }, wait_healthy: false });
    expect(aws.ssh).toBeUndefined();
  });
});
