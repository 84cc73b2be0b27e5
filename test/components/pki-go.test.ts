/**
 * A1 with Go's own crypto/x509 as the witness: the certificates Megaraptor issues must pass the verification
 * Velociraptor applies to every gRPC caller (Go default VerifyOptions → serverAuth required). Node's TLS stack does
 * not apply that EKU rule, so only Go can show it. Skips (saying why) where no Go toolchain is installed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generatePki, type PkiOutputs } from "../../components/pki/provider.js";
import { generateCa, issueCertificate } from "../../components/pki/x509.js";

const go = spawnSync("go", ["version"], { encoding: "utf8" });
const haveGo = go.status === 0;
if (!haveGo) console.warn("skipping the Go x509 witness: no Go toolchain on PATH (install golang to run it)");

describe.skipIf(!haveGo)("certificates under Go's x509 verification (Velociraptor's caller identification)", () => {
  let pki: PkiOutputs;
  let dir: string;
  // The same build cache scripts/engines.sh uses, so CI caches one Go folder.
  const env = { ...process.env, GOCACHE: join(process.env.MEGARAPTOR_CACHE ?? join(homedir(), ".cache", "megaraptor"), "go", "build"), GO111MODULE: "off", GOFLAGS: "" };
  const verify = (ca: string, leaf: string): string => {
    const caFile = join(dir, `ca-${Math.random().toString(36).slice(2)}.pem`);
    const leafFile = join(dir, `leaf-${Math.random().toString(36).slice(2)}.pem`);
    writeFileSync(caFile, ca);
    writeFileSync(leafFile, leaf);
    return execFileSync(join(dir, "verify"), [caFile, leafFile], { encoding: "utf8" }).trim();
  };

  beforeAll(async () => {
    mkdirSync(env.GOCACHE, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "mr-go-x509-"));
    execFileSync("go", ["build", "-o", join(dir, "verify"), resolve("test/components/go/verify.go")], { env, stdio: "pipe" });
    pki = await generatePki({ dnsNames: ["vr.example.com"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api"] }], rotation: 0 });
  }, 600_000);

  it("the gateway, frontend and API-client certificates are identified", () => {
    expect(verify(pki.caCertificate, pki.gatewayCertificate)).toBe("ok GRPC_GW");
    expect(verify(pki.caCertificate, pki.serverCertificate)).toBe("ok VelociraptorServer");
    expect(verify(pki.caCertificate, pki.apiClients.megaraptor!.certificate)).toBe("ok megaraptor");
  });

  it("a clientAuth-only certificate (what the gateway and API certificates were before) is refused", async () => {
    const ca = await generateCa();
    const leaf = await issueCertificate(ca, { commonName: "megaraptor", usage: "client" });
    expect(verify(ca.certificate, leaf.certificate)).toMatch(/^fail .*incompatible key usage/);
  });
});
