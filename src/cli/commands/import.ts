/** `hako import`: a rootfs tarball (file or `-` for stdin) becomes a one-layer image. */
import type { Command } from '../command.js';
import { displayProgress } from '../progress.js';
import { optionalRepoTag } from '../refs.js';
import { openInput } from '../io.js';

export const importCmd: Command = {
  spec: {
    use: '[OPTIONS] file|URL|- [REPOSITORY[:TAG]]',
    short: 'Import the contents from a tarball to create a filesystem image',
    aliases: 'hako image import, hako import',
    flags: [
      { name: 'change', short: 'c', kind: 'stringArray', valueName: 'list', usage: 'Apply Dockerfile instruction to the created image' },
      { name: 'message', short: 'm', kind: 'string', usage: 'Set commit message for imported image' },
      { name: 'platform', kind: 'string', usage: 'Set platform if server is multi-platform capable' },
    ],
    args: { min: 1, max: 2 },
  },
  async run(cli, flags, args) {
    const [source, ref] = args as [string, string | undefined];
    const { repo, tag } = optionalRepoTag(ref);
    const isUrl = /^https?:\/\//.test(source);
    const tar = isUrl ? null : source === '-' ? cli.stdin : await openInput(source);
    const client = await cli.client();
    const res = await client.imageImport(tar, {
      fromSrc: isUrl ? source : '-',
      repo, tag, message: flags.string('message') || undefined,
      changes: flags.array('change'), platform: flags.string('platform') || undefined,
    });
    await displayProgress(res, cli.stdout);
  },
};
