/** Which ports a deployment opens, to whom: the one rule set AWS security groups and Azure NSGs are built from. */
import type { Profile } from "../../profiles/schema.js";

export interface PortRule {
  name: string;
  port: number;
  cidrs: string[];
  description: string;
}

export function exposureRules(profile: Profile, o: { clientCidrs?: string[]; adminCidrs?: string[] }): PortRule[] {
  const clients = o.clientCidrs ?? ["0.0.0.0/0"];
  const admins = o.adminCidrs ?? [];
  const rules: PortRule[] = [{ name: "frontend", port: profile.ports.frontend, cidrs: clients, description: "Velociraptor clients (frontend, TLS)" }];
  // GUI and API never default to the internet: they are opened only to the admin CIDRs given.
  if (admins.length) {
    rules.push({ name: "gui", port: profile.ports.gui, cidrs: admins, description: "Velociraptor GUI (admins)" });
    if (profile.binds.api === "all") rules.push({ name: "api", port: profile.ports.api, cidrs: admins, description: "Velociraptor gRPC API (admins, mTLS)" });
  }
  return rules;
}

/**
 * Cloud targets: with admin CIDRs the GUI and the API must listen beyond localhost; the firewall keeps them to those
 * CIDRs. The API too, because Megaraptor itself (its health wait, every MCP tool) calls it from the admin's machine
 * at api_client.yaml's address; it needs a certificate from the deployment's CA and a user with roles.
 */
export function withAdminAccess(profile: Profile, adminCidrs?: string[]): Profile {
  return adminCidrs?.length ? { ...profile, binds: { gui: "all", api: "all" } } : profile;
}
