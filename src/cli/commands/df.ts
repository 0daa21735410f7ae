/** `hako system df [-v]`: disk usage by images, containers, volumes (docker's layout). */
import type { Command } from '../command.js';
import type { ContainerSummary, ImageSummary } from '../../client/index.js';
import { alignTable } from '../render.js';
import { humanSize, humanSizeWithPrecision } from '../format/index.js';
import { containerRow, imageRows } from '../rows.js';

interface VolumeUsage { Name: string; UsageData?: { Size: number; RefCount: number } }

export const df: Command = {
  spec: {
    use: '[OPTIONS]',
    short: 'Show hako disk usage',
    flags: [{ name: 'verbose', short: 'v', kind: 'bool', usage: 'Show detailed information on space usage' }],
    args: { max: 0 },
  },
  async run(cli, flags) {
    const client = await cli.client();
    const d = await client.df();
    const images = (d['Images'] as Array<{ Size: number; SharedSize: number; Containers: number }> | null) ?? [];
    const containers = (d['Containers'] as Array<{ SizeRw?: number; State: string }> | null) ?? [];
    const volumes = (d['Volumes'] as VolumeUsage[] | null) ?? [];
    if (flags.bool('verbose')) {
      cli.stdout.write(verbose(images as unknown as ImageSummary[], containers as unknown as ContainerSummary[], volumes));
      return;
    }
    // docker's disk_usage formatter: images count shared layers once (LayersSize); what active
    // images use alone is not reclaimable; percentages are integer divisions.
    const imgSize = typeof d['LayersSize'] === 'number' ? d['LayersSize'] : images.reduce((a, i) => a + i.Size, 0);
    const imgActive = images.filter((i) => i.Containers > 0);
    const imgUsed = imgActive.reduce((a, i) => a + (i.SharedSize === -1 ? 0 : i.Size - i.SharedSize), 0);
    const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const ctrIdle = containers.filter((c) => !['running', 'paused', 'restarting'].includes(c.State)).reduce((a, c) => a + (c.SizeRw ?? 0), 0);
    const volSize = volumes.reduce((a, v) => a + (v.UsageData?.Size ?? 0), 0);
    // docker: a volume no container refers to is reclaimable.
    const volUnused = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
    const pct = (part: number, total: number): string => (total > 0 ? ` (${Math.floor((part * 100) / total)}%)` : '');
    const lines = [
      'TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE',
      `Images\t${images.length}\t${imgActive.length}\t${humanSize(imgSize)}\t${humanSize(imgSize - imgUsed)}${pct(imgSize - imgUsed, imgSize)}`,
      `Containers\t${containers.length}\t${containers.filter((c) => c.State === 'running').length}\t${humanSize(ctrSize)}\t${humanSize(ctrIdle)}${pct(ctrIdle, ctrSize)}`,
      `Local Volumes\t${volumes.length}\t${volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length}\t${humanSize(volSize)}\t${humanSize(volUnused)}${pct(volUnused, volSize)}`,
      `Build Cache\t0\t0\t0B\t0B`,
    ];
    cli.stdout.write(alignTable(lines));
  },
};

/** docker system df -v: one table per kind, each under its heading. */
function verbose(images: ImageSummary[], containers: ContainerSummary[], volumes: VolumeUsage[]): string {
  const now = Date.now();
  const imageLines = ['REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS'];
  for (const img of images) {
    for (const r of imageRows(img, { trunc: true, now, digests: false })) {
      imageLines.push([r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size, r.SharedSize, r.UniqueSize, r.Containers].join('\t'));
    }
  }
  const containerLines = ['CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES'];
  for (const c of containers) {
    const r = containerRow(c, { trunc: true, now });
    containerLines.push([r.ID, r.Image, r.Command, r.LocalVolumes, humanSizeWithPrecision(c.SizeRw ?? 0, 3), r.RunningFor, r.Status, r.Names].join('\t'));
  }
  const volumeLines = ['VOLUME NAME\tLINKS\tSIZE'];
  for (const v of volumes) {
    const size = v.UsageData?.Size ?? -1;
    volumeLines.push([v.Name, String(v.UsageData?.RefCount ?? 0), size < 0 ? 'N/A' : humanSize(size)].join('\t'));
  }
  return [
    'Images space usage:\n', alignTable(imageLines),
    'Containers space usage:\n', alignTable(containerLines),
    'Local Volumes space usage:\n', alignTable(volumeLines),
    'Build cache usage: 0B\n', alignTable(['CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED']),
  ].join('\n');
}
