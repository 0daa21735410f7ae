import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, readSync, closeSync, existsSync, fstatSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { native, SeqpacketSocket } from '../../../src/native/index.js';
import { startPython } from './python-peer.js';

/** A directory whose socket paths are longer than sun_path's 108 bytes, as exec roots can be. */
function deepDir(base: string): string {
  const dir = join(base, 'a'.repeat(60), 'b'.repeat(60));
  mkdirSync(dir, { recursive: true });
  return dir;
}

// Serves one SOCK_SEQPACKET connection at argv[1]/argv[2] (bound relative, so any length works):
// sends three packets and a large one, then echoes back what it receives, as packets, then closes
// right after its last send, so packets still queued at the hang-up must not be lost.
const SEQPACKET_SERVER = `
import os, socket, sys
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[2]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.send(b"one"); c.send(b"two"); c.send(b"\\x02three"); c.send(b"x" * 8193)
got = [c.recv(65536), c.recv(65536)]
print(repr(got), flush=True)
for g in got: c.send(b"echo:" + g)
c.close()
`;

test('SeqpacketSocket reads each packet whole and in order, even those queued when the peer hangs up', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const dir = deepDir(base);
    const path = join(dir, 'attach');
    assert.ok(Buffer.byteLength(path) > 108);
    const peer = startPython(SEQPACKET_SERVER, [dir, 'attach']);
    assert.equal(await peer.line(), 'ready');
    const socket = SeqpacketSocket.connect(path);
    // O_NONBLOCK (04000) and O_CLOEXEC (02000000) in the octal flags of /proc/self/fdinfo.
    const flags = parseInt(/flags:\s*(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${socket.fd}`, 'utf8'))![1]!, 8);
    assert.equal(flags & 0o4000, 0o4000);
    assert.equal(flags & 0o2000000, 0o2000000);
    const packets: Buffer[] = [];
    socket.on('data', (p: Buffer) => packets.push(p));
    // Listen for 'close' before waiting on anything else: the peer hangs up right after its last
    // send, so the socket may close before the peer's line reaches us, and a listener added then
    // would wait forever (the event loop drains and node:test cancels the file).
    const closed = once(socket, 'close');
    socket.write(Buffer.from('hello'));
    socket.write(Buffer.from('world'));
    assert.equal(await peer.line(), "[b'hello', b'world']");
    await closed;
    assert.deepEqual(packets.map((p) => p.toString('latin1')), [
      'one', 'two', '\x02three', 'x'.repeat(8193), 'echo:hello', 'echo:world',
    ]);
    assert.equal(await peer.exited, 0);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('SeqpacketSocket keeps packets apart while its reader is paused', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const peer = startPython(SEQPACKET_SERVER, [base, 'attach']);
    assert.equal(await peer.line(), 'ready');
    const socket = SeqpacketSocket.connect(join(base, 'attach'));
    socket.write(Buffer.from('a'));
    socket.write(Buffer.from('b'));
    assert.equal(await peer.line(), "[b'a', b'b']");
    await new Promise((r) => setTimeout(r, 100)); // let every packet arrive before reading any
    const packets: string[] = [];
    for await (const p of socket) packets.push((p as Buffer).toString('latin1'));
    assert.deepEqual(packets, ['one', 'two', '\x02three', 'x'.repeat(8193), 'echo:a', 'echo:b']);
    assert.equal(await peer.exited, 0);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// Sends three packets and closes without reading what it was sent, as conmon does when the
// container exits with stdin still queued: the kernel then marks our socket with ECONNRESET.
const RESETTING_SERVER = `
import os, socket, sys
os.chdir(sys.argv[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[2]); s.listen(1)
print("ready", flush=True)
c, _ = s.accept()
c.recv(16, socket.MSG_PEEK)
c.send(b"one"); c.send(b"two"); c.send(b"last")
c.close()
print("closed", flush=True)
`;

test('SeqpacketSocket reads every packet and ends cleanly when the peer closes with our packets unread', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    for (const readEarly of [false, true]) {
      const peer = startPython(RESETTING_SERVER, [base, `attach-${readEarly}`]);
      assert.equal(await peer.line(), 'ready');
      const socket = SeqpacketSocket.connect(join(base, `attach-${readEarly}`));
      const closed = once(socket, 'close');
      const errors: Error[] = [];
      socket.on('error', (e: Error) => errors.push(e));
      const packets: string[] = [];
      if (readEarly) socket.on('data', (p: Buffer) => packets.push(p.toString()));
      socket.write(Buffer.from('never read'));
      assert.equal(await peer.line(), 'closed');
      assert.equal(await peer.exited, 0);
      if (!readEarly) socket.on('data', (p: Buffer) => packets.push(p.toString()));
      await closed;
      assert.deepEqual(packets, ['one', 'two', 'last'], `reading ${readEarly ? 'from the start' : 'after the reset'}`);
      assert.deepEqual(errors, []);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('seqpacketConnect fails with ENOENT naming the path, for short and long paths', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    assert.throws(() => native().seqpacketConnect(join(base, 'nobody')), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOENT');
      assert.ok(err.message.includes(join(base, 'nobody')));
      return true;
    });
    const longMissing = join(deepDir(base), 'nobody');
    assert.throws(() => native().seqpacketConnect(longMissing), { code: 'ENOENT' });
    assert.throws(() => native().seqpacketConnect(join(base, 'no-such-dir', 'x'.repeat(120))), { code: 'ENOENT' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// Connects to argv[1]/argv[2] like runc's --console-socket and sends the fd of the file argv[3].
const FD_SENDER = `
import os, socket, sys, time
os.chdir(sys.argv[1])
for _ in range(200):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[2]); break
    except (FileNotFoundError, ConnectionRefusedError):
        s.close(); time.sleep(0.01)
f = os.open(sys.argv[3], os.O_RDONLY)
socket.send_fds(s, [b"\\0"], [f])
print("sent", flush=True)
`;

test('receiveFd resolves with a working fd that a peer sent with SCM_RIGHTS, then removes its socket', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const dir = deepDir(base);
    const sock = join(dir, 'console.sock');
    writeFileSync(join(base, 'payload'), 'handed over');
    const received = native().receiveFd(sock, 5000);
    assert.ok(existsSync(sock), 'the socket listens as soon as receiveFd returns');
    const peer = startPython(FD_SENDER, [dir, 'console.sock', join(base, 'payload')]);
    const fd = await received;
    try {
      const buf = Buffer.alloc(64);
      const n = readSync(fd, buf, 0, buf.length, 0);
      assert.equal(buf.subarray(0, n).toString(), 'handed over');
      assert.ok(fstatSync(fd).isFile());
    } finally {
      closeSync(fd);
    }
    assert.equal(await peer.line(), 'sent');
    assert.equal(await peer.exited, 0);
    assert.equal(existsSync(sock), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('receiveFd rejects with ETIMEDOUT when nobody connects, and removes its socket', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const sock = join(base, 'console.sock');
    const started = Date.now();
    await assert.rejects(native().receiveFd(sock, 200), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ETIMEDOUT');
      assert.ok(err.message.includes(sock));
      return true;
    });
    assert.ok(Date.now() - started >= 190);
    assert.equal(existsSync(sock), false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('receiveFd rejects when its socket cannot be created', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    writeFileSync(join(base, 'taken'), '');
    await assert.rejects(native().receiveFd(join(base, 'taken'), 1000), { code: 'EADDRINUSE' });
    await assert.rejects(native().receiveFd(join(base, 'missing-dir', 'sock'), 1000), { code: 'ENOENT' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// Opens a pty, sends its master like runc does for `exec -t`, then reports the size the slave
// sees once told to.
const PTY_SENDER = `
import fcntl, os, socket, struct, sys, termios
os.chdir(sys.argv[1])
master, slave = os.openpty()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(sys.argv[2])
socket.send_fds(s, [b"\\0"], [master]); os.close(master)
print("sent", flush=True)
sys.stdin.readline()
rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\\0" * 8))
print(rows, cols, flush=True)
`;

test('setWinsize resizes a pty whose master came through receiveFd', async () => {
  const base = mkdtempSync(join(tmpdir(), 'hako-native-'));
  try {
    const received = native().receiveFd(join(base, 'console.sock'), 5000);
    const { spawn } = await import('node:child_process');
    const { createInterface } = await import('node:readline');
    const child = spawn('python3', ['-c', PTY_SENDER, base, 'console.sock'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const master = await received;
    try {
      assert.equal((await lines.next()).value, 'sent');
      native().setWinsize(master, 42, 137);
      child.stdin!.write('go\n');
      assert.equal((await lines.next()).value, '42 137');
    } finally {
      closeSync(master);
    }
    assert.throws(() => native().setWinsize(master, 1, 1), { code: 'EBADF' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
