/**
 * Real small file systems for write-failure tests: a tmpfs of a few KiB fills up for real (ENOSPC), and remounted
 * read-only it refuses writes for real (EROFS). Mounting needs root (CAP_SYS_ADMIN); where it is not possible the
 * probe says why, and the tests skip with that reason printed.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  dir: string;
  remountReadOnly(): void;
  remountReadWrite(): void;
  unmount(): void;
}

function run(args: string[]): void {
  execFileSync("mount", args, { stdio: ["ignore", "ignore", "pipe"] });
}

/** Mounts a tmpfs of `sizeKiB`; returns why not when it cannot. */
export function mountSmallDisk(sizeKiB: number): SmallDisk | { skip: string } {
  if (process.platform !== "linux") return { skip: `tmpfs mounts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root; run the suite as root (CI does) to test a real full and read-only disk" };
  const dir = mkdtempSync(join(tmpdir(), "mr-disk-"));
  try {
    run(["-t", "tmpfs", "-o", `size=${sizeKiB}k,mode=0700`, "tmpfs", dir]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    return { skip: `mount -t tmpfs failed (${stderr || "no reason given"}); the container lacks CAP_SYS_ADMIN` };
  }
  return {
    dir,
    remountReadOnly: () => run(["-o", "remount,ro", dir]),
    remountReadWrite: () => run(["-o", "remount,rw", dir]),
    unmount: () => {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Paths of the files a process (default: this one) holds open under `dir` (Linux /proc), to prove a failed write closed its file. */
export function openFilesUnder(dir: string, pid: number = process.pid): string[] {
  const fds = `/proc/${pid}/fd`;
  const out: string[] = [];
  for (const fd of readdirSync(fds)) {
    try {
      const target = readlinkSync(join(fds, fd));
      if (target.startsWith(dir + "/") || target.startsWith(dir + " ")) out.push(target);
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}
