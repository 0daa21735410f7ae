/**
 * `hako image bootstrap NAME[:TAG]`: the daemon makes a Debian base image with debootstrap from
 * the Debian mirror this host reaches (no image registry needed); progress lines as it goes, the
 * image id at the end. TAG defaults to the suite (`debian` + `--suite bookworm` -> debian:bookworm).
 */
import { jsonLines } from '../../client/index.js';
import type { Command } from '../command.js';
import { StatusError } from '../errors.js';
import { splitRepoTag, validateReference } from '../refs.js';
import { commaList } from '../flag-values.js';

export const imageBootstrap: Command = {
  spec: {
    use: '[OPTIONS] NAME[:TAG]',
    short: 'Make a Debian base image with debootstrap (no registry needed)',
    aliases: 'hako image bootstrap',
    flags: [
      { name: 'suite', kind: 'string', usage: 'Debian suite (codename) to install; also the default TAG', default: 'bookworm' },
      { name: 'variant', kind: 'string', usage: 'debootstrap variant: "minbase" (what Docker\'s debian images hold) or "buildd"', default: 'minbase' },
      { name: 'include', kind: 'stringArray', valueName: 'pkg,pkg', usage: 'Extra Debian packages to install' },
      { name: 'mirror', kind: 'string', usage: 'Debian mirror URL (default: the daemon host\'s apt mirror)' },
      { name: 'quiet', short: 'q', kind: 'bool', usage: 'Print only the image ID' },
    ],
    args: { min: 1, max: 1 },
  },
  async run(cli, flags, args) {
    const ref = args[0] as string;
    const bad = validateReference(ref);
    if (bad) throw new StatusError(125, bad);
    const [repo, tag] = splitRepoTag(ref);
    const include = commaList(flags.array('include'));
    const quiet = flags.bool('quiet');
    const mirror = flags.string('mirror');
    const client = await cli.client();
    const res = await client.imageBootstrap({
      repo, ...(tag ? { tag } : {}), suite: flags.string('suite'), variant: flags.string('variant'), include,
      ...(mirror ? { mirror } : {}),
    });
    let id = '';
    for await (const msg of jsonLines(res)) {
      if (msg.error || msg.errorDetail?.message) throw new StatusError(1, msg.errorDetail?.message ?? msg.error ?? 'bootstrap failed');
      const aux = msg.aux as { ID?: string } | undefined;
      if (aux?.ID) id = aux.ID;
      if (typeof msg.stream === 'string' && !quiet) cli.stdout.write(msg.stream);
    }
    if (!id) throw new StatusError(1, 'the daemon ended the bootstrap without an image id');
    cli.out(quiet ? id : `${id}\n${repo}:${tag || flags.string('suite')} bootstrapped`);
  },
};
