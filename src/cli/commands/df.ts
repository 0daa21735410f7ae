/** `hako system df`: disk usage by images, containers, volumes. */
import type { Command } from '../command.js';
import { alignTable } from '../render.js';
import { humanSize } from '../format/index.js';

export const df: Command = {
  spec: { use: '[OPTIONS]', short: 'Show hako disk usage', flags: [], args: { max: 0 } },
  async run(cli) {
    const client = await cli.client();
    const d = await client.df();
    const images = (d['Images'] as Array<{ Size: number; SharedSize: number; Containers: number }> | null) ?? [];
    const containers = (d['Containers'] as Array<{ SizeRw?: number; State: string }> | null) ?? [];
    const volumes = (d['Volumes'] as Array<{ UsageData?: { Size: number; RefCount: number } }> | null) ?? [];
    const imgSize = images.reduce((a, i) => a + i.Size, 0);
    const imgActive = images.filter((i) => i.Containers > 0);
    const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const volSize = volumes.reduce((a, v) => a + (v.UsageData?.Size ?? 0), 0);
    const pct = (part: number, total: number): string => (total > 0 ? ` (${Math.round((part * 100) / total)}%)` : '');
    const lines = [
      'TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE',
      `Images\t${images.length}\t${imgActive.length}\t${humanSize(imgSize)}\t${humanSize(imgSize - imgActive.reduce((a, i) => a + i.Size, 0))}${pct(imgSize - imgActive.reduce((a, i) => a + i.Size, 0), imgSize)}`,
      `Containers\t${containers.length}\t${containers.filter((c) => c.State === 'running').length}\t${humanSize(ctrSize)}\t${humanSize(containers.filter((c) => c.State !== 'running').reduce((a, c) => a + (c.SizeRw ?? 0), 0))}`,
      `Local Volumes\t${volumes.length}\t${volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length}\t${humanSize(volSize)}\t${humanSize(0)}`,
      `Build Cache\t0\t0\t0B\t0B`,
    ];
    cli.stdout.write(alignTable(lines));
  },
};
