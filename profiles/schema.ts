/**
 * Deployment profiles as validated data. Every field is described (the descriptions are the documentation) and
 * unknown fields are rejected, so a typo in a stack's overrides fails loudly instead of being ignored.
 */
import { z } from "zod";

export const PROFILE_NAMES = ["minimal", "rapid", "standard", "enterprise"] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

const Port = z.number().int().min(1).max(65535);

export const ProfileSchema = z
  .object({
    name: z.enum(PROFILE_NAMES).describe("profile name"),
    description: z.string().describe("what the profile is for"),
    resources: z
      .object({
        memoryMb: z.number().int().min(256).describe("memory limit of the server process/container, MiB"),
        cpus: z.number().positive().max(64).describe("CPU limit (cores)"),
        datastoreGb: z.number().int().min(1).describe("datastore volume size, GiB"),
      })
      .strict(),
    frontends: z
      .object({
        count: z.number().int().min(1).max(32).describe("frontends; >1 = one master plus minions sharing the datastore"),
      })
      .strict(),
    binds: z
      .object({
        gui: z.enum(["localhost", "all"]).describe("GUI bind: localhost only, or all interfaces"),
        api: z.enum(["localhost", "all"]).describe("gRPC API bind; 'all' is needed for remote API clients"),
      })
      .strict(),
    ports: z
      .object({ frontend: Port.describe("client frontend port"), gui: Port.describe("GUI port"), api: Port.describe("gRPC API port"), monitoring: Port.describe("Prometheus metrics port") })
      .strict(),
    monitoring: z.boolean().describe("expose Prometheus metrics"),
    tls: z
      .object({
        selfSigned: z
          .boolean()
          .describe(
            "Client.use_self_signed_ssl: true pins the server name VelociraptorServer; false lets clients also accept publicly issued certificates. Either way the frontend presents the deployment CA's certificate, which 0.77 clients accept (vql/networking/tls.go customVerifyConnection: a certificate signed by Client.ca_certificate passes whatever its name)",
          ),
        certificateValidityDays: z.number().int().min(1).max(3650).describe("validity of frontend, gateway and API certificates"),
      })
      .strict(),
    autoExpiryHours: z.number().int().min(0).describe("0 = never; otherwise an expiry tag so reapers can destroy the deployment"),
    maxClients: z.number().int().min(1).describe("sizing target: endpoints the deployment should handle"),
    logRetentionDays: z.number().int().min(1).describe("days of server logs kept"),
    networkIsolation: z.boolean().describe("default for targets that can isolate (Docker internal network, NetworkPolicy)"),
    highAvailability: z.boolean().describe("use HA features where the target has them (k8s PodDisruptionBudget, restart policies)"),
    cloud: z
      .object({
        awsInstanceType: z.string().describe("EC2 instance type"),
        azureVmSize: z.string().describe("Azure VM size"),
        kubernetes: z
          .object({ requestsCpu: z.string(), requestsMemory: z.string(), limitsCpu: z.string(), limitsMemory: z.string(), minionReplicas: z.number().int().min(0) })
          .strict()
          .describe("Kubernetes requests/limits per pod and minion replicas"),
      })
      .strict(),
  })
  .strict();

export type Profile = z.infer<typeof ProfileSchema>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type ProfileOverrides = DeepPartial<Omit<Profile, "name">>;
