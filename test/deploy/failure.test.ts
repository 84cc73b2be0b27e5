/** The one-line reason of a failed Pulumi operation, from the CLI's real output (Pulumi v3.248.0, recorded here). */
import { describe, expect, it } from "vitest";
import { failureDetail } from "../../deploy/automation/failure.js";

/** What the Automation API's CommandError carried when the SSH install refused a binary (trimmed, text verbatim). */
const SHA_REFUSED = ` stderr: Command failed with exit code 1: /root/.cache/megaraptor/engines/pulumi-3.248.0/bin/pulumi up --yes --skip-preview --client=127.0.0.1:33185 --exec-kind auto.inline --stack t --non-interactive
Updating (t):

 +  pulumi:pulumi:Stack repro-t creating (0s) 
 +  pulumi-nodejs:dynamic:Resource lab-install creating (0s) error: SSH to root@192.0.2.10:22: "download the binary" failed (exit 65):
 +  pulumi-nodejs:dynamic:Resource lab-install **creating failed** error: SSH to root@192.0.2.10:22: "download the binary" failed (exit 65):
 +  pulumi:pulumi:Stack repro-t creating (7s) error: update failed
 +  pulumi:pulumi:Stack repro-t **creating failed (7s)** 1 error; 1 warning
Diagnostics:
  pulumi:pulumi:Stack (repro-t):
    warning: using pulumi-resource-pulumi-nodejs from $PATH at /work/wt/engine2/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs
    error: update failed

  pulumi-nodejs:dynamic:Resource (lab-install):
    error: SSH to root@192.0.2.10:22: "download the binary" failed (exit 65):
    binarySha256: http://x/v has SHA-256 aaa, not the pinned bbb; refused, nothing was installed

Resources:
    + 1 created
    2 errored

Duration: 8s
`;

const CANCELLED = ` err?: Error: Command failed with exit code 1: /root/.cache/megaraptor/engines/pulumi-3.248.0/bin/pulumi up --yes --skip-preview --stack engine-ssh --non-interactive
    pulumi:pulumi:Stack megaraptor-engine-ssh running error: update canceled
    pulumi:pulumi:Stack megaraptor-engine-ssh **failed** 1 error; 2 warnings
Diagnostics:
  pulumi:pulumi:Stack (megaraptor-engine-ssh):
    error: update canceled
`;

describe("failureDetail", () => {
  it("keeps every line of a resource's error, not only the one saying 'failed'", () => {
    expect(failureDetail(SHA_REFUSED)).toBe('SSH to root@192.0.2.10:22: "download the binary" failed (exit 65): binarySha256: http://x/v has SHA-256 aaa, not the pinned bbb; refused, nothing was installed');
  });

  it("reports each error once although the message carries the output twice", () => {
    expect(failureDetail(SHA_REFUSED + "\n err?: Error: " + SHA_REFUSED).split(" | ")).toHaveLength(1);
  });

  it("says the stack's own error when no resource failed (a cancelled update), without the command line", () => {
    expect(failureDetail(CANCELLED)).toBe("update canceled");
  });

  it("falls back to the lines naming an error when the output has no Diagnostics", () => {
    expect(failureDetail("something\nconnect failed: ECONNREFUSED\nmore")).toBe("connect failed: ECONNREFUSED");
    expect(failureDetail("no detail at all")).toBe("no detail at all");
  });
});
