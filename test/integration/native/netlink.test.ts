import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { native, MNT_DETACH } from '../../../src/native/index.js';
import * as nl from '../../../src/network/netlink.js';

/** A fresh network namespace bound in a temp dir, removed after `fn` whatever happens. */
async function withNetns(fn: (nsPath: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hako-nl-'));
  const ns = join(dir, 'ns');
  try {
    closeSync(openSync(ns, 'w', 0o444));
    native().newNetns(ns);
    await fn(ns);
  } finally {
    try { native().umount2(ns, MNT_DETACH); } catch { /* not mounted */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a netlink socket opened for a namespace talks to that namespace, and hakod stays in its own', async () => {
  const before = readFileSync('/proc/self/net/dev', 'utf8');
  await withNetns((ns) => {
    const a = native();
    const fd = a.netlinkOpen(ns);
    try {
      // A batch: lo up, a veth pair kept inside, then both looked up; replies in order.
      const replies = a.netlinkTalk(fd, nl.batch([
        nl.setLinkUp('lo'),
        nl.newVeth({ name: 'nla', peer: 'nlb' }),
        nl.getLink('lo'),
        nl.getLink('nla'),
      ]));
      assert.equal(replies.length, 2);
      assert.equal(nl.linkIndex(replies[0]!), 1);
      assert.ok(nl.linkIndex(replies[1]!) > 1);
      const shown = execFileSync('nsenter', [`--net=${ns}`, 'ip', '-o', 'link']).toString();
      assert.match(shown, /1: lo: <LOOPBACK,UP,LOWER_UP>/);
      assert.match(shown, /nla@/);
    } finally {
      closeSync(fd);
    }
  });
  assert.equal(readFileSync('/proc/self/net/dev', 'utf8').split('\n').length, before.split('\n').length, 'a link appeared in hakod\'s namespace');
});

test('a failed message throws its errno name, its place in the batch and the kernel\'s text; the others still answer', async () => {
  await withNetns((ns) => {
    const a = native();
    const fd = a.netlinkOpen(ns);
    try {
      const err = (() => {
        try {
          a.netlinkTalk(fd, nl.batch([nl.setLinkUp('lo'), nl.getLink('eth9'), nl.setLinkUp('lo')]));
        } catch (e) {
          return e as NodeJS.ErrnoException & { index: number; extack: string };
        }
        return null;
      })();
      assert.ok(err, 'looking up a missing link succeeded');
      assert.equal(err.code, 'ENODEV');
      assert.equal(err.index, 1);
      assert.equal(typeof err.extack, 'string');
      assert.match(err.message, /ENODEV: No such device, netlink message 2 of 3/);
      // The socket is still in step: the next request is answered, not a stale ack.
      assert.equal(nl.linkIndex(a.netlinkTalk(fd, nl.batch([nl.getLink('lo')]))[0]!), 1);
      // The kernel's own words come along where it has them (extended ack).
      assert.throws(() => a.netlinkTalk(fd, nl.batch([nl.addAddress4(1, '127.0.0.9', 40)])), (e: NodeJS.ErrnoException & { extack: string }) => e.code === 'EINVAL' && /prefix length/i.test(e.extack));
      // A message without NLM_F_ACK would never be answered: refused before sending.
      assert.throws(() => a.netlinkTalk(fd, nl.nlmsg(nl.RTM_GETLINK, nl.NLM_F_REQUEST, 1, nl.ifinfomsg())), /NLM_F_ACK/);
    } finally {
      closeSync(fd);
    }
  });
  assert.throws(() => native().netlinkOpen('/nonexistent/ns'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT' && /nonexistent/.test(e.message));
});
