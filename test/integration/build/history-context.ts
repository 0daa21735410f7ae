/**
 * The build context of history.test.ts, byte for byte the same every time (a tar as the docker
 * CLI sends it: uid/gid 0, no user names, fixed mtimes), so that the history strings it yields
 * could be checked once against dockerd's legacy builder and pinned.
 */
import tar from 'tar-stream';

const MTIME = new Date(1_700_000_000_000);

/** Every Dockerfile instruction the legacy builder knows, with docker's history quirks exercised. */
export const HISTORY_DOCKERFILE = `ARG BASE=busybox
FROM \${BASE} AS base
ARG NOVAL
ARG EMPTY=
RUN mkdir -p /out/sub && echo a > /out/a && ln -s a /out/l && echo b > /out/sub/b
FROM busybox
MAINTAINER someone <a@b.c>
ARG A=1
ARG B
ENV E1=v1 E2="two words"
ENV LEGACY legacy value
ENV PATH=/opt/bin:$PATH
LABEL l1=v1 "l 2"="v 2"
WORKDIR /app
WORKDIR sub
RUN echo $A $B > args
RUN ["sh", "-c", "echo exec > exec"]
COPY a.txt /dst/
COPY a.txt b.txt /multi/
COPY dir /d
COPY dir/ ./rel/
COPY *.txt /w/
COPY . .
COPY --chown=1001:1001 a.txt /owned
ADD --chown=app a.txt added/
ADD arch.tar /ex/
COPY --from=base /out /out
COPY --from=0 /out/a /froma
EXPOSE 80 90/udp 9000-9001/tcp
VOLUME /v1 /v2
VOLUME ["/v3"]
USER app:app
USER root
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=1m30s --timeout=500ms --start-period=2s --retries=65 CMD ["true"]
HEALTHCHECK --interval=5s --timeout=3s --retries=2 CMD echo ok
HEALTHCHECK NONE
SHELL ["/bin/sh", "-ec"]
RUN echo shelled > /shelled
ONBUILD RUN echo onbuild
ENTRYPOINT ["/bin/sh"]
CMD ["-c", "echo hi"]
ENTRYPOINT echo ep
CMD echo cmd
RUN true
`;

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink'; mode: number; content?: Buffer | string; linkname?: string };

async function pack(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) {
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header: Partial<tar.Header> & { name: string } = { name: e.name, type: e.type ?? 'file', mode: e.mode, uid: 0, gid: 0, mtime: MTIME, ...(e.linkname ? { linkname: e.linkname } : {}) };
    if (body === undefined) p.entry(header);
    else p.entry(header, body);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The context tar of HISTORY_DOCKERFILE. */
export async function historyContext(): Promise<Buffer> {
  const inner = await pack([
    { name: 'in1.txt', mode: 0o644, content: 'one\n' },
    { name: 'in2.txt', mode: 0o600, content: 'two\n' },
  ]);
  return pack([
    { name: 'Dockerfile', mode: 0o644, content: HISTORY_DOCKERFILE },
    { name: 'a.txt', mode: 0o644, content: 'hello\n' },
    { name: 'arch.tar', mode: 0o644, content: inner },
    { name: 'b.txt', mode: 0o755, content: 'world\n' },
    { name: 'dir/', type: 'directory', mode: 0o755 },
    { name: 'dir/link', type: 'symlink', mode: 0o777, linkname: 'y' },
    { name: 'dir/sub/', type: 'directory', mode: 0o755 },
    { name: 'dir/sub/x', mode: 0o644, content: 'x\n' },
    { name: 'dir/y', mode: 0o644, content: 'y\n' },
  ]);
}
