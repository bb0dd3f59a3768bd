// Running one command on an SSH channel: the wrapper that reports its pid, and stopping it by signal.
import type { ClientChannel } from "ssh2";
import { shellCommand } from "./types.js";

/**
 * Sends an SSH "signal" channel request. ssh2's Channel.signal() silently does nothing once stdin was ended
 * (it checks `writable`, ssh2 lib/Channel.js), but the request is valid while the channel is open, so send it
 * through the channel's protocol object in that case.
 */
export function sendSignal(stream: ClientChannel, sig: string): void {
  const ch = stream as unknown as { outgoing?: { id: number; state: string }; _client?: { _protocol?: { signal(id: number, s: string): void } } };
  if (stream.writable) return void stream.signal(sig);
  if (ch.outgoing && ["open", "eof"].includes(ch.outgoing.state)) ch._client?._protocol?.signal(ch.outgoing.id, sig);
}

// Every remote command starts as `sh -c 'echo "hwledger-pid $$" >&2; exec "$@"' argv…`: the first stderr line
// is its pid (also its process group: sshd starts non-pty sessions with setsid). Stopping a command then
// works everywhere with `kill -SIG -- -PGID` on a second channel; the SSH signal request alone does not when
// the login is root ("session signalling requires privilege separation", OpenSSH session.c session_signal_req).
const PID_PREFIX = "hwledger-pid ";
export function wrapped(argv: readonly string[]): string {
  return shellCommand(["sh", "-c", `echo "${PID_PREFIX}$$" >&2; exec "$@"`, "hwledger", ...argv]);
}

/** Splits the pid line off a command's stderr, passing the rest through. */
export function pidFilter(onPid: (pid: number) => void, onData: (b: Buffer) => void): (b: Buffer) => void {
  let head: Buffer | null = Buffer.alloc(0);
  return (b: Buffer) => {
    if (head === null) return onData(b);
    head = Buffer.concat([head, b]);
    const nl = head.indexOf(10);
    if (nl < 0) return;
    const line = head.subarray(0, nl).toString("utf8");
    const rest = head.subarray(nl + 1);
    head = null;
    if (line.startsWith(PID_PREFIX)) onPid(Number(line.slice(PID_PREFIX.length)));
    else onData(Buffer.from(line + "\n"));
    if (rest.length) onData(rest);
  };
}
