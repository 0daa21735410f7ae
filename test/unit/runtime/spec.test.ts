import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildOciSpec, withInit, effectiveCapabilities, convertDockerSeccomp, dockerDefaultProfile,
  DEFAULT_PATH, DOCKER_DEFAULT_CAPABILITIES, ALL_CAPABILITIES, type RuntimeSettings,
} from '../../../src/runtime/index.js';
import { InvalidArgument } from '../../../src/errdefs/index.js';

const base: RuntimeSettings = { id: 'abc', rootfs: '/r', args: ['sh'], kernel: '6.1.0', arch: 'amd64' };

test('the environment gets Docker\'s PATH, HOSTNAME, TERM for a tty and HOME', () => {
  const spec = buildOciSpec({ ...base, hostname: 'web', tty: true, env: ['A=1'] });
  assert.deepEqual(spec.process.env, [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=web', 'A=1', 'TERM=xterm', 'HOME=/root']);
  assert.equal(spec.process.terminal, true);
  assert.equal(spec.hostname, 'web');
});

test('an image PATH, TERM and HOME are kept as given', () => {
  const spec = buildOciSpec({ ...base, tty: true, env: ['PATH=/x', 'TERM=vt100', 'HOME=/h'] });
  assert.deepEqual(spec.process.env, ['PATH=/x', 'TERM=vt100', 'HOME=/h']);
});

test('HOME comes from the resolved user', () => {
  const spec = buildOciSpec({ ...base, user: { uid: 1001, gid: 1001, additionalGids: [10], home: '/home/app' } });
  assert.ok(spec.process.env!.includes('HOME=/home/app'));
  assert.deepEqual(spec.process.user, { uid: 1001, gid: 1001, additionalGids: [10] });
});

test('the default capability set is Docker\'s 14', () => {
  const spec = buildOciSpec(base);
  assert.equal(spec.process.capabilities!.bounding.length, 14);
  assert.deepEqual(new Set(spec.process.capabilities!.effective), new Set(DOCKER_DEFAULT_CAPABILITIES));
  assert.deepEqual(spec.process.capabilities!.permitted, spec.process.capabilities!.bounding);
});

test('cap-add and cap-drop accept names without CAP_ and in any case', () => {
  const caps = effectiveCapabilities({ capAdd: ['net_admin'], capDrop: ['CAP_CHOWN', 'mknod'] });
  assert.ok(caps.includes('CAP_NET_ADMIN'));
  assert.ok(!caps.includes('CAP_CHOWN'));
  assert.ok(!caps.includes('CAP_MKNOD'));
  assert.equal(caps.length, 13);
});

test('cap-drop ALL keeps only the explicit adds', () => {
  assert.deepEqual(effectiveCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE'] }), ['CAP_NET_BIND_SERVICE']);
  assert.deepEqual(effectiveCapabilities({ capDrop: ['all'] }), []);
});

test('cap-add ALL gives every capability but the dropped ones', () => {
  const caps = effectiveCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] });
  assert.equal(caps.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!caps.includes('CAP_SYS_ADMIN'));
});

test('an unknown capability is refused with its name', () => {
  assert.throws(() => effectiveCapabilities({ capAdd: ['FLY'] }), (e: unknown) => e instanceof InvalidArgument && /FLY/.test(e.message));
});

test('privileged gets every capability, no seccomp, no masked paths and writable sysfs', () => {
  const spec = buildOciSpec({ ...base, privileged: true });
  assert.equal(spec.process.capabilities!.bounding.length, ALL_CAPABILITIES.length);
  assert.equal(spec.linux.seccomp, undefined);
  assert.equal(spec.linux.maskedPaths, undefined);
  assert.equal(spec.linux.readonlyPaths, undefined);
  assert.ok(spec.mounts.find((m) => m.destination === '/sys')!.options!.includes('rw'));
  assert.deepEqual(spec.linux.resources!.devices, [{ allow: true, access: 'rwm' }]);
});

test('masked and read-only paths are Docker\'s', () => {
  const spec = buildOciSpec(base);
  assert.ok(spec.linux.maskedPaths!.includes('/proc/kcore'));
  assert.ok(spec.linux.maskedPaths!.includes('/sys/firmware'));
  assert.ok(spec.linux.readonlyPaths!.includes('/proc/sys'));
  assert.ok(spec.linux.readonlyPaths!.includes('/proc/sysrq-trigger'));
});

test('default mounts: proc, /dev tmpfs, devpts with ptmxmode 0666 gid 5, 64m shm, mqueue, ro sysfs and cgroup', () => {
  const spec = buildOciSpec(base);
  const by = (d: string) => spec.mounts.find((m) => m.destination === d);
  assert.equal(by('/proc')?.type, 'proc');
  assert.equal(by('/dev')?.type, 'tmpfs');
  assert.ok(by('/dev/pts')!.options!.includes('ptmxmode=0666'));
  assert.ok(by('/dev/pts')!.options!.includes('gid=5'));
  assert.ok(by('/dev/shm')!.options!.includes('size=65536k'));
  assert.equal(by('/dev/mqueue')?.type, 'mqueue');
  assert.ok(by('/sys')!.options!.includes('ro'));
  assert.ok(by('/sys/fs/cgroup')!.options!.includes('ro'));
});

test('shm size is configurable', () => {
  const spec = buildOciSpec({ ...base, shmSize: 128 * 1024 * 1024 });
  assert.ok(spec.mounts.find((m) => m.destination === '/dev/shm')!.options!.includes('size=131072k'));
});

test('a bind mount is rbind, rprivate and read-only when asked; parents come before children', () => {
  const spec = buildOciSpec({
    ...base,
    mounts: [
      { type: 'bind', source: '/host/b', target: '/data/sub', readonly: true },
      { type: 'bind', source: '/host/a', target: '/data' },
      { type: 'tmpfs', target: '/run', options: ['size=1m'] },
    ],
  });
  const user = spec.mounts.slice(-3);
  assert.deepEqual(user.map((m) => m.destination), ['/data', '/run', '/data/sub']);
  assert.deepEqual(user[2]!.options, ['rbind', 'rprivate', 'ro']);
  assert.deepEqual(user[0]!.options, ['rbind', 'rprivate', 'rw']);
  assert.equal(user[1]!.type, 'tmpfs');
  assert.ok(user[1]!.options!.includes('size=1m'));
});

test('a user mount on /dev/shm replaces the default one', () => {
  const spec = buildOciSpec({ ...base, mounts: [{ type: 'bind', source: '/host/shm', target: '/dev/shm' }] });
  const shm = spec.mounts.filter((m) => m.destination === '/dev/shm');
  assert.equal(shm.length, 1);
  assert.equal(shm[0]!.source, '/host/shm');
});

test('devShm false (--ipc none) drops the default /dev/shm, not a user one', () => {
  assert.equal(buildOciSpec({ ...base, devShm: false }).mounts.filter((m) => m.destination === '/dev/shm').length, 0);
  const spec = buildOciSpec({ ...base, devShm: false, mounts: [{ type: 'tmpfs', target: '/dev/shm' }] });
  assert.deepEqual(spec.mounts.filter((m) => m.destination === '/dev/shm').map((m) => m.source), ['tmpfs']);
});

test('a relative mount target is refused', () => {
  assert.throws(() => buildOciSpec({ ...base, mounts: [{ type: 'tmpfs', target: 'run' }] }), InvalidArgument);
});

test('namespaces are new by default, host ones are left out, paths are joined; cgroupns only on v2', () => {
  const v1 = buildOciSpec(base);
  assert.deepEqual(v1.linux.namespaces.map((n) => n.type).sort(), ['ipc', 'mount', 'network', 'pid', 'uts']);
  const v2 = buildOciSpec({ ...base, cgroupVersion: 2, namespaces: { network: { path: '/run/netns/x' }, pid: 'host' } });
  assert.deepEqual(v2.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/run/netns/x' });
  assert.equal(v2.linux.namespaces.find((n) => n.type === 'pid'), undefined);
  assert.ok(v2.linux.namespaces.some((n) => n.type === 'cgroup'));
});

test('the hostname is not set when sharing the host\'s uts namespace', () => {
  assert.equal(buildOciSpec({ ...base, hostname: 'x', namespaces: { uts: 'host' } }).hostname, undefined);
});

test('cgroupsPath defaults to /hako/<id>; resources pass through next to the device rules', () => {
  const spec = buildOciSpec({ ...base, resources: { memory: { limit: 1 << 20 }, cpu: { shares: 512 }, pids: { limit: 10 } } });
  assert.equal(spec.linux.cgroupsPath, '/hako/abc');
  assert.equal(spec.linux.resources!.memory!.limit, 1 << 20);
  assert.equal(spec.linux.resources!.pids!.limit, 10);
  assert.deepEqual(spec.linux.resources!.devices![0], { allow: false, access: 'rwm' });
});

test('RLIMIT_NOFILE is 1048576 by default, capped by the host, and ulimits override it', () => {
  assert.deepEqual(buildOciSpec(base).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 }]);
  assert.deepEqual(buildOciSpec({ ...base, hostNofileLimit: 20000 }).process.rlimits, [{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
  const spec = buildOciSpec({ ...base, ulimits: [{ name: 'nofile', soft: 100, hard: 200 }, { name: 'nproc', soft: 5, hard: 5 }] });
  assert.deepEqual(spec.process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 }, { type: 'RLIMIT_NPROC', soft: 5, hard: 5 },
  ]);
  assert.throws(() => buildOciSpec({ ...base, ulimits: [{ name: 'nofile', soft: 3, hard: 2 }] }), InvalidArgument);
  assert.throws(() => buildOciSpec({ ...base, ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }), InvalidArgument);
});

test('readonly rootfs, oomScoreAdj, sysctls and no-new-privileges are carried', () => {
  const spec = buildOciSpec({ ...base, readonlyRootfs: true, oomScoreAdj: 500, sysctls: { 'net.ipv4.ip_forward': '1' }, noNewPrivileges: true, cwd: '/app' });
  assert.equal(spec.root.readonly, true);
  assert.equal(spec.process.oomScoreAdj, 500);
  assert.deepEqual(spec.linux.sysctl, { 'net.ipv4.ip_forward': '1' });
  assert.equal(spec.process.noNewPrivileges, true);
  assert.equal(spec.process.cwd, '/app');
});

test('an empty command is refused', () => {
  assert.throws(() => buildOciSpec({ ...base, args: [] }), /no command specified/);
});

test('--init binds the init binary at /sbin/docker-init and runs it before the command', () => {
  const { mount, args } = withInit(['nginx', '-g', 'daemon off;'], '/usr/bin/tini-static');
  assert.deepEqual(args, ['/sbin/docker-init', '--', 'nginx', '-g', 'daemon off;']);
  const spec = buildOciSpec({ ...base, args, mounts: [mount] });
  const m = spec.mounts.find((x) => x.destination === '/sbin/docker-init')!;
  assert.equal(m.source, '/usr/bin/tini-static');
  assert.ok(m.options!.includes('ro'));
});

test('the default seccomp profile is Docker\'s for amd64: errno by default, x86 sub-arches', () => {
  const sc = buildOciSpec(base).linux.seccomp!;
  assert.equal(sc.defaultAction, 'SCMP_ACT_ERRNO');
  assert.equal(sc.defaultErrnoRet, 1);
  assert.deepEqual(sc.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const allowed = new Set(sc.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  assert.ok(allowed.has('read'));
  assert.ok(allowed.has('arch_prctl'), 'amd64-only syscall included');
  assert.ok(!allowed.has('s390_runtime_instr'), 's390 syscall left out');
  assert.ok(!allowed.has('mount'), 'CAP_SYS_ADMIN syscalls left out without the capability');
  assert.ok(!allowed.has('reboot'));
  // clone is allowed only with flag filtering when CAP_SYS_ADMIN is missing
  assert.ok(sc.syscalls!.some((s) => s.names.includes('clone') && s.args?.[0]?.op === 'SCMP_CMP_MASKED_EQ'));
  assert.ok(sc.syscalls!.some((s) => s.names.includes('clone3') && s.errnoRet === 38));
});

test('adding SYS_ADMIN opens its syscalls and drops the clone filter', () => {
  const sc = buildOciSpec({ ...base, capAdd: ['SYS_ADMIN'] }).linux.seccomp!;
  const allowed = new Set(sc.syscalls!.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));
  assert.ok(allowed.has('mount'));
  assert.ok(allowed.has('clone'));
  assert.ok(!sc.syscalls!.some((s) => s.names.includes('clone3') && s.errnoRet === 38));
});

test('minKernel rules follow the kernel version', () => {
  const old = convertDockerSeccomp(dockerDefaultProfile(), { capabilities: [], arch: 'amd64', kernel: '4.4.0' });
  const cur = convertDockerSeccomp(dockerDefaultProfile(), { capabilities: [], arch: 'amd64', kernel: '5.10.0' });
  const has = (sc: typeof old, n: string) => sc.syscalls!.some((s) => s.names.includes(n) && s.action === 'SCMP_ACT_ALLOW');
  assert.ok(!has(old, 'ptrace'));
  assert.ok(has(cur, 'ptrace'));
});

test('arm64 gets its own architectures and arm-only syscalls', () => {
  const sc = convertDockerSeccomp(dockerDefaultProfile(), { capabilities: [], arch: 'arm64', kernel: '6.1' });
  assert.deepEqual(sc.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(sc.syscalls!.some((s) => s.names.includes('arm_fadvise64_64')));
  assert.ok(!sc.syscalls!.some((s) => s.names.includes('arch_prctl')));
});

test('seccomp unconfined sets no filter; a custom profile is converted', () => {
  assert.equal(buildOciSpec({ ...base, seccomp: 'unconfined' }).linux.seccomp, undefined);
  const sc = buildOciSpec({ ...base, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }] } }).linux.seccomp!;
  assert.equal(sc.defaultAction, 'SCMP_ACT_ALLOW');
  assert.deepEqual(sc.syscalls, [{ names: ['chmod'], action: 'SCMP_ACT_ERRNO' }]);
});

test('building a spec does not change the settings it was given', () => {
  const settings: RuntimeSettings = { ...base, env: ['A=1'], resources: { memory: { limit: 5 } } };
  const copy = structuredClone(settings);
  const spec = buildOciSpec(settings);
  spec.process.env!.push('B=2');
  spec.linux.resources!.memory!.limit = 9;
  assert.deepEqual(settings, copy);
});
